"""Read the spec file: bytes -> round-trip YAML tree plus a location for every node.

ruamel.yaml keeps line/column for every mapping key, mapping value and sequence item; we
flatten those into a ``Locator`` keyed by the node's path from the root, so later stages
(model, validate) can report ``file:line:col`` without holding ruamel objects.

Hostile input is refused here, before any tree is built: files over ``MAX_SPEC_BYTES``,
invalid UTF-8, YAML aliases (an alias bomb expands exponentially; the spec format has no use
for anchors), nesting deeper than ``MAX_DEPTH``, YAML tags, control characters and lone
surrogates in strings, and numbers too long to convert.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from generator.errors import SpecError

MAX_SPEC_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64

PathKey = str | int
NodePath = tuple[PathKey, ...]


@dataclass
class Locator:
    """Maps a node path (keys and indices from the root) to its 1-based (line, col)."""

    file: str
    value_positions: dict[NodePath, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[NodePath, tuple[int, int]] = field(default_factory=dict)

    def error(self, path: NodePath, message: str, *, at_key: bool = False) -> SpecError:
        """An error at the node ``path``; falls back to the nearest located ancestor."""
        table = self.key_positions if at_key else self.value_positions
        probe = path
        while True:
            pos = table.get(probe) or self.value_positions.get(probe)
            if pos is not None:
                return SpecError(self.file, pos[0], pos[1], message)
            if not probe:
                return SpecError(self.file, 1, 1, message)
            probe = probe[:-1]


@dataclass
class LoadedSpec:
    """The plain data of the spec (dicts keep file order) and where each node is."""

    data: Any
    locator: Locator


def load_spec_text(raw: bytes, file: str) -> tuple[LoadedSpec | None, list[SpecError]]:
    """Parse spec bytes. Returns the tree or every error found (never raises on bad input)."""
    if len(raw) > MAX_SPEC_BYTES:
        return None, [
            SpecError(
                file, 1, 1, f"file is {len(raw)} bytes; the limit is {MAX_SPEC_BYTES}"
            )
        ]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _position_of_byte(raw, exc.start)
        return None, [
            SpecError(file, line, col, f"invalid UTF-8 (byte 0x{raw[exc.start]:02x})")
        ]
    if text.startswith("\ufeff"):
        text = text[1:]

    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    structural = _scan_events(yaml, text, file)
    if structural:
        return None, structural
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        return None, [_marked_error(exc, file)]
    except (YAMLError, RecursionError, ValueError) as exc:
        return None, [SpecError(file, 1, 1, f"cannot parse YAML: {exc}")]
    if tree is None:
        return None, [SpecError(file, 1, 1, "the spec is empty")]
    locator = Locator(file)
    data = _to_plain(tree, (), locator)
    return LoadedSpec(data, locator), []


def _scan_events(yaml: YAML, text: str, file: str) -> list[SpecError]:
    """Refuse aliases, deep nesting and syntax errors from the event stream, cheaply."""
    depth = 0
    # Anchors and aliases: the first of each kind is reported, with a count of the others (the
    # scan can go on: nothing is expanded). Any other problem stops the scan at once.
    seen: dict[str, int] = {}
    first: dict[str, tuple[int, int]] = {}
    try:
        events: Iterator[Any] = yaml.parse(io.StringIO(text))
        for event in events:
            name = type(event).__name__
            mark = event.start_mark
            problem = _event_problem(name, event)
            if problem is None and name in ("MappingStartEvent", "SequenceStartEvent"):
                depth += 1
                if depth > MAX_DEPTH:
                    problem = f"nesting deeper than {MAX_DEPTH} levels"
            elif name in ("MappingEndEvent", "SequenceEndEvent"):
                depth -= 1
            if problem is not None:
                return [SpecError(file, mark.line + 1, mark.column + 1, problem)]
            if name == "AliasEvent":
                kind = "aliases"
            elif getattr(event, "anchor", None):
                kind = "anchors"
            else:
                continue
            seen[kind] = seen.get(kind, 0) + 1
            if seen[kind] == 1:
                first[kind] = (mark.line + 1, mark.column + 1)
    except MarkedYAMLError as exc:
        return [_marked_error(exc, file)]
    except ReaderError as exc:
        # A raw character YAML does not allow (NUL, other C0 controls): locate it.
        before = text[: exc.position]
        line = before.count("\n") + 1
        col = exc.position - (before.rfind("\n") + 1) + 1
        return [
            SpecError(file, line, col, f"YAML: {exc.reason} (U+{exc.character:04X})")
        ]
    except YAMLError as exc:
        return [SpecError(file, 1, 1, f"cannot parse YAML: {exc}")]
    errors = []
    for kind, (line, col) in first.items():
        more = f" ({seen[kind] - 1} more)" if seen[kind] > 1 else ""
        message = f"YAML {kind} are not allowed in the spec{more}"
        errors.append(SpecError(file, line, col, message))
    return sorted(errors)


# Characters a string must not hold: C0/C1 controls other than tab and newline (they would be
# copied raw into the Markdown and the JSON outputs) and lone surrogates (UTF-8 cannot encode
# them, so writing the outputs would fail). Only double-quoted escapes ("\x1b", "\ud800")
# can produce them. Python refuses int() of more than 4300 digits; refuse long numbers first.
_BAD_CHARACTER = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_LONG_NUMBER = re.compile(r"[-+]?[0-9][0-9_]{999,}")


def _event_problem(name: str, event: Any) -> str | None:
    """Why one parse event cannot be loaded: a tag, an unprintable character, a huge number."""
    tag = getattr(event, "tag", None)
    if tag is not None and name in (
        "ScalarEvent",
        "MappingStartEvent",
        "SequenceStartEvent",
    ):
        return f"YAML tags are not allowed in the spec (found {tag})"
    if name != "ScalarEvent":
        return None
    value: str = event.value
    if event.style == ">":
        # ruamel's round-trip parser marks where a folded (">") scalar was folded with "\a".
        value = value.replace("\a", "")
    bad = _BAD_CHARACTER.search(value)
    if bad is not None:
        code = ord(bad.group())
        if 0xD800 <= code <= 0xDFFF:
            return f"a string holds U+{code:04X}, a lone surrogate that UTF-8 cannot encode"
        return (
            f"a string holds the control character U+{code:04X}; write printable text"
        )
    if event.style is None and _LONG_NUMBER.fullmatch(value):
        return f"a number of {len(value)} characters is too long"
    return None


def _marked_error(exc: MarkedYAMLError, file: str) -> SpecError:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = exc.problem or exc.context or "invalid YAML"
    if "duplicate key" in problem:
        problem = problem.split(" with value")[0]
    return SpecError(file, line, col, f"YAML: {problem}")


def _to_plain(node: Any, path: NodePath, locator: Locator) -> Any:
    """Copy the ruamel tree into dicts/lists/scalars, recording positions on the way."""
    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for key in node:
            child_path = path + (str(key),)
            kline, kcol = node.lc.key(key)
            vline, vcol = node.lc.value(key)
            locator.key_positions[child_path] = (kline + 1, kcol + 1)
            if node[key] is None:
                # An empty value ("title:") has no token; ruamel reports the next one.
                vline, vcol = kline, kcol
            locator.value_positions[child_path] = (vline + 1, vcol + 1)
            out[str(key)] = _to_plain(node[key], child_path, locator)
        return out
    if isinstance(node, CommentedSeq):
        items: list[Any] = []
        for index, item in enumerate(node):
            child_path = path + (index,)
            line, col = node.lc.item(index)
            locator.value_positions[child_path] = (line + 1, col + 1)
            items.append(_to_plain(item, child_path, locator))
        return items
    if isinstance(node, bool | int | float) or node is None:
        return node
    if isinstance(node, str):
        return str(node)
    # Dates, timestamps and other tagged scalars: keep their text so validation can say so.
    return _Tagged(str(node), type(node).__name__)


@dataclass(frozen=True)
class _Tagged:
    """A YAML scalar that is neither str, number, bool nor null (e.g. an unquoted date)."""

    text: str
    kind: str


def yaml_type_name(value: Any) -> str:
    """How a value reads to a person editing YAML."""
    if isinstance(value, _Tagged):
        return f"a {value.kind} ({value.text}; quote it to make it a string)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "null"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _position_of_byte(raw: bytes, offset: int) -> tuple[int, int]:
    before = raw[:offset]
    line = before.count(b"\n") + 1
    col = offset - (before.rfind(b"\n") + 1) + 1
    return line, col
