"""``iamgen annotate``: add IAM annotations to an OpenAPI document someone else wrote.

``iamgen annotate OPENAPI [--output FILE | --overlay FILE] [--json]`` reads an OpenAPI 3.0 or
3.1 document (JSON or YAML) and gives every operation whose route is in the spec
``x-iam-action`` (the full action, ``aws-external-anthropic:GetFile``) and
``x-cloudtrail-event-type`` (``Data``/``Management``; null where the spec has none).

How an operation is matched to a route, always through ``generator.routing`` (the resolver
the generated package ships), never a second copy of the route table:

* Only the eight HTTP methods of a Path Item are operations; ``parameters``, ``summary``,
  ``servers``, ``x-...`` and every other key are left alone, as are ``x-...`` keys of the
  Paths Object, ``webhooks`` and callbacks (requests the API sends, not routes it serves).
* A query string inside a path key is ignored: ``/v1/files?beta=true`` is ``/v1/files``.
* A templated segment (``{file_id}``, whatever its name) matches only a spec parameter; a
  literal segment matches a spec literal first and a parameter otherwise, the gateway's rule.
  So ``/work/poll`` is ProcessEnvironmentWork and ``/work/{work_id}`` is GetEnvironment.
* Servers (operation-level, else path-level, else document-level, else ``/``): the path of
  each server URL, variables replaced by their defaults, is put in front of the path key.
  When that is no route, the server path's leading segments are dropped one at a time, as a
  proxy mount (``https://gw.example.com/anthropic``) is no part of the platform's path, while
  an API root (``https://host/v1`` with ``/messages``) is. The first server, in document
  order, under which the operation is a route decides.

Decisions:

* An operation whose route the platform does not serve (the gateway denies every route it
  does not list) gets ``x-iam-available: false`` and never an action. That includes ``head``,
  ``options`` and ``trace`` operations: the route table lists none of those methods.
* The annotator owns three keys and overwrites them: a value that disagrees with the spec is
  replaced and reported under ``overwritten``. Keys are never deleted, so that an Overlay
  1.0.0 ``update`` expresses every change: a stale ``x-iam-action`` or
  ``x-cloudtrail-event-type`` on an unavailable operation becomes null; a stale
  ``x-iam-available`` on an available operation becomes true.
* A Path Item that is a ``$ref`` is skipped and reported: its operations may be shared by
  several paths, so no single route owns them. A YAML alias that makes two operations one
  node is accepted only when both get the same keys.
* Without ``--output``/``--overlay`` the document goes to stdout and the text summary to
  stderr; with them, the summary goes to stdout. ``--json`` prints the summary as JSON;
  ``--json`` without ``--output``/``--overlay`` writes no document (a dry run).
* ``--overlay FILE`` writes an OpenAPI Overlay 1.0.0 document instead of the annotated copy:
  one ``update`` action per operation, whose target is the operation's RFC 9535 Normalized
  Path (``$['paths']['/v1/files?beta=true']['get']``), so it selects exactly that operation.
  Applying it gives the same document as ``--output``. It is JSON when FILE ends in
  ``.json``, YAML when it ends in ``.yaml``/``.yml``, and otherwise in the input's format;
  ``extends`` is the input relative to the overlay's folder, ``info.version`` names the spec
  by its sha256.
* YAML is edited round-trip with ruamel.yaml: comments, key order, quoting, anchors and
  indentation are kept; new keys are appended to the operation, and a comment that followed
  the operation's last line stays below the new keys. JSON is re-serialized with the input's
  key order and indentation. Line endings (LF or CRLF) are kept.
* Bad input (no such file, invalid JSON or YAML, not an OpenAPI 3.0/3.1 document, Swagger
  2.0) is one line on stderr, exit 2, and nothing is written. Files are written atomically.
  Other exit codes: 0 success (unavailable operations are findings in the summary, not
  failures), 141 when stdout's reader leaves early.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import ScalarString
from ruamel.yaml.tokens import CommentToken

from generator.catalog import Catalog
from generator.model import Route
from generator.output import write_file_atomically
from generator.routing import RouteResolver

EXIT_OK, EXIT_BAD_INPUT = 0, 2
EXIT_BROKEN_PIPE = 128 + 13  # SIGPIPE

IAM_ACTION_KEY = "x-iam-action"
EVENT_TYPE_KEY = "x-cloudtrail-event-type"
AVAILABLE_KEY = "x-iam-available"

# OpenAPI 3.0/3.1 Path Item fields that are operations; every other key is not.
OPERATION_METHODS = (
    "get",
    "put",
    "post",
    "delete",
    "options",
    "head",
    "patch",
    "trace",
)
SUPPORTED_VERSION = re.compile(r"^3\.[01]\.\d+$")
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024

# A templated segment becomes this value before resolving: a valid percent-encoded segment
# ("{}") that no spec literal ([a-z0-9_]+) can equal, so it can only fill a spec parameter.
TEMPLATE_PLACEHOLDER = "%7B%7D"
_SERVER_VARIABLE = re.compile(r"\{([^{}]*)\}")

Format = Literal["json", "yaml"]


class AnnotateError(Exception):
    """Bad input: printed as one line, exit 2, nothing written."""


# ---------------------------------------------------------------------------- reading


@dataclass
class SourceDocument:
    """The parsed input and what is needed to write it back the way it was written."""

    display: str
    format: Format
    tree: Any
    newline: str = "\n"
    json_indent: int | str | None = 2
    yaml: YAML | None = None


def read_document(path: Path) -> SourceDocument:
    """Read and parse OPENAPI; AnnotateError with one clear line on any problem."""
    display = str(path)
    if not path.exists():
        raise AnnotateError(f"{display}: no such file")
    if not path.is_file():
        raise AnnotateError(f"{display}: not a file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise AnnotateError(f"{display}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise AnnotateError(
            f"{display}: {len(raw)} bytes; the limit is {MAX_DOCUMENT_BYTES}"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise AnnotateError(
            f"{display}:{line}:{column}: invalid UTF-8 (byte 0x{raw[exc.start]:02x})"
        ) from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise AnnotateError(f"{display}: empty file, not an OpenAPI document")
    newline = "\r\n" if "\r\n" in text else "\n"
    text = text.replace("\r\n", "\n")
    suffix = path.suffix.lower()
    if suffix == ".json" or (
        suffix not in (".yaml", ".yml") and text.lstrip().startswith("{")
    ):
        document = _parse_json(text, display)
    else:
        document = _parse_yaml(text, display)
    document.newline = newline
    check_openapi(document.tree, display)
    return document


def _parse_json(text: str, display: str) -> SourceDocument:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise ValueError(f"duplicate key {key!r}")
            result[key] = value
        return result

    try:
        tree = json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        raise AnnotateError(
            f"{display}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise AnnotateError(f"{display}: invalid JSON: {exc}") from None
    return SourceDocument(display, "json", tree, json_indent=_json_indent(text))


def _json_indent(text: str) -> int | str | None:
    """The indentation of the input's first nested line; None for one-line JSON."""
    lines = text.strip().split("\n")
    if len(lines) < 2:
        return None
    second = lines[1]
    indent = second[: len(second) - len(second.lstrip(" \t"))]
    if not indent:
        return 0
    return len(indent) if set(indent) == {" "} else indent


def _parse_yaml(text: str, display: str) -> SourceDocument:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.allow_duplicate_keys = False
    yaml.width = 1 << 20  # never re-wrap long scalars
    try:
        documents = list(yaml.load_all(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{display}:{mark.line + 1}:{mark.column + 1}" if mark else display
        problem = exc.problem or exc.context or "cannot parse"
        raise AnnotateError(f"{where}: invalid YAML: {problem}") from None
    except (YAMLError, RecursionError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        raise AnnotateError(f"{display}: invalid YAML: {first}") from None
    if len(documents) != 1:
        raise AnnotateError(
            f"{display}: holds {len(documents)} YAML documents; expected one"
        )
    tree = documents[0]
    mapping, sequence, offset = _yaml_indentation(tree)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    yaml.explicit_start = text.lstrip().startswith("---")
    return SourceDocument(display, "yaml", tree, yaml=yaml)


def _yaml_indentation(tree: Any) -> tuple[int, int, int]:
    """(mapping, sequence, offset) as the input's first nested block collections use them.

    ruamel.yaml writes one indentation style per document; reading it from the positions it
    recorded keeps an unchanged document byte-for-byte identical.
    """
    mapping: int | None = None
    sequence: tuple[int, int] | None = None
    for parent, key, child in _block_children(tree):
        parent_col = parent.lc.key(key)[1]
        if mapping is None and isinstance(child, CommentedMap):
            mapping = child.lc.col - parent_col
        if sequence is None and isinstance(child, CommentedSeq):
            dash, content = child.lc.col, child.lc.item(0)[1]
            sequence = (content - parent_col, dash - parent_col)
        if mapping is not None and sequence is not None:
            break
    mapping = mapping if mapping and mapping > 0 else 2
    seq_indent, offset = sequence if sequence else (mapping, 0)
    if offset < 0 or seq_indent < offset + 2:
        seq_indent, offset = max(mapping, 2), 0
    return mapping, seq_indent, offset


def _block_children(node: Any) -> Iterator[tuple[CommentedMap, Any, Any]]:
    """(mapping, key, value) for every non-empty block collection under a block mapping."""
    if isinstance(node, CommentedMap) and not node.fa.flow_style():
        for key, value in node.items():
            if (
                isinstance(value, (CommentedMap, CommentedSeq))
                and value
                and not value.fa.flow_style()
            ):
                yield node, key, value
            yield from _block_children(value)
    elif isinstance(node, CommentedSeq):
        for item in node:
            yield from _block_children(item)


def check_openapi(tree: Any, display: str) -> None:
    """An OpenAPI 3.0/3.1 document with a usable Paths Object, or AnnotateError."""
    if not isinstance(tree, dict):
        raise AnnotateError(
            f"{display}: not an OpenAPI document (the top level is not a mapping)"
        )
    if "swagger" in tree and "openapi" not in tree:
        raise AnnotateError(
            f"{display}: Swagger {tree['swagger']} is not supported; convert it to "
            "OpenAPI 3.0 or 3.1 first"
        )
    version = tree.get("openapi")
    if version is None:
        raise AnnotateError(f"{display}: not an OpenAPI document (no 'openapi' field)")
    if not isinstance(version, str):
        raise AnnotateError(
            f"{display}: 'openapi' must be a version string such as '3.1.0', "
            f"got {version!r}"
        )
    if not SUPPORTED_VERSION.match(version):
        raise AnnotateError(
            f"{display}: OpenAPI version {version!r} is not supported (3.0.x or 3.1.x)"
        )
    paths = tree.get("paths")
    if paths is not None and not isinstance(paths, dict):
        raise AnnotateError(f"{display}: 'paths' is not a mapping")
    for key, item in (paths or {}).items():
        if not isinstance(key, str) or key.startswith("x-"):
            continue
        if not isinstance(item, dict):
            raise AnnotateError(f"{display}: path {key!r} is not a mapping")
        for method in OPERATION_METHODS:
            if method in item and not isinstance(item[method], dict):
                raise AnnotateError(
                    f"{display}: operation {method.upper()} {key} is not a mapping"
                )


# ---------------------------------------------------------------------------- planning


@dataclass(frozen=True)
class Overwrite:
    key: str
    old: Any
    new: Any


@dataclass
class OperationPlan:
    """One operation of the document and the keys it gets."""

    path_key: str
    method: str
    operation_id: str | None
    node: Any
    route: Route | None
    update: dict[str, Any]
    overwritten: list[Overwrite] = field(default_factory=list)

    @property
    def target(self) -> str:
        return normalized_path(("paths", self.path_key, self.method))


@dataclass(frozen=True)
class Skipped:
    path_key: str
    reason: str


@dataclass
class AnnotationPlan:
    operations: list[OperationPlan]
    missing: list[Route]
    skipped: list[Skipped]

    @property
    def annotated(self) -> list[OperationPlan]:
        return [op for op in self.operations if op.route is not None]

    @property
    def unavailable(self) -> list[OperationPlan]:
        return [op for op in self.operations if op.route is None]


def plan_annotations(tree: Any, catalog: Catalog) -> AnnotationPlan:
    """What every operation gets; pure (the tree is only read)."""
    resolver = RouteResolver(catalog.routes)
    operations: list[OperationPlan] = []
    skipped: list[Skipped] = []
    root_servers = tree.get("servers")
    for path_key, item in (tree.get("paths") or {}).items():
        if not isinstance(path_key, str) or path_key.startswith("x-"):
            continue
        if not path_key.startswith("/"):
            skipped.append(Skipped(str(path_key), "a path key must start with '/'"))
            continue
        if "$ref" in item:
            skipped.append(
                Skipped(
                    path_key,
                    f"the Path Item is a $ref ({item['$ref']}); its operations may be "
                    "shared by several paths",
                )
            )
            continue
        for method in OPERATION_METHODS:
            if method not in item:
                continue
            operation = item[method]
            servers = (
                _server_list(operation.get("servers"))
                or _server_list(item.get("servers"))
                or _server_list(root_servers)
                or [{"url": "/"}]
            )
            route = _resolve_operation(resolver, method, path_key, servers)
            operation_id = operation.get("operationId")
            operations.append(
                _plan_operation(
                    catalog,
                    path_key,
                    method,
                    operation_id if isinstance(operation_id, str) else None,
                    operation,
                    route,
                )
            )
    _check_shared_operations(operations)
    matched = {(op.route.method, op.route.path) for op in operations if op.route}
    missing = [r for r in catalog.routes if (r.method, r.path) not in matched]
    return AnnotationPlan(operations, missing, skipped)


def _plan_operation(
    catalog: Catalog,
    path_key: str,
    method: str,
    operation_id: str | None,
    operation: Any,
    route: Route | None,
) -> OperationPlan:
    update: dict[str, Any]
    if route is not None:
        action = catalog.action_by_name[route.action]
        update = {
            IAM_ACTION_KEY: catalog.full_name(action.name),
            EVENT_TYPE_KEY: action.event_type,
        }
        if AVAILABLE_KEY in operation:
            update[AVAILABLE_KEY] = True
    else:
        update = {AVAILABLE_KEY: False}
        for key in (IAM_ACTION_KEY, EVENT_TYPE_KEY):
            if key in operation:
                update[key] = None
    overwritten = [
        Overwrite(key, _plain(operation[key]), value)
        for key, value in update.items()
        if key in operation and not _same(_plain(operation[key]), value)
    ]
    return OperationPlan(
        path_key, method, operation_id, operation, route, update, overwritten
    )


def _same(old: Any, new: Any) -> bool:
    """Equal and of the same type: ``1`` is not ``true``, nor ``"Data"`` ``null``."""
    return type(old) is type(new) and bool(old == new)


def _check_shared_operations(operations: list[OperationPlan]) -> None:
    """A YAML alias can make two operations one node; they must then agree."""
    seen: dict[int, OperationPlan] = {}
    for op in operations:
        first = seen.setdefault(id(op.node), op)
        if first is not op and first.update != op.update:
            raise AnnotateError(
                f"{op.method.upper()} {op.path_key} is a YAML alias of "
                f"{first.method.upper()} {first.path_key}, but the two need different "
                "annotations"
            )


def _server_list(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        return []
    return [s for s in value if isinstance(s, dict) and isinstance(s.get("url"), str)]


def _resolve_operation(
    resolver: RouteResolver, method: str, path_key: str, servers: list[dict[str, Any]]
) -> Route | None:
    request_path = request_path_of(path_key)
    for server in servers:
        for prefix in server_prefixes(server):
            route = resolver.resolve(method.upper(), prefix + request_path)
            if route is not None:
                return route
    return None


def request_path_of(path_key: str) -> str:
    """The path key as a request path: query string dropped, templated segments filled."""
    path = path_key.split("?", 1)[0].split("#", 1)[0]
    return "/".join(
        TEMPLATE_PLACEHOLDER if "{" in segment else segment
        for segment in path.split("/")
    )


def server_prefixes(server: dict[str, Any]) -> list[str]:
    """The server URL's path, then that path without its first segment, and so on to ''."""
    variables = server.get("variables")
    variables = variables if isinstance(variables, dict) else {}

    def default(match: re.Match[str]) -> str:
        variable = variables.get(match[1])
        value = variable.get("default") if isinstance(variable, dict) else None
        return str(value) if value is not None else match[0]

    url = _SERVER_VARIABLE.sub(default, str(server["url"]))
    try:
        path = urlsplit(url).path
    except ValueError:
        path = ""
    segments = [s for s in path.split("/") if s]
    return ["".join("/" + s for s in segments[i:]) for i in range(len(segments) + 1)]


def _plain(value: Any) -> Any:
    """A ruamel value as plain JSON data (for comparisons and the summary)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, ScalarString):
        return str(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value if isinstance(value, str) else str(value)


# ---------------------------------------------------------------------------- JSONPath


_NORMAL_ESCAPES = {
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "'": "\\'",
    "\\": "\\\\",
}


def normalized_path(names: tuple[str, ...]) -> str:
    """RFC 9535 Normalized Path of a node reached by member names: selects exactly it.

    Names are single-quoted; only ``'``, ``\\`` and control characters are escaped
    (RFC 9535 section 2.7), so ``/``, ``~``, ``{``, ``}`` and ``?`` stay as they are.
    """
    return "$" + "".join(f"[{_quote_name(name)}]" for name in names)


def _quote_name(name: str) -> str:
    out = []
    for char in name:
        if char in _NORMAL_ESCAPES:
            out.append(_NORMAL_ESCAPES[char])
        elif ord(char) < 0x20 or 0xD800 <= ord(char) <= 0xDFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "'" + "".join(out) + "'"


# ---------------------------------------------------------------------------- applying


def apply_plan(document: SourceDocument, plan: AnnotationPlan) -> None:
    """Write every planned key into the document's operations, in place."""
    for op in plan.operations:
        set_keys(op.node, op.update)


def set_keys(node: Any, update: dict[str, Any]) -> None:
    """Set ``update`` on a mapping: existing keys keep their place, new ones go last.

    For YAML, a comment that followed the mapping's last line (ruamel attaches it to the
    deepest last value) is moved below the new keys, so it still precedes what it did.
    """
    adds_keys = any(key not in node for key in update)
    trailing = (
        _detach_trailing_comment(node)
        if adds_keys and isinstance(node, CommentedMap)
        else None
    )
    for key, value in update.items():
        old = node.get(key)
        if isinstance(old, ScalarString) and isinstance(value, str):
            value = type(old)(value)  # keep the quoting style of the value replaced
        node[key] = value
    if trailing is not None:
        last = next(reversed(node))
        node.ca.items[last] = [
            None,
            None,
            CommentToken("\n" + trailing, CommentMark(0)),
            None,
        ]


def _detach_trailing_comment(node: Any) -> str | None:
    """Remove and return the full-line comments after the last line of ``node``."""
    if isinstance(node, CommentedMap) and node and not node.fa.flow_style():
        last: Any = next(reversed(node))
        slot = 2
    elif isinstance(node, CommentedSeq) and node and not node.fa.flow_style():
        last, slot = len(node) - 1, 0
    else:
        return None
    found = _detach_trailing_comment(node[last])
    if found is not None:
        return found
    entry = node.ca.items.get(last)
    if not entry or len(entry) <= slot or entry[slot] is None:
        return None
    token = entry[slot]
    end_of_line, _newline, rest = token.value.partition("\n")
    if not rest:
        return None
    if end_of_line.strip():
        token.value = end_of_line + "\n"
    else:
        entry[slot] = None
        child = node[last]
        child_comment = getattr(getattr(child, "ca", None), "comment", None)
        if child_comment and child_comment[0] is token:
            child_comment[0] = None
    return str(rest)


# ---------------------------------------------------------------------------- writing


def render_document(document: SourceDocument) -> str:
    if document.format == "json":
        text = _render_json(document.tree, document.json_indent)
    else:
        assert document.yaml is not None
        stream = io.StringIO()
        document.yaml.dump(document.tree, stream)
        text = stream.getvalue()
    return text.replace("\n", document.newline)


def _render_json(data: Any, indent: int | str | None) -> str:
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(
        data, indent=indent, separators=separators, ensure_ascii=False
    ) + ("\n")


def build_overlay(
    plan: AnnotationPlan, document: SourceDocument, extends: str | None, spec_sha: str
) -> dict[str, Any]:
    """An Overlay 1.0.0 document: one update action per operation, in document order."""
    title = document.tree.get("info", {}).get("title") if document.tree else None
    overlay: dict[str, Any] = {
        "overlay": "1.0.0",
        "info": {
            "title": f"IAM annotations (x-iam-action) for {title or document.display}",
            "version": f"spec-sha256-{spec_sha[:12]}",
        },
    }
    if extends is not None:
        overlay["extends"] = extends
    overlay["actions"] = [
        {
            "target": op.target,
            "description": _describe(op),
            "update": dict(op.update),
        }
        for op in plan.operations
    ]
    return overlay


def render_overlay(overlay: dict[str, Any], fmt: Format, newline: str) -> str:
    if fmt == "json":
        text = _render_json(overlay, 2)
    else:
        yaml = YAML(typ="rt")
        yaml.width = 1 << 20
        yaml.indent(mapping=2, sequence=4, offset=2)
        stream = io.StringIO()
        yaml.dump(overlay, stream)
        text = stream.getvalue()
    return text.replace("\n", newline)


def _describe(op: OperationPlan) -> str:
    where = f"{op.method.upper()} {op.path_key}"
    if op.route is None:
        return f"{where}: not a route of the platform; no IAM action"
    return (
        f"{where}: route {op.route.method} {op.route.path}, {op.update[IAM_ACTION_KEY]}"
    )


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` atomically (``output.write_file_atomically``); AnnotateError on failure."""
    if path.is_dir():
        raise AnnotateError(f"cannot write {path}: it is a directory")
    try:
        write_file_atomically(path, text.encode("utf-8"))
    except OSError as exc:
        raise AnnotateError(f"cannot write {path}: {exc.strerror or exc}") from None


# ---------------------------------------------------------------------------- summary


def summarize(
    plan: AnnotationPlan, document: SourceDocument, catalog: Catalog
) -> dict[str, Any]:
    """The ``--json`` summary: counts first, then each list in document or spec order."""

    def operation(op: OperationPlan) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "method": op.method.upper(),
            "path": op.path_key,
            "operationId": op.operation_id,
        }
        if op.route is not None:
            entry["route"] = f"{op.route.method} {op.route.path}"
            entry["action"] = op.update[IAM_ACTION_KEY]
            entry["event_type"] = op.update[EVENT_TYPE_KEY]
        return entry

    overwritten = [
        {**operation(op), "key": change.key, "old": change.old, "new": change.new}
        for op in plan.operations
        for change in op.overwritten
    ]
    return {
        "document": document.display,
        "counts": {
            "operations": len(plan.operations),
            "annotated": len(plan.annotated),
            "unavailable": len(plan.unavailable),
            "missing": len(plan.missing),
            "overwritten": len(overwritten),
            "skipped": len(plan.skipped),
        },
        "annotated": [operation(op) for op in plan.annotated],
        "unavailable": [operation(op) for op in plan.unavailable],
        "missing": [
            {"route": f"{r.method} {r.path}", "action": catalog.full_name(r.action)}
            for r in plan.missing
        ],
        "overwritten": overwritten,
        "skipped": [{"path": s.path_key, "reason": s.reason} for s in plan.skipped],
    }


def summary_text(summary: dict[str, Any]) -> str:
    counts = summary["counts"]
    parts = [
        _count(counts["annotated"], "operation") + " annotated",
        f"{counts['unavailable']} not available on the platform",
        _count(counts["missing"], "spec route") + " missing from the document",
    ]
    if counts["overwritten"]:
        parts.append(_count(counts["overwritten"], "value") + " overwritten")
    if counts["skipped"]:
        parts.append(_count(counts["skipped"], "path") + " skipped")
    lines = [f"{summary['document']}: " + ", ".join(parts)]
    lines.extend(
        f"  unavailable: {op['method']} {op['path']}" for op in summary["unavailable"]
    )
    lines.extend(
        f"  overwritten: {c['method']} {c['path']} {c['key']}: "
        f"{json.dumps(c['old'])} -> {json.dumps(c['new'])}"
        for c in summary["overwritten"]
    )
    lines.extend(f"  skipped: {s['path']}: {s['reason']}" for s in summary["skipped"])
    lines.extend(f"  missing: {m['route']} ({m['action']})" for m in summary["missing"])
    return "\n".join(lines)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


# ---------------------------------------------------------------------------- command


def register(
    commands: Any, with_spec: Callable[[argparse.ArgumentParser], None]
) -> None:
    """Add ``iamgen annotate`` to the parser."""
    annotate = commands.add_parser(
        "annotate",
        help="add x-iam-action and x-cloudtrail-event-type to an OpenAPI document",
    )
    with_spec(annotate)
    annotate.add_argument(
        "openapi", type=Path, metavar="OPENAPI", help="OpenAPI 3.0/3.1, JSON or YAML"
    )
    destination = annotate.add_mutually_exclusive_group()
    destination.add_argument(
        "--output", type=Path, metavar="FILE", help="write the annotated document here"
    )
    destination.add_argument(
        "--overlay",
        type=Path,
        metavar="FILE",
        help="write an OpenAPI Overlay 1.0.0 document instead of an annotated copy",
    )
    annotate.add_argument(
        "--json",
        action="store_true",
        help="print the summary as JSON (alone: a dry run that writes no document)",
    )
    annotate.set_defaults(handler=run_annotate)


def run_annotate(args: argparse.Namespace) -> int:
    try:
        return _annotate(args)
    except AnnotateError as exc:
        print(f"iamgen annotate: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # The reader left early (`| head`): stop quietly, as a shell tool killed by SIGPIPE.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _annotate(args: argparse.Namespace) -> int:
    from generator import output, pipeline
    from generator.cli import _display_path

    document = read_document(args.openapi)
    model = pipeline.load_model(
        output.read_spec_bytes(args.spec), _display_path(args.spec)
    )
    plan = plan_annotations(document.tree, model.catalog)
    summary = summarize(plan, document, model.catalog)

    if args.overlay is not None:
        fmt = _overlay_format(args.overlay, document.format)
        extends = _relative_reference(args.openapi, args.overlay)
        overlay = build_overlay(plan, document, extends, model.spec_sha256)
        write_atomically(args.overlay, render_overlay(overlay, fmt, document.newline))
        written: str | None = str(args.overlay)
    elif args.output is not None:
        apply_plan(document, plan)
        write_atomically(args.output, render_document(document))
        written = str(args.output)
    elif not args.json:
        apply_plan(document, plan)
        sys.stdout.write(render_document(document))
        print(summary_text(summary), file=sys.stderr)
        return EXIT_OK
    else:
        written = None

    if args.json:
        summary["written"] = written
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print(summary_text(summary))
        print(f"wrote {written}")
    return EXIT_OK


def _overlay_format(path: Path, default: Format) -> Format:
    suffix = path.suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    return default


def _relative_reference(document: Path, overlay: Path) -> str | None:
    """``extends``: the document as a URI reference relative to the overlay's folder."""
    try:
        relative = os.path.relpath(
            document.resolve(), overlay.resolve().parent
        ).replace(os.sep, "/")
    except ValueError:
        return None
    return quote(relative, safe="/._-~")
