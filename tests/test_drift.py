"""``check`` catches every kind of drift; ``generate`` owns only its files and writes atomically.

Each test works on a temp copy of the repository layout: ``spec/`` copied from the repo and
``generated/`` rendered from it (once per session, then copied), with iamgen's defaults
(``--spec spec/aws-external-anthropic.yaml --out generated``) run from the copy's root.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import REAL_SPEC, describe, known_fields, run_iamgen

from generator.model import Spec

SPEC = Path("spec/aws-external-anthropic.yaml")
OUT = Path("generated")
RUN_GENERATE = "Run `make generate` (iamgen generate) and commit."
FULL_ACCESS = "policies/managed/AnthropicFullAccess.json"


@pytest.fixture(scope="session")
def generated_layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """spec/ copied from the repo and ``iamgen generate`` run there; never modified."""
    root = tmp_path_factory.mktemp("layout")
    shutil.copytree(REAL_SPEC.parent, root / "spec")
    result = run_iamgen("generate", cwd=root)
    assert result.returncode == 0, describe(result)
    assert re.fullmatch(r"wrote \d+ files to generated\n", result.stdout), result.stdout
    return root


@pytest.fixture
def repo(generated_layout: Path, tmp_path: Path) -> Path:
    """A private copy of the generated layout for one test."""
    root = tmp_path / "repo"
    shutil.copytree(generated_layout, root)
    return root


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder (None) under ``root``."""
    return {
        path.relative_to(root).as_posix(): (
            path.read_bytes() if path.is_file() else None
        )
        for path in sorted(root.rglob("*"))
    }


def check(repo: Path) -> tuple[int, str, str]:
    result = run_iamgen("check", cwd=repo)
    assert "Traceback" not in result.stderr
    return result.returncode, result.stdout, result.stderr


def summary(changed: int, missing: int, stale: int) -> str:
    return (
        f"generated is out of date: {changed} changed, {missing} missing, {stale} stale. "
        f"{RUN_GENERATE}\n"
    )


def changed_files(stdout: str) -> list[str]:
    return re.findall(r"^--- (\S+) \(on disk\)$", stdout, flags=re.MULTILINE)


def edit_manifest(repo: Path, *extra_files: str) -> None:
    """List more files in generated/MANIFEST.json, as if iamgen had written them."""
    manifest_path = repo / OUT / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for rel in extra_files:
        manifest["files"][rel] = {"sha256": "0" * 64}
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def edit_first_action_description(repo: Path) -> str:
    """Append a sentence to the first action's description; returns the new description."""
    spec = repo / SPEC
    text = spec.read_text(encoding="utf-8")
    match = re.search(
        r"^      - name: \w+\n        description: (.+)$", text, re.MULTILINE
    )
    assert match is not None, "no action description found in the spec"
    edited = match[1] + " Edited for the drift test."
    spec.write_text(text[: match.start(1)] + edited + text[match.end(1) :], "utf-8")
    return edited


# ---------------------------------------------------------------------------- check


def check_ok_line(repo: Path) -> str:
    manifest = json.loads((repo / OUT / "MANIFEST.json").read_text(encoding="utf-8"))
    return f"generated is up to date ({len(manifest['files']) + 1} files)\n"


def test_check_passes_right_after_generate(repo: Path) -> None:
    assert check(repo) == (0, check_ok_line(repo), "")


def test_check_fails_after_a_spec_edit(repo: Path) -> None:
    edited = edit_first_action_description(repo)
    code, stdout, stderr = check(repo)
    assert code == 1
    changed = changed_files(stdout)
    assert {"MANIFEST.json", "docs/iam-actions.md"} <= set(changed)
    assert "python/aws_external_anthropic_iam/__init__.py" in changed
    assert any(line.startswith("+") and edited in line for line in stdout.splitlines())
    assert stderr == summary(len(changed), 0, 0)


def test_check_fails_after_a_hand_edit_with_a_unified_diff(repo: Path) -> None:
    target = repo / OUT / FULL_ACCESS
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace('"Effect": "Allow"', '"Effect": "Deny"', 1), "utf-8")

    code, stdout, stderr = check(repo)

    assert code == 1
    lines = stdout.splitlines()
    assert lines[:2] == [
        f"--- {FULL_ACCESS} (on disk)",
        f"+++ {FULL_ACCESS} (from spec)",
    ]
    assert lines[2].startswith("@@ -") and lines[2].endswith(" @@")
    assert [line for line in lines[3:] if line[:1] in "+-"] == [
        '-      "Effect": "Deny",',
        '+      "Effect": "Allow",',
    ]
    assert stderr == summary(1, 0, 0)

    assert run_iamgen("generate", cwd=repo).returncode == 0
    assert target.read_text(encoding="utf-8") == text


def test_check_diff_of_a_file_missing_its_final_newline_is_readable(repo: Path) -> None:
    target = repo / OUT / FULL_ACCESS
    target.write_text(target.read_text(encoding="utf-8").rstrip("\n"), "utf-8")
    code, stdout, _stderr = check(repo)
    assert code == 1
    # Each diff line on a line of its own (not "-}+}"), marked the way diff(1) does.
    assert stdout.endswith("   ]\n-}\n\\ No newline at end of file\n+}\n"), stdout


def test_check_reports_a_stale_file_and_generate_removes_it(repo: Path) -> None:
    edit_manifest(repo, "docs/old-page.md", "old-kind/thing.json")
    (repo / OUT / "docs/old-page.md").write_text("old\n", encoding="utf-8")
    (repo / OUT / "old-kind").mkdir()
    (repo / OUT / "old-kind/thing.json").write_text("{}\n", encoding="utf-8")

    code, stdout, stderr = check(repo)

    assert code == 1
    assert changed_files(stdout) == ["MANIFEST.json"]
    assert stdout.splitlines()[-2:] == [
        "stale: generated/docs/old-page.md (owned by iamgen, no longer produced)",
        "stale: generated/old-kind/thing.json (owned by iamgen, no longer produced)",
    ]
    assert stderr == summary(1, 0, 2)

    result = run_iamgen("generate", cwd=repo)
    assert result.returncode == 0, describe(result)
    assert result.stdout.splitlines()[1:] == [
        "removed stale generated/docs/old-page.md",
        "removed stale generated/old-kind/thing.json",
    ]
    assert not (repo / OUT / "docs/old-page.md").exists()
    emptied = repo / OUT / "old-kind"
    assert not emptied.exists(), "a folder emptied of stale files stays"
    manifest = (repo / OUT / "MANIFEST.json").read_text(encoding="utf-8")
    assert "old-page.md" not in manifest and "old-kind" not in manifest


def test_check_reports_a_missing_file_and_generate_restores_it(repo: Path) -> None:
    target = repo / OUT / "openapi/openapi.json"
    text = target.read_bytes()
    target.unlink()

    code, stdout, stderr = check(repo)

    assert code == 1
    assert stdout == "missing: generated/openapi/openapi.json\n"
    assert stderr == summary(0, 1, 0)
    assert run_iamgen("generate", cwd=repo).returncode == 0
    assert target.read_bytes() == text


# ---------------------------------------------------------------------------- generate


def test_generate_leaves_files_it_does_not_own_alone(repo: Path) -> None:
    mine = {
        "README.md": b"# vendored\n",
        "docs/extra-notes.md": b"hand-written\n",
        "python/aws_external_anthropic_iam/local_helpers.py": b"X = 1\n",
        "notes/todo.txt": b"keep\n",
    }
    for rel, data in mine.items():
        (repo / OUT / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / OUT / rel).write_bytes(data)

    # check does not report them either: they are not iamgen's.
    assert check(repo) == (0, check_ok_line(repo), "")

    edit_first_action_description(repo)
    result = run_iamgen("generate", cwd=repo)

    assert result.returncode == 0, describe(result)
    assert "removed" not in result.stdout
    for rel, data in mine.items():
        assert (repo / OUT / rel).read_bytes() == data


def test_generate_on_a_bad_spec_writes_nothing(repo: Path) -> None:
    edit_first_action_description(repo)  # so that a write would change files
    bogus_line = len((repo / SPEC).read_text(encoding="utf-8").splitlines()) + 1
    with (repo / SPEC).open("a", encoding="utf-8") as spec:
        spec.write("bogus: 1\n")
    before = snapshot(repo / OUT)

    result = run_iamgen("generate", cwd=repo)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"{SPEC}:{bogus_line}:1: spec: unknown field 'bogus' "
        f"(expected one of: {known_fields(Spec)})\n"
        "1 error in the spec\n"
    )
    assert snapshot(repo / OUT) == before


def test_generate_with_a_directory_in_the_way_changes_nothing(repo: Path) -> None:
    edit_first_action_description(repo)
    blocked = repo / OUT / "openapi/openapi.json"
    blocked.unlink()
    blocked.mkdir()
    (blocked / "keep.txt").write_text("in the way\n", encoding="utf-8")
    before = snapshot(repo / OUT)

    result = run_iamgen("generate", cwd=repo)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "iamgen: cannot write generated/openapi/openapi.json: a directory is in the way\n"
    )
    assert snapshot(repo / OUT) == before


def test_generate_with_a_file_in_the_way_of_a_folder_changes_nothing(
    repo: Path,
) -> None:
    # Tests run as root, where chmod does not stop writes; a file where a folder must be
    # is an unwritable target for anyone.
    edit_first_action_description(repo)
    managed = repo / OUT / "policies/managed"
    first = sorted(p.name for p in managed.iterdir())[0]
    shutil.rmtree(managed)
    managed.write_text("not a folder\n", encoding="utf-8")
    before = snapshot(repo / OUT)

    result = run_iamgen("generate", cwd=repo)

    assert result.returncode == 2
    assert result.stderr == (
        f"iamgen: cannot write generated/policies/managed/{first}: "
        "generated/policies/managed is a file, not a folder\n"
    )
    assert snapshot(repo / OUT) == before


def test_failed_generate_creates_no_folders(repo: Path) -> None:
    # cloudtrail/ sorts before openapi/, so it is staged before the write fails.
    shutil.rmtree(repo / OUT / "cloudtrail")
    blocked = repo / OUT / "openapi/openapi.json"
    blocked.unlink()
    blocked.mkdir()
    before = snapshot(repo / OUT)

    result = run_iamgen("generate", cwd=repo)

    assert result.returncode == 2
    assert snapshot(repo / OUT) == before


def test_generate_never_removes_files_outside_the_output_folder(repo: Path) -> None:
    # A tampered (or merged-wrong) MANIFEST.json must not make generate delete files
    # that are not under the output folder.
    outside = repo / "precious.txt"
    outside.write_text("not iamgen's\n", encoding="utf-8")
    absolute = repo / "absolute.txt"
    absolute.write_text("not iamgen's either\n", encoding="utf-8")
    edit_manifest(
        repo, "../precious.txt", "../spec/aws-external-anthropic.yaml", str(absolute)
    )

    result = run_iamgen("generate", cwd=repo)

    assert "Traceback" not in result.stderr
    assert "removed stale" not in result.stdout
    assert outside.is_file(), "generate deleted ../precious.txt: " + result.stdout
    assert absolute.is_file(), f"generate deleted {absolute}: " + result.stdout
    assert (repo / SPEC).is_file(), "generate deleted the spec: " + result.stdout
