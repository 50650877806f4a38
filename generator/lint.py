"""``iamgen lint``: findings with stable codes for identity-based policies of this service.

Every finding names the policy, the statement (Sid or ``Statement[i]``), the JSON path of
the element at fault and the short names of the actions it is about. Codes are never
renumbered; ``CODES`` is the catalogue (severity and title) that the SARIF rules come from.

What is checked, and the IAM rule behind it:

* grammar (IAM001): :func:`generator.iam.policy.validate_policy`, plus JSON syntax for files;
* action names (IAM010/IAM011/IAM020/IAM021/IAM022): IAM matches action names
  case-insensitively with ``*`` and ``?`` as the only wildcards (IAM User Guide, Action
  element), so :func:`generator.wildcards.analyze_pattern` decides what a pattern catches;
* resource scope (IAM030/IAM031/IAM032): an action without a resource type carries no
  resource, and only ``Resource: "*"`` applies to it (IAM User Guide, Resource element);
* lockdowns (IAM040/IAM041/IAM042): actions are independent names, so denying one verb does
  not deny another that performs the same change;
* content and API keys (IAM050/IAM060): from the spec's ``exposes`` and
  ``bearer_token_action`` fields.

Whether something is granted is decided by the IAM evaluator (through
:class:`generator.simulation.Simulator`), never by re-matching here. Conditions cannot be
known statically, so a grant is judged "optimistically": Allow statements count as if their
conditions held, and only Deny statements without conditions count as denying.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from generator.catalog import Catalog
from generator.iam.evaluate import Decision
from generator.iam.matcher import PatternError, parse_action_pattern
from generator.iam.policy import (
    Effect,
    NamedPolicy,
    Policy,
    Statement,
    parse_policy,
    raw_element_strings,
    raw_statements,
    validate_policy,
)
from generator.model import Action, parse_route, split_action_name
from generator.policy_files import PolicyJsonError, read_policy_json
from generator.simulation import Simulator
from generator.wildcards import analyze_pattern, resource_family

Severity = Literal["error", "warning", "info"]

CODES: dict[str, tuple[Severity, str]] = {
    "IAM001": ("error", "invalid policy grammar"),
    "IAM010": ("error", "unknown action"),
    "IAM011": ("error", "pattern on our prefix matches no action"),
    "IAM020": ("warning", "wildcard over-matches another resource family"),
    "IAM021": ("info", "prefix wildcard that will widen as actions are added"),
    "IAM022": (
        "info",
        "Allow with NotAction grants every other action, including actions added later",
    ),
    "IAM030": ("warning", "account-scoped action only granted on a workspace ARN"),
    "IAM031": ("warning", "route-less action scoped to a workspace ARN"),
    "IAM032": (
        "warning",
        "Deny on a workspace ARN never applies to an action without a resource type",
    ),
    "IAM040": (
        "warning",
        "a Deny of Delete*/Create* that leaves the same mutation allowed through "
        "Update*/Archive*",
    ),
    "IAM041": (
        "info",
        "partial lockdown: a Deny of creation without the matching read/delete actions",
    ),
    "IAM042": ("warning", "only one of CreateInference / CreateBatchInference denied"),
    "IAM050": ("info", "a read grant that downloads content"),
    "IAM060": (
        "info",
        "route actions granted but no CallWithBearerToken, so API-key callers are refused",
    ),
}

SARIF_LEVELS: dict[Severity, str] = {
    "error": "error",
    "warning": "warning",
    "info": "note",
}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

# The two inference actions IAM042 is about (R12: denying one does not block the other).
INFERENCE_PAIR = ("CreateInference", "CreateBatchInference")


class LintInputError(ValueError):
    """A lint argument that is neither a readable file nor a managed policy name."""


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    policy: str
    """The file name as given, or the managed policy's name."""
    statement: str | None
    """The statement's Sid, or ``Statement[i]``; None for the document as a whole."""
    json_path: str
    """``Statement[0].Action[1]``; empty for the document as a whole."""
    actions: tuple[str, ...]
    """Short names of the actions the finding is about, in spec order."""
    artifact: str = dataclasses.field(default="", compare=False)
    """Where the policy came from, as a URI reference (SARIF): a file path or
    ``managed:<Name>``; empty means ``policy``."""

    @property
    def location(self) -> str:
        return self.artifact or self.policy


# --------------------------------------------------------------------------- public API


def lint_policy(
    catalog: Catalog,
    name: str,
    document: object,
    *,
    artifact: str | None = None,
) -> list[Finding]:
    """Every finding for one policy document, in document order, then by code."""
    linter = _PolicyLinter(catalog, name, document, artifact or name)
    return linter.run()


def lint_files(catalog: Catalog, paths: Iterable[str]) -> list[Finding]:
    """Lint policy files, managed policy names (case-insensitive) or example slugs.

    A file is read as JSON; a file that is not JSON gives IAM001 with the line and column
    of the JSON error. An argument that is neither an existing file nor a policy name of the
    spec raises :class:`LintInputError` (bad input, not a finding).
    """
    findings: list[Finding] = []
    for text in paths:
        path = Path(text)
        if path.is_file():
            findings.extend(_lint_file(catalog, text, path))
            continue
        named = catalog.published_policy(text)
        if named is None:
            known = ", ".join(p.name for p in catalog.spec.managed_policies)
            raise LintInputError(
                f"{text}: no such file, and not a managed policy name ({known})"
                " or an example policy slug"
            )
        findings.extend(
            lint_policy(catalog, named.name, named.document, artifact=named.uri)
        )
    return findings


def exit_code(findings: Iterable[Finding]) -> int:
    """1 when a finding of severity warning or error exists, else 0."""
    return 1 if any(f.severity in ("error", "warning") for f in findings) else 0


def format_text(findings: Sequence[Finding]) -> str:
    """One line per finding: ``POLICY: STATEMENT: CODE severity: message``."""
    lines = []
    for finding in findings:
        where = finding.policy
        if finding.statement is not None:
            where += f": {finding.statement}"
        lines.append(f"{where}: {finding.code} {finding.severity}: {finding.message}")
    return "".join(line + "\n" for line in lines)


def format_json(findings: Sequence[Finding]) -> str:
    """A JSON list of findings (keys in a fixed order), with one final newline."""
    items = [
        {
            "code": f.code,
            "severity": f.severity,
            "message": f.message,
            "policy": f.policy,
            "statement": f.statement,
            "path": f.json_path,
            "actions": list(f.actions),
        }
        for f in findings
    ]
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"


def format_sarif(findings: Sequence[Finding], tool_version: str) -> str:
    """A SARIF 2.1.0 log with one run; a rule for every code in ``CODES``."""
    codes = sorted(CODES)
    rules = [
        {
            "id": code,
            "name": _rule_name(CODES[code][1]),
            "shortDescription": {"text": CODES[code][1]},
            "defaultConfiguration": {"level": SARIF_LEVELS[CODES[code][0]]},
        }
        for code in codes
    ]
    results = []
    for finding in findings:
        location: dict[str, object] = {
            "physicalLocation": {
                "artifactLocation": {"uri": _artifact_uri(finding.location)}
            }
        }
        if finding.json_path:
            location["logicalLocations"] = [
                {"name": finding.json_path, "fullyQualifiedName": finding.json_path}
            ]
        result: dict[str, object] = {
            "ruleId": finding.code,
            "level": SARIF_LEVELS[finding.severity],
            "message": {"text": finding.message},
            "locations": [location],
        }
        if finding.code in CODES:
            result["ruleIndex"] = codes.index(finding.code)
        if finding.actions:
            result["properties"] = {
                "policy": finding.policy,
                "statement": finding.statement,
                "actions": list(finding.actions),
            }
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "iamgen",
                        "version": tool_version,
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- inputs


def _lint_file(catalog: Catalog, text: str, path: Path) -> list[Finding]:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise LintInputError(f"{text}: cannot read: {error.strerror}") from error
    try:
        document = read_policy_json(raw)
    except PolicyJsonError as error:
        return [_file_error(text, str(error))]
    return lint_policy(catalog, text, document, artifact=text)


def _file_error(policy: str, message: str) -> Finding:
    severity, _title = CODES["IAM001"]
    return Finding("IAM001", severity, message, policy, None, "", (), policy)


# --------------------------------------------------------------------------- raw document


@dataclass(frozen=True)
class _Entry:
    """One Action/NotAction string as written, found without trusting the grammar."""

    statement_path: str
    label: str
    effect: object
    element: str
    path: str
    text: str


def _raw_label(path: str, statement: Mapping[object, object]) -> str:
    sid = statement.get("Sid")
    return sid if isinstance(sid, str) and sid else path


def _raw_entries(document: object) -> list[_Entry]:
    return [
        _Entry(
            raw.statement_path,
            _raw_label(raw.statement_path, raw.statement),
            raw.statement.get("Effect"),
            raw.element,
            raw.path,
            raw.text,
        )
        for raw in raw_element_strings(document, ("Action", "NotAction"))
    ]


def _document_order(document: object) -> dict[str, int]:
    """Every JSON path of the document, numbered in document (pre-)order."""
    order: dict[str, int] = {"": 0}

    def walk(value: object, path: str) -> None:
        if isinstance(value, Mapping):
            for key, child in value.items():
                child_path = f"{path}.{key}" if path else str(key)
                order.setdefault(child_path, len(order))
                walk(child, child_path)
        elif isinstance(value, list):
            for index, child in enumerate(value):
                child_path = f"{path}[{index}]"
                order.setdefault(child_path, len(order))
                walk(child, child_path)

    walk(document, "")
    return order


_LAST_COMPONENT = re.compile(r"(?:\.[^.\[\]]*|\[\d+\])$")


def _position(order: Mapping[str, int], path: str) -> int:
    """Document position of ``path``, or of its nearest existing ancestor."""
    while path not in order:
        shorter = _LAST_COMPONENT.sub("", path)
        if shorter == path:
            return 0
        path = shorter
    return order[path]


def _statement_of(path: str, document: object) -> str | None:
    """The label of the statement a JSON path points into, if any."""
    match = re.match(r"^(Statement(?:\[\d+\])?)(?:[.\[]|$)", path)
    if match is None:
        return None
    for statement_path, statement in raw_statements(document):
        if statement_path == match[1]:
            return _raw_label(statement_path, statement)
    return match[1]


# --------------------------------------------------------------------------- wording


def _names(names: Sequence[str], limit: int | None = None) -> str:
    if limit is not None and len(names) > limit:
        return ", ".join(names[:limit]) + f" and {len(names) - limit} more"
    return ", ".join(names)


def _resources_text(statement: Statement) -> str:
    texts = [p.text for p in statement.resources]
    shown = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    return f"{statement.resource_element} {shown}"


def _exposure_text(action: Action) -> str:
    return ", ".join(e.replace("-", " ") for e in action.exposes)


def _rule_name(title: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", title)
    return "".join(w[:1].upper() + w[1:] for w in words)


def _artifact_uri(location: str) -> str:
    if re.match(r"^(managed|example):", location):
        return location
    path = Path(location)
    if path.is_absolute():
        return path.as_uri()
    return quote(path.as_posix(), safe="/")


# --------------------------------------------------------------------------- the linter


class _PolicyLinter:
    def __init__(
        self, catalog: Catalog, name: str, document: object, artifact: str
    ) -> None:
        self.catalog = catalog
        self.name = name
        self.document = document
        self.artifact = artifact
        self.simulator = Simulator(catalog)
        self.findings: list[Finding] = []
        self.prefix = catalog.prefix.lower()

    # ----------------------------------------------------------------- driver

    def run(self) -> list[Finding]:
        errors = validate_policy(self.document)
        for error in errors:
            self.add(
                "IAM001",
                error.message,
                _statement_of(error.path, self.document),
                error.path,
                (),
            )
        entries = _raw_entries(self.document)
        for entry in entries:
            self.check_entry(entry)
        if not errors:
            policy = parse_policy(self.document)
            _Semantics(self, policy, entries).run()
        order = _document_order(self.document)
        return sorted(
            self.findings,
            key=lambda f: (
                _position(order, f.json_path),
                f.json_path,
                f.code,
                f.message,
            ),
        )

    def add(
        self,
        code: str,
        message: str,
        statement: str | None,
        json_path: str,
        actions: Iterable[str],
    ) -> None:
        severity, _title = CODES[code]
        self.findings.append(
            Finding(
                code,
                severity,
                message,
                self.name,
                statement,
                json_path,
                self.in_spec_order(actions),
                self.artifact,
            )
        )

    def in_spec_order(self, names: Iterable[str]) -> tuple[str, ...]:
        wanted = set(names)
        return tuple(a.name for a in self.catalog.actions if a.name in wanted)

    # ----------------------------------------------------------------- one pattern

    def check_entry(self, entry: _Entry) -> None:
        """IAM010/IAM011/IAM020/IAM021: what one Action/NotAction string matches."""
        try:
            pattern = parse_action_pattern(entry.text)
        except PatternError:
            return  # IAM001 already names it
        if pattern.prefix is not None and pattern.prefix != self.prefix:
            return  # another service's action: not ours to judge
        analysis = analyze_pattern(self.catalog, entry.text)
        label, path, text = entry.label, entry.path, entry.text
        count = len(self.catalog.actions)
        if not analysis.matches:
            if not pattern.is_wildcard:
                # Names compare case-insensitively, so suggestions do too.
                by_folded = {a.name.lower(): a.name for a in self.catalog.actions}
                close = difflib.get_close_matches(
                    pattern.name, list(by_folded), n=1, cutoff=0.75
                )
                hint = f"; did you mean {by_folded[close[0]]}?" if close else ""
                self.add(
                    "IAM010",
                    f"unknown action {text}: not one of the {count} actions of "
                    f"{self.catalog.prefix}{hint}",
                    label,
                    path,
                    (),
                )
            else:
                self.add(
                    "IAM011",
                    f"{text} matches no action of {self.catalog.prefix}",
                    label,
                    path,
                    (),
                )
            return
        if analysis.over_matched:
            intended = [n for n in analysis.matches if n not in analysis.over_matched]
            self.add(
                "IAM020",
                f"{text} also matches {_names(analysis.over_matched)}, not only "
                f"{_names(intended)}: IAM compares action names case-insensitively and "
                "'*' runs across words; list the intended actions explicitly",
                label,
                path,
                analysis.matches,
            )
        # A Deny whose Action widens only denies more; widening matters where it grants.
        widens_access = (entry.effect == "Allow") == (entry.element == "Action")
        if analysis.is_verb_wildcard and widens_access:
            if pattern.prefix is None:
                message = (
                    f'"*" matches every action of every AWS service, not only the {count} '
                    f"actions of {self.catalog.prefix}, and every action added later"
                )
            elif pattern.name == "*":
                message = (
                    f"{text} matches all {count} actions of {self.catalog.prefix} today "
                    "and every action added later"
                )
            else:
                verb, _noun = split_action_name(analysis.matches[0])
                message = (
                    f"{text} matches {len(analysis.matches)} actions today and every "
                    f"{verb} action added later"
                )
            self.add("IAM021", message, label, path, analysis.matches)


class _Semantics:
    """The checks that need a valid policy: scope, lockdowns, content, API keys."""

    def __init__(
        self, linter: _PolicyLinter, policy: Policy, entries: list[_Entry]
    ) -> None:
        self.linter = linter
        self.catalog = linter.catalog
        self.simulator = linter.simulator
        self.policy = policy
        self.entries = entries
        # Optimistic reading: Allows as if their conditions held; only unconditional
        # Denies deny. Statement is frozen, so dropping conditions is a copy.
        self.optimistic = NamedPolicy(
            linter.name,
            Policy(
                policy.version,
                policy.id,
                tuple(
                    dataclasses.replace(s, conditions=())
                    for s in policy.statements
                    if s.effect is Effect.ALLOW or not s.conditions
                ),
            ),
        )
        self.unconditional_denies = tuple(
            s for s in policy.statements if s.effect is Effect.DENY and not s.conditions
        )
        self.samples = self.sample_workspaces()

    def run(self) -> None:
        for statement in self.policy.statements:
            if statement.effect is Effect.ALLOW:
                if statement.not_action:
                    self.allow_not_action(statement)
                self.scope_only_on_workspace(statement)
                self.content_reads(statement)
            else:
                self.deny_on_workspace(statement)
        self.mutation_leaks()
        self.partial_lockdowns()
        self.inference_pair()
        self.bearer_token()

    # ----------------------------------------------------------------- helpers

    def full(self, name: str) -> str:
        return self.catalog.full_name(name)

    def sample_workspaces(self) -> tuple[str, ...]:
        """Workspace ARNs to ask the evaluator about: the spec's example, and one concrete
        ARN for every Resource pattern of ours in the policy (wildcards filled with 'x').
        """
        samples = [self.catalog.example_workspace_arn]
        ours = re.compile(rf"^arn:[^:]*:{re.escape(self.catalog.prefix)}:", re.I)
        for statement in self.policy.statements:
            if statement.not_resource:
                continue
            for pattern in statement.resources:
                if pattern.variables or not ours.match(pattern.text):
                    continue
                concrete = re.sub(r"[*?]", "x", pattern.text)
                if concrete not in samples:
                    samples.append(concrete)
        return tuple(samples)

    def decision(self, policy: NamedPolicy, action: Action, arn: str) -> Decision:
        return self.simulator.authorize([policy], action, workspace_arn=arn).decision

    def may_allow(self, policy: NamedPolicy, action: Action) -> bool:
        """Whether the policy may allow the action on some sample request (sigv4)."""
        arns = (
            self.samples[:1]
            if action.scope in ("account", "route-less")
            else self.samples
        )
        return any(
            self.decision(policy, action, arn) is Decision.ALLOWED for arn in arns
        )

    def granted(self, action: Action) -> bool:
        return self.may_allow(self.optimistic, action)

    def denied_by_name(self, full_name: str) -> bool:
        """Whether any Deny statement's Action/NotAction covers the name (resources and
        conditions aside: the question is what the author meant to deny)."""
        return any(
            s.effect is Effect.DENY and s.matches_action(full_name)
            for s in self.policy.statements
        )

    def has_allow_for_us(self) -> bool:
        return any(
            s.effect is Effect.ALLOW and s.matches_action(self.full(a.name))
            for s in self.policy.statements
            for a in self.catalog.actions
        )

    def matched(self, statement: Statement) -> list[tuple[str, list[Action]]]:
        """(JSON path, actions) per Action entry of ours; one group for a NotAction."""
        if statement.not_action:
            actions = [
                a
                for a in self.catalog.actions
                if statement.matches_action(self.full(a.name))
            ]
            return [(f"{statement.path}.NotAction", actions)] if actions else []
        groups: list[tuple[str, list[Action]]] = []
        seen: set[str] = set()
        paths = [
            e.path
            for e in self.entries
            if e.statement_path == statement.path and e.element == "Action"
        ]
        for path, pattern in zip(paths, statement.actions, strict=True):
            actions = [
                a
                for a in self.catalog.actions
                if a.name not in seen and pattern.matches(self.full(a.name))
            ]
            seen.update(a.name for a in actions)
            if actions:
                groups.append((path, actions))
        return groups

    def single(self, statement: Statement) -> NamedPolicy:
        """One Allow statement (conditions dropped) with the policy's unconditional
        Denies: what that statement can grant."""
        return NamedPolicy(
            self.linter.name,
            Policy(
                self.policy.version,
                self.policy.id,
                (dataclasses.replace(statement, conditions=()),)
                + self.unconditional_denies,
            ),
        )

    def add(
        self,
        code: str,
        message: str,
        statement: Statement | None,
        json_path: str,
        actions: Iterable[str],
    ) -> None:
        label = statement.label if statement is not None else None
        self.linter.add(code, message, label, json_path, actions)

    # ----------------------------------------------------------------- IAM022

    def allow_not_action(self, statement: Statement) -> None:
        listed = ", ".join(p.text for p in statement.actions)
        self.add(
            "IAM022",
            f"Allow with NotAction [{listed}] grants every other action of every AWS "
            "service, including actions added later; list the actions to allow instead",
            statement,
            f"{statement.path}.NotAction",
            (),
        )

    # ----------------------------------------------------------------- IAM030/031/032

    def scope_only_on_workspace(self, statement: Statement) -> None:
        """IAM030/IAM031: Allow matches resource-less actions, but its Resource is not *."""
        if statement.not_resource or any(p.matches(None) for p in statement.resources):
            return
        for path, actions in self.matched(statement):
            dropped = [
                a
                for a in actions
                if a.scope in ("account", "route-less")
                and not self.granted(a)
                and not self.certainly_denied(a)
            ]
            account = [a.name for a in dropped if a.scope == "account"]
            routeless = [a.name for a in dropped if a.scope == "route-less"]
            where = _resources_text(statement)
            for code, names, kind in (
                ("IAM030", account, "account-scoped (no resource type)"),
                ("IAM031", routeless, "route-less: they bind to no workspace"),
            ):
                if not names:
                    continue
                one = len(names) == 1
                it = "it" if one else "them"
                if one:
                    kind = kind.replace("they bind", "it binds")
                self.add(
                    code,
                    f"{_names(names)} {'is' if one else 'are'} {kind}; only Resource "
                    f'"*" grants {it} and no statement of this policy does, so this '
                    f"statement's {where} silently grants nothing for {it}",
                    statement,
                    path,
                    names,
                )

    def certainly_denied(self, action: Action) -> bool:
        return any(
            self.decision(self.optimistic, action, arn) is Decision.EXPLICIT_DENY
            for arn in self.samples[:1]
        )

    def deny_on_workspace(self, statement: Statement) -> None:
        """IAM032: a Deny whose Resource is not * does not apply to resource-less actions."""
        if statement.not_resource or any(p.matches(None) for p in statement.resources):
            return
        # Denies of the whole policy, conditions dropped: "denied elsewhere on *".
        denies = NamedPolicy(
            self.linter.name,
            Policy(
                self.policy.version,
                self.policy.id,
                tuple(
                    dataclasses.replace(s, conditions=())
                    for s in self.policy.statements
                    if s.effect is Effect.DENY
                ),
            ),
        )
        for path, actions in self.matched(statement):
            missed = [
                a.name
                for a in actions
                if a.scope in ("account", "route-less")
                and self.decision(denies, a, self.samples[0])
                is not Decision.EXPLICIT_DENY
            ]
            if missed:
                self.add(
                    "IAM032",
                    f"this Deny's {_resources_text(statement)} never applies to "
                    f"{_names(missed)}: actions without a resource type are matched only "
                    'by Resource "*", so they are not denied',
                    statement,
                    path,
                    missed,
                )

    # ----------------------------------------------------------------- IAM050

    def content_reads(self, statement: Statement) -> None:
        single = self.single(statement)
        for path, actions in self.matched(statement):
            reads = [a for a in actions if a.exposes and self.may_allow(single, a)]
            if reads:
                listed = ", ".join(f"{a.name} ({_exposure_text(a)})" for a in reads)
                self.add(
                    "IAM050",
                    f"grants {listed}: {'this read downloads' if len(reads) == 1 else 'these reads download'} "
                    "stored content, not only metadata",
                    statement,
                    path,
                    [a.name for a in reads],
                )

    # ----------------------------------------------------------------- IAM040/041/042

    def mutation_leaks(self) -> None:
        """IAM040: Deny of CreateF/DeleteF while UpdateF/ArchiveF still change F."""
        aliases = _mutation_aliases(self.catalog)
        existing = set(self.catalog.action_by_name)
        check_grant = self.has_allow_for_us()
        reported: set[str] = set()
        for statement in self.policy.statements:
            if statement.effect is not Effect.DENY:
                continue
            leaks: list[tuple[str, Action, str]] = []
            for family, (updates, archives) in aliases.items():
                create, delete = f"Create{family}", f"Delete{family}"
                # Hypothetical names count: Delete* is meant to stop agent removal even
                # though agents have no DeleteAgent, only ArchiveAgent.
                if not (
                    statement.matches_action(self.full(create))
                    or statement.matches_action(self.full(delete))
                ):
                    continue
                delete_denied = self.denied_by_name(self.full(delete))
                create_denied = self.denied_by_name(self.full(create))
                candidates = [(a, "update") for a in updates]
                if delete_denied or (delete not in existing and create_denied):
                    candidates += [(a, "archive") for a in archives]
                for action, kind in candidates:
                    if action.name in reported or self.denied_by_name(
                        self.full(action.name)
                    ):
                        continue
                    if check_grant and not self.granted(action):
                        continue
                    leaks.append((family, action, kind))
                    reported.add(action.name)
            if not leaks:
                continue
            parts = []
            for _family, action, kind in leaks:
                if kind == "archive":
                    parts.append(f"{action.name} (archives instead of deleting)")
                else:
                    routes = _sub_resource_routes(action)
                    shown = next(
                        (r for r in routes if r.startswith("DELETE ")), routes[0]
                    )
                    parts.append(f"{action.name} (e.g. {shown})")
            targets = {
                name
                for family, _a, _k in leaks
                for name in (f"Create{family}", f"Delete{family}")
                if statement.matches_action(self.full(name))
            }
            denied = [a.name for a in self.catalog.actions if a.name in targets] or [
                p.text for p in statement.actions
            ]
            self.add(
                "IAM040",
                f"this Deny of {_names(denied)} leaves the same changes allowed through "
                f"{'; '.join(parts)}; deny these too",
                statement,
                f"{statement.path}.{statement.action_element}",
                [a.name for _f, a, _k in leaks],
            )

    def partial_lockdowns(self) -> None:
        """IAM041: Deny of CreateF without F's reads and deletes."""
        check_grant = self.has_allow_for_us()
        reported: set[str] = set()
        for statement in self.policy.statements:
            if statement.effect is not Effect.DENY:
                continue
            left: dict[str, list[str]] = {}
            created: list[str] = []
            for action in self.catalog.actions:
                verb, _noun = split_action_name(action.name)
                if verb != "Create" or not statement.matches_action(
                    self.full(action.name)
                ):
                    continue
                family = resource_family(action.name)
                rest = [
                    a
                    for a in self.catalog.actions
                    if resource_family(a.name) == family
                    and a.name not in reported
                    and _reads_or_removes(a)
                    and not self.denied_by_name(self.full(a.name))
                    # What the policy itself grants is meant to stay usable.
                    and not (check_grant and self.granted(a))
                ]
                if rest:
                    created.append(action.name)
                    left.setdefault(family, []).extend(a.name for a in rest)
                    reported.update(a.name for a in rest)
            if not left:
                continue
            listed = "; ".join(f"{f}: {_names(n)}" for f, n in left.items())
            self.add(
                "IAM041",
                f"this Deny blocks {_names(created)} but not the same resources' reads "
                f"and deletes ({listed}); data already there stays readable and "
                "removable. A full lockdown denies these too",
                statement,
                f"{statement.path}.{statement.action_element}",
                [n for names in left.values() for n in names],
            )

    def inference_pair(self) -> None:
        """IAM042: CreateInference and CreateBatchInference are independent (R12)."""
        if not all(n in self.catalog.action_by_name for n in INFERENCE_PAIR):
            return
        denied = [n for n in INFERENCE_PAIR if self.denied_by_name(self.full(n))]
        if len(denied) != 1:
            return
        (one,) = denied
        (other,) = (n for n in INFERENCE_PAIR if n != one)
        for statement in self.policy.statements:
            if statement.effect is Effect.DENY and statement.matches_action(
                self.full(one)
            ):
                self.add(
                    "IAM042",
                    f"denies {one} but not {other}: the two are independent actions, "
                    f"so denying one does not block the other; deny {other} too unless "
                    "that is the intent",
                    statement,
                    f"{statement.path}.{statement.action_element}",
                    [one, other],
                )

    # ----------------------------------------------------------------- IAM060

    def bearer_token(self) -> None:
        bearer_name = self.catalog.spec.service.bearer_token_action
        if bearer_name is None or bearer_name not in self.catalog.action_by_name:
            return
        routed = [a.name for a in self.catalog.actions if a.routes and self.granted(a)]
        if not routed or self.granted(self.catalog.action_by_name[bearer_name]):
            return
        self.add(
            "IAM060",
            f"grants {len(routed)} route action{'s' if len(routed) != 1 else ''} "
            f"({_names(routed, limit=5)}) but not {bearer_name}: callers using an API key "
            f'(bearer token) are refused; grant {bearer_name} on Resource "*" if they '
            "should be served (SigV4 callers do not need it)",
            None,
            "",
            routed,
        )


# --------------------------------------------------------------------------- spec-derived


def _sub_resource_routes(action: Action) -> list[str]:
    """Routes of an Update action that create or delete something below the resource:
    a DELETE, or a path that goes on past the resource's id (``/skills/{id}/versions``).
    """
    out = []
    for text in action.routes:
        route, _problem = parse_route(text, action.name)
        if route is None:
            continue
        segments = route.segments
        first_param = next(
            (i for i, s in enumerate(segments) if s.startswith("{")), None
        )
        deeper = first_param is not None and any(
            not s.startswith("{") for s in segments[first_param + 1 :]
        )
        if route.method == "DELETE" or deeper:
            out.append(text)
    return out


def _mutation_aliases(
    catalog: Catalog,
) -> dict[str, tuple[list[Action], list[Action]]]:
    """Family -> (Update actions that change sub-resources, Archive actions): the ways
    to add or remove things that Create*/Delete* do not match (R9, R10)."""
    out: dict[str, tuple[list[Action], list[Action]]] = {}
    for action in catalog.actions:
        verb, _noun = split_action_name(action.name)
        family = resource_family(action.name)
        if verb == "Update" and _sub_resource_routes(action):
            out.setdefault(family, ([], []))[0].append(action)
        elif verb == "Archive":
            out.setdefault(family, ([], []))[1].append(action)
    return out


def _reads_or_removes(action: Action) -> bool:
    """The actions a lockdown of a family also needs: reads, lists, cancels, deletes."""
    verb, _noun = split_action_name(action.name)
    return action.access_level in ("Read", "List") or verb in ("Delete", "Cancel")
