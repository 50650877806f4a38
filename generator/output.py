"""The only module that reads or writes the output folder: write, compare, own files.

The generator owns exactly the files listed in the output folder's MANIFEST.json. ``write``
stages every new file beside its target first and renames only when all staging succeeded,
so a failure leaves the previous tree intact; it then removes the files it owned before and no
longer produces. Anything else under the output folder is left alone.
"""

from __future__ import annotations

import difflib
import json
import os
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
        return sorted([MANIFEST_PATH, *(str(p) for p in files)])
    except (OSError, ValueError, KeyError, TypeError):
        return []


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
                actual.splitlines(keepends=True),
                expected.splitlines(keepends=True),
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
    try:
        for rel, text in sorted(outputs.items()):
            target = out_dir / rel
            _ensure_parent(out_dir, target)
            if target.is_dir() and not target.is_symlink():
                raise OutputError(f"cannot write {target}: a directory is in the way")
            temp = target.with_name(target.name + STAGING_SUFFIX)
            with open(temp, "wb") as handle:
                handle.write(text.encode("utf-8"))
                handle.flush()
                os.fsync(handle.fileno())
            staged.append((temp, target))
    except OutputError:
        _discard(staged)
        raise
    except OSError as exc:
        _discard(staged)
        where = exc.filename or out_dir
        raise OutputError(f"cannot write {where}: {exc.strerror or exc}") from None

    # All files staged: rename into place. The manifest goes last so that a crash between
    # renames leaves a manifest that still lists the previous set of owned files.
    staged.sort(key=lambda pair: pair[1].name == MANIFEST_PATH)
    for temp, target in staged:
        os.replace(temp, target)

    removed = []
    for rel in previously_owned:
        if rel not in outputs:
            stale = out_dir / rel
            try:
                stale.unlink()
                removed.append(rel)
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise OutputError(
                    f"cannot remove stale {stale}: {exc.strerror}"
                ) from None
            _remove_empty_parents(out_dir, stale.parent)
    return removed


def _ensure_parent(out_dir: Path, target: Path) -> None:
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
    parent.mkdir(parents=True, exist_ok=True)


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
