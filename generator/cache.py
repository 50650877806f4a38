"""A content-addressed cache of rendered outputs, so ``check`` can skip the pipeline.

``check`` spends nearly all its time loading the spec, verifying its claims, rendering and
formatting with black; the comparison with the output folder is cheap. When nothing the
pipeline reads has changed, its result cannot have changed either, so the rendering stored by
the last successful run is compared instead.

The key is a sha256 of every input that can change the outputs: the spec bytes, every file
under ``generator/`` and ``templates/``, the Python version, and the installed versions of the
third-party packages the pipeline runs (jinja2, markupsafe, ruamel.yaml, black and its
tokenizer pytokens). Only a pipeline run that succeeded stores an entry, so a spec that fails
validation never has one.
An entry is used only when its key and the sha256 of its contents both match; a changed
input, a missing package or a damaged entry is a miss, and a miss runs the full pipeline.

This module imports none of the pipeline's dependencies: that is what makes a hit fast.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

from generator.output import write_file_atomically

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE_DIR = REPO_ROOT / ".iamgen-cache"
CACHE_DIR_ENV = "IAMGEN_CACHE_DIR"
"""Overrides where entries are kept (tests use a temp folder)."""

FORMAT = 1
"""Bumped when the entry layout or the key recipe changes."""
INPUT_DIRS = ("generator", "templates")
# (distribution name as in its .dist-info folder, top-level import name)
PIPELINE_DISTRIBUTIONS = (
    ("jinja2", "jinja2"),
    ("markupsafe", "markupsafe"),
    ("ruamel_yaml", "ruamel"),
    ("black", "black"),
    ("pytokens", "pytokens"),  # black's tokenizer
)
KEEP_ENTRIES = 8
"""Entries kept; the least recently used beyond this are removed when one is stored."""


def cache_dir() -> Path:
    override = os.environ.get(CACHE_DIR_ENV)
    return Path(override) if override else DEFAULT_CACHE_DIR


def cache_key(spec_bytes: bytes) -> str:
    """The sha256 of everything the pipeline's result depends on."""
    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        # Length-prefixed, so no two different input lists hash the same stream.
        digest.update(f"{label}\0{len(data)}\0".encode())
        digest.update(data)

    add("format", str(FORMAT).encode())
    add("python", f"{sys.version}|{sys.implementation.cache_tag}".encode())
    for name, fact in _distribution_facts():
        add(f"package:{name}", fact.encode())
    add("spec", spec_bytes)
    for folder in INPUT_DIRS:
        root = REPO_ROOT / folder
        for rel in _input_files(root):
            add(f"file:{folder}/{rel}", (root / rel).read_bytes())
    return digest.hexdigest()


def load_outputs(key: str) -> dict[str, str] | None:
    """The outputs stored under ``key``, or None when absent, unreadable or damaged."""
    entry = cache_dir() / f"{key}.json"
    outputs = read_entry(entry, key)
    if outputs is not None:
        try:
            os.utime(entry)  # recently used: pruned last
        except OSError:
            pass
    return outputs


def store_outputs(key: str, outputs: dict[str, str]) -> None:
    """Store a successful rendering; best effort (a cache that cannot be written is skipped)."""
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_entry(folder / f"{key}.json", key, outputs)
    except OSError:
        return
    _prune(folder)


def read_entry(entry: Path, key: str) -> dict[str, str] | None:
    """An entry's outputs if it is whole and made for ``key``, else None."""
    try:
        raw = entry.read_bytes()
    except OSError:
        return None
    header_bytes, newline, payload = raw.partition(b"\n")
    try:
        header = json.loads(header_bytes)
        if not newline or not isinstance(header, dict):
            return None
        if header.get("format") != FORMAT or header.get("key") != key:
            return None
        if header.get("sha256") != hashlib.sha256(payload).hexdigest():
            return None
        outputs = json.loads(payload)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(outputs, dict) or not all(
        isinstance(path, str) and isinstance(text, str)
        for path, text in outputs.items()
    ):
        return None
    return outputs


def write_entry(entry: Path, key: str, outputs: dict[str, str]) -> None:
    """Write an entry atomically: readers see the old one or the whole new one."""
    payload = json.dumps(outputs, ensure_ascii=False, sort_keys=True).encode("utf-8")
    header = json.dumps(
        {"format": FORMAT, "key": key, "sha256": hashlib.sha256(payload).hexdigest()}
    ).encode("utf-8")
    write_file_atomically(entry, header + b"\n" + payload)


def _prune(folder: Path) -> None:
    entries: list[tuple[float, Path]] = []
    for path in folder.glob("*.json"):
        try:
            entries.append((path.stat().st_mtime, path))
        except OSError:
            continue
    entries.sort(reverse=True)
    for _mtime, path in entries[KEEP_ENTRIES:]:
        try:
            path.unlink()
        except OSError:
            pass


def _input_files(root: Path) -> list[str]:
    """Every file under ``root`` except bytecode, as sorted POSIX paths relative to it."""
    found: list[str] = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if name != "__pycache__"]
        rel_folder = Path(folder).relative_to(root).as_posix()
        for name in files:
            if not name.endswith(".pyc"):
                found.append(name if rel_folder == "." else f"{rel_folder}/{name}")
    return sorted(found)


def _distribution_facts() -> list[tuple[str, str]]:
    """Each pipeline package's installed version, as the folder Python would import it from.

    The first ``sys.path`` entry holding the top-level package is where the import comes
    from; the ``.dist-info`` folders beside it give the version. No dist-info (or a package
    not found) is a fact like any other: it changes the key, so the pipeline runs. Reading
    folder names is much cheaper than ``importlib.metadata`` or importing the packages.
    """
    listings: dict[str, list[str]] = {}
    facts: list[tuple[str, str]] = []
    for distribution, top_level in PIPELINE_DISTRIBUTIONS:
        fact = "not found"
        for entry in sys.path:
            names = listings.get(entry)
            if names is None:
                try:
                    names = sorted(os.listdir(entry or "."))
                except OSError:
                    names = []
                listings[entry] = names
            if top_level in names or f"{top_level}.py" in names:
                prefix = f"{distribution}-"
                fact = ",".join(
                    name
                    for name in names
                    if name.lower().startswith(prefix) and name.endswith(".dist-info")
                )
                break
        facts.append((distribution, fact))
    return facts
