"""The one IAM-faithful matcher for action names, resource ARNs and wildcard values.

Rules followed (IAM User Guide):

* "IAM JSON policy elements: Action": the service prefix and the action name are case
  insensitive; ``*`` matches any run of characters (possibly empty) and ``?`` exactly one.
  There are no character classes and no regular expressions: ``[``, ``.``, ``+``, ``(`` are
  literal. AWS rejects wildcards in the service prefix ("Action vendors must not contain
  wildcards"), so we report that as an error instead of matching.
* "IAM JSON policy elements: Resource": resource ARNs are case sensitive. ``*`` and ``?`` work
  within the colon-separated segments of an ARN, and "if the * wildcard is the last character
  of a resource ARN segment, it can expand to match beyond colon boundaries". So a ``*``
  directly followed by ``:`` or ending the pattern may run across colons; any other ``*`` and
  every ``?`` stay inside their segment. The pattern ``"*"`` alone matches every resource,
  including "no resource" (``None``: actions without a resource type are granted only by
  ``"*"``).
* "IAM policy elements: Variables and tags": ``${key}`` and ``${key, 'default'}`` are
  replaced by the request-context value of ``key`` (key names are case insensitive);
  ``${*}``, ``${?}`` and ``${$}`` are the literal characters. A substituted value is always
  literal text, never a wildcard. A key that is missing (or multivalued, which cannot be a
  variable) resolves to the default if one is given, otherwise to nothing, and the pattern
  then matches nothing.

Patterns are compiled once (cached); every literal character is escaped before a regular
expression is built, so no policy text can inject regex syntax.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache

__all__ = [
    "ActionPattern",
    "ContextValues",
    "GlobMode",
    "PatternError",
    "ResourcePattern",
    "Template",
    "Variable",
    "action_matches",
    "compile_resource_pattern",
    "expand_action_pattern",
    "fold_case",
    "parse_action_pattern",
    "resource_matches",
]

ContextValues = Mapping[str, tuple[str, ...]]
"""A request context with case-folded keys (see :func:`fold_case`) and tuple values."""


class PatternError(ValueError):
    """A policy string IAM would reject, e.g. a wildcard in an action's service prefix."""


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def fold_case(text: str) -> str:
    """Lower-case ASCII letters only.

    IAM action names and condition key names are ASCII identifiers; folding only A-Z means
    no Unicode special case (Kelvin sign, dotted capital I) can make two different names equal.
    """
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class Variable:
    """A policy variable ``${key}`` or ``${key, 'default'}``."""

    written: str
    key: str
    """The context key, case-folded for lookup."""
    default: str | None

    def resolve(self, context: ContextValues | None) -> str | None:
        """The substituted text, or None when the key has no single value and no default."""
        if context is not None:
            values = context.get(self.key)
            # Multivalued keys cannot be used as policy variables (IAM User Guide,
            # "Single-valued vs. multivalued context keys").
            if values is not None and len(values) == 1:
                return values[0]
        return self.default


@dataclass(frozen=True)
class _Wildcard:
    char: str
    """``*`` or ``?``."""
    segment_final: bool
    """The wildcard is directly followed by ``:`` or ends the pattern."""


_Token = str | Variable | _Wildcard

_VARIABLE = re.compile(
    r"\$\{\s*(?P<key>[^\s,'{}$]+)\s*(?:,\s*'(?P<default>(?:[^']|'')*)'\s*)?\}"
)
_ESCAPES = {"${*}": "*", "${?}": "?", "${$}": "$"}


def _tokenize(text: str, *, wildcards: bool, variables: bool) -> tuple[_Token, ...]:
    """Split policy text into literal runs, wildcards and variables."""
    tokens: list[_Token] = []
    literal: list[str] = []

    def flush() -> None:
        if literal:
            tokens.append("".join(literal))
            literal.clear()

    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        if variables and char == "$" and text.startswith("${", index):
            escape = _ESCAPES.get(text[index : index + 4])
            if escape is not None:
                literal.append(escape)
                index += 4
                continue
            match = _VARIABLE.match(text, index)
            if match is None:
                raise PatternError(
                    f"malformed policy variable at {text[index:index + 24]!r}:"
                    " expected ${key} or ${key, 'default'}"
                )
            default = match.group("default")
            flush()
            tokens.append(
                Variable(
                    written=match.group(0),
                    key=fold_case(match.group("key")),
                    default=None if default is None else default.replace("''", "'"),
                )
            )
            index = match.end()
            continue
        if wildcards and char in "*?":
            flush()
            final = index + 1 == length or text[index + 1] == ":"
            tokens.append(_Wildcard(char, final))
            index += 1
            continue
        literal.append(char)
        index += 1
    flush()
    return tuple(tokens)


class GlobMode(Enum):
    """How ``*`` and ``?`` translate, by where the pattern is used."""

    ANYWHERE = "anywhere"
    """Action names and StringLike values: ``*`` any run, ``?`` any one character."""
    RESOURCE = "resource"
    """Resource element: segment-bound, except a segment-final ``*`` (see module doc)."""
    ARN = "arn"
    """ArnLike/ArnEquals values: each of the six ARN components is matched separately."""


_ARN_COMPONENT_COLONS = 5


def _regex_source(
    tokens: tuple[_Token, ...], mode: GlobMode, context: ContextValues | None
) -> str | None:
    """The regular expression for tokens, or None when a variable cannot be resolved."""
    per_component = mode is GlobMode.ARN and (
        sum(token.count(":") for token in tokens if isinstance(token, str))
        >= _ARN_COMPONENT_COLONS
    )
    parts: list[str] = []
    colons = 0
    for token in tokens:
        if isinstance(token, str):
            parts.append(re.escape(token))
            colons += token.count(":")
        elif isinstance(token, Variable):
            value = token.resolve(context)
            if value is None:
                return None
            parts.append(re.escape(value))
        else:
            bounded = (mode is GlobMode.RESOURCE and not token.segment_final) or (
                per_component and colons < _ARN_COMPONENT_COLONS
            )
            if token.char == "*":
                parts.append("[^:]*" if bounded else ".*")
            else:
                parts.append("[^:]" if mode is GlobMode.RESOURCE or bounded else ".")
    return "".join(parts)


@lru_cache(maxsize=16384)
def _compile(source: str) -> re.Pattern[str]:
    return re.compile(source, re.DOTALL)


def _fullmatcher(source: str) -> Callable[[str], bool]:
    fullmatch = _compile(source).fullmatch
    return lambda text: fullmatch(text) is not None


def _always(_: str) -> bool:
    return True


def _static_matcher(
    tokens: tuple[_Token, ...], mode: GlobMode
) -> Callable[[str], bool]:
    """A fast matcher for tokens without variables."""
    if not tokens:
        return "".__eq__
    if len(tokens) == 1 and isinstance(tokens[0], str):
        return tokens[0].__eq__
    last = tokens[-1]
    if (
        isinstance(last, _Wildcard)
        and last.char == "*"
        and (mode is not GlobMode.RESOURCE or last.segment_final)
        and mode is not GlobMode.ARN
        and all(isinstance(token, str) for token in tokens[:-1])
    ):
        prefix = "".join(str(token) for token in tokens[:-1])
        return (
            (lambda text: True)
            if not prefix
            else (lambda text: text.startswith(prefix))
        )
    source = _regex_source(tokens, mode, None)
    assert source is not None  # no variables
    return _fullmatcher(source)


# --------------------------------------------------------------------------- actions

_PREFIX = re.compile(r"[A-Za-z0-9-]+")


@dataclass(frozen=True)
class ActionPattern:
    """A parsed Action/NotAction entry: ``*`` or ``prefix:name-pattern``."""

    text: str
    """As written in the policy."""
    prefix: str | None
    """Case-folded service prefix; None for the bare ``*``."""
    name: str
    """Case-folded action-name pattern."""
    _match: Callable[[str], bool] = field(compare=False, repr=False)

    @property
    def is_wildcard(self) -> bool:
        """True when the pattern contains ``*`` or ``?``."""
        return self.prefix is None or "*" in self.name or "?" in self.name

    def matches(self, action: str) -> bool:
        """Whether the full action name (``prefix:Name``) is matched, case-insensitively."""
        return self._match(fold_case(action))

    def matches_folded(self, folded_action: str) -> bool:
        """Like :meth:`matches` for an action already passed through :func:`fold_case`."""
        return self._match(folded_action)


def parse_action_pattern(text: str) -> ActionPattern:
    """Parse an Action/NotAction entry; raise :class:`PatternError` if IAM would reject it."""
    if not isinstance(text, str):
        raise PatternError(f"action must be a string, not {type(text).__name__}")
    if text == "*":
        return ActionPattern(text, None, "*", _always)
    if not text:
        raise PatternError("action is empty")
    if any(char.isspace() for char in text):
        raise PatternError(f"action {text!r} contains whitespace")
    prefix, colon, name = text.partition(":")
    if not colon:
        raise PatternError(
            f'action {text!r} must be "*" or "service-prefix:ActionName"'
        )
    if not prefix:
        raise PatternError(f"action {text!r} has an empty service prefix")
    if "*" in prefix or "?" in prefix:
        raise PatternError(
            f"action {text!r}: the service prefix must not contain wildcards"
            " (IAM: wildcards are allowed only in the action name)"
        )
    if not _PREFIX.fullmatch(prefix):
        raise PatternError(
            f"action {text!r}: service prefix {prefix!r} may contain only letters, digits and '-'"
        )
    if not name:
        raise PatternError(f"action {text!r} has an empty action name")
    if ":" in name:
        raise PatternError(f"action {text!r} has more than one ':'")
    folded = fold_case(text)
    tokens = _tokenize(folded, wildcards=True, variables=False)
    return ActionPattern(
        text,
        fold_case(prefix),
        fold_case(name),
        _static_matcher(tokens, GlobMode.ANYWHERE),
    )


def action_matches(pattern: ActionPattern | str, action: str) -> bool:
    """Whether an Action entry matches a full action name such as ``svc:GetFile``."""
    if isinstance(pattern, str):
        pattern = parse_action_pattern(pattern)
    return pattern.matches(action)


def expand_action_pattern(
    pattern: ActionPattern | str, names: Iterable[str]
) -> list[str]:
    """The full action names among ``names`` that the pattern matches, sorted, without repeats."""
    if isinstance(pattern, str):
        pattern = parse_action_pattern(pattern)
    return sorted({name for name in names if pattern.matches(name)})


# --------------------------------------------------------------------------- resources


@dataclass(frozen=True)
class ResourcePattern:
    """A parsed Resource/NotResource entry (case-sensitive ARN pattern or ``*``)."""

    text: str
    """As written in the policy."""
    variables: tuple[Variable, ...]
    """Policy variables in the pattern, in order."""
    _tokens: tuple[_Token, ...] = field(compare=False, repr=False)
    _static: Callable[[str], bool] | None = field(compare=False, repr=False)
    _with_values: re.Pattern[str] | None = field(
        default=None, compare=False, repr=False
    )
    """For patterns with variables: matches ``value1 NUL value2 NUL ... resource``."""

    @property
    def matches_everything(self) -> bool:
        """True only for ``"*"``: the one pattern that also grants resource-less actions."""
        return self.text == "*"

    def unresolved(self, context: ContextValues | None) -> tuple[Variable, ...]:
        """The variables that have no value (and no default) in the context."""
        return tuple(var for var in self.variables if var.resolve(context) is None)

    def matches(
        self, resource: str | None, context: ContextValues | None = None
    ) -> bool:
        """Whether the pattern matches the resource (None means the action has no resource)."""
        if resource is None:
            return self.text == "*"
        if self._static is not None:
            return self._static(resource)
        values: list[str] = []
        for variable in self.variables:
            value = variable.resolve(context)
            if value is None:
                return False
            values.append(value)
        if self._with_values is not None and all("\0" not in v for v in values):
            # One regex compiled with the pattern, whatever the values: each value is
            # captured from the front of the subject and must recur, literally, where its
            # variable stands (a backreference). Compiling the substituted pattern instead
            # costs far more than the match when every request brings a new value.
            subject = "".join(f"{value}\0" for value in values) + resource
            return self._with_values.fullmatch(subject) is not None
        source = _regex_source(self._tokens, GlobMode.RESOURCE, context)
        return source is not None and _compile(source).fullmatch(resource) is not None


@lru_cache(maxsize=16384)
def compile_resource_pattern(text: str, *, variables: bool = True) -> ResourcePattern:
    """Compile a Resource entry (cached). ``variables=False`` for 2008-10-17 policies."""
    if text == "*":
        return ResourcePattern(text, (), (_Wildcard("*", True),), _always)
    tokens = _tokenize(text, wildcards=True, variables=variables)
    found = tuple(token for token in tokens if isinstance(token, Variable))
    static = None if found else _static_matcher(tokens, GlobMode.RESOURCE)
    with_values = _compile(_backreference_source(tokens)) if found else None
    return ResourcePattern(text, found, tokens, static, with_values)


def _backreference_source(tokens: tuple[_Token, ...]) -> str:
    """The RESOURCE-mode regex of ``tokens`` matched against ``v0 NUL v1 NUL ... text``.

    Variable number ``i`` is captured from the front as ``[^NUL]*`` (a value holds no NUL;
    callers fall back otherwise), and stands in the pattern as a backreference to it.
    """
    groups: list[str] = []
    parts: list[str] = []
    for token in tokens:
        if isinstance(token, Variable):
            name = f"v{len(groups)}"
            groups.append(rf"(?P<{name}>[^\x00]*)\x00")
            parts.append(f"(?P={name})")
        else:
            source = _regex_source((token,), GlobMode.RESOURCE, None)
            assert source is not None  # no variables
            parts.append(source)
    return "".join(groups) + "".join(parts)


def resource_matches(
    pattern: ResourcePattern | str,
    resource: str | None,
    context: ContextValues | None = None,
) -> bool:
    """Whether a Resource entry matches a resource ARN (None: the action has no resource)."""
    if isinstance(pattern, str):
        pattern = compile_resource_pattern(pattern)
    return pattern.matches(resource, context)


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Template:
    """A condition value that may hold wildcards and/or policy variables."""

    text: str
    variables: tuple[Variable, ...]
    _tokens: tuple[_Token, ...] = field(compare=False, repr=False)

    @classmethod
    def parse(cls, text: str, *, wildcards: bool, variables: bool) -> Template:
        """Tokenize ``text``; raise :class:`PatternError` on a malformed variable."""
        tokens = _tokenize(text, wildcards=wildcards, variables=variables)
        found = tuple(token for token in tokens if isinstance(token, Variable))
        return cls(text, found, tokens)

    def render(self, context: ContextValues | None) -> str | None:
        """The text with variables substituted (wildcards kept as written), or None."""
        out: list[str] = []
        for token in self._tokens:
            if isinstance(token, str):
                out.append(token)
            elif isinstance(token, Variable):
                value = token.resolve(context)
                if value is None:
                    return None
                out.append(value)
            else:
                out.append(token.char)
        return "".join(out)

    def matcher(
        self, mode: GlobMode, context: ContextValues | None
    ) -> Callable[[str], bool] | None:
        """A wildcard matcher for the value, or None when a variable cannot be resolved."""
        if not self.variables:
            return _static_matcher(self._tokens, mode)
        source = _regex_source(self._tokens, mode, context)
        return None if source is None else _fullmatcher(source)

    def unresolved(self, context: ContextValues | None) -> tuple[Variable, ...]:
        """The variables that have no value (and no default) in the context."""
        return tuple(var for var in self.variables if var.resolve(context) is None)

    def literal_colons(self) -> int:
        """How many ``:`` appear outside variables (ARN component count minus one)."""
        return sum(token.count(":") for token in self._tokens if isinstance(token, str))
