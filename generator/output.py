"""The only module that reads or writes the output folder: write, compare, own files.

The generator owns exactly the files listed in the output folder's MANIFEST.json. ``write``
stages every new file beside its target first and renames only when all staging succeeded,
so a failure leaves the previous tree intact; it then removes the files it owned before and no
longer produces. Every rename and removal is journaled with the target's previous bytes, so a
failure midway (a rename refused, a stale file that cannot be removed) is rolled back and the
previous tree is restored. Anything else under the output folder is left alone.
"""

from __future__ import annotations

import difflib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import OutputError
from generator.views.manifest import MANIFEST_PATH

STAGING_SUFFIX = ".iamgen-tmp"


@dataclass
class CheckReport:
    changed: dict[str, str] = field(default_factory=dict)  # path -> unified diff
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.changed or self.missing or self.stale)


def owned_files(out_dir: Path) -> list[str]:
    """Files the generator wrote last time, from the manifest on disk (empty if none/unreadable)."""
    manifest = out_dir / MANIFEST_PATH
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        files = data["files"]
        if not isinstance(files, dict):
            return []
        return sorted(
            {MANIFEST_PATH, *(str(p) for p in files if _is_inside(out_dir, str(p)))}
        )
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _is_inside(out_dir: Path, rel: str) -> bool:
    """A manifest entry names a file under the output folder: relative, no `..`, no escape.

    The manifest is a file anyone can edit; an entry such as ``../spec/x.yaml`` must never
    make ``generate`` delete (or ``check`` report) a file outside the folder it owns.
    """
    parts = Path(rel).parts
    if not rel or Path(rel).is_absolute() or ".." in parts or "\\" in rel:
        return False
    root = out_dir.resolve()
    return root in (out_dir / rel).resolve().parents


def _diff_lines(text: str) -> list[str]:
    """Lines for a unified diff; a last line without newline is marked the way diff(1) does."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


def check_outputs(out_dir: Path, outputs: dict[str, str]) -> CheckReport:
    """Compare rendered outputs with the folder, without writing anything."""
    report = CheckReport()
    for rel, expected in sorted(outputs.items()):
        target = out_dir / rel
        try:
            actual = target.read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            report.missing.append(rel)
            continue
        except OSError as exc:
            report.changed[rel] = f"cannot read {target}: {exc.strerror}\n"
            continue
        if actual != expected:
            diff = difflib.unified_diff(
                _diff_lines(actual),
                _diff_lines(expected),
                fromfile=f"{rel} (on disk)",
                tofile=f"{rel} (from spec)",
            )
            report.changed[rel] = "".join(diff) or f"{rel}: bytes differ\n"
    report.stale = [rel for rel in owned_files(out_dir) if rel not in outputs]
    return report


def write_outputs(out_dir: Path, outputs: dict[str, str]) -> list[str]:
    """Write atomically; returns the stale files removed. Raises OutputError on failure."""
    previously_owned = owned_files(out_dir)
    staged: list[tuple[Path, Path]] = []
    created: list[Path] = []
    current = out_dir
    try:
        for rel, text in sorted(outputs.items()):
            target = current = out_dir / rel
            _ensure_parent(out_dir, target, created)
            if target.is_dir() and not target.is_symlink():
                raise OutputError(f"cannot write {target}: a directory is in the way")
            temp = target.with_name(target.name + STAGING_SUFFIX)
            with open(temp, "wb") as handle:
                staged.append((temp, target))  # from now on, discarded on failure
                handle.write(text.encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
    except OutputError:
        _discard(staged)
        _remove_folders(created)
        raise
    except OSError as exc:
        _discard(staged)
        _remove_folders(created)
        where = exc.filename or current  # fsync and write errors name no file
        raise OutputError(f"cannot write {where}: {exc.strerror or exc}") from None

    # All files staged: rename into place, then remove stale files, then rename the manifest,
    # so that a crash midway leaves a manifest that still lists the previous owned files.
    # Each change is journaled with the previous bytes (None: there was no file) and undone
    # in reverse if a later step fails, so a failed run leaves the previous tree.
    manifest = [pair for pair in staged if pair[1].name == MANIFEST_PATH]
    files = [pair for pair in staged if pair[1].name != MANIFEST_PATH]
    stale = [rel for rel in previously_owned if rel not in outputs]
    journal: list[tuple[Path, bytes | None]] = []
    removed: list[str] = []
    done = 0
    action = "replace"
    where = out_dir
    try:
        for temp, target in files:
            where = target
            previous = _previous_bytes(target)
            os.replace(temp, target)
            journal.append((target, previous))
            done += 1
        action = "remove stale"
        for rel in stale:
            where = out_dir / rel
            previous = _previous_bytes(where)
            if previous is None:
                continue
            where.unlink()
            journal.append((where, previous))
            removed.append(rel)
        action = "replace"
        for temp, target in manifest:
            where = target
            previous = _previous_bytes(target)
            os.replace(temp, target)
            journal.append((target, previous))
            done += 1
    except OSError as exc:
        _discard(files[done:] + manifest[max(0, done - len(files)) :])
        failed = _undo(journal)
        _remove_folders(created)
        reason = exc.strerror or str(exc)
        if failed:
            raise OutputError(
                f"cannot {action} {where}: {reason}; restoring the previous files failed "
                f"for {', '.join(map(str, failed))}: run generate again"
            ) from None
        raise OutputError(
            f"cannot {action} {where}: {reason}; the previous files were restored"
        ) from None

    for rel in removed:
        _remove_empty_parents(out_dir, (out_dir / rel).parent)
    return removed


def write_file_atomically(path: Path, data: bytes) -> None:
    """Write one file via a temporary file beside it and a rename: readers see the old file or
    the whole new one. Keeps an existing file's permission bits (0o644 for a new file).
    Raises OSError; the temporary file is removed on failure."""
    handle, temp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, path.stat().st_mode & 0o7777 if path.exists() else 0o644)
        os.replace(temp, path)
    except OSError:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


def _previous_bytes(target: Path) -> bytes | None:
    """What ``target`` holds now (None when there is no file), to undo a change to it."""
    try:
        return target.read_bytes()
    except FileNotFoundError:
        return None


def _undo(journal: list[tuple[Path, bytes | None]]) -> list[Path]:
    """Put back every journaled file, newest first; returns the files that failed."""
    failed = []
    for target, previous in reversed(journal):
        try:
            if previous is None:
                target.unlink(missing_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_name(target.name + STAGING_SUFFIX)
            temp.write_bytes(previous)
            os.replace(temp, target)
        except OSError:
            failed.append(target)
            try:
                target.with_name(target.name + STAGING_SUFFIX).unlink(missing_ok=True)
            except OSError:
                pass
    return failed


def _remove_folders(created: list[Path]) -> None:
    """Remove the folders this run created (deepest first), if they are empty again."""
    for folder in reversed(created):
        try:
            folder.rmdir()
        except OSError:
            pass


def _ensure_parent(out_dir: Path, target: Path, created: list[Path]) -> None:
    parent = target.parent
    for ancestor in [
        *reversed(parent.relative_to(out_dir).parents),
        parent.relative_to(out_dir),
    ]:
        candidate = out_dir / ancestor
        if candidate.exists() and not candidate.is_dir():
            raise OutputError(
                f"cannot write {target}: {candidate} is a file, not a folder"
            )
    missing = []
    folder = parent
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    parent.mkdir(parents=True, exist_ok=True)
    created.extend(reversed(missing))


def _discard(staged: list[tuple[Path, Path]]) -> None:
    for temp, _target in staged:
        try:
            temp.unlink()
        except OSError:
            pass


def _remove_empty_parents(out_dir: Path, folder: Path) -> None:
    root = out_dir.resolve()
    while folder.resolve() != root and root in folder.resolve().parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def read_spec_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise OutputError(f"cannot read spec {path}: {exc.strerror}") from None


@dataclass
class VerifyReport:
    """How a vendored copy of outputs differs from the MANIFEST.json it carries."""

    spec_sha256: str | None = None
    spec_path: str | None = None
    checked: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.edited or self.missing or self.extra)


def verify_tree(folder: Path, *, partial: bool = False) -> VerifyReport:
    """Compare every file under ``folder`` with the sha256 its MANIFEST.json records.

    ``partial``: a vendored subset is fine, so files listed but absent are not reported.
    Raises OutputError when there is no readable manifest.
    """
    import hashlib

    manifest_path = folder / MANIFEST_PATH
    try:
        data = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OutputError(
            f"{manifest_path} not found: copy MANIFEST.json with the outputs"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise OutputError(f"cannot read {manifest_path}: {exc}") from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict) or not all(
        isinstance(v, dict) and isinstance(v.get("sha256"), str) for v in files.values()
    ):
        raise OutputError(
            f"{manifest_path} is not an iamgen manifest (no files with sha256)"
        )
    escaping = sorted(rel for rel in files if not _is_inside(folder, rel))
    if escaping:
        raise OutputError(
            f"{manifest_path} lists paths outside {folder}: {', '.join(escaping)}"
        )
    spec = data.get("spec") if isinstance(data.get("spec"), dict) else {}
    report = VerifyReport(spec_sha256=spec.get("sha256"), spec_path=spec.get("path"))
    for rel, entry in sorted(files.items()):
        target = folder / rel
        if not target.is_file():
            if not partial:
                report.missing.append(rel)
            continue
        report.checked.append(rel)
        if hashlib.sha256(target.read_bytes()).hexdigest() != entry["sha256"]:
            report.edited.append(rel)
    for path in sorted(folder.rglob("*")):
        # Bytecode caches appear wherever the vendored package is imported; they are not copies.
        if path.is_file() and "__pycache__" not in path.parts:
            rel = path.relative_to(folder).as_posix()
            if rel != MANIFEST_PATH and rel not in files:
                report.extra.append(rel)
    return report
