"""``generate`` is atomic under fault injection: a failed run leaves the previous tree.

Faults injected (the tests run as root, so permissions cannot make a folder unwritable):

(a) an emitter failing midway: a template that fails after some outputs were rendered, and
    black failing on the generated Python;
(b) an unwritable output folder: ``--out`` names a file; ``open`` raising EACCES, ``os.fsync``
    raising ENOSPC, ``os.replace`` raising EACCES, and the removal of a stale file raising
    EACCES, each on the Nth call for every N;
(c) a file in the way: a file where a folder must be, a folder where a file must be, and a
    folder where a staging file must be.

In every case the previous tree (every file's bytes, and the set of folders) is unchanged,
no ``*.iamgen-tmp`` staging file is left, the run exits 2 with one ``iamgen: ...`` line that
says what happened, and there is no traceback.

Before these tests, a rename failing midway escaped as a raw OSError (a traceback) and left a
mixed tree with staging files; ``write_outputs`` now journals every rename and stale-file
removal with the previous bytes and undoes them in reverse on failure. A template or black
failure escaped as a traceback; it is now an error naming the template (exit 2).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import pytest
from conftest import MINIMAL_SPEC

import generator.render
from generator import cli, output, pipeline
from generator.errors import OutputError
from generator.output import STAGING_SUFFIX, write_outputs

Snapshot = dict[str, str]


def snapshot(root: Path) -> Snapshot:
    """Every file (sha256) and folder ("dir") under root, by relative path."""
    tree: Snapshot = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_dir() and not path.is_symlink():
            tree[rel] = "dir"
        else:
            tree[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return tree


def staging_leftovers(root: Path) -> list[str]:
    return sorted(p.as_posix() for p in root.rglob(f"*{STAGING_SUFFIX}"))


@pytest.fixture(scope="module")
def old_outputs() -> dict[str, str]:
    model = pipeline.load_model(
        MINIMAL_SPEC.read_bytes(), "spec/aws-external-anthropic.yaml"
    )
    return pipeline.render_outputs(model)


@pytest.fixture(scope="module")
def new_outputs(old_outputs: dict[str, str]) -> dict[str, str]:
    """The next run's outputs: every file changed, one dropped (stale), two new ones in new
    folders, and a manifest listing exactly these files."""
    dropped = "policies/examples/single-workspace.json"
    assert dropped in old_outputs
    outputs = {
        rel: text + "\n# changed\n"
        for rel, text in old_outputs.items()
        if rel not in (dropped, "MANIFEST.json")
    }
    outputs["extra/deeper/new.txt"] = "new\n"
    outputs["zzz/last.txt"] = "last\n"
    outputs["MANIFEST.json"] = json.dumps(
        {"files": {rel: {"sha256": "x"} for rel in sorted(outputs)}}, indent=2
    )
    return outputs


@pytest.fixture
def out(tmp_path: Path, old_outputs: dict[str, str]) -> Path:
    """An output folder holding the previous run's tree plus a file the user owns."""
    folder = tmp_path / "generated"
    write_outputs(folder, old_outputs)
    (folder / "NOTES.local").write_text("mine\n")
    return folder


def _expect_unchanged(
    folder: Path, before: Snapshot, new_outputs: dict[str, str]
) -> OutputError:
    with pytest.raises(OutputError) as raised:
        write_outputs(folder, new_outputs)
    assert snapshot(folder) == before
    assert staging_leftovers(folder) == []
    return raised.value


def test_the_fault_free_run_changes_what_the_faults_must_not(
    out: Path, new_outputs: dict[str, str]
) -> None:
    # The control: without a fault, every file changes, one is removed, folders appear.
    before = snapshot(out)
    removed = write_outputs(out, new_outputs)
    after = snapshot(out)
    assert removed == ["policies/examples/single-workspace.json"]
    assert "extra/deeper" in after and "extra/deeper" not in before
    changed = [rel for rel in before if rel in after and before[rel] != after[rel]]
    assert len(changed) == len(new_outputs) - 2
    assert after["NOTES.local"] == before["NOTES.local"]
    assert staging_leftovers(out) == []


# ---------------------------------------------------------------------------- (b) faults


class FailOnCall:
    """Wraps a function so that its Nth call raises OSError(code)."""

    def __init__(self, function: Callable[..., Any], n: int, code: int) -> None:
        self.function, self.n, self.code, self.calls = function, n, code, 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls == self.n:
            if isinstance(
                args[0], str | Path
            ):  # open, replace: the error names the file
                raise OSError(self.code, os.strerror(self.code), str(args[0]))
            raise OSError(self.code, os.strerror(self.code))  # fsync(fd) names none
        return self.function(*args, **kwargs)


def _patched(label: str) -> tuple[Any, str, Callable[..., Any]]:
    """(module, attribute, real function) for a fault in ``label``.

    ``open`` is shadowed in generator.output only (patching builtins would break pytest).
    """
    if label == "open":
        return output, "open", open
    return os, label, getattr(os, label)


@pytest.fixture(scope="module")
def call_counts(
    tmp_path_factory: pytest.TempPathFactory,
    old_outputs: dict[str, str],
    new_outputs: dict[str, str],
) -> dict[str, int]:
    """How often a fault-free run calls each function a fault is injected into."""
    counts = {}
    for label in ("open", "fsync", "replace"):
        folder = tmp_path_factory.mktemp(label) / "generated"
        write_outputs(folder, old_outputs)
        target, name, real = _patched(label)
        counter = FailOnCall(real, 0, 0)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(target, name, counter, raising=False)
            write_outputs(folder, new_outputs)
        counts[label] = counter.calls
    # One staging file, one fsync and one rename per output; no rollback in a good run.
    assert counts["open"] == counts["fsync"] == counts["replace"] == len(new_outputs)
    return counts


@pytest.mark.parametrize(
    ("label", "code", "message"),
    [
        ("open", errno.EACCES, "cannot write {path}: Permission denied"),
        ("fsync", errno.ENOSPC, "cannot write {path}: No space left on device"),
        (
            "replace",
            errno.EACCES,
            "cannot replace {path}: Permission denied; the previous files were restored",
        ),
    ],
)
def test_an_os_error_on_every_nth_call_leaves_the_previous_tree(
    label: str,
    code: int,
    message: str,
    out: Path,
    new_outputs: dict[str, str],
    call_counts: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = snapshot(out)
    target, name, real = _patched(label)
    head, tail = message.split("{path}")
    for n in range(1, call_counts[label] + 1):
        fault = FailOnCall(real, n, code)
        with monkeypatch.context() as patch:
            patch.setattr(target, name, fault, raising=False)
            error = _expect_unchanged(out, before, new_outputs)
        assert fault.calls >= n
        text = str(error)
        assert text.startswith(head) and text.endswith(tail), text
        named = Path(text[len(head) : -len(tail)])
        assert named.is_relative_to(out) and named.name != out.name, text


def test_a_stale_file_that_cannot_be_removed_rolls_everything_back(
    out: Path, new_outputs: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(out)
    stale = out / "policies/examples/single-workspace.json"
    real_unlink = Path.unlink

    def unlink(self: Path, missing_ok: bool = False) -> None:
        if self == stale:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    error = _expect_unchanged(out, before, new_outputs)
    assert str(error) == (
        f"cannot remove stale {stale}: Permission denied; the previous files were restored"
    )


def test_a_rollback_that_fails_too_says_so(
    out: Path, new_outputs: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A disk that refuses every rename after the third cannot be restored; the error must
    # say so rather than claim the previous tree is back.
    real = os.replace
    calls = {"n": 0}

    def replace(source: Any, target: Any) -> None:
        calls["n"] += 1
        if calls["n"] >= 4:
            raise OSError(errno.EIO, "Input/output error", str(source))
        real(source, target)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OutputError) as raised:
        write_outputs(out, new_outputs)
    text = str(raised.value)
    assert (
        text.startswith("cannot replace ") and ": Input/output error; restoring" in text
    )
    assert text.endswith("run generate again")
    assert staging_leftovers(out) == []


def test_out_names_a_file(tmp_path: Path, new_outputs: dict[str, str]) -> None:
    target = tmp_path / "generated"
    target.write_text("not a folder\n")
    before = snapshot(tmp_path)
    with pytest.raises(OutputError) as raised:
        write_outputs(target, new_outputs)
    assert snapshot(tmp_path) == before
    assert str(raised.value) == (
        f"cannot write {target / 'MANIFEST.json'}: {target} is a file, not a folder"
    )


def test_out_under_a_file(tmp_path: Path, new_outputs: dict[str, str]) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file\n")
    before = snapshot(tmp_path)
    with pytest.raises(OutputError) as raised:
        write_outputs(blocker / "generated", new_outputs)
    assert snapshot(tmp_path) == before
    assert "Not a directory" in str(raised.value) or "is a file" in str(raised.value)


# ---------------------------------------------------------------------------- (c) in the way


def test_a_file_where_a_folder_must_be(out: Path, new_outputs: dict[str, str]) -> None:
    (out / "extra").write_text("user file\n")
    before = snapshot(out)
    error = _expect_unchanged(out, before, new_outputs)
    assert str(error) == (
        f"cannot write {out / 'extra/deeper/new.txt'}: {out / 'extra'} is a file, "
        "not a folder"
    )


def test_a_file_where_a_deeper_folder_must_be(
    out: Path, new_outputs: dict[str, str]
) -> None:
    (out / "extra").mkdir()
    (out / "extra" / "deeper").write_text("user file\n")
    before = snapshot(out)
    error = _expect_unchanged(out, before, new_outputs)
    assert str(error).endswith(f"{out / 'extra/deeper'} is a file, not a folder")


def test_a_folder_where_a_file_must_be(out: Path, new_outputs: dict[str, str]) -> None:
    (out / "zzz" / "last.txt").mkdir(parents=True)
    (out / "zzz" / "last.txt" / "inside").write_text("user file\n")
    before = snapshot(out)
    error = _expect_unchanged(out, before, new_outputs)
    assert (
        str(error) == f"cannot write {out / 'zzz/last.txt'}: a directory is in the way"
    )


def test_a_folder_where_a_staging_file_must_be(
    out: Path, new_outputs: dict[str, str]
) -> None:
    blocker = out / "openapi" / f"openapi.json{STAGING_SUFFIX}"
    blocker.mkdir()
    before = snapshot(out)
    with pytest.raises(OutputError) as raised:
        write_outputs(out, new_outputs)
    assert snapshot(out) == before
    assert staging_leftovers(out) == [blocker.as_posix()]  # the user's folder, kept
    assert str(raised.value) == f"cannot write {blocker}: Is a directory"


def test_a_new_folder_created_before_a_fault_is_removed_again(
    out: Path, new_outputs: dict[str, str]
) -> None:
    # "extra/deeper/" is created while staging; "zzz/last.txt" then fails: no empty
    # "extra/" may be left behind.
    (out / "zzz" / "last.txt").mkdir(parents=True)
    before = snapshot(out)
    _expect_unchanged(out, before, new_outputs)
    assert not (out / "extra").exists()


def test_after_a_failed_run_the_next_run_succeeds(
    out: Path, new_outputs: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", FailOnCall(os.replace, 5, errno.EACCES))
        with pytest.raises(OutputError):
            write_outputs(out, new_outputs)
    write_outputs(out, new_outputs)
    for rel, text in new_outputs.items():
        assert (out / rel).read_text(encoding="utf-8") == text
    assert not (out / "policies/examples/single-workspace.json").exists()
    assert staging_leftovers(out) == []


# ---------------------------------------------------------------------------- the CLI


@pytest.fixture
def cli_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``iamgen generate`` of the minimal spec, run once; the render cache kept in tmp."""
    monkeypatch.setenv("IAMGEN_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "generated"
    assert (
        cli.main(["generate", "--spec", str(MINIMAL_SPEC), "--out", str(folder)]) == 0
    )
    return folder


def _changed_spec(tmp_path: Path) -> Path:
    spec = tmp_path / "spec.yaml"
    text = MINIMAL_SPEC.read_text(encoding="utf-8")
    spec.write_text(text.replace("Example Platform", "Example Platform Two"))
    return spec


def _generate_fails(
    spec: Path, folder: Path, capsys: pytest.CaptureFixture[str]
) -> str:
    before = snapshot(folder)
    capsys.readouterr()
    code = cli.main(["generate", "--spec", str(spec), "--out", str(folder)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert snapshot(folder) == before
    assert staging_leftovers(folder) == []
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("iamgen: "), captured.err
    return lines[0]


def test_a_template_failing_after_others_rendered_is_reported_and_writes_nothing(
    cli_out: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    real = generator.render.environment()
    rendered: list[str] = []
    broken = "openapi/openapi.json.jinja"

    class Environment:
        def get_template(self, name: str) -> jinja2.Template:
            rendered.append(name)
            if name == broken:
                return real.from_string("{{ a_value_the_view_does_not_have }}")
            return real.get_template(name)

    monkeypatch.setattr(generator.render, "environment", lambda: Environment())
    line = _generate_fails(_changed_spec(tmp_path), cli_out, capsys)
    assert rendered.index(broken) >= 3, "the failure should come after other outputs"
    assert line == (
        f"iamgen: cannot render templates/{broken}: UndefinedError: "
        "'a_value_the_view_does_not_have' is undefined; nothing was written"
    )


def test_black_failing_is_reported_and_writes_nothing(
    cli_out: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import black

    def format_str(source: str, *, mode: Any) -> str:
        raise black.InvalidInput("Cannot parse: 1:4: def (")

    monkeypatch.setattr(black, "format_str", format_str)
    line = _generate_fails(_changed_spec(tmp_path), cli_out, capsys)
    assert line == (
        "iamgen: black cannot format the generated Python: InvalidInput: "
        "Cannot parse: 1:4: def (; nothing was written"
    )


def test_a_rename_failing_midway_through_the_cli(
    cli_out: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(os, "replace", FailOnCall(os.replace, 4, errno.EACCES))
    line = _generate_fails(_changed_spec(tmp_path), cli_out, capsys)
    assert line.startswith(f"iamgen: cannot replace {cli_out}")
    assert line.endswith(": Permission denied; the previous files were restored")


def test_a_file_in_the_way_through_the_cli(
    cli_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (cli_out / "policies" / "managed" / "ReadOnly.json").unlink()
    (cli_out / "policies" / "managed" / "ReadOnly.json").mkdir()
    line = _generate_fails(_changed_spec(tmp_path), cli_out, capsys)
    assert line == (
        f"iamgen: cannot write {cli_out / 'policies/managed/ReadOnly.json'}: "
        "a directory is in the way"
    )


def test_out_is_a_file_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "generated"
    target.write_text("not a folder\n")
    capsys.readouterr()
    code = cli.main(["generate", "--spec", str(MINIMAL_SPEC), "--out", str(target)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err == (
        f"iamgen: cannot write {target / 'MANIFEST.json'}: {target} is a file, "
        "not a folder\n"
    )
    assert target.read_text() == "not a folder\n"
