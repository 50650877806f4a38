"""Outputs are byte-for-byte reproducible and clean: no hash order, paths or timestamps.

The spec is rendered in subprocesses under two PYTHONHASHSEED values and from two working
directories (the default-argument run at a repo-like root, and an absolute-path run from
elsewhere); all trees must be identical.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import (
    MINIMAL_SPEC,
    REAL_SPEC,
    REPO_ROOT,
    Build,
    describe,
    iamgen_env,
    read_tree,
)

SPECS = {"minimal": MINIMAL_SPEC, "real": REAL_SPEC}


@pytest.mark.parametrize("name", list(SPECS))
def test_trees_are_identical_across_hash_seeds_and_working_directories(
    name: str, tmp_path: Path
) -> None:
    root = tmp_path / "repo"
    (root / "spec").mkdir(parents=True)
    shutil.copyfile(SPECS[name], root / "spec/aws-external-anthropic.yaml")
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    # Against the first run, the second varies only the hash seed and the third only the
    # working directory (and how the paths are given), so a difference names its cause.
    runs = {
        "seed 1, repo root, default arguments": (root, "1", []),
        "seed 2, repo root, default arguments": (root, "2", ["--out", "generated-2"]),
        "seed 1, another folder, absolute paths": (
            elsewhere,
            "1",
            ["--spec", str(root / "spec/aws-external-anthropic.yaml")]
            + ["--out", str(tmp_path / "abs-1")],
        ),
    }
    # Started together: they are independent, and this halves the wall time.
    processes = {
        label: subprocess.Popen(
            [sys.executable, "-m", "generator", "generate", *args],
            cwd=cwd,
            env=iamgen_env(PYTHONHASHSEED=seed),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for label, (cwd, seed, args) in runs.items()
    }
    for label, process in processes.items():
        stdout, stderr = process.communicate(timeout=120)
        result = subprocess.CompletedProcess(
            process.args, process.returncode, stdout, stderr
        )
        assert process.returncode == 0, f"{label}: {describe(result)}"

    trees = {
        "seed 1, repo root, default arguments": read_tree(root / "generated"),
        "seed 2, repo root, default arguments": read_tree(root / "generated-2"),
        "seed 1, another folder, absolute paths": read_tree(tmp_path / "abs-1"),
    }
    reference_label, reference = next(iter(trees.items()))
    assert reference, "nothing was generated"
    for label, tree in trees.items():
        assert sorted(tree) == sorted(reference), f"{label}: different files"
        differing = [path for path in reference if tree[path] != reference[path]]
        assert not differing, f"{label} differs from {reference_label} in {differing}"


# PEP 561 marks a typed package with an empty py.typed; it is the one empty output.
EMPTY_ALLOWED = {"python/aws_external_anthropic_iam/py.typed"}
TIMESTAMP = re.compile(
    r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:?\d{2})?\b"
)


def test_every_output_is_utf8_lf_with_one_final_newline(any_build: Build) -> None:
    for rel, data in read_tree(any_build.out).items():
        if rel in EMPTY_ALLOWED:
            assert data == b"", rel
            continue
        text = data.decode("utf-8")  # raises on anything but UTF-8
        assert not text.startswith("\ufeff"), f"{rel}: byte order mark"
        assert "\r" not in text, f"{rel}: CR or CRLF line ending"
        assert text.endswith("\n") and not text.endswith(
            "\n\n"
        ), f"{rel}: final newline"
        assert "\t" not in text, f"{rel}: tab character"
        trailing = [
            n for n, line in enumerate(text.split("\n"), 1) if line != line.rstrip()
        ]
        assert not trailing, f"{rel}: trailing whitespace on lines {trailing[:10]}"


def test_no_output_contains_an_absolute_path_or_a_host_name(any_build: Build) -> None:
    needles = {
        str(any_build.out.parent),
        str(REPO_ROOT),
        str(Path.home()) + "/",
        "/tmp/",
    }
    host = socket.gethostname()
    if len(host) >= 8:  # a short host name ("main", "ci") could be an ordinary word
        needles.add(host)
    for rel, data in read_tree(any_build.out).items():
        text = data.decode("utf-8")
        found = sorted(needle for needle in needles if needle in text)
        assert not found, f"{rel} contains {found}"


def test_no_output_contains_a_timestamp_that_is_not_spec_data(any_build: Build) -> None:
    # The managed policies' created/updated times come from the spec; nothing else may
    # carry a date and time (in particular, not the time of the run).
    spec_text = any_build.spec.read_text(encoding="utf-8")
    allowed = {match.group(0) for match in TIMESTAMP.finditer(spec_text)}
    for rel, data in read_tree(any_build.out).items():
        stamps = {match.group(0) for match in TIMESTAMP.finditer(data.decode("utf-8"))}
        assert (
            stamps <= allowed
        ), f"{rel} has timestamps not in the spec: {stamps - allowed}"
