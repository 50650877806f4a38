"""Side-by-side timing: rounds that interleave the sides, medians of per-round ratios.

The machine is small and shared, so noise is the enemy. Every round times each side once, in
an order that rotates from round to round, so a burst of load hits both sides of a ratio; the
reported ratio is the median of the per-round ratios, and each side's time is the median of
its rounds. The garbage collector is paused while a side runs (as ``timeit`` does).

In-process sides are timed in CPU time of this process (``time.process_time``): on a shared
2-core machine, wall time also counts the moments another process holds the core, which
doubled some timings in trial runs while CPU time stayed within a few percent.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Timings:
    """Seconds per round for each side, in the order given."""

    rounds: dict[str, list[float]]

    def median(self, side: str) -> float:
        return statistics.median(self.rounds[side])

    def ratio(self, slow: str, fast: str) -> float:
        """Median over rounds of slow/fast: how many times faster ``fast`` is."""
        return statistics.median(
            s / f for s, f in zip(self.rounds[slow], self.rounds[fast], strict=True)
        )


def interleaved(
    sides: Mapping[str, Callable[[], object]],
    rounds: int,
    *,
    warmup: int = 1,
    pause_gc: bool = True,
    prepare: Mapping[str, Callable[[], object]] | None = None,
    clock: Literal["cpu", "returned"] = "cpu",
) -> Timings:
    """Time each side once per round, rotating the order; ``warmup`` rounds are discarded.

    ``prepare[side]``, when given, runs untimed right before each timed run of that side
    (e.g. to start it with empty caches). ``clock="returned"``: each side measures itself
    and returns its time in seconds (e.g. a child process's wall time).
    """
    names = list(sides)
    results: dict[str, list[float]] = {name: [] for name in names}
    for index in range(warmup + rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            if prepare is not None and name in prepare:
                prepare[name]()
            if clock == "returned":
                elapsed = float(sides[name]())  # type: ignore[arg-type]
            else:
                elapsed = _time_once(sides[name], pause_gc)
            if index >= warmup:
                results[name].append(elapsed)
    return Timings(results)


def _time_once(run: Callable[[], object], pause_gc: bool) -> float:
    was_enabled = gc.isenabled()
    if pause_gc:
        gc.collect()
        gc.disable()
    try:
        start = time.process_time()
        run()
        return time.process_time() - start
    finally:
        if was_enabled:
            gc.enable()


def per_call(seconds: float, calls: int) -> str:
    """A readable time per call: ns, µs, ms or s."""
    each = seconds / calls
    if each < 1e-6:
        return f"{each * 1e9:.0f} ns"
    if each < 1e-3:
        return f"{each * 1e6:.2f} µs"
    if each < 1:
        return f"{each * 1e3:.1f} ms"
    return f"{each:.2f} s"
