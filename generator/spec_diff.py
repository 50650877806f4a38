"""``iamgen diff``: what changed between two specs, and what the change does to each policy.

The old spec is a file or ``spec/aws-external-anthropic.yaml`` at a git revision; the new one
defaults to the working spec. Both are loaded and validated like ``iamgen validate`` (errors of
both are reported together, located as usual, exit 2). The report has three sections:

* actions added, removed, renamed, and changed (access level, scope, event type, condition
  keys, exposed content). A rename is a guess: a removed and an added action pair up when they
  have the same non-empty set of routes, or else the same resource noun (``DisableKey`` and
  ``RevokeKey`` are both about ``Key``) and the same access level - in each pass only when the
  pair is unambiguous both ways. IAM action names are case-insensitive, so a change of case
  alone is a rename that no policy notices.
* routes added, removed, moved to another action, and with renamed parameters. Routes are
  compared by shape, method and path with parameter names erased (``/v1/files/{id}`` and
  ``/v1/files/{file_id}`` are the same route), so a parameter rename is reported as such and
  never as a removal plus an addition.
* a widening report for every managed and example policy of either spec: the actions and routes
  it now grants or no longer grants. Each policy is judged against its own spec's catalog (the
  old document with the old actions, the new document with the new ones) by the project's
  simulator, for one sample request: SigV4, the new spec's example workspace ARN, no request
  context. "Matches" means an Allow statement's Action/NotAction covers the action; "grants"
  means the evaluator allows the request. The two differ for actions without a resource type
  (account-scoped and route-less), which only ``Resource: "*"`` grants, for conditions the
  sample request does not meet, and for explicit denies. Each action (and each route, which
  shares its action's fate) with a change lands in one of four disjoint lists: now granted, no
  longer granted, now matched but not granted, no longer matched; it carries both statuses
  (granted, matched, not matched, absent) and, when it is matched but not granted, the
  evaluator's reason. A policy present in one spec only is compared with a policy that grants
  nothing.

The git revision is read with ``git show REV:spec/aws-external-anthropic.yaml`` in the current
directory, so run the command from inside the repository.

Exit codes: 0 whenever a report is printed, even one full of changes (a diff is information,
not a verdict; ``check`` and ``lint`` are the gates); 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from generator.catalog import Catalog
from generator.errors import SpecError, SpecInvalid
from generator.iam.evaluate import Authorization, Decision
from generator.iam.policy import Effect, NamedPolicy
from generator.model import Action, Route, parse_route
from generator.pipeline import SPEC_DISPLAY_NAME, LoadedModel
from generator.simulation import Simulator
from generator.wildcards import resource_family

EXIT_OK, EXIT_BAD_INPUT = 0, 2
SAMPLE_AUTH = "sigv4"
CHANGED_FIELDS = ("access_level", "scope", "event_type", "condition_keys", "exposes")
BUCKETS = (
    "now_grants",
    "no_longer_grants",
    "now_matches_without_granting",
    "no_longer_matches",
)
BUCKET_TITLES = {
    "now_grants": "now granted",
    "no_longer_grants": "no longer granted",
    "now_matches_without_granting": "now matched but not granted",
    "no_longer_matches": "no longer matched",
}


class DiffInputError(Exception):
    """A user error: printed as one line, exit 2."""


class Status(StrEnum):
    """What one policy does to one action (or route) in one spec."""

    GRANTED = "granted"
    MATCHED = "matched"
    """An Allow statement's Action element covers it, but the sample request is not allowed."""
    NOT_MATCHED = "not matched"
    ABSENT = "absent"
    """The spec has no such action (or route)."""


# ---------------------------------------------------------------------------- CLI


def register(
    commands: Any, with_spec: Callable[[argparse.ArgumentParser], None]
) -> None:
    """Add ``iamgen diff`` to the parser."""
    diff = commands.add_parser(
        "diff",
        help="what changed between two specs, and what each policy now grants",
        description=(
            "Compare an old spec with a new one: actions, routes, and for every managed "
            "and example policy the actions and routes it now grants or no longer grants."
        ),
    )
    with_spec(diff)
    diff.add_argument(
        "old",
        metavar="OLD_SPEC_OR_GIT_REV",
        help=f"a spec file, or a git revision whose {SPEC_DISPLAY_NAME} is read",
    )
    diff.add_argument(
        "new",
        metavar="NEW",
        nargs="?",
        help="a spec file or git revision (default: the --spec file)",
    )
    diff.add_argument("--json", action="store_true", help="print JSON")
    diff.set_defaults(handler=run_diff)


def run_diff(args: argparse.Namespace) -> int:
    """Load both specs (SpecInvalid reaches ``cli.main``: exit 2), print the report."""
    try:
        old_raw, old_label = read_spec_source(args.old)
        if args.new is None:
            new_raw, new_label = _read_file(args.spec)
        else:
            new_raw, new_label = read_spec_source(args.new)
    except DiffInputError as exc:
        print(f"iamgen diff: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    old, new = load_both((old_raw, old_label), (new_raw, new_label))
    report = build_report(old, old_label, new, new_label)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(format_text(report), end="")
    return EXIT_OK


def read_spec_source(text: str) -> tuple[bytes, str]:
    """A spec file's bytes, or the spec at a git revision; with the label errors start with."""
    if Path(text).is_file():
        return _read_file(Path(text))
    return read_spec_at_revision(text)


def read_spec_at_revision(revision: str) -> tuple[bytes, str]:
    """``git show REV:spec/aws-external-anthropic.yaml``, run in the current directory."""
    if not revision or revision.startswith("-"):
        # git would read a leading "-" as an option.
        raise DiffInputError(f"{revision!r} is neither a spec file nor a git revision")
    label = f"{revision}:{SPEC_DISPLAY_NAME}"
    try:
        result = subprocess.run(
            ["git", "show", label], capture_output=True, check=False, timeout=60
        )
    except FileNotFoundError:
        raise DiffInputError(
            f"{revision!r} is not a spec file, and git is not installed to read it as a "
            "revision"
        ) from None
    except subprocess.TimeoutExpired:
        raise DiffInputError(f"git show {label} did not finish in 60 s") from None
    if result.returncode != 0:
        lines = result.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = lines[-1] if lines else f"exit status {result.returncode}"
        raise DiffInputError(
            f"{revision!r} is neither a spec file nor a git revision with "
            f"{SPEC_DISPLAY_NAME}: git show {label}: {detail}"
        )
    return result.stdout, label


def _read_file(path: Path) -> tuple[bytes, str]:
    from generator.cli import _display_path

    try:
        return path.read_bytes(), _display_path(path)
    except OSError as exc:
        raise DiffInputError(f"cannot read spec {path}: {exc.strerror}") from None


def load_both(
    old: tuple[bytes, str], new: tuple[bytes, str]
) -> tuple[LoadedModel, LoadedModel]:
    """Load and validate both specs; raise SpecInvalid with the errors of both at once."""
    from generator.pipeline import load_model

    models: list[LoadedModel] = []
    errors: list[SpecError] = []
    for raw, label in (old, new):
        try:
            models.append(load_model(raw, label))
        except SpecInvalid as exc:
            errors.extend(exc.errors)
    if errors:
        raise SpecInvalid(errors)
    return models[0], models[1]


# ---------------------------------------------------------------------------- actions


@dataclass(frozen=True)
class ActionPair:
    """One action as the two specs know it; ``None`` where a spec lacks it."""

    old: Action | None
    new: Action | None
    rename_reason: str | None = None

    @property
    def name(self) -> str:
        action = self.new or self.old
        assert action is not None
        return action.name


def pair_actions(old: Catalog, new: Catalog) -> list[ActionPair]:
    """Every action of either spec, paired across them: new order first, then removed ones."""
    # IAM action names are case-insensitive (IAM User Guide, Action element).
    old_by = {a.name.lower(): a for a in old.actions}
    new_by = {a.name.lower(): a for a in new.actions}
    removed = [a for a in old.actions if a.name.lower() not in new_by]
    added = [a for a in new.actions if a.name.lower() not in old_by]
    renamed: dict[str, tuple[Action, str]] = {}  # new name -> (old action, reason)
    for reason, key in (
        ("same routes", _route_key),
        ("same noun and access level", _noun_key),
    ):
        for old_action, new_action in _unambiguous_pairs(removed, added, key):
            renamed[new_action.name] = (old_action, reason)
            removed.remove(old_action)
            added.remove(new_action)
    pairs: list[ActionPair] = []
    for action in new.actions:
        before = old_by.get(action.name.lower())
        if before is not None:
            case_only = "case only" if before.name != action.name else None
            pairs.append(ActionPair(before, action, case_only))
        elif action.name in renamed:
            old_action, guess = renamed[action.name]
            pairs.append(ActionPair(old_action, action, guess))
        else:
            pairs.append(ActionPair(None, action))
    pairs.extend(ActionPair(action, None) for action in removed)
    return pairs


def _route_key(action: Action) -> object:
    shapes = frozenset(_route(text, action).shape for text in action.routes)
    return shapes or None


def _noun_key(action: Action) -> object:
    return (resource_family(action.name).lower(), action.access_level)


def _unambiguous_pairs(
    removed: Sequence[Action], added: Sequence[Action], key: Callable[[Action], object]
) -> list[tuple[Action, Action]]:
    """Pairs whose key is shared by exactly one removed and exactly one added action."""
    pairs = []
    for old_action in removed:
        wanted = key(old_action)
        if wanted is None:
            continue
        candidates = [a for a in added if key(a) == wanted]
        rivals = [a for a in removed if key(a) == wanted]
        if len(candidates) == 1 and len(rivals) == 1:
            pairs.append((old_action, candidates[0]))
    return pairs


def _route(text: str, action: Action) -> Route:
    route, _problem = parse_route(text, action.name)
    assert route is not None, "validated spec"
    return route


def _field(action: Action, name: str) -> Any:
    value = getattr(action, name)
    if name == "condition_keys":
        # Condition key names are case-insensitive; compare and show them sorted.
        return sorted(value, key=str.lower)
    if isinstance(value, tuple):
        return list(value)
    return value


def _same(name: str, old: Any, new: Any) -> bool:
    if name == "condition_keys":
        return [k.lower() for k in old] == [k.lower() for k in new]
    return bool(old == new)


def _action_summary(catalog: Catalog, action: Action) -> dict[str, Any]:
    return {
        "action": action.name,
        "group": catalog.group_of[action.name].name,
        "access_level": action.access_level,
        "scope": action.scope,
        "event_type": action.event_type,
        "routes": list(action.routes),
    }


def action_section(
    old: Catalog, new: Catalog, pairs: Sequence[ActionPair]
) -> dict[str, list[dict[str, Any]]]:
    added, removed, renamed, changed = [], [], [], []
    for pair in pairs:
        if pair.old is None:
            assert pair.new is not None
            added.append(_action_summary(new, pair.new))
            continue
        if pair.new is None:
            removed.append(_action_summary(old, pair.old))
            continue
        if pair.rename_reason is not None:
            renamed.append(
                {
                    "old": pair.old.name,
                    "new": pair.new.name,
                    "reason": pair.rename_reason,
                }
            )
        changes = {}
        for name in CHANGED_FIELDS:
            before, after = _field(pair.old, name), _field(pair.new, name)
            if not _same(name, before, after):
                changes[name] = {"old": before, "new": after}
        if changes:
            changed.append(
                {
                    "action": pair.new.name,
                    "old_action": pair.old.name,
                    "changes": changes,
                }
            )
    return {"added": added, "removed": removed, "renamed": renamed, "changed": changed}


# ---------------------------------------------------------------------------- routes


@dataclass(frozen=True)
class RoutePair:
    """One route shape as the two specs know it."""

    old: Route | None
    new: Route | None

    @property
    def text(self) -> str:
        route = self.new or self.old
        assert route is not None
        return _route_text(route)

    @property
    def action(self) -> str:
        route = self.new or self.old
        assert route is not None
        return route.action


def _route_text(route: Route) -> str:
    return f"{route.method} {route.path}"


def pair_routes(old: Catalog, new: Catalog) -> list[RoutePair]:
    """Routes of either spec paired by shape (parameter names erased)."""
    old_by = {route.shape: route for route in old.routes}
    new_shapes = {route.shape for route in new.routes}
    pairs = [RoutePair(old_by.get(route.shape), route) for route in new.routes]
    pairs.extend(
        RoutePair(route, None) for route in old.routes if route.shape not in new_shapes
    )
    return pairs


def route_section(
    pairs: Sequence[RoutePair], action_pairs: Sequence[ActionPair]
) -> dict[str, list[dict[str, Any]]]:
    renamed_to = {
        p.old.name: p.new.name
        for p in action_pairs
        if p.old is not None and p.new is not None
    }
    added, removed, moved, parameters = [], [], [], []
    for pair in pairs:
        if pair.old is None:
            added.append({"route": pair.text, "action": pair.action})
            continue
        if pair.new is None:
            removed.append({"route": pair.text, "action": pair.action})
            continue
        if renamed_to.get(pair.old.action) != pair.new.action:
            moved.append(
                {
                    "route": _route_text(pair.new),
                    "old_route": _route_text(pair.old),
                    "old_action": pair.old.action,
                    "new_action": pair.new.action,
                }
            )
        if pair.old.path != pair.new.path:
            parameters.append(
                {
                    "old_route": _route_text(pair.old),
                    "new_route": _route_text(pair.new),
                    "action": pair.new.action,
                    "parameters": [
                        {"old": before, "new": after}
                        for before, after in zip(
                            pair.old.params, pair.new.params, strict=True
                        )
                        if before != after
                    ],
                }
            )
    return {
        "added": added,
        "removed": removed,
        "moved": moved,
        "parameters_renamed": parameters,
    }


# ---------------------------------------------------------------------------- policies


@dataclass(frozen=True)
class Verdict:
    status: Status
    reason: str | None = None
    """Why an action that a statement matches is not granted."""


def judge_policy(
    simulator: Simulator, policy: NamedPolicy | None, workspace: str
) -> dict[str, Verdict]:
    """Action name -> what the policy does to it for the sample request."""
    verdicts: dict[str, Verdict] = {}
    for action in simulator.catalog.actions:
        if policy is None:
            verdicts[action.name] = Verdict(Status.NOT_MATCHED)
            continue
        full = simulator.catalog.full_name(action.name)
        matching = {
            s.index
            for s in policy.policy.statements
            if s.effect is Effect.ALLOW and s.matches_action(full)
        }
        authorization = simulator.authorize(
            [policy], action, workspace_arn=workspace, auth=SAMPLE_AUTH
        )
        if authorization.decision is Decision.ALLOWED:
            verdicts[action.name] = Verdict(Status.GRANTED)
        elif matching:
            verdicts[action.name] = Verdict(
                Status.MATCHED, _not_granted_reason(authorization, matching)
            )
        else:
            verdicts[action.name] = Verdict(Status.NOT_MATCHED)
    return verdicts


def _not_granted_reason(authorization: Authorization, matching: set[int]) -> str:
    evaluation = authorization.route
    if evaluation.decision is Decision.EXPLICIT_DENY:
        return evaluation.explanation
    reasons = [
        f"{result.statement.sid or result.statement.path}: {'; '.join(result.reasons)}"
        for result in evaluation.identity.statements
        if result.statement.index in matching and result.reasons
    ]
    return "; ".join(reasons) or evaluation.explanation


def _bucket(old: Status, new: Status) -> str | None:
    """The four disjoint kinds of change; None when nothing a reader needs changed."""
    if new is Status.GRANTED and old is not Status.GRANTED:
        return "now_grants"
    if old is Status.GRANTED and new is not Status.GRANTED:
        return "no_longer_grants"
    unmatched = (Status.NOT_MATCHED, Status.ABSENT)
    if new is Status.MATCHED and old in unmatched:
        return "now_matches_without_granting"
    if old is Status.MATCHED and new in unmatched:
        return "no_longer_matches"
    return None


def _verdict(verdicts: dict[str, Verdict], name: str | None) -> Verdict:
    return verdicts[name] if name is not None else Verdict(Status.ABSENT)


def _change(old: Verdict, new: Verdict) -> dict[str, Any]:
    """The two statuses, and why the new one is "matched" rather than "granted"."""
    return {
        "old": old.status.value,
        "new": new.status.value,
        "reason": new.reason if new.status is Status.MATCHED else None,
    }


def _bucketed(
    old_verdicts: dict[str, Verdict],
    new_verdicts: dict[str, Verdict],
    entries: Iterable[tuple[str | None, str | None, dict[str, Any]]],
) -> dict[str, list[Any]]:
    """Sort entries (old action, new action, label) into BUCKETS by how the verdict moved."""
    buckets: dict[str, list[Any]] = {bucket: [] for bucket in BUCKETS}
    for old_name, new_name, label in entries:
        before = _verdict(old_verdicts, old_name)
        after = _verdict(new_verdicts, new_name)
        bucket = _bucket(before.status, after.status)
        if bucket is not None:
            buckets[bucket].append({**label, **_change(before, after)})
    return buckets


def policy_section(
    old_sim: Simulator,
    new_sim: Simulator,
    action_pairs: Sequence[ActionPair],
    route_pairs: Sequence[RoutePair],
    workspace: str,
) -> list[dict[str, Any]]:
    report = []
    for kind, old_table, new_table in (
        ("managed", old_sim.managed, new_sim.managed),
        ("example", old_sim.examples, new_sim.examples),
    ):
        names = [*new_table, *(n for n in old_table if n not in new_table)]
        for name in names:
            old_policy, new_policy = old_table.get(name), new_table.get(name)
            old_verdicts = judge_policy(old_sim, old_policy, workspace)
            new_verdicts = judge_policy(new_sim, new_policy, workspace)
            actions = _bucketed(
                old_verdicts,
                new_verdicts,
                (
                    (
                        pair.old.name if pair.old else None,
                        pair.new.name if pair.new else None,
                        {"action": pair.name},
                    )
                    for pair in action_pairs
                ),
            )
            routes = _bucketed(
                old_verdicts,
                new_verdicts,
                (
                    (
                        route.old.action if route.old else None,
                        route.new.action if route.new else None,
                        {"route": route.text, "action": route.action},
                    )
                    for route in route_pairs
                ),
            )
            report.append(
                {
                    "policy": name,
                    "kind": kind,
                    "presence": _presence(old_policy, new_policy),
                    **_versions(kind, name, old_sim, new_sim),
                    "document_changed": _document(kind, name, old_sim)
                    != _document(kind, name, new_sim),
                    "actions": actions,
                    "routes": routes,
                }
            )
    return report


def _presence(old: NamedPolicy | None, new: NamedPolicy | None) -> str:
    if old is None:
        return "added"
    if new is None:
        return "removed"
    return "both"


def _versions(
    kind: str, name: str, old: Simulator, new: Simulator
) -> dict[str, str | None]:
    def version(simulator: Simulator) -> str | None:
        if kind != "managed":
            return None
        return next(
            (
                p.version
                for p in simulator.catalog.spec.managed_policies
                if p.name == name
            ),
            None,
        )

    return {"old_version": version(old), "new_version": version(new)}


def _document(kind: str, name: str, simulator: Simulator) -> object:
    spec = simulator.catalog.spec
    if kind == "managed":
        return next((p.document for p in spec.managed_policies if p.name == name), None)
    return next((p.document for p in spec.example_policies if p.slug == name), None)


# ---------------------------------------------------------------------------- report


def build_report(
    old: LoadedModel, old_label: str, new: LoadedModel, new_label: str
) -> dict[str, Any]:
    """The whole report as plain JSON data, keys in a fixed order."""
    action_pairs = pair_actions(old.catalog, new.catalog)
    route_pairs = pair_routes(old.catalog, new.catalog)
    actions = action_section(old.catalog, new.catalog, action_pairs)
    routes = route_section(route_pairs, action_pairs)
    workspace = new.catalog.example_workspace_arn
    policies = policy_section(
        Simulator(old.catalog),
        Simulator(new.catalog),
        action_pairs,
        route_pairs,
        workspace,
    )
    summary = {
        **{f"actions_{key}": len(value) for key, value in actions.items()},
        **{f"routes_{key}": len(value) for key, value in routes.items()},
        "policies_granting_more": sum(
            1
            for p in policies
            if p["actions"]["now_grants"] or p["routes"]["now_grants"]
        ),
        "policies_granting_less": sum(
            1
            for p in policies
            if p["actions"]["no_longer_grants"] or p["routes"]["no_longer_grants"]
        ),
    }
    return {
        "old": _side(old_label, old),
        "new": _side(new_label, new),
        "sample_request": {"auth": SAMPLE_AUTH, "workspace": workspace, "context": {}},
        "summary": summary,
        "actions": actions,
        "routes": routes,
        "policies": policies,
    }


def _side(label: str, model: LoadedModel) -> dict[str, Any]:
    return {
        "spec": label,
        "spec_sha256": model.spec_sha256,
        "actions": len(model.catalog.actions),
        "routes": len(model.catalog.routes),
        "managed_policies": len(model.spec.managed_policies),
        "example_policies": len(model.spec.example_policies),
    }


def format_text(report: dict[str, Any]) -> str:
    """The report for people, grouped by section; ends with one newline."""
    old, new = report["old"], report["new"]
    sample = report["sample_request"]
    lines = [f"iamgen diff {old['spec']} -> {new['spec']}"]
    for label, side in (("old", old), ("new", new)):
        lines.append(
            f"  {label}: {side['actions']} actions, {side['routes']} routes, "
            f"{side['managed_policies']} managed and {side['example_policies']} example "
            "policies"
        )
    lines.append(
        f"  policies judged on a {sample['auth']} request for {sample['workspace']}, "
        "no request context"
    )

    actions = report["actions"]
    lines += [
        "",
        "Actions: " + _counts(actions, ("added", "removed", "renamed", "changed")),
    ]
    for item in actions["added"]:
        lines.append(f"  added    {_described(item)}")
    for item in actions["removed"]:
        lines.append(f"  removed  {_described(item)}")
    for item in actions["renamed"]:
        lines.append(f"  renamed  {item['old']} -> {item['new']}  ({item['reason']})")
    for item in actions["changed"]:
        name = item["action"]
        if item["old_action"] != name:
            name = f"{item['old_action']} -> {name}"
        changes = "; ".join(
            f"{field.replace('_', ' ')} {_shown(change['old'])} -> "
            f"{_shown(change['new'])}"
            for field, change in item["changes"].items()
        )
        lines.append(f"  changed  {name}: {changes}")

    routes = report["routes"]
    lines += [
        "",
        "Routes: "
        + _counts(routes, ("added", "removed", "moved"))
        + f", {len(routes['parameters_renamed'])} with renamed parameters",
    ]
    for item in routes["added"]:
        lines.append(f"  added    {item['route']}  ({item['action']})")
    for item in routes["removed"]:
        lines.append(f"  removed  {item['route']}  ({item['action']})")
    for item in routes["moved"]:
        lines.append(
            f"  moved    {item['route']}  {item['old_action']} -> {item['new_action']}"
        )
    for item in routes["parameters_renamed"]:
        renames = ", ".join(f"{p['old']} -> {p['new']}" for p in item["parameters"])
        lines.append(f"  renamed parameters  {item['new_route']}  ({renames})")

    lines += ["", "Policies (widening report)"]
    for policy in report["policies"]:
        lines.append(f"  {_policy_heading(policy)}")
        body = []
        for section in ("actions", "routes"):
            for bucket in BUCKETS:
                entries = policy[section][bucket]
                if not entries:
                    continue
                body.append(f"    {section} {BUCKET_TITLES[bucket]} ({len(entries)}):")
                for entry in entries:
                    body.append(f"      {_policy_entry(section, entry)}")
        lines.extend(body or ["    grants and matches the same actions and routes"])
    return "\n".join(lines) + "\n"


def _counts(section: dict[str, list[Any]], keys: Iterable[str]) -> str:
    return ", ".join(f"{len(section[key])} {key}" for key in keys)


def _described(item: dict[str, Any]) -> str:
    count = len(item["routes"])
    return (
        f"{item['action']}  ({item['group']}; {item['access_level']}; {item['scope']}; "
        f"{count} route{'s' if count != 1 else ''})"
    )


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(value) + "]"
    return "none" if value is None else str(value)


def _policy_heading(policy: dict[str, Any]) -> str:
    details = [f"{policy['kind']} policy"]
    if policy["presence"] == "added":
        details.append("new")
    elif policy["presence"] == "removed":
        details.append("removed")
    old_version, new_version = policy["old_version"], policy["new_version"]
    if old_version and new_version and old_version != new_version:
        details.append(f"{old_version} -> {new_version}")
    elif new_version or old_version:
        details.append(str(new_version or old_version))
    if policy["presence"] == "both":
        details.append(
            "document changed" if policy["document_changed"] else "same document"
        )
    return f"{policy['policy']} ({', '.join(details)})"


def _policy_entry(section: str, entry: dict[str, Any]) -> str:
    # A route's reason is its action's, already printed under actions; JSON has both.
    if section == "routes":
        return f"{entry['route']}  ({entry['action']})"
    text = str(entry["action"])
    if entry["reason"]:
        text += f": {entry['reason']}"
    return text
