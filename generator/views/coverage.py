"""View for the coverage matrix: every action x every managed policy, evaluated.

Cells come from the evaluator on a sample workspace, not from pattern matching, so a pattern
that matches but cannot grant (``List*`` on workspace ARNs vs the account-scoped
``ListWorkspaces``) shows as "no", with a footnote saying why.
"""

from __future__ import annotations

from typing import Any

from generator.catalog import Catalog
from generator.iam.evaluate import Authorization, Decision
from generator.iam.policy import Effect, NamedPolicy
from generator.simulation import Simulator

CELL = {
    Decision.ALLOWED: "yes",
    Decision.IMPLICIT_DENY: "no",
    Decision.EXPLICIT_DENY: "denied",
}


def build_coverage_view(catalog: Catalog) -> dict[str, Any]:
    simulator = Simulator(catalog)
    policies = [simulator.managed[p.name] for p in catalog.spec.managed_policies]
    workspace = catalog.example_workspace_arn
    footnotes: list[dict[str, str]] = []

    # decisions[policy][action] = (sigv4 decision, bearer decision, surprise text or None)
    grid: dict[str, dict[str, tuple[Decision, Decision, str | None]]] = {}
    for policy in policies:
        grid[policy.name] = {}
        for action in catalog.actions:
            by_sigv4 = simulator.authorize([policy], action, workspace_arn=workspace)
            by_bearer = (
                simulator.authorize(
                    [policy], action, workspace_arn=workspace, auth="bearer"
                )
                if action.routes and catalog.spec.service.bearer_token_action
                else by_sigv4
            )
            grid[policy.name][action.name] = (
                by_sigv4.decision,
                by_bearer.decision,
                _surprise(catalog, policy, action.name, by_sigv4),
            )

    columns: list[tuple[str, str, str]] = []  # (label, policy, mode)
    for policy in policies:
        differs = any(s != b for s, b, _ in grid[policy.name].values())
        if differs:
            columns.append((f"{policy.name} (SigV4)", policy.name, "sigv4"))
            columns.append((f"{policy.name} (API key)", policy.name, "bearer"))
        else:
            columns.append((policy.name, policy.name, "sigv4"))

    rows = []
    for action in catalog.actions:
        cells = []
        for _label, policy_name, mode in columns:
            sigv4, bearer, surprise = grid[policy_name][action.name]
            decision = sigv4 if mode == "sigv4" else bearer
            cell = CELL[decision]
            if surprise is not None and mode == "sigv4":
                mark = f"[{len(footnotes) + 1}]"
                footnotes.append({"mark": mark, "text": surprise})
                cell = f"{cell} {mark}"
            cells.append(cell)
        rows.append({"action": action.name, "cells": cells})

    return {
        "intro": (
            "Each cell is the evaluator's decision for the action on the sample workspace "
            f"{workspace} (SigV4 unless a column says API key): yes = allowed, no = implicit "
            "deny. Account-scoped and route-less actions are evaluated with no resource, as "
            "IAM does for actions without a resource type. Numbers in brackets point to the "
            "notes below the table."
        ),
        "columns": [label for label, _, _ in columns],
        "rows": rows,
        "footnotes": footnotes,
    }


def _surprise(
    catalog: Catalog,
    policy: NamedPolicy,
    action_name: str,
    authorization: Authorization,
) -> str | None:
    """A note when an Allow statement's Action matches but the action is still not granted."""
    if authorization.decision is Decision.ALLOWED:
        return None
    full = catalog.full_name(action_name)
    policy_name = policy.name
    for statement, result in zip(
        policy.policy.statements, authorization.route.identity.statements, strict=True
    ):
        if statement.effect is Effect.ALLOW and statement.matches_action(full):
            patterns = ", ".join(
                f"`{p.text}`" for p in statement.actions if p.matches(full)
            )
            reason = "; ".join(result.reasons)
            return (
                f"{policy_name} statement {statement.label} matches {action_name} through "
                f"{patterns}, but does not grant it: {reason}"
            )
    return None
