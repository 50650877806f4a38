"""Parse and validate identity-based policy documents into frozen dataclasses.

Input is a JSON-like value (as from ``json.load``). Every problem is reported, each with the
JSON path of the element at fault (``Statement[1].Action[0]``). Parsing also compiles every
pattern and condition, so a :class:`Policy` is ready for fast evaluation; a document with
errors never becomes a Policy, so a malformed policy can never grant anything.

Rules followed (IAM User Guide, "IAM JSON policy element reference" pages):

* Version: "2012-10-17" is current; "2008-10-17" is accepted ("You might see this version on
  older existing policies"), and in it ``${...}`` is literal text, not a policy variable.
  Without a Version element AWS silently applies 2008-10-17; we report a missing Version as an
  error, because the docs say "you should always include a Version element".
* Statement: one object, or a non-empty list of objects.
* Sid: optional; "supports ASCII uppercase letters (A-Z), lowercase letters (a-z), and
  numbers (0-9)"; "In IAM, the Sid value must be unique within a JSON policy". An empty Sid
  counts as no Sid.
* Effect: ``Allow`` or ``Deny``. "Statements must include either an Action or NotAction
  element" and "either a Resource or a NotResource element" (exactly one of each).
* Principal/NotPrincipal are resource-based-policy elements; they are errors here.
* Resource entries are ``"*"`` or ARN patterns (``arn:...``); "You can't use a wildcard in
  the service segment" of an ARN.
* Condition: operator -> key -> value or non-empty list of values (string, number, boolean).
  Unknown operators and values the operator can never accept are errors.
* Size ("IAM and AWS STS quotas"): the largest identity-based policy, an inline role policy,
  is 10,240 characters, and "IAM doesn't count white space when calculating the size of a
  policy". ``parse_policy`` takes any size; the readers of people's policies (policy files,
  the spec) refuse a document larger than ``MAX_POLICY_CHARACTERS`` (see ``policy_size``).
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from .conditions import (
    Condition,
    ConditionError,
    check_condition_value,
    compile_condition,
    parse_condition_operator,
)
from .matcher import (
    ActionPattern,
    PatternError,
    ResourcePattern,
    compile_resource_pattern,
    fold_case,
    parse_action_pattern,
)

__all__ = [
    "MAX_POLICY_CHARACTERS",
    "Condition",
    "Effect",
    "NamedPolicy",
    "Policy",
    "PolicyError",
    "PolicyParseError",
    "SUPPORTED_VERSIONS",
    "Statement",
    "parse_policy",
    "policy_size",
    "size_problem",
    "validate_policy",
]

MAX_POLICY_CHARACTERS = 10_240
VERSION_CURRENT = "2012-10-17"
VERSION_LEGACY = "2008-10-17"
SUPPORTED_VERSIONS = (VERSION_CURRENT, VERSION_LEGACY)

_TOP_LEVEL = ("Version", "Id", "Statement")
_STATEMENT_ELEMENTS = (
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)
_RESOURCE_POLICY_ONLY = ("Principal", "NotPrincipal")
_SID = re.compile(r"[A-Za-z0-9]*")
_T = TypeVar("_T")


class Effect(StrEnum):
    """A statement's Effect."""

    ALLOW = "Allow"
    DENY = "Deny"


@dataclass(frozen=True)
class PolicyError:
    """One problem in a policy document, located by JSON path."""

    path: str
    """``Statement[1].Action[0]``; empty for the document itself."""
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class PolicyParseError(ValueError):
    """A document with errors; ``errors`` holds all of them."""

    def __init__(self, errors: list[PolicyError] | tuple[PolicyError, ...]) -> None:
        self.errors = tuple(errors)
        super().__init__("\n".join(str(error) for error in self.errors))


@dataclass(frozen=True)
class Statement:
    """A validated, compiled statement."""

    index: int
    """Position in the Statement list (0 for a single-object Statement)."""
    path: str
    """``Statement[2]``, or ``Statement`` when the element is a single object."""
    sid: str | None
    effect: Effect
    actions: tuple[ActionPattern, ...]
    not_action: bool
    """True when the patterns come from NotAction."""
    resources: tuple[ResourcePattern, ...]
    not_resource: bool
    """True when the patterns come from NotResource."""
    conditions: tuple[Condition, ...]

    @property
    def label(self) -> str:
        """The Sid, or the statement's path when it has none."""
        return self.sid or self.path

    @property
    def action_element(self) -> str:
        """``Action`` or ``NotAction``."""
        return "NotAction" if self.not_action else "Action"

    @property
    def resource_element(self) -> str:
        """``Resource`` or ``NotResource``."""
        return "NotResource" if self.not_resource else "Resource"

    def matches_action(self, action: str) -> bool:
        """Whether the Action/NotAction element covers the full action name."""
        folded = fold_case(action)
        for pattern in self.actions:
            if pattern.matches_folded(folded):
                return not self.not_action
        return self.not_action


@dataclass(frozen=True)
class Policy:
    """A validated, compiled policy document."""

    version: str
    id: str | None
    statements: tuple[Statement, ...]

    @property
    def uses_variables(self) -> bool:
        """Policy variables exist only from Version 2012-10-17 on."""
        return self.version == VERSION_CURRENT


@dataclass(frozen=True)
class NamedPolicy:
    """A policy with the name used in explanations (managed policy name, file name...)."""

    name: str
    policy: Policy

    @classmethod
    def from_document(cls, name: str, document: object) -> NamedPolicy:
        """Parse ``document``; raise :class:`PolicyParseError` listing every error."""
        return cls(name, parse_policy(document))


def validate_policy(document: object) -> list[PolicyError]:
    """Every error in the document, in document order; empty when it is valid."""
    return _Parser().parse(document)[1]


def parse_policy(document: object) -> Policy:
    """The compiled Policy; raise :class:`PolicyParseError` when there is any error."""
    policy, errors = _Parser().parse(document)
    if errors or policy is None:
        raise PolicyParseError(errors)
    return policy


def json_type_name(value: object) -> str:
    """How a JSON value's type reads in an error message: 'a string', 'an object', 'null'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _unknown_element(name: object, known: tuple[str, ...]) -> str:
    text = str(name)
    for candidate in known:
        if candidate.lower() == text.lower():
            return f"unknown element {text!r}; element names are case sensitive: {candidate!r}"
    close = difflib.get_close_matches(text, known, n=1, cutoff=0.75)
    hint = (
        f"; did you mean {close[0]!r}?"
        if close
        else f"; expected one of {', '.join(known)}"
    )
    return f"unknown element {text!r}{hint}"


class _Parser:
    """Collects errors while building the dataclasses."""

    def __init__(self) -> None:
        self.errors: list[PolicyError] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(PolicyError(path, message))

    def parse(self, document: object) -> tuple[Policy | None, list[PolicyError]]:
        if not isinstance(document, Mapping):
            self.error(
                "",
                f"a policy document must be a JSON object, not {json_type_name(document)}",
            )
            return None, self.errors
        for key in document:
            if not isinstance(key, str) or key not in _TOP_LEVEL:
                self.error(str(key), _unknown_element(key, _TOP_LEVEL))

        version = self.parse_version(document)
        policy_id = document.get("Id")
        if policy_id is not None and not isinstance(policy_id, str):
            self.error("Id", f"Id must be a string, not {json_type_name(policy_id)}")
            policy_id = None
        statements = self.parse_statements(document, version != VERSION_LEGACY)
        if self.errors:
            return None, self.errors
        assert version is not None
        return Policy(version, policy_id, tuple(statements)), self.errors

    def parse_version(self, document: Mapping[object, object]) -> str | None:
        if "Version" not in document:
            self.error(
                "Version",
                f'Version is missing; use "{VERSION_CURRENT}" (without it AWS applies'
                f" {VERSION_LEGACY}, where policy variables are literal text)",
            )
            return None
        version = document["Version"]
        if not isinstance(version, str):
            self.error(
                "Version", f"Version must be a string, not {json_type_name(version)}"
            )
            return None
        if version not in SUPPORTED_VERSIONS:
            self.error(
                "Version",
                f'unsupported Version {version!r}; use "{VERSION_CURRENT}"'
                f' (IAM also accepts "{VERSION_LEGACY}")',
            )
            return None
        return version

    def parse_statements(
        self, document: Mapping[object, object], variables: bool
    ) -> list[Statement]:
        if "Statement" not in document:
            self.error("Statement", "Statement is missing")
            return []
        raw = document["Statement"]
        items: list[tuple[str, object]]
        if isinstance(raw, Mapping):
            items = [("Statement", raw)]
        elif isinstance(raw, list):
            if not raw:
                self.error("Statement", "Statement must not be an empty list")
            items = [(f"Statement[{index}]", item) for index, item in enumerate(raw)]
        else:
            self.error(
                "Statement",
                f"Statement must be an object or a list of objects, not {json_type_name(raw)}",
            )
            return []
        statements: list[Statement] = []
        sids: dict[str, str] = {}
        for index, (path, item) in enumerate(items):
            statement = self.parse_statement(index, path, item, variables, sids)
            if statement is not None:
                statements.append(statement)
        return statements

    def parse_statement(
        self, index: int, path: str, raw: object, variables: bool, sids: dict[str, str]
    ) -> Statement | None:
        if not isinstance(raw, Mapping):
            self.error(
                path, f"a statement must be a JSON object, not {json_type_name(raw)}"
            )
            return None
        before = len(self.errors)
        for key in raw:
            if key in _RESOURCE_POLICY_ONLY:
                self.error(
                    f"{path}.{key}",
                    f"{key} is not allowed in an identity-based policy: the principal is the"
                    " identity the policy is attached to (Principal belongs in resource-based"
                    " and trust policies)",
                )
            elif not isinstance(key, str) or key not in _STATEMENT_ELEMENTS:
                self.error(f"{path}.{key}", _unknown_element(key, _STATEMENT_ELEMENTS))

        sid = self.parse_sid(path, raw, sids)
        effect = self.parse_effect(path, raw)
        actions, not_action = self.parse_pair(
            path, raw, "Action", "NotAction", self.parse_actions
        )
        resources, not_resource = self.parse_pair(
            path,
            raw,
            "Resource",
            "NotResource",
            lambda element_path, value: self.parse_resources(
                element_path, value, variables
            ),
        )
        conditions = self.parse_conditions(path, raw, variables)
        if len(self.errors) != before or effect is None:
            return None
        return Statement(
            index=index,
            path=path,
            sid=sid,
            effect=effect,
            actions=tuple(actions),
            not_action=not_action,
            resources=tuple(resources),
            not_resource=not_resource,
            conditions=tuple(conditions),
        )

    def parse_sid(
        self, path: str, raw: Mapping[object, object], sids: dict[str, str]
    ) -> str | None:
        if "Sid" not in raw:
            return None
        sid = raw["Sid"]
        if not isinstance(sid, str):
            self.error(
                f"{path}.Sid", f"Sid must be a string, not {json_type_name(sid)}"
            )
            return None
        if not _SID.fullmatch(sid):
            self.error(
                f"{path}.Sid",
                f"Sid {sid!r} may contain only ASCII letters and digits (A-Z, a-z, 0-9)",
            )
            return None
        if not sid:
            return None
        if sid in sids:
            self.error(
                f"{path}.Sid",
                f"duplicate Sid {sid!r} (also {sids[sid]}); Sids must be unique within a policy",
            )
        else:
            sids[sid] = path
        return sid

    def parse_effect(self, path: str, raw: Mapping[object, object]) -> Effect | None:
        if "Effect" not in raw:
            self.error(path, 'Effect is missing; use "Allow" or "Deny"')
            return None
        effect = raw["Effect"]
        if effect == "Allow":
            return Effect.ALLOW
        if effect == "Deny":
            return Effect.DENY
        self.error(
            f"{path}.Effect", f'Effect must be "Allow" or "Deny", not {effect!r}'
        )
        return None

    def parse_pair(
        self,
        path: str,
        raw: Mapping[object, object],
        positive: str,
        negative: str,
        parse_entries: Callable[[str, object], list[_T]],
    ) -> tuple[list[_T], bool]:
        has_positive, has_negative = positive in raw, negative in raw
        if has_positive and has_negative:
            self.error(
                path, f"a statement must have {positive} or {negative}, not both"
            )
        elif not has_positive and not has_negative:
            self.error(path, f"a statement must have {positive} or {negative}")
        if has_negative and not has_positive:
            return parse_entries(f"{path}.{negative}", raw[negative]), True
        if has_positive:
            entries = parse_entries(f"{path}.{positive}", raw[positive])
            if has_negative:
                parse_entries(f"{path}.{negative}", raw[negative])
            return entries, False
        return [], False

    def string_entries(self, path: str, value: object) -> list[tuple[str, str]]:
        """(path, text) for a string or a non-empty list of strings."""
        element = path.rsplit(".", 1)[-1]
        if isinstance(value, str):
            return [(path, value)]
        if isinstance(value, list):
            if not value:
                self.error(path, f"{element} must not be an empty list")
                return []
            entries: list[tuple[str, str]] = []
            for index, item in enumerate(value):
                if isinstance(item, str):
                    entries.append((f"{path}[{index}]", item))
                else:
                    self.error(
                        f"{path}[{index}]",
                        f"must be a string, not {json_type_name(item)}",
                    )
            return entries
        self.error(
            path,
            f"{element} must be a string or a list of strings, not {json_type_name(value)}",
        )
        return []

    def parse_actions(self, path: str, value: object) -> list[ActionPattern]:
        patterns: list[ActionPattern] = []
        for entry_path, text in self.string_entries(path, value):
            try:
                patterns.append(parse_action_pattern(text))
            except PatternError as error:
                self.error(entry_path, str(error))
        return patterns

    def parse_resources(
        self, path: str, value: object, variables: bool
    ) -> list[ResourcePattern]:
        patterns: list[ResourcePattern] = []
        for entry_path, text in self.string_entries(path, value):
            problem = _resource_problem(text)
            if problem is not None:
                self.error(entry_path, problem)
                continue
            try:
                patterns.append(compile_resource_pattern(text, variables=variables))
            except PatternError as error:
                self.error(entry_path, f"resource {text!r}: {error}")
        return patterns

    def parse_conditions(
        self, path: str, raw: Mapping[object, object], variables: bool
    ) -> list[Condition]:
        if "Condition" not in raw:
            return []
        block = raw["Condition"]
        block_path = f"{path}.Condition"
        if not isinstance(block, Mapping):
            self.error(
                block_path, f"Condition must be an object, not {json_type_name(block)}"
            )
            return []
        if not block:
            self.error(block_path, "Condition must not be empty; omit it instead")
            return []
        conditions: list[Condition] = []
        for operator_name, keys in block.items():
            operator_path = f"{block_path}.{operator_name}"
            try:
                if not isinstance(operator_name, str):
                    raise ConditionError(
                        f"unknown condition operator {operator_name!r}"
                    )
                operator = parse_condition_operator(operator_name)
            except ConditionError as error:
                self.error(operator_path, str(error))
                continue
            if not isinstance(keys, Mapping):
                self.error(
                    operator_path,
                    f"{operator_name} must map condition keys to values, not be {json_type_name(keys)}",
                )
                continue
            if not keys:
                self.error(
                    operator_path,
                    f"{operator_name} must name at least one condition key",
                )
                continue
            for key, values in keys.items():
                key_path = f"{operator_path}.{key}"
                if not isinstance(key, str) or not key.strip():
                    self.error(key_path, "a condition key must be a non-empty string")
                    continue
                texts = self.condition_values(key_path, values)
                if texts is None:
                    continue
                valid = True
                for value_path, text in texts:
                    problem = check_condition_value(operator, text, variables=variables)
                    if problem is not None:
                        self.error(value_path, problem)
                        valid = False
                if valid:
                    conditions.append(
                        compile_condition(
                            operator,
                            key,
                            [text for _, text in texts],
                            variables=variables,
                        )
                    )
        return conditions

    def condition_values(
        self, path: str, value: object
    ) -> list[tuple[str, str]] | None:
        if isinstance(value, list):
            if not value:
                self.error(path, "condition values must not be an empty list")
                return None
            items = [(f"{path}[{index}]", item) for index, item in enumerate(value)]
        else:
            items = [(path, value)]
        texts: list[tuple[str, str]] = []
        ok = True
        for item_path, item in items:
            text = _scalar_text(item)
            if text is None:
                self.error(
                    item_path,
                    f"a condition value must be a string, number or boolean, not {json_type_name(item)}",
                )
                ok = False
            else:
                texts.append((item_path, text))
        return texts if ok else None


_WHITE_SPACE = re.compile(r"\s+")


def policy_size(document: object) -> int:
    """The size IAM's quotas count: characters of the JSON text, white space excluded.

    ``document`` is the JSON text itself, or a parsed document (measured as JSON with its
    strings as written; 0 if it is not JSON-serializable).
    """
    if isinstance(document, str):
        return len(_WHITE_SPACE.sub("", document))
    try:
        text = json.dumps(document, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        return 0
    return len(_WHITE_SPACE.sub("", text))


def size_problem(size: int) -> str | None:
    """The error for a policy of ``size`` characters, or None when IAM could hold it."""
    if size <= MAX_POLICY_CHARACTERS:
        return None
    return (
        f"the policy is {size} characters (white space excluded); no IAM policy may"
        f" exceed {MAX_POLICY_CHARACTERS:,} (IAM quotas: inline role policies)"
    )


def _scalar_text(value: object) -> str | None:
    """JSON scalars as IAM reads them: booleans as "true"/"false", numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    return None


def _resource_problem(text: str) -> str | None:
    if text == "*":
        return None
    if not text:
        return "a resource must not be empty"
    if not text.startswith("arn:"):
        return f'resource {text!r} must be "*" or an ARN starting with "arn:"'
    segments = text.split(":")
    if len(segments) > 2 and ("*" in segments[2] or "?" in segments[2]):
        return (
            f"resource {text!r}: the service segment {segments[2]!r} must not contain"
            " wildcards (IAM: a wildcard cannot identify the AWS service)"
        )
    if len(segments) > 2 and not segments[2]:
        return f"resource {text!r} has an empty service segment"
    return None


# --------------------------------------------------------------------------- raw documents


@dataclass(frozen=True)
class RawString:
    """One string of a statement element as written, found without trusting the grammar
    (so tools can still point at the strings of a policy that does not parse)."""

    statement_path: str
    """``Statement[1]``, or ``Statement`` for a single-object Statement element."""
    statement: Mapping[object, object]
    element: str
    path: str
    """``Statement[1].Action[0]``; ``Statement[1].Action`` for a single string."""
    text: str


def raw_statements(document: object) -> list[tuple[str, Mapping[object, object]]]:
    """(JSON path, statement) of every statement object, whatever else is wrong."""
    if not isinstance(document, Mapping):
        return []
    raw = document.get("Statement")
    if isinstance(raw, Mapping):
        return [("Statement", raw)]
    if isinstance(raw, list):
        return [
            (f"Statement[{i}]", item)
            for i, item in enumerate(raw)
            if isinstance(item, Mapping)
        ]
    return []


def raw_element_strings(document: object, elements: tuple[str, ...]) -> list[RawString]:
    """Every string of the named elements (e.g. Action and NotAction), in document order."""
    found: list[RawString] = []
    for statement_path, statement in raw_statements(document):
        for element in elements:
            value = statement.get(element)
            element_path = f"{statement_path}.{element}"
            if isinstance(value, str):
                items = [(element_path, value)]
            elif isinstance(value, list):
                items = [
                    (f"{element_path}[{i}]", item)
                    for i, item in enumerate(value)
                    if isinstance(item, str)
                ]
            else:
                items = []
            for path, text in items:
                found.append(RawString(statement_path, statement, element, path, text))
    return found
