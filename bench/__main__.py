"""``python -m bench``: run the benchmarks, print the ratios, write bench/RESULTS.md.

``python -m bench P1 P4`` runs a subset (RESULTS.md is then left alone unless ``--write``);
``--rounds N`` scales every benchmark's number of timed rounds.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence

from bench import p1_routing, p2_check, p3_generation, p4_simulation, p5_expansion
from bench.report import (
    RESULTS_PATH,
    BenchResult,
    markdown_report,
    table_text,
    text_report,
)

# Benchmark -> (run, default rounds). Rounds are fewer where one round takes seconds.
BENCHMARKS: dict[str, tuple[Callable[[int], BenchResult], int]] = {
    "P1": (p1_routing.run, 21),
    "P2": (p2_check.run, 11),
    "P3": (p3_generation.run, 3),
    "P4": (p4_simulation.run, 9),
    "P5": (p5_expansion.run, 21),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "only", nargs="*", metavar="P", help="benchmarks to run (default: all)"
    )
    parser.add_argument(
        "--rounds",
        type=float,
        default=1.0,
        help="multiply every benchmark's rounds by this (default: 1)",
    )
    parser.add_argument(
        "--write",
        action="store_true",
        help="write bench/RESULTS.md even when only some benchmarks ran",
    )
    args = parser.parse_args(argv)
    selected = [name.upper() for name in args.only] or list(BENCHMARKS)
    unknown = [name for name in selected if name not in BENCHMARKS]
    if unknown:
        parser.error(
            f"unknown benchmark {', '.join(unknown)} (known: {', '.join(BENCHMARKS)})"
        )

    results = []
    for name in selected:
        run, rounds = BENCHMARKS[name]
        scaled = max(1, round(rounds * args.rounds))
        print(f"{name}: running ({scaled} rounds)...", flush=True)
        started = time.perf_counter()
        result = run(scaled)
        print(f"{result.key} {result.verdict}: {result.measured}  [{result.target}]")
        for table in result.tables:
            print(table_text(table))
        print(f"    ({time.perf_counter() - started:.0f} s)\n", flush=True)
        results.append(result)

    print(text_report(results))
    if args.write or selected == list(BENCHMARKS):
        note = f"Rounds: {', '.join(f'{n} {max(1, round(BENCHMARKS[n][1] * args.rounds))}' for n in selected)}."
        RESULTS_PATH.write_text(
            markdown_report(results, rounds_note=note), encoding="utf-8"
        )
        print(f"\nwrote {RESULTS_PATH.relative_to(RESULTS_PATH.parent.parent)}")
    missed = [result.key for result in results if not result.passed]
    if missed:
        print(
            f"\ntarget missed: {', '.join(missed)} (exit 1); the notes in "
            "bench/RESULTS.md say what stands in the way"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
