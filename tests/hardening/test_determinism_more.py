"""Determinism beyond tests/test_determinism.py (hash seeds and working directories).

Added here: two renderings in one process are identical (no state such as caches carries
over between runs), and they equal a subprocess run under another hash seed, time zone,
locale and umask, started from a working directory that holds decoy ``templates/`` and
``spec/`` folders: the generator reads its own templates, never the working directory's. A
second ``generate`` into the same folder changes no byte, and ``check`` from a third working
directory, with relative paths, finds the tree up to date.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import MINIMAL_SPEC, describe, iamgen_env, read_tree

from generator import pipeline


def _render() -> dict[str, bytes]:
    model = pipeline.load_model(
        MINIMAL_SPEC.read_bytes(), "spec/aws-external-anthropic.yaml"
    )
    return {
        rel: text.encode("utf-8")
        for rel, text in pipeline.render_outputs(model).items()
    }


def _generate(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "generator", *args],
        cwd=cwd,
        env=iamgen_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_outputs_are_identical_across_runs_processes_environments_and_folders(
    tmp_path: Path,
) -> None:
    first, second = _render(), _render()
    assert first == second

    workdir = tmp_path / "elsewhere"
    (workdir / "templates" / "python").mkdir(parents=True)
    (workdir / "templates" / "python" / "__init__.py.jinja").write_text("DECOY\n")
    (workdir / "spec").mkdir()
    (workdir / "spec" / "aws-external-anthropic.yaml").write_text("format: 99\n")
    spec = tmp_path / "in" / "spec" / "aws-external-anthropic.yaml"
    spec.parent.mkdir(parents=True)
    shutil.copyfile(MINIMAL_SPEC, spec)

    old_umask = os.umask(0o077)
    try:
        environment = {
            "PYTHONHASHSEED": "12345",
            "TZ": "Pacific/Kiritimati",
            "LC_ALL": "C",
            "LANG": "C",
            "IAMGEN_CACHE_DIR": str(tmp_path / "cache"),
        }
        result = _generate(
            workdir, "generate", "--spec", "../in/spec/aws-external-anthropic.yaml",
            "--out", "out", **environment,
        )  # fmt: skip
    finally:
        os.umask(old_umask)
    assert result.returncode == 0, describe(result)
    tree = read_tree(workdir / "out")
    assert sorted(tree) == sorted(first)
    assert [rel for rel in first if tree[rel] != first[rel]] == []

    again = _generate(
        workdir, "generate", "--spec", str(spec), "--out", "out",
        PYTHONHASHSEED="1", IAMGEN_CACHE_DIR=str(tmp_path / "cache"),
    )  # fmt: skip
    assert again.returncode == 0, describe(again)
    assert read_tree(workdir / "out") == tree

    third = tmp_path / "third"
    third.mkdir()
    check = _generate(
        third, "check", "--spec", "../in/spec/aws-external-anthropic.yaml",
        "--out", "../elsewhere/out", IAMGEN_CACHE_DIR=str(tmp_path / "cache"),
    )  # fmt: skip
    assert check.returncode == 0, describe(check)
