"""IAM condition operators: names, policy-value checks, and evaluation against a request.

Rules followed (IAM User Guide, "IAM JSON policy elements: Condition operators" unless noted):

* Operators: the String, Numeric, Date, Bool, BinaryEquals, IpAddress/NotIpAddress, Arn and
  Null families. ``ArnEquals`` and ``ArnLike`` behave the same: each of the six
  colon-delimited ARN components is compared separately, case-sensitively, with ``*``/``?``.
* "If the key that you specify in a policy condition is not present in the request context,
  the values do not match and the condition is false. If the policy condition requires that
  the key is not matched, such as StringNotLike or ArnNotLike, and the right key is not
  present, the condition is true. This logic applies to all condition operators except
  ...IfExists and Null check."
* ``...IfExists``: a missing key makes the condition true; a present key is compared
  normally. ``Null``: ``"true"`` holds when the key is absent, ``"false"`` when present.
* Several values for one key are ORed, except for negated operators, where "the effective
  permissions work like a logical AND": StringNotEquals ["a", "b"] holds when the context
  value equals neither (IAM User Guide, "Condition element", multiple values).
* Set operators ("Single-valued vs. multivalued context keys"): ``ForAllValues`` holds when
  every context value satisfies the operator, and "also returns true if there are no context
  keys in the request"; ``ForAnyValue`` holds when at least one does, and is false when the
  key is missing. Negation applies per value: ``ForAllValues:StringNotEquals`` holds when no
  context value equals any policy value.
* Condition key names are case insensitive ("Condition element"); values are compared per
  operator (StringEquals is case sensitive, StringEqualsIgnoreCase is not).
* Policy variables are substituted in String, Bool and Arn values (the operator tables mark
  policy variables "Supported" for these families only); elsewhere ``${...}`` is literal text
  and therefore an invalid number/date/address.

Decisions where the docs are silent (pinned by tests in tests/iam/test_conditions.py):

* A plain (unqualified) operator applied to a multivalued context value holds, for positive
  operators, when any context value matches, and for negated operators when none does.
* A context key given with an empty list is treated as missing.
* A context value that does not parse for the operator's type (e.g. ``"abc"`` for a Numeric
  operator) satisfies neither the operator nor its negation: the condition is false.
* A policy value whose variable cannot be resolved (key missing, multivalued, no default)
  matches nothing; for a negated operator it makes the condition false, since "if AWS cannot
  resolve a variable this might cause the entire statement to be invalid" (IAM User Guide,
  "Variables and tags"), and an invalid statement must never grant or deny by accident.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .matcher import ContextValues, GlobMode, PatternError, Template, fold_case

__all__ = [
    "Condition",
    "ConditionError",
    "ConditionOperator",
    "OPERATOR_NAMES",
    "check_condition",
    "check_condition_value",
    "compile_condition",
    "normalize_context",
    "parse_condition_operator",
]

_NOT_EXPLAINED = "condition not satisfied"


class ConditionError(ValueError):
    """An unknown operator or a policy value the operator can never accept."""


# --------------------------------------------------------------------------- value types


def _parse_string(text: str) -> str:
    return text


def _parse_lower(text: str) -> str:
    return text.lower()


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _parse_number(text: str) -> Decimal | None:
    if not _NUMBER.fullmatch(text.strip()):
        return None
    try:
        return Decimal(text.strip())
    except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
        return None


_EPOCH = re.compile(r"[+-]?\d+(?:\.\d+)?")


def _parse_date(text: str) -> datetime | None:
    """ISO 8601 (date, or date and time; naive means UTC) or seconds since the epoch."""
    text = text.strip()
    try:
        if _EPOCH.fullmatch(text):
            return datetime.fromtimestamp(float(text), tz=UTC)
        parsed = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _parse_bool(text: str) -> bool | None:
    folded = text.strip().lower()
    return True if folded == "true" else False if folded == "false" else None


def _parse_binary(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parse_network(text: str) -> IpNetwork | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _parse_address(text: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


@dataclass(frozen=True)
class _Family:
    """A value type of the condition-operator tables."""

    value_type: str
    parse_policy: Callable[[str], Any]
    """Parse a (variable-substituted) policy value; None when invalid. Unused for globs."""
    parse_context: Callable[[str], Any]
    """Parse a request-context value; None when it is not of this type."""
    variables: bool
    glob: GlobMode | None
    """Policy values are wildcard patterns matched in this mode."""


_STRING = _Family("String", _parse_string, _parse_string, True, None)
_STRING_CI = _Family("String", _parse_lower, _parse_lower, True, None)
_STRING_LIKE = _Family("String", _parse_string, _parse_string, True, GlobMode.ANYWHERE)
_NUMERIC = _Family("Numeric", _parse_number, _parse_number, False, None)
_DATE = _Family("Date", _parse_date, _parse_date, False, None)
_BOOL = _Family("Bool", _parse_bool, _parse_bool, True, None)
_BINARY = _Family("Binary", _parse_binary, _parse_binary, False, None)
_IP = _Family("IPAddress", _parse_network, _parse_address, False, None)
_ARN = _Family("ARN", _parse_string, _parse_string, True, GlobMode.ARN)
_NULL = _Family("Null", _parse_bool, _parse_string, False, None)


def _eq(context: Any, policy: Any) -> bool:
    return bool(context == policy)


def _lt(context: Any, policy: Any) -> bool:
    return bool(context < policy)


def _le(context: Any, policy: Any) -> bool:
    return bool(context <= policy)


def _gt(context: Any, policy: Any) -> bool:
    return bool(context > policy)


def _ge(context: Any, policy: Any) -> bool:
    return bool(context >= policy)


def _glob(context: Any, policy: Any) -> bool:
    matcher: Callable[[str], bool] = policy
    return matcher(context)


def _in_network(context: Any, policy: Any) -> bool:
    return bool(context in policy)


@dataclass(frozen=True)
class _Base:
    family: _Family
    compare: Callable[[Any, Any], bool]
    """The positive comparison (context value, policy value)."""
    negated: bool
    relation: str
    """Completes "context value 'x' is [not] ..." followed by the policy values."""


_BASES: dict[str, _Base] = {
    "StringEquals": _Base(_STRING, _eq, False, "one of"),
    "StringNotEquals": _Base(_STRING, _eq, True, "one of"),
    "StringEqualsIgnoreCase": _Base(_STRING_CI, _eq, False, "one of (ignoring case)"),
    "StringNotEqualsIgnoreCase": _Base(_STRING_CI, _eq, True, "one of (ignoring case)"),
    "StringLike": _Base(_STRING_LIKE, _glob, False, "like one of"),
    "StringNotLike": _Base(_STRING_LIKE, _glob, True, "like one of"),
    "NumericEquals": _Base(_NUMERIC, _eq, False, "equal to one of"),
    "NumericNotEquals": _Base(_NUMERIC, _eq, True, "equal to one of"),
    "NumericLessThan": _Base(_NUMERIC, _lt, False, "less than one of"),
    "NumericLessThanEquals": _Base(
        _NUMERIC, _le, False, "less than or equal to one of"
    ),
    "NumericGreaterThan": _Base(_NUMERIC, _gt, False, "greater than one of"),
    "NumericGreaterThanEquals": _Base(
        _NUMERIC, _ge, False, "greater than or equal to one of"
    ),
    "DateEquals": _Base(_DATE, _eq, False, "the same time as one of"),
    "DateNotEquals": _Base(_DATE, _eq, True, "the same time as one of"),
    "DateLessThan": _Base(_DATE, _lt, False, "before one of"),
    "DateLessThanEquals": _Base(_DATE, _le, False, "at or before one of"),
    "DateGreaterThan": _Base(_DATE, _gt, False, "after one of"),
    "DateGreaterThanEquals": _Base(_DATE, _ge, False, "at or after one of"),
    "Bool": _Base(_BOOL, _eq, False, "one of"),
    "BinaryEquals": _Base(_BINARY, _eq, False, "one of"),
    "IpAddress": _Base(_IP, _in_network, False, "in one of"),
    "NotIpAddress": _Base(_IP, _in_network, True, "in one of"),
    "ArnEquals": _Base(_ARN, _glob, False, "like one of"),
    "ArnLike": _Base(_ARN, _glob, False, "like one of"),
    "ArnNotEquals": _Base(_ARN, _glob, True, "like one of"),
    "ArnNotLike": _Base(_ARN, _glob, True, "like one of"),
    "Null": _Base(_NULL, _eq, False, "one of"),
}

_QUALIFIERS = ("ForAllValues", "ForAnyValue")
_IF_EXISTS = "IfExists"


def _all_operator_names() -> tuple[str, ...]:
    names: list[str] = []
    for base in _BASES:
        variants = [base] if base == "Null" else [base, base + _IF_EXISTS]
        names.extend(variants)
        if base != "Null":
            names.extend(
                f"{qualifier}:{variant}"
                for qualifier in _QUALIFIERS
                for variant in variants
            )
    return tuple(sorted(names))


OPERATOR_NAMES: tuple[str, ...] = _all_operator_names()
"""Every operator name accepted in a Condition block, sorted."""


@dataclass(frozen=True)
class ConditionOperator:
    """A parsed operator name such as ``ForAnyValue:StringNotEqualsIfExists``."""

    name: str
    base: str
    qualifier: str | None
    """``ForAllValues``, ``ForAnyValue`` or None."""
    if_exists: bool

    @property
    def negated(self) -> bool:
        """True for the "Not" operators (StringNotEquals, NotIpAddress, ArnNotLike, ...)."""
        return _BASES[self.base].negated

    @property
    def value_type(self) -> str:
        """The IAM value type: String, Numeric, Date, Bool, Binary, IPAddress, ARN or Null."""
        return _BASES[self.base].family.value_type


def parse_condition_operator(name: str) -> ConditionOperator:
    """Parse an operator name exactly as IAM spells it; raise :class:`ConditionError`."""
    qualifier: str | None = None
    rest = name
    for candidate in _QUALIFIERS:
        if name.startswith(candidate + ":"):
            qualifier, rest = candidate, name[len(candidate) + 1 :]
            break
    if_exists = rest.endswith(_IF_EXISTS) and rest != _IF_EXISTS
    base = rest[: -len(_IF_EXISTS)] if if_exists else rest
    if base not in _BASES:
        raise ConditionError(_unknown_operator_message(name))
    if base == "Null" and (if_exists or qualifier is not None):
        raise ConditionError(
            f"unknown condition operator {name!r}: Null takes neither IfExists nor a set"
            " qualifier (it already tests whether the key exists)"
        )
    return ConditionOperator(name, base, qualifier, if_exists)


def _unknown_operator_message(name: str) -> str:
    folded = {operator.lower(): operator for operator in OPERATOR_NAMES}
    exact_but_case = folded.get(name.lower())
    if exact_but_case is not None:
        return f"unknown condition operator {name!r}; operator names are case sensitive: {exact_but_case!r}"
    close = difflib.get_close_matches(name, OPERATOR_NAMES, n=1, cutoff=0.8)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown condition operator {name!r}{hint}"


# --------------------------------------------------------------------------- conditions


@dataclass(frozen=True)
class _PolicyValue:
    written: str
    template: Template | None
    """Set when the value must be resolved against the context (it has variables)."""
    static: Any
    """The parsed value (or glob matcher) when there are no variables."""


@dataclass(frozen=True)
class Condition:
    """One operator applied to one condition key with its policy values."""

    operator: ConditionOperator
    key: str
    """As written in the policy; looked up case-insensitively."""
    values: tuple[str, ...]
    """The policy values as text (JSON numbers and booleans converted)."""
    _folded_key: str = field(compare=False, repr=False)
    _base: _Base = field(compare=False, repr=False)
    _compiled: tuple[_PolicyValue, ...] = field(compare=False, repr=False)
    _static: tuple[Any, ...] | None = field(compare=False, repr=False)
    """The parsed policy values when none holds a variable."""
    _lookup: frozenset[Any] | None = field(compare=False, repr=False)
    """The static values as a set, for equality operators (a membership test)."""

    @property
    def has_variables(self) -> bool:
        """True when some value holds a policy variable."""
        return any(value.template is not None for value in self._compiled)

    def describe(self) -> str:
        """``Operator key`` as used in explanations."""
        return f"{self.operator.name} {self.key}"


def _compile_value(
    operator: ConditionOperator, text: str, *, variables: bool
) -> _PolicyValue:
    base = _BASES[operator.base]
    family = base.family
    use_variables = variables and family.variables
    try:
        template = Template.parse(
            text, wildcards=family.glob is not None, variables=use_variables
        )
    except PatternError as error:
        raise ConditionError(str(error)) from None
    if template.variables:
        return _PolicyValue(text, template, None)
    if family.glob is not None:
        if (
            family.glob is GlobMode.ARN
            and text != "*"
            and template.literal_colons() < 5
        ):
            raise ConditionError(
                f"{operator.base} value {text!r} is not an ARN pattern: it needs six"
                ' colon-separated components (arn:partition:service:region:account:resource) or "*"'
            )
        return _PolicyValue(text, None, template.matcher(family.glob, None))
    rendered = template.render(None)
    assert rendered is not None
    parsed = family.parse_policy(rendered)
    if parsed is None:
        hint = (
            f" (policy variables are not supported by {family.value_type} operators)"
            if "${" in text
            else ""
        )
        raise ConditionError(
            f"{operator.base} value {text!r} is not a valid {_TYPE_NOUNS[family.value_type]}{hint}"
        )
    return _PolicyValue(text, None, parsed)


_TYPE_NOUNS = {
    "String": "string",
    "Numeric": "number",
    "Date": "date (ISO 8601 or seconds since the epoch)",
    "Bool": 'boolean ("true" or "false")',
    "Binary": "base64 value",
    "IPAddress": "IP address or CIDR range",
    "ARN": "ARN",
    "Null": 'Null value ("true" or "false")',
}


def compile_condition(
    operator: ConditionOperator,
    key: str,
    values: Sequence[str],
    *,
    variables: bool = True,
) -> Condition:
    """Build a Condition; raise :class:`ConditionError` for the first invalid value.

    ``variables=False`` (2008-10-17 policies) keeps ``${...}`` as literal text.
    Use :func:`check_condition_value` first to collect every invalid value.
    """
    compiled = tuple(
        _compile_value(operator, value, variables=variables) for value in values
    )
    base = _BASES[operator.base]
    static: tuple[Any, ...] | None = None
    lookup: frozenset[Any] | None = None
    if all(value.template is None for value in compiled):
        static = tuple(value.static for value in compiled)
        if base.compare is _eq:
            lookup = frozenset(static)
    return Condition(
        operator, key, tuple(values), fold_case(key), base, compiled, static, lookup
    )


def check_condition_value(
    operator: ConditionOperator, value: str, *, variables: bool = True
) -> str | None:
    """Why the operator can never accept this policy value, or None when it is valid."""
    try:
        _compile_value(operator, value, variables=variables)
    except ConditionError as error:
        return str(error)
    return None


def normalize_context(
    context: Mapping[str, str | Sequence[str]] | None,
) -> dict[str, tuple[str, ...]]:
    """Case-fold keys and turn every value into a tuple of strings.

    Raise TypeError for a value that is not a string or a sequence of strings, and
    ValueError for two keys that differ only in case (IAM key names are case insensitive).
    """
    result: dict[str, tuple[str, ...]] = {}
    if not context:
        return result
    for key, value in context.items():
        if isinstance(value, str):
            values: tuple[str, ...] = (value,)
        elif isinstance(value, list | tuple) and all(
            isinstance(item, str) for item in value
        ):
            values = tuple(value)
        else:
            raise TypeError(
                f"context value for {key!r} must be a string or a list of strings,"
                f" not {value!r}"
            )
        folded = fold_case(key)
        if folded in result:
            raise ValueError(
                f"context key {key!r} is given twice (keys are case insensitive)"
            )
        result[folded] = values
    return result


def _shown(values: Sequence[str]) -> str:
    return "[" + ", ".join(repr(value) for value in values) + "]"


def check_condition(
    condition: Condition, context: ContextValues, *, explain: bool = True
) -> str | None:
    """None when the condition holds for the (normalized) context, else the reason it fails.

    With ``explain=False`` a fixed placeholder is returned instead of a built reason.
    """
    present = context.get(condition._folded_key) or ()
    base = condition._base
    operator = condition.operator

    if base.family is _NULL:
        wanted = condition._lookup or frozenset()
        if (True in wanted and not present) or (False in wanted and present):
            return None
        if not explain:
            return _NOT_EXPLAINED
        state, required = ("present", "absent") if present else ("absent", "present")
        return (
            f"Condition Null {condition.key}: the key is {state}"
            f" but the policy requires it {required}"
        )

    if not present:
        if operator.qualifier == "ForAllValues" or operator.if_exists:
            return None
        if operator.qualifier is None and base.negated:
            return None
        if not explain:
            return _NOT_EXPLAINED
        return f"Condition key {condition.key} is missing from the request context"

    policy_values: Sequence[Any]
    lookup = condition._lookup
    unresolved: list[str] = []
    shown: list[str] = list(condition.values)
    if condition._static is not None:
        policy_values = condition._static
    else:
        policy_values, shown, unresolved = _resolve(condition, context)
        if unresolved and base.negated:
            if not explain:
                return _NOT_EXPLAINED
            return (
                f"Condition {condition.describe()}: policy variable {unresolved[0]}"
                " has no value in the request context"
            )

    parse = base.family.parse_context
    compare = base.compare
    wanted_match = not base.negated
    satisfied: list[bool] = []
    invalid: str | None = None
    for raw in present:
        parsed = parse(raw)
        if parsed is None:
            satisfied.append(False)
            if invalid is None:
                invalid = raw
            continue
        if lookup is not None:
            matched = parsed in lookup
        else:
            matched = False
            for policy_value in policy_values:
                if compare(parsed, policy_value):
                    matched = True
                    break
        satisfied.append(matched is wanted_match)

    if operator.qualifier == "ForAnyValue":
        holds = True in satisfied
    elif operator.qualifier == "ForAllValues" or base.negated:
        holds = False not in satisfied
    else:
        holds = True in satisfied
    if holds:
        return None
    if not explain:
        return _NOT_EXPLAINED
    return _explain_failure(condition, present, satisfied, invalid, shown, unresolved)


def _resolve(
    condition: Condition, context: ContextValues
) -> tuple[list[Any], list[str], list[str]]:
    """Policy values with variables substituted: (parsed values, shown texts, unresolved)."""
    family = condition._base.family
    resolved: list[Any] = []
    shown: list[str] = []
    unresolved: list[str] = []
    for value in condition._compiled:
        template = value.template
        if template is None:
            resolved.append(value.static)
            shown.append(value.written)
            continue
        rendered = template.render(context)
        if rendered is None:
            unresolved.extend(var.written for var in template.unresolved(context))
            continue
        shown.append(rendered)
        if family.glob is not None:
            matcher = template.matcher(family.glob, context)
            assert matcher is not None  # rendered, so every variable resolved
            resolved.append(matcher)
            continue
        parsed = family.parse_policy(rendered)
        if parsed is not None:
            resolved.append(parsed)
    return resolved, shown, unresolved


def _explain_failure(
    condition: Condition,
    present: tuple[str, ...],
    satisfied: list[bool],
    invalid: str | None,
    shown_resolved: list[str],
    unresolved: list[str],
) -> str:
    base = condition._base
    head = f"Condition {condition.describe()}"
    written = list(condition.values)
    policy_values = _shown(written)
    if shown_resolved != written and not unresolved:
        policy_values += f" (resolved: {_shown(shown_resolved)})"
    if invalid is not None and len(present) == 1:
        noun = _TYPE_NOUNS[base.family.value_type]
        return f"{head}: context value {invalid!r} is not a valid {noun}"
    if unresolved and not shown_resolved:
        return f"{head}: policy variable {unresolved[0]} has no value in the request context"
    qualifier = condition.operator.qualifier
    if base.negated:
        if qualifier == "ForAnyValue":
            return f"{head}: every context value in {_shown(present)} is {base.relation} {policy_values}"
        failing = present[satisfied.index(False)]
        return f"{head}: context value {failing!r} is {base.relation} {policy_values}"
    if qualifier == "ForAllValues":
        failing = present[satisfied.index(False)]
        return (
            f"{head}: context value {failing!r} is not {base.relation} {policy_values}"
        )
    if len(present) == 1:
        return f"{head}: context value {present[0]!r} is not {base.relation} {policy_values}"
    return f"{head}: no context value in {_shown(present)} is {base.relation} {policy_values}"
