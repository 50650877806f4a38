"""Machine-checked claims attached to spec notes: evaluated on every validate/check/generate.

A claim is either ``expand``/``matches`` (the actions a pattern matches, by IAM's matching
rules) or ``policy``/``request``/``decision`` (what the evaluator decides). A false claim is a
located spec error, so the reference page can only show verified examples.
"""

from __future__ import annotations

from typing import Any

from generator.catalog import Catalog
from generator.errors import SpecError
from generator.iam.evaluate import Authorization
from generator.iam.matcher import PatternError, expand_action_pattern
from generator.iam.policy import NamedPolicy, PolicyParseError, parse_policy
from generator.load import Locator
from generator.model import Action, Claim, Spec
from generator.simulation import Simulator, UnknownRoute
from generator.validate import all_notes


def check_claims(spec: Spec, locator: Locator) -> list[SpecError]:
    """Every false or unevaluable claim, located at the claim."""
    simulator = Simulator(Catalog(spec))
    errors: list[SpecError] = []
    for note in all_notes(spec):
        for claim in note.claims:
            problem = _claim_problem(simulator, claim)
            if problem is not None:
                errors.append(
                    locator.error(claim.path, f"claim of note {note.id}: {problem}")
                )
    return errors


def _claim_problem(simulator: Simulator, claim: Claim) -> str | None:
    catalog = simulator.catalog
    if claim.expand is not None and claim.matches is not None:
        try:
            found = expand_action_pattern(claim.expand, catalog.full_action_names)
        except PatternError as exc:
            return str(exc)
        actual = sorted(name.split(":", 1)[1] for name in found)
        claimed = sorted(claim.matches)
        if actual == claimed:
            return None
        missing = sorted(set(claimed) - set(actual))
        extra = sorted(set(actual) - set(claimed))
        parts = []
        if extra:
            parts.append(f"it also matches {', '.join(extra)}")
        if missing:
            parts.append(f"it does not match {', '.join(missing)}")
        return (
            f"{claim.expand} matches {len(actual)} actions, not as claimed: "
            + "; ".join(parts)
        )
    try:
        authorization = evaluate_claim(simulator, claim)
    except (UnknownRoute, PolicyParseError, LookupError, ValueError) as exc:
        return str(exc)
    if authorization.decision.value != claim.decision:
        return (
            f"expected {claim.decision}, but the evaluator decides "
            f"{authorization.decision.value} ({authorization.explanation})"
        )
    return None


def claim_action(simulator: Simulator, claim: Claim) -> Action:
    request = claim.request
    assert request is not None
    if request.route is not None:
        route = simulator.route_for(request.route)
        return simulator.catalog.action_by_name[route.action]
    assert request.action is not None
    return simulator.catalog.action_by_name[request.action]


def claim_policy(simulator: Simulator, claim: Claim) -> NamedPolicy:
    if isinstance(claim.policy, str):
        policy = simulator.named_policy(claim.policy)
        if policy is None:
            raise LookupError(f"unknown policy {claim.policy!r}")
        return policy
    assert isinstance(claim.policy, dict)
    return NamedPolicy("inline policy", parse_policy(claim.policy))


def evaluate_claim(simulator: Simulator, claim: Claim) -> Authorization:
    request = claim.request
    assert request is not None
    context: dict[str, Any] = dict(request.context or {})
    return simulator.authorize(
        [claim_policy(simulator, claim)],
        claim_action(simulator, claim),
        workspace_arn=request.workspace,
        auth=request.auth or "sigv4",
        context={k: _context_value(v) for k, v in context.items()},
    )


def _context_value(value: Any) -> str | list[str]:
    if isinstance(value, list):
        return [_scalar(v) for v in value]
    return _scalar(value)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ---------------------------------------------------------------------------- descriptions


def describe_claim(catalog: Catalog, claim: Claim) -> str:
    """One line for the reference page: what was checked and the verified answer."""
    if claim.expand is not None:
        matches = ", ".join(claim.matches or ()) or "nothing"
        return f"`{claim.expand}` matches {matches}."
    request = claim.request
    assert request is not None
    policy = (
        f"`{claim.policy}`"
        if isinstance(claim.policy, str)
        else describe_inline_policy(claim.policy or {})
    )
    target = f"`{request.route}`" if request.route else f"action `{request.action}`"
    extras = []
    if request.auth == "bearer":
        extras.append("with an API key")
    if request.workspace:
        extras.append(f"on `{request.workspace}`")
    for key, value in (request.context or {}).items():
        extras.append(f"`{key}={_context_value(value)}`")
    suffix = f" ({', '.join(extras)})" if extras else ""
    return f"{policy}; request {target}{suffix} -> **{claim.decision}**."


def describe_inline_policy(document: dict[str, Any]) -> str:
    """``Allow aws-external-anthropic:* on *; Deny aws-external-anthropic:Delete* on *``."""
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    parts = []
    for statement in statements:
        action_key = "NotAction" if "NotAction" in statement else "Action"
        resource_key = "NotResource" if "NotResource" in statement else "Resource"
        actions = _as_list(statement.get(action_key))
        resources = _as_list(statement.get(resource_key))
        text = (
            f"{statement.get('Effect')} {'not ' if action_key == 'NotAction' else ''}"
        )
        text += ", ".join(f"`{a}`" for a in actions)
        text += f" on {'all but ' if resource_key == 'NotResource' else ''}"
        text += ", ".join(f"`{r}`" for r in resources)
        if statement.get("Condition"):
            text += " (with a condition)"
        parts.append(text)
    return "policy [" + "; ".join(parts) + "]"


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [] if value is None else [str(value)]
