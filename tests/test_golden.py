"""Golden end-to-end tests: a fixture spec renders exactly the tree in tests/golden/<name>/.

``pytest tests/test_golden.py --update-golden`` (``make golden``) rewrites the golden trees
instead of comparing; review the resulting diff like code.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURE_SPECS, GOLDEN_ROOT, generate, read_tree

# Small fixture specs whose whole output is reviewed as a golden tree. Larger fixtures
# (spec-58.yaml, for `iamgen diff`) are tested by the behaviour they exist for.
GOLDEN_FIXTURES = ("minimal",)
FIXTURES = [FIXTURE_SPECS / f"{name}.yaml" for name in GOLDEN_FIXTURES]


def compare_trees(expected: dict[str, bytes], actual: dict[str, bytes]) -> list[str]:
    """Every difference between two trees: missing, extra and changed files (with a diff)."""
    problems = [f"missing: {path}" for path in sorted(expected.keys() - actual.keys())]
    problems += [f"extra: {path}" for path in sorted(actual.keys() - expected.keys())]
    for path in sorted(expected.keys() & actual.keys()):
        if expected[path] == actual[path]:
            continue
        diff = difflib.unified_diff(
            expected[path].decode("utf-8", "replace").splitlines(keepends=True),
            actual[path].decode("utf-8", "replace").splitlines(keepends=True),
            fromfile=f"golden/{path}",
            tofile=f"rendered/{path}",
        )
        problems.append(f"changed: {path}\n" + ("".join(diff) or "(bytes differ)\n"))
    return problems


@pytest.mark.parametrize("spec", FIXTURES, ids=[spec.stem for spec in FIXTURES])
def test_fixture_renders_its_golden_tree(
    spec: Path, tmp_path: Path, update_golden: bool
) -> None:
    rendered = generate(spec, tmp_path / "out", cwd=tmp_path)
    golden = GOLDEN_ROOT / spec.stem
    if update_golden:
        shutil.rmtree(golden, ignore_errors=True)
        shutil.copytree(tmp_path / "out", golden)
        return
    problems = compare_trees(read_tree(golden), rendered)
    assert not problems, (
        f"{spec.name} no longer renders tests/golden/{spec.stem}/ "
        "(run `make golden` if the change is intended, then review the diff):\n\n"
        + "\n".join(problems)
    )


def test_compare_trees_reports_missing_extra_and_changed_files() -> None:
    golden = {"a.txt": b"one\ntwo\n", "b.txt": b"same\n", "gone.txt": b"x\n"}
    rendered = {"a.txt": b"one\nTWO\n", "b.txt": b"same\n", "new.txt": b"y\n"}
    assert compare_trees(golden, rendered) == [
        "missing: gone.txt",
        "extra: new.txt",
        "changed: a.txt\n"
        "--- golden/a.txt\n"
        "+++ rendered/a.txt\n"
        "@@ -1,2 +1,2 @@\n"
        " one\n"
        "-two\n"
        "+TWO\n",
    ]
    assert compare_trees(golden, dict(golden)) == []


def test_golden_trees_are_exactly_those_of_the_golden_fixtures() -> None:
    assert all(spec.is_file() for spec in FIXTURES)
    assert sorted(GOLDEN_FIXTURES) == sorted(
        path.name for path in GOLDEN_ROOT.iterdir() if path.is_dir()
    )
