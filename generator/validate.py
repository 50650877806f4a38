"""Cross-checks over the whole model. Returns every error at once, each located in the file.

IAM rules this module enforces are cited where they apply; the policy grammar itself is the
IAM engine's (``generator.iam.policy``), so the spec and user policies are held to one rule set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from generator.errors import SpecError
from generator.iam.matcher import (
    PatternError,
    expand_action_pattern,
    parse_action_pattern,
)
from generator.iam.policy import (
    VERSION_CURRENT,
    policy_size,
    raw_element_strings,
    size_problem,
    validate_policy,
)
from generator.load import Locator, NodePath
from generator.model import (
    ACTION_NAME,
    KNOWN_VERBS,
    Action,
    Claim,
    JsonObject,
    Note,
    Route,
    Spec,
    parse_route,
    split_action_name,
)

SPEC_FORMAT = 1
SOURCE_ID = re.compile(r"^[A-Z0-9][A-Z0-9-]*$")
NOTE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
RULE_ID = re.compile(r"^R[0-9]+$")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
POLICY_NAME = re.compile(r"^[A-Za-z0-9+=,.@_-]+$")
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
MANAGED_POLICY_ARN = "arn:aws:iam::aws:policy/{name}"
# arn:partition:service:region:account:resource (IAM User Guide, "IAM identifiers", ARN format).
ARN_PATTERN = re.compile(r"^arn:[^:]*:[^:]+:[^:]*:[^:]*:.+$")


def validate_spec(spec: Spec, locator: Locator) -> list[SpecError]:
    """Every cross-check; an empty list means the spec is consistent."""
    checker = _Checker(spec, locator)
    checker.run()
    return sorted(set(checker.errors))


class _Checker:
    def __init__(self, spec: Spec, locator: Locator) -> None:
        self.spec = spec
        self.loc = locator
        self.errors: list[SpecError] = []
        self.prefix = spec.service.prefix
        self.action_names = [a.name for a in spec.actions]
        self.full_action_names = [f"{self.prefix}:{name}" for name in self.action_names]

    def error(self, path: NodePath, message: str, *, at_key: bool = False) -> None:
        self.errors.append(self.loc.error(path, message, at_key=at_key))

    def run(self) -> None:
        self.check_service()
        self.check_sources()
        self.check_unique_ids()
        self.check_condition_keys()
        self.check_actions()
        self.check_routes()
        self.check_notes()
        self.check_policies()
        self.check_upstream_differences()

    # ------------------------------------------------------------------ service, sources, ids

    def check_service(self) -> None:
        if self.spec.format != SPEC_FORMAT:
            self.error(
                ("format",),
                f"format {self.spec.format} is not supported: this generator reads format "
                f"{SPEC_FORMAT}",
            )
        service = self.spec.service
        if not service.resource_types:
            self.error(
                service.path + ("resource_types",), "the service needs a resource type"
            )
        bearer = service.bearer_token_action
        if bearer is not None:
            action = next((a for a in self.spec.actions if a.name == bearer), None)
            if action is None:
                self.error(
                    service.path + ("bearer_token_action",),
                    f"unknown action {bearer!r}",
                )
            elif action.scope != "route-less":
                self.error(
                    service.path + ("bearer_token_action",),
                    f"bearer_token_action {bearer} must be a route-less action",
                )

    def check_sources(self) -> None:
        defined: set[str] = set()
        for source in self.spec.sources:
            if not SOURCE_ID.match(source.id):
                self.error(
                    source.path + ("id",), f"source id {source.id!r} is not [A-Z0-9-]+"
                )
            if source.id in defined:
                self.error(
                    source.path + ("id",), f"source {source.id} is defined twice"
                )
            defined.add(source.id)
        for path, ids in _source_references(self.spec):
            for index, source_id in enumerate(ids):
                if source_id not in defined:
                    self.error(path + (index,), f"unknown source {source_id!r}")

    def check_unique_ids(self) -> None:
        _unique(
            self,
            ((d.path + ("id",), d.id) for d in self.spec.decisions),
            "decision {} appears twice",
        )
        _unique(
            self,
            ((g.path + ("name",), g.name) for g in self.spec.groups),
            "group {} appears twice",
        )
        _unique(
            self,
            ((r.path + ("name",), r.name) for r in self.spec.service.resource_types),
            "resource type {} appears twice",
        )

    def check_condition_keys(self) -> None:
        defined: set[str] = set()
        for key in self.spec.condition_keys:
            if key.name.lower() in defined:
                self.error(
                    key.path + ("name",), f"condition key {key.name} is defined twice"
                )
            defined.add(key.name.lower())
        references: list[tuple[NodePath, tuple[str, ...]]] = [
            (a.path + ("condition_keys",), a.condition_keys) for a in self.spec.actions
        ]
        references += [
            (r.path + ("condition_keys",), r.condition_keys)
            for r in self.spec.service.resource_types
        ]
        for path, keys in references:
            for index, key_name in enumerate(keys):
                if key_name.lower() not in defined:
                    self.error(path + (index,), f"unknown condition key {key_name!r}")

    # ------------------------------------------------------------------ actions

    def check_actions(self) -> None:
        seen: dict[str, str] = {}
        for action in self.spec.actions:
            name_path = action.path + ("name",)
            match = ACTION_NAME.match(action.name)
            if match is None:
                self.error(name_path, f"action name {action.name!r} is not VerbNoun")
            elif match["verb"] not in KNOWN_VERBS:
                self.error(
                    name_path,
                    f"action {action.name}: unknown verb {match['verb']!r} "
                    f"(known: {', '.join(KNOWN_VERBS)})",
                )
            # IAM matches action names case-insensitively (IAM User Guide, Action element),
            # so two names differing only in case would be one action to IAM.
            folded = action.name.lower()
            if folded in seen:
                other = seen[folded]
                if other == action.name:
                    self.error(name_path, f"action {action.name} is defined twice")
                else:
                    self.error(
                        name_path,
                        f"action {action.name} collides with {other}: "
                        "IAM action names are case-insensitive",
                    )
            seen.setdefault(folded, action.name)
            self.check_action_shape(action)

    def check_action_shape(self, action: Action) -> None:
        verb = split_action_name(action.name)[0]
        if verb in ("Get", "List") and action.access_level not in ("Read", "List"):
            self.error(
                action.path + ("access_level",),
                f"action {action.name}: a {verb}* action must have access level Read or List, "
                f"not {action.access_level} (verb discipline keeps Get*/List* read-only)",
            )
        if action.exposes and action.access_level not in ("Read", "List"):
            self.error(
                action.path + ("exposes",),
                f"action {action.name}: only read actions expose content",
            )
        if action.routes and action.no_routes_reason is not None:
            self.error(
                action.path + ("no_routes_reason",),
                f"action {action.name} has routes, so it cannot have no_routes_reason",
            )
        if not action.routes and action.no_routes_reason is None:
            self.error(
                action.path + ("routes",),
                f"action {action.name} has no routes: say why in no_routes_reason",
            )
        if action.routes and action.event_type is None:
            self.error(
                action.path + ("routes",),
                f"action {action.name} has routes but no event_type for the route table",
            )
        if action.scope == "route-less" and action.routes:
            self.error(
                action.path + ("scope",),
                f"action {action.name} is route-less but lists routes",
            )

    # ------------------------------------------------------------------ routes

    def check_routes(self) -> None:
        by_text: dict[tuple[str, str], Route] = {}
        by_shape: dict[tuple[str, str], Route] = {}
        for action in self.spec.actions:
            for index, text in enumerate(action.routes):
                path = action.path + ("routes", index)
                route, problem = parse_route(text, action.name)
                if route is None:
                    self.error(path, problem or f"invalid route {text!r}")
                    continue
                if (
                    split_action_name(action.name)[0] in ("Get", "List")
                    and route.method != "GET"
                ):
                    self.error(
                        path,
                        f"action {action.name} is a {split_action_name(action.name)[0]}* action, "
                        f"so it may only authorize GET routes, not {route.method}",
                    )
                key = (route.method, route.path)
                if key in by_text:
                    other = by_text[key]
                    if other.action == action.name:
                        self.error(
                            path, f"route {text} is listed twice for {action.name}"
                        )
                    else:
                        self.error(
                            path,
                            f"route {text} is claimed by both {other.action} and {action.name}",
                        )
                    continue
                by_text[key] = route
                if route.shape in by_shape:
                    other = by_shape[route.shape]
                    self.error(
                        path,
                        f"route {text} differs from {other.method} {other.path} "
                        f"({other.action}) only in parameter names",
                    )
                    continue
                by_shape[route.shape] = route

    # ------------------------------------------------------------------ notes

    def check_notes(self) -> None:
        seen: set[str] = set()
        for note in _all_notes(self.spec):
            id_path = note.path + ("id",)
            if not NOTE_ID.match(note.id):
                self.error(id_path, f"note id {note.id!r} is not lowercase-hyphenated")
            if note.id in seen:
                self.error(id_path, f"note id {note.id} appears twice")
            seen.add(note.id)
            for index, rule in enumerate(note.rules):
                if not RULE_ID.match(rule):
                    self.error(
                        note.path + ("rules", index), f"rule id {rule!r} is not R<n>"
                    )
            for claim in note.claims:
                self.check_claim_shape(claim.path, claim)

    def check_claim_shape(self, path: NodePath, claim: Claim) -> None:
        is_expand = claim.expand is not None or claim.matches is not None
        is_decision = any(
            x is not None for x in (claim.policy, claim.request, claim.decision)
        )
        if is_expand and is_decision:
            self.error(
                path, "a claim is either expand/matches or policy/request/decision"
            )
        elif is_expand:
            if claim.expand is None or claim.matches is None:
                self.error(path, "an expand claim needs both expand and matches")
            for index, name in enumerate(claim.matches or ()):
                if name not in self.action_names:
                    self.error(path + ("matches", index), f"unknown action {name!r}")
        elif is_decision:
            for part in ("policy", "request", "decision"):
                if getattr(claim, part) is None:
                    self.error(path, f"a decision claim needs {part}")
            request = claim.request
            if request is not None:
                if (request.route is None) == (request.action is None):
                    self.error(
                        request.path,
                        "a claim request names exactly one of route, action",
                    )
                if (
                    request.action is not None
                    and request.action not in self.action_names
                ):
                    self.error(
                        request.path + ("action",), f"unknown action {request.action!r}"
                    )
            if isinstance(claim.policy, str):
                names = {p.name for p in self.spec.managed_policies}
                names |= {p.slug for p in self.spec.example_policies}
                if claim.policy not in names:
                    self.error(
                        path + ("policy",),
                        f"unknown policy {claim.policy!r} (a managed policy name or example slug)",
                    )
            elif isinstance(claim.policy, dict):
                self.check_policy_document(path + ("policy",), claim.policy)
        else:
            self.error(path, "an empty claim")

    # ------------------------------------------------------------------ policies

    def check_policies(self) -> None:
        _unique(
            self,
            ((p.path + ("name",), p.name) for p in self.spec.managed_policies),
            "managed policy {} appears twice",
        )
        _unique(
            self,
            ((p.path + ("slug",), p.slug) for p in self.spec.example_policies),
            "example policy {} appears twice",
        )
        for managed in self.spec.managed_policies:
            if not POLICY_NAME.match(managed.name):
                self.error(
                    managed.path + ("name",), f"invalid policy name {managed.name!r}"
                )
            expected_arn = MANAGED_POLICY_ARN.format(name=managed.name)
            if managed.arn != expected_arn:
                self.error(
                    managed.path + ("arn",),
                    f"managed policy ARN {managed.arn!r} should be {expected_arn!r}",
                )
            for field_name in ("created", "updated"):
                value = getattr(managed, field_name)
                if not ISO_UTC.match(value):
                    self.error(
                        managed.path + (field_name,),
                        f"{field_name} {value!r} is not an ISO 8601 UTC time (YYYY-MM-DDTHH:MM:SSZ)",
                    )
            self.check_policy_document(managed.path + ("document",), managed.document)
        for example in self.spec.example_policies:
            if not SLUG.match(example.slug):
                self.error(
                    example.path + ("slug",),
                    f"slug {example.slug!r} is not lowercase-hyphenated",
                )
            self.check_policy_document(example.path + ("document",), example.document)

    def check_policy_document(self, path: NodePath, document: JsonObject) -> None:
        too_large = size_problem(policy_size(document))
        if too_large is not None:
            self.error(path, too_large)
            return
        problems = validate_policy(document)
        reported = {json_path_keys(problem.path) for problem in problems}
        for problem in problems:
            self.error(path + json_path_keys(problem.path), problem.message)
        # The engine also accepts the legacy 2008-10-17; the spec holds only current policies.
        if (
            "Version" in document
            and document["Version"] != VERSION_CURRENT
            and ("Version",) not in reported
        ):
            self.error(
                path + ("Version",),
                f"policy Version must be {VERSION_CURRENT!r} in the spec",
            )
        for raw in raw_element_strings(document, ("Action", "NotAction")):
            self.check_action_reference(path + json_path_keys(raw.path), raw.text)
        for raw in raw_element_strings(document, ("Resource", "NotResource")):
            keys = json_path_keys(raw.path)
            if keys not in reported:  # else the engine already said what is wrong
                self.check_resource_arn(path + keys, raw.text)

    def check_resource_arn(self, path: NodePath, arn: str) -> None:
        if arn != "*" and not ARN_PATTERN.match(arn):
            self.error(
                path,
                f"malformed ARN {arn!r}: expected "
                'arn:partition:service:region:account:resource or "*"',
            )
        elif arn.startswith("arn:") and arn.split(":")[2] == self.prefix:
            resource = arn.split(":", 5)[5]
            if not (resource.startswith("workspace/") or resource == "*"):
                self.error(
                    path,
                    f"malformed ARN {arn!r}: {self.prefix} resources are "
                    "workspace/<workspace-id>",
                )

    def check_action_reference(self, path: NodePath, text: str) -> None:
        """A pattern on our prefix must match an action; foreign prefixes are not ours to judge."""
        try:
            pattern = parse_action_pattern(text)
        except PatternError:
            return  # the grammar error is reported by parse_policy
        if pattern.prefix is None or pattern.prefix.lower() != self.prefix.lower():
            return
        if not expand_action_pattern(pattern, self.full_action_names):
            kind = "pattern" if pattern.is_wildcard else "action"
            self.error(path, f"{kind} {text!r} matches no {self.prefix} action")

    # ------------------------------------------------------------------ upstream differences

    def check_upstream_differences(self) -> None:
        """Acknowledgements name a real action (or, for only-upstream, one the spec lacks)."""
        spec_actions = {name.lower() for name in self.action_names}
        seen: set[tuple[str, str]] = set()
        for entry in self.spec.upstream_differences:
            action_path = entry.path + ("action",)
            if entry.kind == "only-upstream":
                # IAM action names are case-insensitive: GETFILE upstream is our GetFile.
                if entry.action.lower() in spec_actions:
                    self.error(
                        action_path,
                        f"action {entry.action} is in the spec, so it cannot be "
                        "only-upstream",
                    )
                elif ACTION_NAME.match(entry.action) is None:
                    self.error(
                        action_path, f"action name {entry.action!r} is not VerbNoun"
                    )
            elif entry.action not in self.action_names:
                self.error(action_path, f"unknown action {entry.action!r}")
            key = (entry.action.lower(), entry.kind)
            if key in seen:
                self.error(
                    action_path,
                    f"the {entry.kind} difference of {entry.action} is acknowledged twice",
                )
            seen.add(key)
            if not entry.reason.strip():
                self.error(
                    entry.path + ("reason",), "an acknowledgement needs a reason"
                )
            if not entry.sources:
                self.error(
                    entry.path + ("sources",),
                    "an acknowledgement names the sources of its reason",
                )


# ---------------------------------------------------------------------------- helpers


_JSON_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def json_path_keys(json_path: str) -> NodePath:
    """``Statement[1].Action[0]`` -> ("Statement", 1, "Action", 0)."""
    keys: list[str | int] = []
    for name, index in _JSON_PATH_PART.findall(json_path):
        keys.append(int(index) if index else name)
    return tuple(keys)


def _unique(
    checker: _Checker, items: Iterable[tuple[NodePath, str]], message: str
) -> None:
    seen: set[str] = set()
    for path, value in items:
        if value in seen:
            checker.error(path, message.format(value))
        seen.add(value)


def _all_notes(spec: Spec) -> Iterator[Note]:
    yield from spec.service.notes
    for group in spec.groups:
        yield from group.notes
        for action in group.actions:
            yield from action.notes
    for managed in spec.managed_policies:
        yield from managed.notes
    for example in spec.example_policies:
        yield from example.notes


def all_notes(spec: Spec) -> list[Note]:
    """Every note of the spec, in file order."""
    return list(_all_notes(spec))


def _source_references(spec: Spec) -> Iterator[tuple[NodePath, tuple[str, ...]]]:
    for resource in spec.service.resource_types:
        yield resource.path + ("sources",), resource.sources
    for decision in spec.decisions:
        yield decision.path + ("sources",), decision.sources
    for key in spec.condition_keys:
        yield key.path + ("sources",), key.sources
    for group in spec.groups:
        yield group.path + ("sources",), group.sources
        for action in group.actions:
            yield action.path + ("sources",), action.sources
    for managed in spec.managed_policies:
        yield managed.path + ("sources",), managed.sources
    for example in spec.example_policies:
        yield example.path + ("sources",), example.sources
    for note in _all_notes(spec):
        yield note.path + ("sources",), note.sources
    for entry in spec.upstream_differences:
        yield entry.path + ("sources",), entry.sources
