"""The IAM evaluator against principalmapper's local policy simulation (peer-tools.md §6).

principalmapper 1.1.5 (pinned in pyproject.toml) is the best offline oracle, but only where it
follows IAM. So the behaviour of each condition operator is first pinned with hand cases
(``OPERATOR_CASES``: IAM's answer, principalmapper's, and whether they agree); random
policy/request pairs are then drawn from the grammar where they agree:

* identifier characters ``[A-Za-z0-9_-]``, ``/``, ``:``, ``*`` and ``?`` only (no ``[``,
  ``+``, ``(``, ``.`` or ``$`` outside a policy variable);
* Allow/Deny, Action/NotAction (action names in any case), Resource/NotResource;
* StringEquals, StringNotEquals, StringLike, StringNotLike, StringEqualsIgnoreCase,
  StringNotEqualsIgnoreCase, Bool, Null and the IfExists variants (no set operators);
* resource strings in lower case, so no two differ only in case; every request resource has
  exactly six non-empty colon-separated parts, and a Resource pattern either has the same six
  parts (wildcards inside them) or is a literal prefix ending in ``*`` (or ``"*"``), so a
  wildcard never has to match a ``:``;
* ``${aws:username}`` in resources, with the same key case in policy and context, and never
  unresolved in a NotResource;
* condition values and Bool context values as strings, Bool values ``"true"``/``"false"``,
  no empty context values; a key tested by plain StringNotLike is always in the context.

Decision: deny if a Deny statement matches, else allowed if an Allow matches, else implicit
(principalmapper's ``policy_has_matching_statement`` per effect). 300 pairs run in
``make test``; 10,000 in ``make test-slow``. No disagreement was found inside the grammar.

Documented divergences (each pinned by ``test_documented_divergence``; our answer is IAM's):

=== ======================================= =========================================== ============ ================
ID  Case                                    IAM User Guide rule                          evaluator    principalmapper
=== ======================================= =========================================== ============ ================
D1  Resource ARN differing only in case      "Resource" element: resource ARNs are        no match     match
    (``workspace/WS1`` vs ``workspace/ws1``) matched case-sensitively (peer-tools §9)     (implicit)   (IGNORECASE)
D2  ``?`` or a non-final ``*`` across a      "Resource" element: wildcards work within    no match     match
    ``:`` in a Resource pattern              an ARN segment; only a ``*`` that is the
                                             last character of a segment "can expand to
                                             match beyond colon boundaries"
D3  ``[``, ``+``, ``(`` in Action/Resource   "Action" element: ``*`` and ``?`` are the    literal      regex syntax:
                                             only wildcards; there are no character                    ``[CG]et*``
                                             classes                                                   matches,
                                                                                                       ``(`` raises
D4  plain StringNotLike, key absent          "Condition operators": "If the policy        true         false
                                             condition requires that the key is not
                                             matched, such as StringNotLike ..., and the
                                             right key is not present, the condition is
                                             true."
D5  Null "true", key present with ``""``     "Condition operators", Null: ``true`` means  false        true
                                             "the key doesn't exist"; an empty value
                                             exists
D6  Bool, context value not a boolean        "Condition operators", Boolean: compares     false        "false" matches
    (``"xyz"``)                              true/false values                                         anything not
                                                                                                       "true"
D7  Bool with a JSON boolean policy value    "Grammar of the IAM JSON policy language":   match        never matches
    (``true``)                               a condition value is "string", "number" or
                                             "Boolean"
D8  policy variable written in another case  "Condition element": condition key names     substituted  not substituted
    (``${aws:UserName}``)                    are not case-sensitive
D9  NotResource with an unresolved variable  "Variables and tags": "If AWS cannot         statement    statement
                                             resolve a variable this might cause the      does not     applies
                                             entire statement to be invalid"              apply
D10 policy variable in a condition value     "Variables and tags": variables work in      substituted  literal text
                                             "string comparisons in the Condition
                                             element"
=== ======================================= =========================================== ============ ================
"""

from __future__ import annotations

import collections
import collections.abc
import random
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest

# principalmapper 1.1.5 imports Mapping/MutableMapping from collections (removed in 3.10).
collections.Mapping = collections.abc.Mapping  # type: ignore[attr-defined]
collections.MutableMapping = collections.abc.MutableMapping  # type: ignore[attr-defined]

from conftest import REPO_ROOT, import_generated_package  # noqa: E402
from principalmapper.querying.local_policy_simulation import (  # noqa: E402
    policy_has_matching_statement,
)
from principalmapper.util.case_insensitive_dict import (  # noqa: E402
    CaseInsensitiveDict,
)

from generator.iam import NamedPolicy, PolicySet, Request, parse_policy  # noqa: E402

PACKAGE = import_generated_package(
    REPO_ROOT / "generated/python/aws_external_anthropic_iam",
    "hardening_differential_iam",
)
PREFIX = "aws-external-anthropic"
ACTION = f"{PREFIX}:GetFile"
RESOURCE = f"arn:aws:{PREFIX}:us-west-2:123456789012:workspace/ws1"

Context = dict[str, Any]


def pmapper_decision(
    policy: dict[str, Any], action: str, resource: str, context: Context
) -> str:
    keys = CaseInsensitiveDict(context)
    if policy_has_matching_statement(policy, "Deny", action, resource, keys):
        return "explicitDeny"
    if policy_has_matching_statement(policy, "Allow", action, resource, keys):
        return "allowed"
    return "implicitDeny"


def our_decision(
    policy: dict[str, Any], action: str, resource: str, context: Context
) -> str:
    policies = PolicySet([NamedPolicy("p", parse_policy(policy))])
    decision = policies.decide(action, resource, context).value
    # The explained evaluation and the cached fast path must agree on every pair, too.
    explained = policies.evaluate(Request(action, resource, context))
    assert explained.decision.value == decision
    return decision


def allow(**element: Any) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Action": ACTION, "Resource": "*", **element}
    return {
        "Version": "2012-10-17",
        "Statement": [{k: v for k, v in statement.items() if v is not None}],
    }


# ---------------------------------------------------------------------------- operators


@dataclass(frozen=True)
class OperatorCase:
    name: str
    condition: dict[str, Any]
    context: Context
    iam: str
    """IAM's decision for an Allow statement with this condition."""
    pmapper: str

    @property
    def follows_iam(self) -> bool:
        return self.iam == self.pmapper


ALLOWED, IMPLICIT = "allowed", "implicitDeny"
OPERATOR_CASES = [
    OperatorCase(
        "StringEquals equal", {"StringEquals": {"k": "v"}}, {"k": "v"}, ALLOWED, ALLOWED
    ),
    OperatorCase(
        "StringEquals other",
        {"StringEquals": {"k": "v"}},
        {"k": "w"},
        IMPLICIT,
        IMPLICIT,
    ),
    OperatorCase(
        "StringEquals case",
        {"StringEquals": {"k": "v"}},
        {"k": "V"},
        IMPLICIT,
        IMPLICIT,
    ),
    OperatorCase(
        "StringEquals absent", {"StringEquals": {"k": "v"}}, {}, IMPLICIT, IMPLICIT
    ),
    OperatorCase(
        "StringEquals key case",
        {"StringEquals": {"K": "v"}},
        {"k": "v"},
        ALLOWED,
        ALLOWED,
    ),
    OperatorCase(
        "StringEquals multivalued",
        {"StringEquals": {"k": "v"}},
        {"k": ["w", "v"]},
        ALLOWED,
        ALLOWED,
    ),
    OperatorCase(
        "StringEquals any of values",
        {"StringEquals": {"k": ["a", "v"]}},
        {"k": "v"},
        ALLOWED,
        ALLOWED,
    ),
    OperatorCase(
        "StringEqualsIfExists absent",
        {"StringEqualsIfExists": {"k": "v"}},
        {},
        ALLOWED,
        ALLOWED,
    ),
    OperatorCase(
        "StringEqualsIfExists other",
        {"StringEqualsIfExists": {"k": "v"}},
        {"k": "w"},
        IMPLICIT,
        IMPLICIT,
    ),
    OperatorCase(
        "StringNotEquals absent", {"StringNotEquals": {"k": "v"}}, {}, ALLOWED, ALLOWED
    ),
    OperatorCase(
        "StringNotEquals none of",
        {"StringNotEquals": {"k": ["v", "x"]}},
        {"k": "y"},
        ALLOWED,
        ALLOWED,
    ),
    OperatorCase(
        "StringNotEquals one of",
        {"StringNotEquals": {"k": ["v", "x"]}},
        {"k": "x"},
        IMPLICIT,
        IMPLICIT,
    ),
    OperatorCase(
        "StringNotEquals multivalued",
        {"StringNotEquals": {"k": "v"}},
        {"k": ["v", "y"]},
        IMPLICIT,
        IMPLICIT,
    ),
    OperatorCase(
        "StringNotEqualsIfExists absent",
        {"StringNotEqualsIfExists": {"k": "v"}},
        {},
        ALLOWED,
        ALLOWED,
    ),
    OperatorCase(
        "StringLike glob",
        {"StringLike": {"k": "a*b?"}},
        {"k": "axxbc"},
        ALLOWED,
        ALLOWED,
    ),
    OperatorCase(
        "StringLike no match",
        {"StringLike": {"k": "a*b?"}},
        {"k": "axxb"},
        IMPLICIT,
        IMPLICIT,
    ),
    OperatorCase(
        "StringLike across colons",
        {"StringLike": {"k": "a*"}},
        {"k": "a:b/c"},
        ALLOWED,
        ALLOWED,
    ),
    OperatorCase(
        "StringLike absent", {"StringLike": {"k": "a*"}}, {}, IMPLICIT, IMPLICIT
    ),
    OperatorCase(
        "StringLikeIfExists absent",
        {"StringLikeIfExists": {"k": "a*"}},
        {},
        ALLOWED,
        ALLOWED,
    ),
    OperatorCase(
        "StringNotLike match",
        {"StringNotLike": {"k": "a*"}},
        {"k": "ab"},
        IMPLICIT,
        IMPLICIT,
    ),
    OperatorCase(
        "StringNotLike no match",
        {"StringNotLike": {"k": "a*"}},
        {"k": "b"},
        ALLOWED,
        ALLOWED,
    ),
    OperatorCase(
        "StringNotLike absent (D4)",
        {"StringNotLike": {"k": "a*"}},
        {},
        ALLOWED,
        IMPLICIT,
    ),
    OperatorCase(
        "StringNotLikeIfExists absent",
        {"StringNotLikeIfExists": {"k": "a*"}},
        {},
        ALLOWED,
        ALLOWED,
    ),
    OperatorCase(
        "StringEqualsIgnoreCase",
        {"StringEqualsIgnoreCase": {"k": "AbC"}},
        {"k": "aBc"},
        ALLOWED,
        ALLOWED,
    ),
    OperatorCase(
        "StringNotEqualsIgnoreCase",
        {"StringNotEqualsIgnoreCase": {"k": "AbC"}},
        {"k": "aBc"},
        IMPLICIT,
        IMPLICIT,
    ),
    OperatorCase(
        "StringNotEqualsIgnoreCase absent",
        {"StringNotEqualsIgnoreCase": {"k": "AbC"}},
        {},
        ALLOWED,
        ALLOWED,
    ),
    OperatorCase("Null true, absent", {"Null": {"k": "true"}}, {}, ALLOWED, ALLOWED),
    OperatorCase(
        "Null true, present", {"Null": {"k": "true"}}, {"k": "x"}, IMPLICIT, IMPLICIT
    ),
    OperatorCase(
        "Null false, absent", {"Null": {"k": "false"}}, {}, IMPLICIT, IMPLICIT
    ),
    OperatorCase(
        "Null false, present", {"Null": {"k": "false"}}, {"k": "x"}, ALLOWED, ALLOWED
    ),
    OperatorCase(
        "Null true, empty value (D5)",
        {"Null": {"k": "true"}},
        {"k": ""},
        IMPLICIT,
        ALLOWED,
    ),
    OperatorCase(
        "Bool true/true", {"Bool": {"k": "true"}}, {"k": "true"}, ALLOWED, ALLOWED
    ),
    OperatorCase(
        "Bool true/false", {"Bool": {"k": "true"}}, {"k": "false"}, IMPLICIT, IMPLICIT
    ),
    OperatorCase(
        "Bool false/false", {"Bool": {"k": "false"}}, {"k": "false"}, ALLOWED, ALLOWED
    ),
    OperatorCase(
        "Bool false/true", {"Bool": {"k": "false"}}, {"k": "true"}, IMPLICIT, IMPLICIT
    ),
    OperatorCase("Bool absent", {"Bool": {"k": "true"}}, {}, IMPLICIT, IMPLICIT),
    OperatorCase(
        "Bool context TRUE", {"Bool": {"k": "true"}}, {"k": "TRUE"}, ALLOWED, ALLOWED
    ),
    OperatorCase(
        "Bool not a boolean (D6)",
        {"Bool": {"k": "false"}},
        {"k": "xyz"},
        IMPLICIT,
        ALLOWED,
    ),
    OperatorCase(
        "Bool JSON true (D7)", {"Bool": {"k": True}}, {"k": "true"}, ALLOWED, IMPLICIT
    ),
    OperatorCase(
        "BoolIfExists absent", {"BoolIfExists": {"k": "false"}}, {}, ALLOWED, ALLOWED
    ),
    OperatorCase(
        "BoolIfExists other",
        {"BoolIfExists": {"k": "true"}},
        {"k": "false"},
        IMPLICIT,
        IMPLICIT,
    ),
    OperatorCase(
        "two keys are ANDed",
        {"StringEquals": {"a": "1", "b": "2"}},
        {"a": "1"},
        IMPLICIT,
        IMPLICIT,
    ),
    OperatorCase(
        "two operators are ANDed",
        {"StringEquals": {"a": "1"}, "StringLike": {"b": "2*"}},
        {"a": "1", "b": "3"},
        IMPLICIT,
        IMPLICIT,
    ),
]


@pytest.mark.parametrize("case", OPERATOR_CASES, ids=lambda c: c.name)
def test_operator_behaviour_is_pinned(case: OperatorCase) -> None:
    policy = allow(Condition=case.condition)
    assert our_decision(policy, ACTION, RESOURCE, case.context) == case.iam
    assert pmapper_decision(policy, ACTION, RESOURCE, case.context) == case.pmapper


def test_operators_in_the_grammar_follow_iam_except_where_the_grammar_avoids_it() -> (
    None
):
    # Every disagreement among the pinned cases is a documented divergence (D4-D7), and the
    # random grammar steers clear of each: StringNotLike keys are always present, values
    # are never empty, Bool context values are booleans, policy values are strings.
    divergent = {case.name for case in OPERATOR_CASES if not case.follows_iam}
    assert divergent == {
        "StringNotLike absent (D4)",
        "Null true, empty value (D5)",
        "Bool not a boolean (D6)",
        "Bool JSON true (D7)",
    }
    used = {op.removesuffix("IfExists") for op in STRING_OPERATORS + BOOL_OPERATORS}
    pinned = {next(iter(c.condition)).removesuffix("IfExists") for c in OPERATOR_CASES}
    assert used | {"Null"} <= pinned


# ---------------------------------------------------------------------------- divergences

WS = f"arn:aws:{PREFIX}:us-west-2:123456789012:workspace"


@dataclass(frozen=True)
class Divergence:
    id: str
    policy: dict[str, Any]
    resource: str
    context: Context
    iam: str
    pmapper: str | type[Exception]
    action: str = ACTION


DIVERGENCES = [
    Divergence("D1", allow(Resource=f"{WS}/WS1"), f"{WS}/ws1", {}, IMPLICIT, ALLOWED),
    Divergence(
        "D2-question-mark",
        allow(Resource=f"arn:aws:{PREFIX}:us-west-2:123456789012?workspace/ws1"),
        f"{WS}/ws1",
        {},
        IMPLICIT,
        ALLOWED,
    ),
    Divergence(
        "D2-inner-star",
        allow(Resource=f"arn:aws:{PREFIX}:us-*/ws1"),
        f"{WS}/ws1",
        {},
        IMPLICIT,
        ALLOWED,
    ),
    Divergence(
        "D3-brackets",
        allow(Action=f"{PREFIX}:[CG]et*"),
        f"{WS}/ws1",
        {},
        IMPLICIT,
        ALLOWED,
    ),
    Divergence(
        "D3-plus",
        allow(Resource=f"{WS}/a+b"),
        f"{WS}/a+b",
        {},
        ALLOWED,
        IMPLICIT,
    ),
    Divergence(
        "D3-parenthesis",
        allow(Resource=f"{WS}/a(b"),
        f"{WS}/a(b",
        {},
        ALLOWED,
        re.error,
    ),
    Divergence(
        "D4",
        allow(Condition={"StringNotLike": {"k": "a*"}}),
        f"{WS}/ws1",
        {},
        ALLOWED,
        IMPLICIT,
    ),
    Divergence(
        "D5",
        allow(Condition={"Null": {"k": "true"}}),
        f"{WS}/ws1",
        {"k": ""},
        IMPLICIT,
        ALLOWED,
    ),
    Divergence(
        "D6",
        allow(Condition={"Bool": {"k": "false"}}),
        f"{WS}/ws1",
        {"k": "xyz"},
        IMPLICIT,
        ALLOWED,
    ),
    Divergence(
        "D7",
        allow(Condition={"Bool": {"k": True}}),
        f"{WS}/ws1",
        {"k": "true"},
        ALLOWED,
        IMPLICIT,
    ),
    Divergence(
        "D8",
        allow(Resource=WS + "/${aws:UserName}"),
        f"{WS}/ws1",
        {"aws:username": "ws1"},
        ALLOWED,
        IMPLICIT,
    ),
    Divergence(
        "D9",
        allow(Resource=None, NotResource=WS + "/${aws:username}"),
        f"{WS}/ws1",
        {},
        IMPLICIT,
        ALLOWED,
    ),
    Divergence(
        "D10",
        allow(Condition={"StringEquals": {"k": "${aws:username}"}}),
        f"{WS}/ws1",
        {"k": "bob", "aws:username": "bob"},
        ALLOWED,
        IMPLICIT,
    ),
]


@pytest.mark.parametrize("case", DIVERGENCES, ids=lambda c: c.id)
def test_documented_divergence(case: Divergence) -> None:
    assert (
        our_decision(case.policy, case.action, case.resource, case.context) == case.iam
    )
    if isinstance(case.pmapper, str):
        got = pmapper_decision(case.policy, case.action, case.resource, case.context)
        assert got == case.pmapper != case.iam
    else:
        with pytest.raises(case.pmapper):
            pmapper_decision(case.policy, case.action, case.resource, case.context)


def test_every_divergence_in_the_docstring_is_pinned() -> None:
    documented = set(re.findall(r"^(D[0-9]+) ", __doc__ or "", re.MULTILINE))
    pinned = {case.id.split("-")[0] for case in DIVERGENCES}
    assert documented == pinned == {f"D{n}" for n in range(1, 11)}


# ---------------------------------------------------------------------------- the grammar

ACTIONS = sorted(a.value for a in PACKAGE.Action) + [
    "s3:GetObject",
    "sts:GetWebIdentityToken",
    "aws-marketplace:Subscribe",
    "iam:PassRole",
]
PARTITIONS = ["aws", "aws-cn"]
SERVICES = [PREFIX, "s3"]
REGIONS = ["us-west-2", "eu-central-1", "us-east-1"]
ACCOUNTS = ["123456789012", "111122223333"]
RESOURCE_IDS = [
    "workspace/ws1",
    "workspace/ws2",
    "workspace/wrkspc_01abc",
    "workspace/ws-a_b",
    "workspace/team/x-1",
    "key/abc",
]
STRING_KEYS = ["aws:PrincipalTag/team", f"{PREFIX}:Capability", "aws:SourceVpc", "k1"]
BOOL_KEYS = ["aws:SecureTransport", "aws:MultiFactorAuthPresent"]
VARIABLE_KEY = "aws:username"
VALUES = ["dev", "prod", "Dev", "admin", "developer", "a-b_c", "x/y:z", "ws1"]
STRING_OPERATORS = [
    "StringEquals",
    "StringEqualsIfExists",
    "StringNotEquals",
    "StringNotEqualsIfExists",
    "StringLike",
    "StringLikeIfExists",
    "StringNotLike",
    "StringNotLikeIfExists",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
]
BOOL_OPERATORS = ["Bool", "BoolIfExists"]
IDENTIFIER = re.compile(r"[A-Za-z0-9_\-/:*?]*")


class Grammar:
    """Draws policies and requests from the grammar in the module docstring."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def recase(self, text: str) -> str:
        if self.rng.random() < 0.6:
            return text
        return "".join(
            c.upper() if self.rng.random() < 0.5 else c.lower() for c in text
        )

    def wildcards(self, text: str) -> str:
        chars = list(text)
        for _ in range(self.rng.choice([0, 1, 1, 2])):
            if not chars:
                break
            at = self.rng.randrange(len(chars))
            kind = self.rng.random()
            if kind < 0.4:
                chars[at] = "?"
            elif kind < 0.7:
                chars[at : self.rng.randrange(at, len(chars) + 1)] = ["*"]
            else:
                chars[at:] = ["*"]
        return "".join(chars)

    def resource(self) -> str:
        r = self.rng
        return ":".join(
            [
                "arn",
                r.choice(PARTITIONS),
                r.choice(SERVICES),
                r.choice(REGIONS),
                r.choice(ACCOUNTS),
                r.choice(RESOURCE_IDS),
            ]
        )

    def action_pattern(self, focus: str) -> str:
        r = self.rng
        roll = r.random()
        if roll < 0.05:
            return "*"
        target = focus if r.random() < 0.6 else r.choice(ACTIONS)
        prefix, name = target.split(":")
        if roll < 0.15:
            return self.recase(prefix) + ":*"
        if r.random() < 0.1:
            prefix = r.choice(["s3", PREFIX, "iam"])
        return self.recase(prefix) + ":" + self.recase(self.wildcards(name))

    def resource_pattern(self, focus: str, context: Context, negated: bool) -> str:
        r = self.rng
        roll = r.random()
        if roll < 0.1:
            return "*"
        parts = (focus if r.random() < 0.6 else self.resource()).split(":")
        if roll < 0.25:  # a literal prefix ending in "*": that * may run across colons
            at = r.choice([3, 4, 5])
            cut = r.randrange(0, len(parts[at]) + 1)
            return ":".join(parts[:at] + [parts[at][:cut] + "*"])
        for at in (1, 3, 4, 5):
            roll = r.random()
            if roll < 0.15:
                parts[at] = "*"
            elif roll < 0.35:
                parts[at] = self.wildcards(parts[at])
        if r.random() < 0.15:
            kind = parts[5].split("/")[0] if "/" in parts[5] else "workspace"
            parts[5] = kind + "/${" + VARIABLE_KEY + "}"
            if negated or r.random() < 0.7:
                context[VARIABLE_KEY] = r.choice(["ws1", "ws2", "wrkspc_01abc"])
        return ":".join(parts)

    def condition(self, required: set[str]) -> dict[str, Any]:
        r = self.rng
        block: dict[str, Any] = {}
        for _ in range(r.randint(1, 2)):
            roll = r.random()
            if roll < 0.6:
                operator = r.choice(STRING_OPERATORS)
                keys = {}
                for key in r.sample(STRING_KEYS, r.randint(1, 2)):
                    values = r.sample(VALUES, r.randint(1, 3))
                    if "Like" in operator:
                        values = [self.wildcards(v) for v in values]
                    written = self.recase(key)
                    keys[written] = (
                        values[0] if len(values) == 1 and r.random() < 0.5 else values
                    )
                    if operator == "StringNotLike":
                        required.add(key)
                block.setdefault(operator, {}).update(keys)
            elif roll < 0.8:
                key = self.recase(r.choice(BOOL_KEYS))
                block.setdefault(r.choice(BOOL_OPERATORS), {})[key] = r.choice(
                    ["true", "false", ["true"], ["false", "true"]]
                )
            else:
                key = self.recase(r.choice(STRING_KEYS + BOOL_KEYS))
                block.setdefault("Null", {})[key] = r.choice(["true", "false"])
        return block

    def policy(
        self, focus_action: str, focus_resource: str
    ) -> tuple[dict[str, Any], Context, set[str]]:
        r = self.rng
        base: Context = {}
        required: set[str] = set()
        statements = []
        for _ in range(r.randint(1, 3)):
            statement: dict[str, Any] = {"Effect": r.choice(["Allow", "Allow", "Deny"])}
            actions = [
                self.action_pattern(focus_action) for _ in range(r.randint(1, 3))
            ]
            element = "NotAction" if r.random() < 0.2 else "Action"
            statement[element] = actions[0] if len(actions) == 1 else actions
            negated = r.random() < 0.2
            resources = [
                self.resource_pattern(focus_resource, base, negated)
                for _ in range(r.randint(1, 2))
            ]
            element = "NotResource" if negated else "Resource"
            statement[element] = resources[0] if len(resources) == 1 else resources
            if r.random() < 0.5:
                statement["Condition"] = self.condition(required)
            statements.append(statement)
        body: Any = (
            statements if len(statements) > 1 or r.random() < 0.5 else statements[0]
        )
        return {"Version": "2012-10-17", "Statement": body}, base, required

    def context(self, base: Context, required: set[str]) -> Context:
        r = self.rng
        context = dict(base)
        for key in STRING_KEYS:
            if key in required or r.random() < 0.5:
                context[self.recase(key)] = (
                    r.choice(VALUES) if r.random() < 0.7 else r.sample(VALUES, 2)
                )
        for key in BOOL_KEYS:
            if r.random() < 0.5:
                context[self.recase(key)] = r.choice(["true", "false"])
        return context

    def pairs(self, count: int) -> list[tuple[dict[str, Any], str, str, Context]]:
        """``count`` (policy, action, resource, context) pairs, five requests per policy."""
        r = self.rng
        out: list[tuple[dict[str, Any], str, str, Context]] = []
        while len(out) < count:
            focus_action, focus_resource = r.choice(ACTIONS), self.resource()
            policy, base, required = self.policy(focus_action, focus_resource)
            for _ in range(min(5, count - len(out))):
                action = focus_action if r.random() < 0.5 else r.choice(ACTIONS)
                resource = focus_resource if r.random() < 0.5 else self.resource()
                out.append((policy, action, resource, self.context(base, required)))
        return out


def _in_grammar(policy: dict[str, Any], resource: str) -> bool:
    """Whether every string is made of the grammar's characters (variables aside)."""

    def strings(value: Any) -> list[str]:
        if isinstance(value, str):
            return [value]
        if isinstance(value, list):
            return [s for item in value for s in strings(item)]
        if isinstance(value, dict):
            return [s for k, v in value.items() for s in [k, *strings(v)]]
        raise AssertionError(f"not JSON text: {value!r}")

    texts = [t.replace("${" + VARIABLE_KEY + "}", "") for t in strings(policy)]
    return resource == resource.lower() and all(IDENTIFIER.fullmatch(t) for t in texts)


def _disagreements(seed: int, count: int) -> tuple[list[str], Counter[str]]:
    problems: list[str] = []
    outcomes: Counter[str] = Counter()
    for policy, action, resource, context in Grammar(seed).pairs(count):
        assert _in_grammar(policy, resource), policy
        ours = our_decision(policy, action, resource, context)
        theirs = pmapper_decision(policy, action, resource, context)
        outcomes[ours] += 1
        if ours != theirs:
            problems.append(
                f"ours={ours} pmapper={theirs} action={action} resource={resource}"
                f" context={context} policy={policy}"
            )
    return problems, outcomes


def test_a_sample_of_300_pairs_agrees() -> None:
    problems, outcomes = _disagreements(seed=20261204, count=300)
    assert not problems, "\n".join(problems[:5])
    assert sum(outcomes.values()) == 300
    assert set(outcomes) == {"allowed", "explicitDeny", "implicitDeny"}


@pytest.mark.slow
def test_10000_pairs_agree() -> None:
    problems, outcomes = _disagreements(seed=5, count=10_000)
    assert not problems, f"{len(problems)} disagreements:\n" + "\n".join(problems[:10])
    assert sum(outcomes.values()) == 10_000
    # The grammar is useful only if every outcome is common.
    assert min(outcomes.values()) > 700, outcomes


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_more_seeds_agree(seed: int) -> None:
    problems, _outcomes = _disagreements(seed=seed, count=5_000)
    assert not problems, f"{len(problems)} disagreements:\n" + "\n".join(problems[:10])
