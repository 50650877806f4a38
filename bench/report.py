"""Benchmark results, the machine they ran on, and bench/RESULTS.md."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_PATH = REPO_ROOT / "bench" / "RESULTS.md"

# Every third-party package whose speed a ratio depends on, in the order shown.
PACKAGES = (
    "werkzeug",
    "starlette",
    "principalmapper",
    "policyuniverse",
    "jinja2",
    "ruamel.yaml",
    "black",
)


@dataclass
class BenchResult:
    """One benchmark's outcome, ready to print and to write to RESULTS.md."""

    key: str
    """P1 ... P5."""
    title: str
    target: str
    """The target in words, e.g. "resolve() at least 25x faster than werkzeug"."""
    measured: str
    """The number the target is judged on, in words."""
    passed: bool
    tables: list[list[list[str]]] = field(default_factory=list)
    """Tables, each a list of rows whose first row is the header."""
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "MISS"


def machine_facts() -> list[tuple[str, str]]:
    """CPU, cores, OS, Python and package versions: what the numbers depend on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    return [
        ("CPU", cpu),
        ("Cores", str(os.cpu_count())),
        ("OS", f"{platform.system()} {platform.release()}"),
        (
            "Python",
            f"{platform.python_implementation()} {platform.python_version()}",
        ),
        ("Packages", ", ".join(versions)),
    ]


def text_report(results: list[BenchResult]) -> str:
    """What the console shows at the end of a run."""
    lines = []
    for result in results:
        lines.append(f"{result.key} {result.verdict}  {result.title}")
        lines.append(f"    target:   {result.target}")
        lines.append(f"    measured: {result.measured}")
    return "\n".join(lines)


def table_text(rows: list[list[str]]) -> str:
    """A plain-text table with aligned columns."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = []
    for index, row in enumerate(rows):
        out.append(
            "  ".join(
                cell.ljust(width) for cell, width in zip(row, widths, strict=True)
            )
        )
        if index == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join("    " + line.rstrip() for line in out)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _md_table(rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(_md_cell(cell) for cell in rows[0]) + " |"]
    lines.append("|" + "|".join("---" for _ in rows[0]) + "|")
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows[1:]]
    return lines


def markdown_report(results: list[BenchResult], *, rounds_note: str) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (`python -m bench`) on {now}. {rounds_note}",
        "Every ratio compares two sides measured in the same run, interleaved round by",
        "round (the order rotates), and is the median of the per-round ratios; times per",
        "call are medians too. The machine is shared and noisy: expect ±20% between runs.",
        "",
        "## Machine",
        "",
        *_md_table([["", ""], *[[k, v] for k, v in machine_facts()]]),
        "",
        "## Summary",
        "",
        *_md_table(
            [
                ["", "Benchmark", "Target", "Measured", "Verdict"],
                *[
                    [r.key, r.title, r.target, r.measured, f"**{r.verdict}**"]
                    for r in results
                ],
            ]
        ),
    ]
    for result in results:
        lines += [
            "",
            f"## {result.key}: {result.title}",
            "",
            f"Target: {result.target}. Measured: {result.measured}. **{result.verdict}**.",
        ]
        for table in result.tables:
            lines += ["", *_md_table(table)]
        if result.notes:
            lines += ["", *[f"- {note}" for note in result.notes]]
    return "\n".join(lines) + "\n"
