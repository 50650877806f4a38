"""The typed model of the spec: frozen dataclasses, and the one generic builder that fills them.

The dataclasses below *are* the spec format: the builder reads their fields and type hints to
decide which keys exist, which are required and what type each must have, and the JSON Schema
of the spec is produced from the same classes. Adding a field is a one-place change.

Every model object remembers ``path``: where it sits in the YAML tree, so validation can report
``file:line:col`` through the ``Locator``.
"""

from __future__ import annotations

import dataclasses
import re
import types
from dataclasses import dataclass, field
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from generator.errors import SpecError
from generator.load import Locator, NodePath, _Tagged, yaml_type_name

AccessLevel = Literal["Read", "List", "Write", "Tagging", "Permissions management"]
Scope = Literal["workspace", "workspace-optional", "account", "route-less"]
EventType = Literal["Data", "Management"]
Introduced = Literal["docs-58", "docs-65", "docs-71", "sar", "sar-2026-10-27"]
Exposure = Literal[
    "file-bytes",
    "batch-results",
    "conversation-history",
    "memory-contents",
    "skill-content",
]
ConditionKeyType = Literal[
    "String",
    "ArrayOfString",
    "Bool",
    "ArrayOfBool",
    "Numeric",
    "ArrayOfNumeric",
    "Date",
    "ArrayOfDate",
    "ARN",
    "ArrayOfARN",
    "IPAddress",
    "ArrayOfIPAddress",
    "Binary",
    "ArrayOfBinary",
]
Decision = Literal["allowed", "explicitDeny", "implicitDeny"]
UpstreamDifferenceKind = Literal[
    "only-in-spec", "only-upstream", "access-level", "resource-types", "condition-keys"
]
Auth = Literal["sigv4", "bearer"]

# A JSON value kept exactly as written (policy documents, claim contexts).
JsonObject = dict[str, Any]

ACCESS_LEVELS: tuple[str, ...] = get_args(AccessLevel)
SCOPES: tuple[str, ...] = get_args(Scope)
EVENT_TYPES: tuple[str, ...] = get_args(EventType)


def _path_field() -> Any:
    return field(default=(), kw_only=True, compare=False, repr=False)


def doc(text: str, default: Any = dataclasses.MISSING) -> Any:
    """A dataclass field with a description (used in the JSON Schema)."""
    if default is dataclasses.MISSING:
        return field(metadata={"doc": text})
    return field(default=default, metadata={"doc": text})


@dataclass(frozen=True)
class Source:
    id: str = doc("Source id, referenced from `sources:` lists.")
    title: str = doc("What the source is.")
    url: str = doc("Where it was read.")
    as_of: str | None = doc("Version or date of the copy read.", None)
    path: NodePath = _path_field()


@dataclass(frozen=True)
class SourceDecision:
    id: str = doc("facts.md discrepancy id (D1...) or our own id.")
    topic: str = doc("What the sources disagree on.")
    choice: str = doc("What the spec does, and why.")
    sources: tuple[str, ...] = doc("Source ids.")
    path: NodePath = _path_field()


@dataclass(frozen=True)
class ConditionKey:
    name: str = doc("Full condition key name.")
    type: ConditionKeyType = doc("IAM condition key type.")
    description: str = doc("What the key lets a policy test.")
    sources: tuple[str, ...] = doc("Source ids.")
    values: tuple[str, ...] = doc("Documented values, if any.", ())
    path: NodePath = _path_field()


@dataclass(frozen=True)
class ClaimRequest:
    route: str | None = doc("A concrete request: 'METHOD /path'.", None)
    action: str | None = doc("An action name (alternative to route).", None)
    workspace: str | None = doc("Workspace ARN of the request.", None)
    auth: Auth | None = doc("sigv4 (default) or bearer (API key).", None)
    context: JsonObject | None = doc("Request context keys and values.", None)
    path: NodePath = _path_field()


@dataclass(frozen=True)
class Claim:
    expand: str | None = doc("An action pattern whose matches are claimed.", None)
    matches: tuple[str, ...] | None = doc("The action names `expand` matches.", None)
    policy: str | JsonObject | None = doc(
        "A managed policy name, example slug, or inline IAM document.", None
    )
    request: ClaimRequest | None = doc("The request to evaluate.", None)
    decision: Decision | None = doc("The expected decision.", None)
    path: NodePath = _path_field()


@dataclass(frozen=True)
class Note:
    id: str = doc("Unique note id, lowercase-hyphenated.")
    text: str = doc("The rule or warning, in our own words.")
    sources: tuple[str, ...] = doc("Source ids.", ())
    rules: tuple[str, ...] = doc("facts.md rule ids (R1...).", ())
    claims: tuple[Claim, ...] = doc("Machine-checked assertions backing the note.", ())
    path: NodePath = _path_field()


@dataclass(frozen=True)
class ResourceType:
    name: str = doc("Resource type name.")
    arn_format: str = doc(
        "ARN format as the Service Authorization Reference writes it."
    )
    arn_format_docs: str = doc("ARN format as the user guide writes it.")
    arn_example: str = doc("A documented example ARN.")
    cloudtrail_resource_type: str = doc("CloudTrail data-event resource type.")
    sources: tuple[str, ...] = doc("Source ids.")
    condition_keys: tuple[str, ...] = doc("Condition keys of the resource type.", ())
    path: NodePath = _path_field()


@dataclass(frozen=True)
class Service:
    name: str = doc("Service name.")
    prefix: str = doc("IAM service prefix.")
    sigv4_service_name: str = doc("SigV4 signing name.")
    endpoint: str = doc("Endpoint host template.")
    workspace_header: str = doc("Header that carries the workspace id.")
    resource_types: tuple[ResourceType, ...] = doc("Resource types.")
    bearer_token_action: str | None = doc(
        "The route-less action every API-key (bearer token) call needs in addition to the "
        "route's action.",
        None,
    )
    notes: tuple[Note, ...] = doc("Service-wide rules.", ())
    path: NodePath = _path_field()


@dataclass(frozen=True)
class Action:
    name: str = doc("Action name without prefix (VerbNoun).")
    description: str = doc("One line, our words.")
    access_level: AccessLevel = doc("IAM access level.")
    scope: Scope = doc("What resource the action binds to.")
    introduced: Introduced = doc("First source version that has the action.")
    routes: tuple[str, ...] = doc("Routes authorized: 'METHOD /path/{param}'.")
    sources: tuple[str, ...] = doc("Source ids.")
    condition_keys: tuple[str, ...] = doc("Condition keys of the action.", ())
    event_type: EventType | None = doc(
        "CloudTrail event type, where a source gives it.", None
    )
    exposes: tuple[Exposure, ...] = doc("Content a read returns.", ())
    no_routes_reason: str | None = doc("Why the action has no route.", None)
    notes: tuple[Note, ...] = doc("Notes about this action.", ())
    path: NodePath = _path_field()


@dataclass(frozen=True)
class Group:
    name: str = doc("Group name.")
    description: str = doc("What the group covers.")
    actions: tuple[Action, ...] = doc("Actions, in documented order.")
    sources: tuple[str, ...] = doc("Source ids.", ())
    notes: tuple[Note, ...] = doc("Notes about the group.", ())
    path: NodePath = _path_field()


@dataclass(frozen=True)
class ManagedPolicy:
    name: str = doc("Policy name.")
    arn: str = doc("Policy ARN.")
    version: str = doc("Policy version id (v2...).")
    created: str = doc("Creation time, ISO 8601 UTC.")
    updated: str = doc("Time of this version, ISO 8601 UTC.")
    description: str = doc("AWS's description string.")
    summary: str = doc("What it grants, our words.")
    sources: tuple[str, ...] = doc("Source ids.")
    document: JsonObject = doc("The policy JSON as published.")
    notes: tuple[Note, ...] = doc("Notes about the policy.", ())
    path: NodePath = _path_field()


@dataclass(frozen=True)
class ExamplePolicy:
    slug: str = doc("File name stem.")
    title: str = doc("Title.")
    purpose: str = doc("What it is for, our words.")
    sources: tuple[str, ...] = doc("Source ids.")
    document: JsonObject = doc("The policy JSON as documented.")
    notes: tuple[Note, ...] = doc("Notes about the example.", ())
    path: NodePath = _path_field()


@dataclass(frozen=True)
class UpstreamDifference:
    action: str = doc("The action that differs, without prefix.")
    kind: UpstreamDifferenceKind = doc(
        "What differs: only-in-spec, only-upstream, access-level, resource-types or "
        "condition-keys."
    )
    reason: str = doc("Why the spec differs from AWS's data, our words.")
    sources: tuple[str, ...] = doc("Source ids.")
    path: NodePath = _path_field()


@dataclass(frozen=True)
class Spec:
    format: int = doc("Spec format version.")
    service: Service = doc("Service details.")
    sources: tuple[Source, ...] = doc("Sources.")
    decisions: tuple[SourceDecision, ...] = doc("Choices where sources disagree.")
    condition_keys: tuple[ConditionKey, ...] = doc("Condition keys.")
    groups: tuple[Group, ...] = doc("Action groups.")
    managed_policies: tuple[ManagedPolicy, ...] = doc("AWS managed policies.")
    example_policies: tuple[ExamplePolicy, ...] = doc("Documented example policies.")
    upstream_differences: tuple[UpstreamDifference, ...] = doc(
        "Known, explained differences from AWS's reference data: `iamgen upstream-diff` "
        "shows them but does not fail on them.",
        (),
    )
    path: NodePath = _path_field()

    @property
    def actions(self) -> tuple[Action, ...]:
        return tuple(action for group in self.groups for action in group.actions)


# ---------------------------------------------------------------------------- names

# The verbs AWS's VerbNoun convention uses in this service (R1). A new verb is a spec-format
# change on purpose: verb discipline is what makes Get*/List* a read-only boundary.
KNOWN_VERBS = (
    "Archive",
    "Assume",
    "Call",
    "Cancel",
    "Count",
    "Create",
    "Delete",
    "Disable",
    "Get",
    "List",
    "Pause",
    "Process",
    "Register",
    "Rotate",
    "Run",
    "Tag",
    "Unpause",
    "Untag",
    "Update",
)
ACTION_NAME = re.compile(r"^(?P<verb>[A-Z][a-z]+)(?P<noun>(?:[A-Z][a-z0-9]*)+)$")


def split_action_name(name: str) -> tuple[str, str]:
    """``GetUserProfile`` -> (``Get``, ``UserProfile``); ("", name) when not VerbNoun."""
    match = ACTION_NAME.match(name)
    if match is None:
        return "", name
    return match["verb"], match["noun"]


# ---------------------------------------------------------------------------- routes

ROUTE_PATTERN = re.compile(r"^(?P<method>[A-Z]+) (?P<path>/\S*)$")
LITERAL_SEGMENT = re.compile(r"^[a-z0-9_]+$")
PARAM_SEGMENT = re.compile(r"^\{(?P<name>[a-z][a-z0-9_]*)\}$")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Route:
    """A parsed route template: ``GET /v1/files/{file_id}/content``."""

    method: str
    path: str
    action: str

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.strip("/").split("/"))

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(s[1:-1] for s in self.segments if s.startswith("{"))

    @property
    def shape(self) -> tuple[str, str]:
        """Method and path with parameter names erased: what makes two routes the same."""
        return self.method, "/" + "/".join(
            "{}" if s.startswith("{") else s for s in self.segments
        )

    @property
    def doc_path(self) -> str:
        """The reference page's style: every parameter except ``version``/``work_id`` is ``{id}``."""
        return "/" + "/".join(
            s if not s.startswith("{") or s in ("{version}", "{work_id}") else "{id}"
            for s in self.segments
        )


def parse_route(text: str, action: str) -> tuple[Route | None, str | None]:
    """Parse 'METHOD /path'. Returns the route, or None and what is wrong with it."""
    match = ROUTE_PATTERN.match(text)
    if match is None:
        return None, f"route {text!r} is not 'METHOD /path'"
    method, path = match["method"], match["path"]
    if method not in HTTP_METHODS:
        return None, f"route {text!r}: unknown HTTP method {method}"
    segments = path[1:].split("/")
    seen: set[str] = set()
    for segment in segments:
        param = PARAM_SEGMENT.match(segment)
        if param is not None:
            if param["name"] in seen:
                return (
                    None,
                    f"route {text!r}: parameter {{{param['name']}}} appears twice",
                )
            seen.add(param["name"])
        elif not LITERAL_SEGMENT.match(segment):
            return None, (
                f"route {text!r}: segment {segment!r} is neither a lowercase literal "
                "nor a {parameter}"
            )
    return Route(method, path, action), None


# ---------------------------------------------------------------------------- builder


def build_spec(data: Any, locator: Locator) -> tuple[Spec | None, list[SpecError]]:
    """Fill the model from the plain tree; every type and field error is collected."""
    errors: list[SpecError] = []
    if not isinstance(data, dict):
        return None, [
            locator.error((), f"the spec must be a mapping, got {yaml_type_name(data)}")
        ]
    spec = _build(Spec, data, (), locator, errors)
    if errors or not isinstance(spec, Spec):
        return None, errors
    return spec, []


_MISSING = object()


def _build(
    hint: Any, value: Any, path: NodePath, loc: Locator, errors: list[SpecError]
) -> Any:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(hint) if a is not type(None)]
        if value is None and len(options) < len(get_args(hint)):
            return None
        if len(options) == 1:
            return _build(options[0], value, path, loc, errors)
        # str | JsonObject (claim policy): choose by the value's shape.
        for option in options:
            if (option is str and isinstance(value, str)) or (
                get_origin(option) is dict and isinstance(value, dict)
            ):
                return _build(option, value, path, loc, errors)
        errors.append(
            loc.error(path, f"expected {_describe(hint)}, got {yaml_type_name(value)}")
        )
        return _MISSING
    if origin is Literal:
        allowed = get_args(hint)
        if not isinstance(value, str) or value not in allowed:
            shown = value if isinstance(value, str) else yaml_type_name(value)
            errors.append(
                loc.error(path, f"{shown!r} is not one of: {', '.join(allowed)}")
            )
            return _MISSING
        return value
    if origin is tuple:
        item_hint, _ellipsis = get_args(hint)
        if not isinstance(value, list):
            errors.append(
                loc.error(path, f"expected a list, got {yaml_type_name(value)}")
            )
            return _MISSING
        return tuple(
            _build(item_hint, item, path + (i,), loc, errors)
            for i, item in enumerate(value)
        )
    if origin is dict:
        if not isinstance(value, dict):
            errors.append(
                loc.error(path, f"expected a mapping, got {yaml_type_name(value)}")
            )
            return _MISSING
        return _json_value(value, path, loc, errors)
    if hint is str:
        if not isinstance(value, str):
            errors.append(
                loc.error(path, f"expected a string, got {yaml_type_name(value)}")
            )
            return _MISSING
        return value
    if hint is int:
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append(
                loc.error(path, f"expected an integer, got {yaml_type_name(value)}")
            )
            return _MISSING
        return value
    if dataclasses.is_dataclass(hint):
        return _build_dataclass(hint, value, path, loc, errors)
    raise TypeError(
        f"unsupported model type {hint!r}"
    )  # a bug in this module, not input


def _build_dataclass(
    cls: Any, value: Any, path: NodePath, loc: Locator, errors: list[SpecError]
) -> Any:
    name = _kind(cls)
    if not isinstance(value, dict):
        errors.append(
            loc.error(path, f"{name}: expected a mapping, got {yaml_type_name(value)}")
        )
        return _MISSING
    hints = get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if f.name != "path"]
    known = {f.name for f in fields}
    for key in value:
        if key not in known:
            errors.append(
                loc.error(
                    path + (key,),
                    f"{name}: unknown field {key!r} (expected one of: {', '.join(sorted(known))})",
                    at_key=True,
                )
            )
    kwargs: dict[str, Any] = {}
    failed = False
    for f in fields:
        if f.name not in value:
            if f.default is dataclasses.MISSING:
                errors.append(
                    loc.error(path, f"{name}: missing required field {f.name!r}")
                )
                failed = True
            continue
        built = _build(hints[f.name], value[f.name], path + (f.name,), loc, errors)
        if built is _MISSING or (isinstance(built, tuple) and _MISSING in built):
            failed = True
        else:
            kwargs[f.name] = built
    if failed:
        return _MISSING
    return cls(**kwargs, path=path)


def _json_value(
    value: Any, path: NodePath, loc: Locator, errors: list[SpecError]
) -> Any:
    """Policy documents and contexts: plain JSON values, key order kept."""
    if isinstance(value, dict):
        return {k: _json_value(v, path + (k,), loc, errors) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_value(v, path + (i,), loc, errors) for i, v in enumerate(value)]
    if isinstance(value, _Tagged):
        errors.append(
            loc.error(path, f"expected a JSON value, got {yaml_type_name(value)}")
        )
        return None
    if isinstance(value, float) and value != value:
        errors.append(loc.error(path, "NaN is not a JSON value"))
        return None
    return value


def _kind(cls: Any) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", " ", cls.__name__).lower()


def _describe(hint: Any) -> str:
    parts = []
    for option in get_args(hint):
        if option is str:
            parts.append("a string")
        elif get_origin(option) is dict:
            parts.append("a mapping")
    return " or ".join(parts) or str(hint)


def model_fields(cls: Any) -> list[tuple[str, Any, bool, str]]:
    """(name, type hint, required, doc) of a model class, for the JSON Schema view."""
    hints = get_type_hints(cls)
    return [
        (
            f.name,
            hints[f.name],
            f.default is dataclasses.MISSING,
            f.metadata.get("doc", ""),
        )
        for f in dataclasses.fields(cls)
        if f.name != "path"
    ]
