"""The semantic commands: explain, expand, simulate, lint.

Each loads the spec (a bad spec exits 2 like ``validate``), answers from the same simulator the
claims use, prints text or ``--json``, and returns the exit code: 0 success, 1 where a command
reports findings (``explain`` of an unavailable route, ``lint`` warnings), 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from generator.catalog import Catalog
from generator.iam.evaluate import Authorization, Decision, Evaluation
from generator.iam.matcher import PatternError
from generator.iam.policy import NamedPolicy, PolicyParseError, parse_policy
from generator.model import Action
from generator.policy_files import PolicyJsonError, read_policy_json
from generator.simulation import AUTH_MODES, Simulator, UnknownRoute
from generator.wildcards import analyze_pattern

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT = 0, 1, 2
NO_RESOURCE = '(none: only Resource "*" grants it)'
WORKSPACE_ARN = re.compile(
    r"^arn:[a-z-]+:(?P<service>[^:]+):[^:]*:[^:]*:workspace/[^:/]+$"
)


class BadInput(Exception):
    """A user error: printed as one line, exit 2."""


def register(
    commands: Any, with_spec: Callable[[argparse.ArgumentParser], None]
) -> None:
    """Add the semantic subcommands to the ``iamgen`` parser; each sets ``handler``."""
    explain = commands.add_parser(
        "explain", help="what a request needs: action, scope, notes, managed policies"
    )
    with_spec(explain)
    explain.add_argument("method", help="HTTP method, e.g. GET")
    explain.add_argument(
        "path", help="concrete request path, e.g. /v1/files/file_01/content"
    )
    explain.add_argument(
        "--workspace", help="workspace ARN (default: the spec's example)"
    )
    explain.add_argument("--json", action="store_true", help="print JSON")
    explain.set_defaults(handler=_guarded(run_explain))

    expand = commands.add_parser("expand", help="the actions each pattern matches")
    with_spec(expand)
    expand.add_argument("patterns", nargs="+", metavar="PATTERN")
    expand.add_argument("--json", action="store_true", help="print JSON")
    expand.set_defaults(handler=_guarded(run_expand))

    simulate = commands.add_parser("simulate", help="evaluate policies for one request")
    with_spec(simulate)
    simulate.add_argument(
        "--policy",
        nargs="+",
        action="extend",
        required=True,
        metavar="FILE_OR_NAME",
        help="policy JSON files, managed policy names or example slugs",
    )
    target = simulate.add_mutually_exclusive_group(required=True)
    target.add_argument("--route", help='the request, e.g. "GET /v1/files/file_01"')
    target.add_argument("--action", help="an action name, e.g. ListWorkspaces")
    simulate.add_argument(
        "--workspace", help="workspace ARN (default: the spec's example)"
    )
    simulate.add_argument("--auth", choices=AUTH_MODES, default="sigv4")
    simulate.add_argument(
        "--context",
        nargs="+",
        action="extend",
        default=[],
        metavar="KEY=VALUE",
        help="request context; repeat a key for a multivalued key",
    )
    simulate.add_argument("--boundary", help="a permissions boundary policy")
    simulate.add_argument(
        "--scp", nargs="+", action="extend", help="service control policies"
    )
    simulate.add_argument("--json", action="store_true", help="print JSON")
    simulate.set_defaults(handler=_guarded(run_simulate))

    lint = commands.add_parser(
        "lint", help="findings with stable codes for policy files"
    )
    with_spec(lint)
    lint.add_argument(
        "files", nargs="+", metavar="FILE", help="policy files or managed names"
    )
    lint.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    lint.add_argument(
        "--ignore",
        nargs="+",
        action="extend",
        default=[],
        metavar="CODE",
        help="finding codes to leave out, e.g. IAM042 for a deliberate batch-only deny",
    )
    lint.set_defaults(handler=_guarded(run_lint))


def _guarded(
    run: Callable[[argparse.Namespace, Catalog], int],
) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        from generator import output, pipeline
        from generator.cli import _display_path

        raw = output.read_spec_bytes(args.spec)
        model = pipeline.load_model(raw, _display_path(args.spec))
        try:
            return run(args, model.catalog)
        except BadInput as exc:
            print(f"iamgen {args.command}: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT

    return handler


def _emit(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(text)


# ---------------------------------------------------------------------------- explain


def run_explain(args: argparse.Namespace, catalog: Catalog) -> int:
    simulator = Simulator(catalog)
    workspace = _workspace_arg(catalog, args.workspace)
    request_line = f"{args.method} {args.path}"
    try:
        route = simulator.route_of(args.method, args.path)
    except UnknownRoute as exc:
        _emit(
            args,
            {"available": False, "request": request_line, "reason": str(exc)},
            str(exc),
        )
        return EXIT_FINDINGS
    action = catalog.action_by_name[route.action]
    group = catalog.group_of[action.name]
    notes = [*group.notes, *action.notes]
    allowed_by = []
    for managed in catalog.spec.managed_policies:
        policy = simulator.managed[managed.name]
        modes = [
            mode
            for mode in AUTH_MODES
            if simulator.authorize(
                [policy], action, workspace_arn=workspace, auth=mode
            ).decision
            is Decision.ALLOWED
        ]
        if modes:
            allowed_by.append({"policy": managed.name, "auth": modes})
    data = {
        "available": True,
        "request": request_line,
        "route": f"{route.method} {route.path}",
        "action": catalog.full_name(action.name),
        "description": action.description,
        "group": group.name,
        "access_level": action.access_level,
        "scope": action.scope,
        "resource": simulator.resource_for(action, workspace),
        "event_type": action.event_type,
        "exposes": list(action.exposes),
        "bearer_token_action": _bearer_full(catalog),
        "notes": [{"id": n.id, "text": n.text} for n in notes],
        "managed_policies_allowing": allowed_by,
    }
    lines = [
        f"{request_line}",
        f"  route         {route.method} {route.path}",
        f"  action        {data['action']}",
        f"  description   {action.description}",
        f"  group         {group.name}",
        f"  access level  {action.access_level}",
        f"  scope         {action.scope}",
        f"  resource      {data['resource'] or NO_RESOURCE}",
        f"  event type    {action.event_type or 'not documented'}",
    ]
    if action.exposes:
        lines.append(f"  exposes       {', '.join(action.exposes)}")
    if data["bearer_token_action"]:
        lines.append(f"  API-key calls also need {data['bearer_token_action']}")
    lines.append(
        "  allowed by    "
        + (
            ", ".join(f"{a['policy']} ({'/'.join(a['auth'])})" for a in allowed_by)
            or "no managed policy"
        )
    )
    for note in notes:
        lines.append(f"  note: {' '.join(note.text.split())}")
    _emit(args, data, "\n".join(lines))
    return EXIT_OK


# ---------------------------------------------------------------------------- expand


def run_expand(args: argparse.Namespace, catalog: Catalog) -> int:
    results = []
    for text in args.patterns:
        pattern_text = (
            text if ":" in text or text == "*" else f"{catalog.prefix}:{text}"
        )
        try:
            analysis = analyze_pattern(catalog, pattern_text)
        except PatternError as exc:
            raise BadInput(str(exc)) from None
        warnings = []
        if (
            analysis.pattern.prefix is not None
            and analysis.pattern.prefix != catalog.prefix
        ):
            warnings.append(f"prefix {analysis.pattern.prefix} is not {catalog.prefix}")
        elif not analysis.matches:
            warnings.append(f"matches no {catalog.prefix} action")
        if analysis.pattern.prefix is None:
            warnings.append("a bare * matches every action of every AWS service")
        if analysis.over_matched:
            warnings.append(
                "also matches another resource family: "
                + ", ".join(analysis.over_matched)
            )
        if analysis.is_verb_wildcard and analysis.matches:
            warnings.append("widens whenever a matching action is added to the service")
        if analysis.unscoped:
            warnings.append(
                "no resource type, so a statement scoped to workspace ARNs never grants: "
                + ", ".join(analysis.unscoped)
            )
        results.append(
            {
                "pattern": text,
                "matches": sorted(catalog.full_name(n) for n in analysis.matches),
                "warnings": warnings,
            }
        )
    text_out = []
    for result in results:
        text_out.append(f"{result['pattern']}: {len(result['matches'])} actions")
        text_out.extend(f"  {name}" for name in result["matches"])
        text_out.extend(f"  warning: {w}" for w in result["warnings"])
    _emit(args, {"patterns": results}, "\n".join(text_out))
    return EXIT_OK


# ---------------------------------------------------------------------------- simulate


def run_simulate(args: argparse.Namespace, catalog: Catalog) -> int:
    simulator = Simulator(catalog)
    policies = [load_policy_arg(simulator, p) for p in args.policy]
    boundary = load_policy_arg(simulator, args.boundary) if args.boundary else None
    scps = [load_policy_arg(simulator, p) for p in args.scp] if args.scp else None
    workspace = _workspace_arg(catalog, args.workspace)
    context = _context_arg(args.context)
    if args.route is not None:
        try:
            route = simulator.route_for(args.route)
        except UnknownRoute as exc:
            unknown = {
                "decision": Decision.IMPLICIT_DENY.value,
                "action": None,
                "resource": None,
                "statements": [],
                "reasons": [str(exc)],
            }
            _emit(args, unknown, f"implicitDeny: {exc}")
            return EXIT_OK
        action = catalog.action_by_name[route.action]
    else:
        action = _action_arg(catalog, args.action)
    authorization = simulator.authorize(
        policies,
        action,
        workspace_arn=workspace,
        auth=args.auth,
        context=context,
        boundary=boundary,
        scps=scps,
    )
    data = simulation_report(authorization)
    lines = [
        authorization.explanation,
        f"  action    {data['action']}",
        f"  resource  {data['resource'] or '(none)'}",
    ]
    for statement in data["statements"]:
        lines.append(
            f"  decided by {statement['policy']} {statement['statement']} ({statement['effect']})"
        )
    for reason in data["reasons"]:
        lines.append(f"  {reason}")
    _emit(args, data, "\n".join(lines))
    return EXIT_OK


def simulation_report(authorization: Authorization) -> dict[str, Any]:
    """The JSON shape of ``simulate``: decision, action, resource, statements, reasons."""
    evaluations = [authorization.route]
    if authorization.bearer is not None:
        evaluations.append(authorization.bearer)
    statements = []
    reasons = []
    for evaluation in evaluations:
        statements.extend(_deciding(evaluation))
        for result in evaluation.not_applied:
            for reason in result.reasons:
                reasons.append(
                    f"{result.statement.policy} {result.statement.sid or result.statement.path} "
                    f"does not apply to {evaluation.request.action}: {reason}"
                )
        if evaluation.decision is Decision.IMPLICIT_DENY:
            reasons.append(evaluation.explanation)
    route = authorization.route.request
    return {
        "decision": authorization.decision.value,
        "action": route.action,
        "resource": route.resource,
        "bearer_token_action": (
            authorization.bearer.request.action if authorization.bearer else None
        ),
        "statements": statements,
        "reasons": reasons,
    }


def _deciding(evaluation: Evaluation) -> list[dict[str, Any]]:
    return [
        {
            "policy": ref.policy,
            "kind": ref.kind.value,
            "statement": ref.sid or ref.path,
            "index": ref.index,
            "effect": ref.effect.value,
            "action": evaluation.request.action,
        }
        for ref in evaluation.deciding
    ]


def load_policy_arg(simulator: Simulator, text: str) -> NamedPolicy:
    """A policy JSON file, or a managed policy name / example slug from the spec."""
    path = Path(text)
    if path.is_file():
        try:
            # The reader lint uses: duplicate keys (which AWS may read differently), NaN,
            # deep nesting and oversized files are refused, never guessed at.
            document = read_policy_json(path.read_bytes())
        except OSError as exc:
            raise BadInput(f"cannot read {text}: {exc.strerror or exc}") from None
        except PolicyJsonError as exc:
            raise BadInput(f"{text}: {exc}") from None
        try:
            return NamedPolicy(path.name, parse_policy(document))
        except PolicyParseError as exc:
            details = "; ".join(str(e) for e in exc.errors)
            raise BadInput(f"{text}: invalid policy: {details}") from None
    named = simulator.named_policy(text)
    if named is None:
        raise BadInput(
            f"{text!r} is neither a file nor a managed policy name or example slug of the spec"
        )
    return named


def _action_arg(catalog: Catalog, text: str) -> Action:
    name = text.split(":", 1)[1] if ":" in text else text
    if ":" in text and text.split(":", 1)[0].lower() != catalog.prefix:
        raise BadInput(f"action {text!r} is not a {catalog.prefix} action")
    for action in catalog.actions:
        if action.name.lower() == name.lower():  # IAM action names are case-insensitive
            return action
    raise BadInput(f"unknown action {text!r}")


def _workspace_arg(catalog: Catalog, text: str | None) -> str | None:
    if text is None:
        return None
    match = WORKSPACE_ARN.match(text)
    if match is None or match["service"] != catalog.prefix:
        raise BadInput(
            f"--workspace {text!r} is not a workspace ARN "
            f"(arn:aws:{catalog.prefix}:REGION:ACCOUNT:workspace/WORKSPACE_ID)"
        )
    return text


def _context_arg(pairs: Sequence[str]) -> dict[str, str | list[str]]:
    context: dict[str, list[str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise BadInput(f"--context {pair!r} is not KEY=VALUE")
        context.setdefault(key, []).append(value)
    return {k: v[0] if len(v) == 1 else v for k, v in context.items()}


def _bearer_full(catalog: Catalog) -> str | None:
    action = catalog.spec.service.bearer_token_action
    return catalog.full_name(action) if action else None


# ---------------------------------------------------------------------------- lint


def run_lint(args: argparse.Namespace, catalog: Catalog) -> int:
    from generator import lint

    ignored = {code.upper() for code in args.ignore}
    unknown = sorted(ignored - set(lint.CODES))
    if unknown:
        raise BadInput(f"--ignore: unknown finding code {', '.join(unknown)}")
    try:
        findings = lint.lint_files(catalog, args.files)
    except lint.LintInputError as exc:
        raise BadInput(str(exc)) from None
    findings = [f for f in findings if f.code not in ignored]
    if args.format == "json":
        sys.stdout.write(lint.format_json(findings))
    elif args.format == "sarif":
        sys.stdout.write(lint.format_sarif(findings, tool_version="0.1.0"))
    else:
        sys.stdout.write(lint.format_text(findings))
    code: int = lint.exit_code(findings)
    return code
