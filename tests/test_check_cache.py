"""``check`` may answer from .iamgen-cache/, but never passes where the full pipeline fails.

The end-to-end tests run iamgen from a private copy of generator/, templates/ and spec/ (so
they can edit the generator and its templates) with IAMGEN_CACHE_DIR pointing into the test's
temp folder. Each starts from a generated tree whose check is served from the cache.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT, describe

from generator import cache

SPEC = Path("spec/aws-external-anthropic.yaml")
DOCS = "generated/docs/iam-actions.md"
PIPELINE_PACKAGES = ("jinja2", "ruamel.yaml", "black")


def run(
    root: Path, cache_dir: Path, *args: str, code: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m generator ARGS`` (or ``python -c CODE``) with the copy's generator."""
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        cache.CACHE_DIR_ENV: str(cache_dir),
    }
    argv = [sys.executable, "-c", code] if code else [sys.executable, "-m", "generator"]
    return subprocess.run(
        [*argv, *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def generated_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """generator/, templates/, spec/ copied from the repo, and generated/ made from them."""
    root = tmp_path_factory.mktemp("cache-layout") / "repo"
    for folder in ("generator", "templates", "spec"):
        shutil.copytree(
            REPO_ROOT / folder,
            root / folder,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    cache_dir = root.parent / "cache"
    result = run(root, cache_dir, "generate")
    assert result.returncode == 0, describe(result)
    return root


@pytest.fixture
def repo(generated_copy: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the layout and of its cache (one entry, stored by generate)."""
    root = tmp_path / "repo"
    shutil.copytree(generated_copy, root)
    cache_dir = tmp_path / "cache"
    shutil.copytree(generated_copy.parent / "cache", cache_dir)
    return root, cache_dir


def entries(cache_dir: Path) -> list[Path]:
    return sorted(cache_dir.glob("*.json"))


def check(root: Path, cache_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    result = run(root, cache_dir, "check", *extra)
    assert "Traceback" not in result.stderr, describe(result)
    return result


def test_generate_stores_one_entry_and_check_uses_it(repo: tuple[Path, Path]) -> None:
    root, cache_dir = repo
    assert len(entries(cache_dir)) == 1
    result = check(root, cache_dir)
    assert result.returncode == 0, describe(result)
    assert result.stdout.startswith("generated is up to date (")


def test_a_cached_check_imports_none_of_the_pipeline_packages(
    repo: tuple[Path, Path],
) -> None:
    root, cache_dir = repo
    code = (
        "import sys\n"
        "from generator.cli import main\n"
        "code = main(['check'])\n"
        f"print(sorted(m for m in {PIPELINE_PACKAGES!r} if m in sys.modules), code)\n"
    )
    result = run(root, cache_dir, code=code)
    assert result.stdout.splitlines()[-1] == "[] 0", describe(result)


def test_the_cached_and_full_check_report_drift_identically(
    repo: tuple[Path, Path],
) -> None:
    root, cache_dir = repo
    docs = root / DOCS
    docs.write_text(docs.read_text(encoding="utf-8") + "hand edit\n", encoding="utf-8")
    (root / "generated/openapi/openapi.json").unlink()
    cached = check(root, cache_dir)
    full = check(root, cache_dir, "--no-cache")
    assert cached.returncode == full.returncode == 1
    assert (cached.stdout, cached.stderr) == (full.stdout, full.stderr)
    assert "+hand edit" not in cached.stdout and "-hand edit" in cached.stdout
    assert "missing: generated/openapi/openapi.json" in cached.stdout


def test_an_edited_generated_file_fails(repo: tuple[Path, Path]) -> None:
    root, cache_dir = repo
    target = root / "generated/policies/managed/AnthropicFullAccess.json"
    target.write_text(
        target.read_text(encoding="utf-8").replace("*", "?"), encoding="utf-8"
    )
    result = check(root, cache_dir)
    assert result.returncode == 1
    assert "AnthropicFullAccess.json (on disk)" in result.stdout


def test_an_edited_spec_fails(repo: tuple[Path, Path]) -> None:
    root, cache_dir = repo
    spec = root / SPEC
    text = spec.read_text(encoding="utf-8")
    # The first group's description, whatever it says.
    edited = re.sub(
        r"(?m)(^groups:\n  - name: .*\n    description: .*)$",
        r"\1 Edited.",
        text,
        count=1,
    )
    assert edited != text
    spec.write_text(edited, encoding="utf-8")
    result = check(root, cache_dir)
    assert result.returncode == 1, describe(result)
    assert "Edited." in result.stdout
    # The full pipeline ran on the new key and stored it beside the old entry.
    assert len(entries(cache_dir)) == 2


def test_an_invalid_spec_fails_with_its_errors(repo: tuple[Path, Path]) -> None:
    root, cache_dir = repo
    spec = root / SPEC
    spec.write_text(
        spec.read_text(encoding="utf-8").replace(
            "access_level: Read", "access_level: Reed", 1
        ),
        encoding="utf-8",
    )
    result = check(root, cache_dir)
    assert result.returncode == 2, describe(result)
    assert "spec/aws-external-anthropic.yaml:" in result.stderr
    assert len(entries(cache_dir)) == 1  # nothing stored for a spec that fails


def test_an_edited_template_fails(repo: tuple[Path, Path]) -> None:
    root, cache_dir = repo
    template = root / "templates/docs/iam-actions.md.jinja"
    template.write_text(
        template.read_text(encoding="utf-8") + "\nA line added to the template.\n",
        encoding="utf-8",
    )
    result = check(root, cache_dir)
    assert result.returncode == 1, describe(result)
    assert "+A line added to the template." in result.stdout


def test_an_edited_generator_file_fails(repo: tuple[Path, Path]) -> None:
    root, cache_dir = repo
    manifest_view = root / "generator/views/manifest.py"
    manifest_view.write_text(
        manifest_view.read_text(encoding="utf-8").replace(
            'GENERATOR = "iamgen"', 'GENERATOR = "iamgen-edited"'
        ),
        encoding="utf-8",
    )
    result = check(root, cache_dir)
    assert result.returncode == 1, describe(result)
    assert '+  "generator": "iamgen-edited",' in result.stdout


@pytest.mark.parametrize(
    "damage",
    ["truncated", "payload-edited", "not-json", "empty", "header-only", "wrong-key"],
)
def test_a_damaged_entry_is_ignored(repo: tuple[Path, Path], damage: str) -> None:
    """A damaged entry is a miss: the full pipeline decides, so a hand edit is still found."""
    root, cache_dir = repo
    target = root / "generated/policies/managed/AnthropicFullAccess.json"
    edited = target.read_text(encoding="utf-8").replace("*", "?")
    target.write_text(edited, encoding="utf-8")
    (entry,) = entries(cache_dir)
    raw = entry.read_bytes()
    header, _, payload = raw.partition(b"\n")
    outputs = json.loads(payload)
    rel = "policies/managed/AnthropicFullAccess.json"
    if damage == "truncated":
        entry.write_bytes(raw[: len(raw) // 2])
    elif damage == "payload-edited":
        # The stored rendering made to agree with the hand edit, its checksum left as it was.
        outputs[rel] = edited
        entry.write_bytes(header + b"\n" + json.dumps(outputs).encode())
    elif damage == "not-json":
        entry.write_bytes(b"\x00\xff not json at all")
    elif damage == "empty":
        entry.write_bytes(b"")
    elif damage == "header-only":
        entry.write_bytes(header)
    else:
        other = dict(json.loads(header), key="0" * 64)
        entry.write_bytes(json.dumps(other).encode() + b"\n" + payload)
    result = check(root, cache_dir)
    assert result.returncode == 1, describe(result)
    assert "AnthropicFullAccess.json (on disk)" in result.stdout


def test_no_cache_runs_the_full_pipeline(repo: tuple[Path, Path]) -> None:
    """A consistent but forged entry fools the cached check; --no-cache is not fooled."""
    root, cache_dir = repo
    target = root / "generated/policies/managed/AnthropicFullAccess.json"
    edited = target.read_text(encoding="utf-8").replace("*", "?")
    target.write_text(edited, encoding="utf-8")
    (entry,) = entries(cache_dir)
    key = entry.stem
    outputs = cache.read_entry(entry, key)
    assert outputs is not None
    outputs["policies/managed/AnthropicFullAccess.json"] = edited
    cache.write_entry(entry, key, outputs)
    assert (
        check(root, cache_dir).returncode == 0
    )  # forged, so trusted: see the module doc
    result = check(root, cache_dir, "--no-cache")
    assert result.returncode == 1, describe(result)
    assert "AnthropicFullAccess.json (on disk)" in result.stdout


def test_the_key_covers_every_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for folder in cache.INPUT_DIRS:
        shutil.copytree(REPO_ROOT / folder, tmp_path / folder)
    monkeypatch.setattr(cache, "REPO_ROOT", tmp_path)
    spec = (REPO_ROOT / SPEC).read_bytes()
    base = cache.cache_key(spec)
    assert cache.cache_key(spec) == base  # stable

    def changed() -> bool:
        return cache.cache_key(spec) != base

    assert cache.cache_key(spec + b"\n") != base
    (tmp_path / "templates/new.jinja").write_text("x", encoding="utf-8")
    assert changed()
    (tmp_path / "templates/new.jinja").unlink()
    assert not changed()
    render = tmp_path / "generator/render.py"
    source = render.read_bytes()
    render.write_bytes(source + b"\n")
    assert changed()
    render.write_bytes(source)
    (tmp_path / "generator/__pycache__").mkdir(exist_ok=True)
    (tmp_path / "generator/__pycache__/x.cpython-311.pyc").write_bytes(b"bytecode")
    assert not changed()  # bytecode is derived, not an input
    monkeypatch.setattr(sys, "version", sys.version + " (other build)")
    assert changed()
    monkeypatch.undo()
    monkeypatch.setattr(cache, "REPO_ROOT", tmp_path)
    assert not changed()
    # black not found where Python would import it from: a different key.
    monkeypatch.setattr(
        cache,
        "PIPELINE_DISTRIBUTIONS",
        tuple(
            (name, "no_such_module" if name == "black" else top)
            for name, top in cache.PIPELINE_DISTRIBUTIONS
        ),
    )
    assert changed()


def test_each_pipeline_package_is_found_with_its_version() -> None:
    facts = dict(cache._distribution_facts())
    assert set(facts) == {name for name, _ in cache.PIPELINE_DISTRIBUTIONS}
    for name, fact in facts.items():
        assert fact.startswith(f"{name}-") and fact.endswith(".dist-info"), (name, fact)
