"""Hostile spec files are refused quickly, with located errors, and nothing is written.

Every case is run three ways: the load functions in process (timed: an alias bomb must be
refused by ``load_spec_text`` in under a second), ``iamgen validate --spec F`` in a subprocess
(exit 2, every stderr line ``spec.yaml:LINE:COL: message`` plus the count, no traceback; one
case of each kind in ``make test``, all of them in ``make test-slow``), and ``iamgen generate
--spec F --out DIR`` in process (exit 2; a previous tree stays byte-identical and an absent
output folder is not created).

tests/test_spec_errors.py covers some of these with exact messages; this module covers every
kind of hostile file named in issue 5 (truncated, invalid UTF-8, tabs, a top-level list,
10 MB, deep nesting, alias bombs), plus what probing found: YAML tags, control characters
and lone surrogates written as escapes, and numbers too long to convert (these used to
crash with a traceback or write a NUL byte into the reference page).
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import FIXTURES, MINIMAL_SPEC, iamgen_env, read_tree

from generator import cli
from generator.errors import SpecInvalid
from generator.load import MAX_DEPTH, MAX_SPEC_BYTES, load_spec_text
from generator.pipeline import load_model

SPEC_NAME = "spec.yaml"
NEWLINE = b"\n"
MINIMAL = MINIMAL_SPEC.read_bytes()
LOCATED = re.compile(r"^spec\.yaml:[1-9][0-9]*:[1-9][0-9]*: \S.*$")
SUMMARY = re.compile(r"^[1-9][0-9]* errors? in the spec$")


@dataclass(frozen=True)
class Hostile:
    name: str
    content: bytes
    first_error: str | None = None
    """The exact first error line, when the case pins one."""
    first_pattern: str | None = None
    """Else a regular expression the first error line must match."""
    limit: float = 5.0
    """Seconds ``load_model`` may take (generous: the machine is shared)."""


def _edit(old: bytes, new: bytes) -> bytes:
    assert MINIMAL.count(old) == 1, old
    return MINIMAL.replace(old, new)


def _line_col(content: bytes, needle: bytes, offset: int = 0) -> str:
    index = content.index(needle) + offset
    line = content.count(b"\n", 0, index) + 1
    col = index - (content.rfind(b"\n", 0, index) + 1) + 1
    return f"{SPEC_NAME}:{line}:{col}"


def _truncations() -> list[Hostile]:
    cases = []
    for percent in (1, 7, 20, 33, 50, 66, 80, 95):
        cut = len(MINIMAL) * percent // 100
        cases.append(Hostile(f"truncated-at-{percent}%", MINIMAL[:cut]))
    with_accent = _edit(
        b"name: Example Platform", "name: Exampl\u00e9 Platform".encode()
    )
    cut = with_accent.index("\u00e9".encode()) + 1  # inside the two-byte character
    cases.append(
        Hostile(
            "truncated-inside-a-utf8-character",
            with_accent[:cut],
            f"{_line_col(with_accent, 'é'.encode())}: invalid UTF-8 (byte 0xc3)",
        )
    )
    return cases


def _bombs() -> list[Hostile]:
    laughs = (FIXTURES / "broken" / "billion-laughs.yaml").read_bytes()
    scalar = b'lol: &lol "lol"\n' + b"".join(
        f"l{n}: [{', '.join(['*lol'] * 9)}]\n".encode() for n in range(9)
    )
    long_string = b'a: &a "' + b"x" * 100_000 + b'"\nb: [' + b"*a, " * 1000 + b"*a]\n"
    merge = b"base: &base {a: 1, b: 2}\nderived:\n  <<: *base\n  c: 3\n"
    one_line = (
        b"{a: &a [x, x, x, x, x, x, x, x], b: [*a, *a, *a, *a, *a, *a, *a, *a]}\n"
    )
    # The loader may stop at the first anchor or alias, or report them all (with a count of
    # the repeats); either way the first error is the first anchor or, for an anchor on a
    # scalar, possibly the first alias. Each must be refused in under a second.
    bombs = [
        Hostile("billion-laughs", laughs, first_pattern=_reference("2:4", "anchors")),
        Hostile(
            "alias-bomb-on-a-scalar-anchor",
            scalar,
            first_pattern=_reference("1:6", "anchors", "2:6", "aliases"),
        ),
        Hostile(
            "alias-bomb-of-a-100kB-string",
            long_string,
            first_pattern=_reference(
                "1:4", "anchors", _line_col(long_string, b"*a")[len(SPEC_NAME) + 1 :]
            ),
        ),
        Hostile("merge-key", merge, first_pattern=_reference("1:7", "anchors")),
        Hostile(
            "flow-style-bomb", one_line, first_pattern=_reference("1:5", "anchors")
        ),
    ]
    return [dataclasses.replace(bomb, limit=1.0) for bomb in bombs]


REFERENCE_MESSAGE = (
    r"YAML (anchors|aliases) are not allowed in the spec( \([0-9]+ more\))?$"
)


def _reference(position: str, kind: str, *alternative: str) -> str:
    """A pattern for an anchor/alias error at ``position`` (or at the alternative)."""
    options = [f"{position}: YAML {kind}"]
    if alternative:
        options.append(
            f"{alternative[0]}: YAML {alternative[1] if len(alternative) > 1 else 'aliases'}"
        )
    return (
        rf"^{re.escape(SPEC_NAME)}:({'|'.join(options)}) are not allowed in the spec"
        r"( \([0-9]+ more\))?$"
    )


TAB_INDENT = _edit(b"\n  name: Example Platform", b"\n\tname: Example Platform")
NUL_RAW = _edit(b"Example Platform", b"Example\x00Platform")
ESC_RAW = _edit(b"Example Platform", b"Example\x1b[31mPlatform")
NUL_ESCAPE = _edit(b"name: Example Platform", b'name: "Example \\x00 Platform"')
ESC_ESCAPE = _edit(b"name: Example Platform", b'name: "Example \\e[31m Platform"')
CR_ESCAPE = _edit(b"name: Example Platform", b'name: "Example\\r\\nPlatform"')
SURROGATE = _edit(
    b"description: Upload a file.", b'description: "Upload \\ud800 a file."'
)
PYTHON_TAG = _edit(
    b"format: 1", b'format: !!python/object/apply:os.system ["echo pwned"]'
)
LOCAL_TAG = _edit(b"format: 1", b"format: !custom 1")
BINARY_TAG = _edit(b"format: 1", b"format: !!binary aGVsbG8=")
LONG_NUMBER = _edit(b"format: 1", b"format: 1" + b"0" * 5000)
TEN_MB = b"# " + b"x" * (10 * 1024 * 1024) + b"\n" + MINIMAL
TEN_MB_YAML = (
    b"format: 1\nfiller:\n"
    + b"  - 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'\n"
    * (10 * 1024 * 1024 // 50)
)

CASES: list[Hostile] = [
    *_truncations(),
    Hostile("empty-file", b"", f"{SPEC_NAME}:1:1: the spec is empty"),
    Hostile(
        "only-a-comment", b"# nothing here\n", f"{SPEC_NAME}:1:1: the spec is empty"
    ),
    Hostile(
        "top-level-list",
        b"- format: 1\n- service: {}\n",
        f"{SPEC_NAME}:1:1: the spec must be a mapping, got a list",
    ),
    Hostile(
        "top-level-scalar",
        b"just some text\n",
        f"{SPEC_NAME}:1:1: the spec must be a mapping, got a string",
    ),
    Hostile(
        "invalid-utf8-byte",
        _edit(b"Example Platform", b"Example \xff Platform"),
        f"{_line_col(MINIMAL, b'Example Platform', 8)}: invalid UTF-8 (byte 0xff)",
    ),
    Hostile(
        "overlong-utf8",
        _edit(b"Example Platform", b"Example \xc0\xaf Platform"),
        f"{_line_col(MINIMAL, b'Example Platform', 8)}: invalid UTF-8 (byte 0xc0)",
    ),
    Hostile(
        "utf8-encoded-surrogate",
        _edit(b"Example Platform", b"Example \xed\xa0\x80 Platform"),
        f"{_line_col(MINIMAL, b'Example Platform', 8)}: invalid UTF-8 (byte 0xed)",
    ),
    Hostile(
        "utf16-file",
        MINIMAL.decode("utf-8").encode("utf-16"),
        f"{SPEC_NAME}:1:1: invalid UTF-8 (byte 0xff)",
    ),
    Hostile(
        "tab-indentation",
        TAB_INDENT,
        _line_col(TAB_INDENT, b"\tname")
        + ": YAML: found character '\\t' that cannot start any token",
    ),
    Hostile(
        "ten-megabyte-comment",
        TEN_MB,
        f"{SPEC_NAME}:1:1: file is {len(TEN_MB)} bytes; the limit is {MAX_SPEC_BYTES}",
        limit=1.0,
    ),
    Hostile(
        "ten-megabyte-yaml",
        TEN_MB_YAML,
        f"{SPEC_NAME}:1:1: file is {len(TEN_MB_YAML)} bytes; the limit is {MAX_SPEC_BYTES}",
        limit=1.0,
    ),
    Hostile(
        "deep-block-nesting",
        b"a:\n" + b"".join(b"  " * i + b"a:\n" for i in range(1, 200)),
        f"{SPEC_NAME}:{MAX_DEPTH + 1}:{2 * MAX_DEPTH + 1}: nesting deeper than "
        f"{MAX_DEPTH} levels",
    ),
    Hostile(
        "deep-flow-sequence",
        # Any depth over the limit will do: ruamel scans up to 1024 characters ahead for a
        # simple key, so a longer run of "[" costs about a second whatever its length
        # (tests/test_spec_errors.py has a 20,000-level case).
        b"format: " + b"[" * 300,
        f"{SPEC_NAME}:1:{len('format: ') + MAX_DEPTH}: nesting deeper than {MAX_DEPTH} levels",
    ),
    Hostile(
        "deep-flow-mapping",
        b"format: " + b"{a: " * 5_000 + b"1" + b"}" * 5_000,
        f"{SPEC_NAME}:1:{len('format: ') + 4 * (MAX_DEPTH - 1) + 1}: nesting deeper than "
        f"{MAX_DEPTH} levels",
    ),
    *_bombs(),
    Hostile(
        "python-object-tag",
        PYTHON_TAG,
        f"{_line_col(PYTHON_TAG, b'!!python')}: YAML tags are not allowed in the spec "
        "(found tag:yaml.org,2002:python/object/apply:os.system)",
    ),
    Hostile(
        "local-tag",
        LOCAL_TAG,
        f"{_line_col(LOCAL_TAG, b'!custom')}: YAML tags are not allowed in the spec (found !custom)",
    ),
    Hostile(
        "binary-tag",
        BINARY_TAG,
        f"{_line_col(BINARY_TAG, b'!!binary')}: YAML tags are not allowed in the spec "
        "(found tag:yaml.org,2002:binary)",
    ),
    Hostile(
        "raw-nul",
        NUL_RAW,
        _line_col(NUL_RAW, b"\x00")
        + ": YAML: special characters are not allowed (U+0000)",
    ),
    Hostile(
        "raw-escape-character",
        ESC_RAW,
        _line_col(ESC_RAW, b"\x1b")
        + ": YAML: special characters are not allowed (U+001B)",
    ),
    Hostile(
        "nul-written-as-an-escape",
        NUL_ESCAPE,
        _line_col(NUL_ESCAPE, b'"Example')
        + ": a string holds the control character U+0000; write printable text",
    ),
    Hostile(
        "terminal-escape-written-as-an-escape",
        ESC_ESCAPE,
        _line_col(ESC_ESCAPE, b'"Example')
        + ": a string holds the control character U+001B; write printable text",
    ),
    Hostile(
        "carriage-return-written-as-an-escape",
        CR_ESCAPE,
        _line_col(CR_ESCAPE, b'"Example')
        + ": a string holds the control character U+000D; write printable text",
    ),
    Hostile(
        "lone-surrogate-escape",
        SURROGATE,
        _line_col(SURROGATE, b'"Upload')
        + ": a string holds U+D800, a lone surrogate that UTF-8 cannot encode",
    ),
    Hostile(
        "number-of-5001-digits",
        LONG_NUMBER,
        f"{_line_col(LONG_NUMBER, b'10000')}: a number of 5001 characters is too long",
    ),
    Hostile(
        "two-documents",
        MINIMAL + b"---\nformat: 1\n",
        f"{SPEC_NAME}:{MINIMAL.count(NEWLINE) + 1}:1: YAML: but found another document",
    ),
]


def _ids(cases: list[Hostile]) -> list[str]:
    return [case.name for case in cases]


def test_case_names_are_unique() -> None:
    assert len(set(_ids(CASES))) == len(CASES)


def _errors(raw: bytes) -> tuple[list[str], float]:
    started = time.perf_counter()
    with pytest.raises(SpecInvalid) as raised:
        load_model(raw, SPEC_NAME)
    return [str(error) for error in raised.value.errors], time.perf_counter() - started


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_refused_in_process_quickly_with_located_errors(case: Hostile) -> None:
    errors, elapsed = _errors(case.content)
    assert errors, "no error reported"
    bad = [error for error in errors if not LOCATED.match(error)]
    assert not bad, f"not located as path:LINE:COL: message: {bad}"
    _check_first(case, errors[0])
    assert elapsed < case.limit, f"refusing took {elapsed:.2f}s"


def _check_first(case: Hostile, line: str) -> None:
    if case.first_error is not None:
        assert line == case.first_error
    if case.first_pattern is not None:
        assert re.match(case.first_pattern, line), line


@pytest.mark.parametrize("case", _bombs(), ids=_ids(_bombs()))
def test_alias_bombs_are_refused_by_load_spec_text_in_under_a_second(
    case: Hostile,
) -> None:
    started = time.perf_counter()
    loaded, errors = load_spec_text(case.content, SPEC_NAME)
    elapsed = time.perf_counter() - started
    assert loaded is None and errors
    _check_first(case, str(errors[0]))
    assert all(re.match(REFERENCE_MESSAGE, e.message) for e in errors), errors
    assert elapsed < 1.0, f"load_spec_text took {elapsed:.3f}s on an alias bomb"


# One case of each kind in `make test`; every case in `make test-slow`.
SUBPROCESS_SAMPLE = (
    "truncated-at-50%",
    "invalid-utf8-byte",
    "tab-indentation",
    "ten-megabyte-yaml",
    "billion-laughs",
    "python-object-tag",
)


def test_validate_in_a_subprocess_refuses_a_case_of_each_kind(tmp_path: Path) -> None:
    _validate_in_subprocesses(
        [case for case in CASES if case.name in SUBPROCESS_SAMPLE], tmp_path
    )


@pytest.mark.slow
def test_validate_in_a_subprocess_refuses_every_case(tmp_path: Path) -> None:
    _validate_in_subprocesses(CASES, tmp_path)


def _validate_in_subprocesses(cases: list[Hostile], tmp_path: Path) -> None:
    # One process per case, a few at a time: they are independent.
    pending = list(cases)
    running: list[tuple[Hostile, Path, subprocess.Popen[str]]] = []
    failures: list[str] = []
    while pending or running:
        while pending and len(running) < 6:
            case = pending.pop(0)
            folder = tmp_path / case.name
            folder.mkdir()
            (folder / SPEC_NAME).write_bytes(case.content)
            process = subprocess.Popen(
                [sys.executable, "-m", "generator", "validate", "--spec", SPEC_NAME],
                cwd=folder,
                env=iamgen_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
            )
            running.append((case, folder, process))
        case, folder, process = running.pop(0)
        out, err = process.communicate(timeout=120)
        lines = err.splitlines()
        problems = []
        if process.returncode != 2:
            problems.append(f"exit {process.returncode}")
        if out or "Traceback" in err:
            problems.append("stdout or traceback")
        if not lines or not SUMMARY.match(lines[-1]):
            problems.append("no error count")
        if not all(LOCATED.match(line) for line in lines[:-1]) or len(lines) < 2:
            problems.append("unlocated lines")
        if case.first_error is not None and lines[:1] != [case.first_error]:
            problems.append(f"first line {lines[:1]}")
        if case.first_pattern and not re.match(case.first_pattern, lines[0]):
            problems.append(f"first line {lines[:1]}")
        if sorted(p.name for p in folder.iterdir()) != [SPEC_NAME]:
            problems.append("wrote a file")
        if problems:
            failures.append(f"{case.name}: {', '.join(problems)}\n{err[:500]}")
    assert not failures, "\n".join(failures)


@pytest.fixture(scope="module")
def previous_tree(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """A tree generated from the minimal spec, as a folder would hold it before a run."""
    out = tmp_path_factory.mktemp("previous") / "generated"
    assert cli.main(["generate", "--spec", str(MINIMAL_SPEC), "--out", str(out)]) == 0
    return read_tree(out)


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_generate_writes_nothing(
    case: Hostile,
    previous_tree: dict[str, bytes],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec = tmp_path / SPEC_NAME
    spec.write_bytes(case.content)
    out = tmp_path / "generated"
    for rel, data in previous_tree.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)
    absent = tmp_path / "never-created"
    capsys.readouterr()

    for target in (out, absent):
        code = cli.main(["generate", "--spec", str(spec), "--out", str(target)])
        captured = capsys.readouterr()
        assert code == 2
        assert captured.out == ""
        assert SUMMARY.match(captured.err.splitlines()[-1])

    assert read_tree(out) == previous_tree
    assert not absent.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["generated", SPEC_NAME]


def test_valid_spec_still_loads_after_the_hostile_checks() -> None:
    # The checks that refuse control characters must not refuse what ruamel itself puts in
    # folded scalars (it marks fold points with "\a"), nor a CRLF file, nor a tab in text.
    assert len(load_model(MINIMAL, SPEC_NAME).spec.actions) == 8
    assert len(load_model(MINIMAL.replace(b"\n", b"\r\n"), SPEC_NAME).spec.actions) == 8
    folded = _edit(
        b"description: Upload a file.",
        b"description: >-\n          Upload a\n          file.",
    )
    assert len(load_model(folded, SPEC_NAME).spec.actions) == 8
    tabbed = _edit(b"description: Upload a file.", b'description: "Upload\\ta file."')
    assert len(load_model(tabbed, SPEC_NAME).spec.actions) == 8
