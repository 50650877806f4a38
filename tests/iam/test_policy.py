"""Policy documents: parsing, validation, and the errors a malformed policy must produce.

A malformed policy never becomes a Policy, so it can never be evaluated into an allow.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest

from generator.iam import (
    Decision,
    Effect,
    NamedPolicy,
    PolicyError,
    PolicyParseError,
    PolicySet,
    Request,
    evaluate,
    parse_policy,
    validate_policy,
)

SVC = "aws-external-anthropic"
WS = f"arn:aws:{SVC}:us-west-2:123456789012:workspace/wrkspc_01AbCdEf23GhIj"

# AWS managed policy AnthropicReadOnlyAccess v2, as published (facts.md §d).
READ_ONLY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AnthropicReadOnlyWorkspace",
            "Effect": "Allow",
            "Action": [f"{SVC}:Get*", f"{SVC}:List*"],
            "Resource": f"arn:aws:{SVC}:*:*:workspace/*",
        },
        {
            "Sid": "AnthropicReadOnlyResourceless",
            "Effect": "Allow",
            "Action": [f"{SVC}:GetAccountStatus", f"{SVC}:CallWithBearerToken"],
            "Resource": "*",
        },
        {
            "Sid": "AnthropicReadOnlyGetToken",
            "Effect": "Allow",
            "Action": "sts:GetWebIdentityToken",
            "Resource": "*",
            "Condition": {
                "ForAnyValue:StringEquals": {
                    "sts:IdentityTokenAudience": [
                        "https://api.anthropic.com",
                        "https://platform.claude.com",
                    ]
                },
                "StringEquals": {"aws:CalledViaLast": f"{SVC}.amazonaws.com"},
            },
        },
        {
            "Sid": "AnthropicReadOnlyTagToken",
            "Effect": "Allow",
            "Action": "sts:TagGetWebIdentityToken",
            "Resource": "*",
        },
    ],
}

VALID_STATEMENT: dict[str, Any] = {
    "Effect": "Allow",
    "Action": f"{SVC}:Get*",
    "Resource": "*",
}


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _stmt(**changes: Any) -> dict[str, Any]:
    statement = dict(VALID_STATEMENT)
    for key, value in changes.items():
        if value is _DELETE:
            statement.pop(key, None)
        else:
            statement[key] = value
    return statement


_DELETE = object()


# --------------------------------------------------------------------------- valid documents


def test_managed_policy_parses_into_compiled_statements() -> None:
    policy = parse_policy(READ_ONLY)
    assert policy.version == "2012-10-17"
    assert [s.label for s in policy.statements] == [
        "AnthropicReadOnlyWorkspace",
        "AnthropicReadOnlyResourceless",
        "AnthropicReadOnlyGetToken",
        "AnthropicReadOnlyTagToken",
    ]
    first = policy.statements[0]
    assert first.effect is Effect.ALLOW
    assert [p.text for p in first.actions] == [f"{SVC}:Get*", f"{SVC}:List*"]
    assert first.matches_action(f"{SVC}:GetFile")
    assert [c.describe() for c in policy.statements[2].conditions] == [
        "ForAnyValue:StringEquals sts:IdentityTokenAudience",
        "StringEquals aws:CalledViaLast",
    ]


def test_statement_may_be_a_single_object() -> None:
    """IAM UG, Statement element: a single statement object or an array of them."""
    policy = parse_policy({"Version": "2012-10-17", "Statement": VALID_STATEMENT})
    assert policy.statements[0].path == "Statement"
    assert policy.statements[0].label == "Statement"


def test_label_falls_back_to_statement_path() -> None:
    policy = parse_policy(_doc(VALID_STATEMENT, dict(VALID_STATEMENT, Sid="Named")))
    assert [s.label for s in policy.statements] == ["Statement[0]", "Named"]


def test_version_2008_is_accepted_and_keeps_variables_literal() -> None:
    """IAM UG, Version element: 2008-10-17 is supported; variables are literal strings."""
    policy = parse_policy(
        {
            "Version": "2008-10-17",
            "Statement": [_stmt(Resource="arn:aws:s3:::b/${aws:username}")],
        }
    )
    assert not policy.uses_variables
    named = NamedPolicy("legacy", policy)
    literal = Request(
        f"{SVC}:GetFile", "arn:aws:s3:::b/${aws:username}", {"aws:username": "x"}
    )
    assert evaluate([named], literal).decision is Decision.ALLOWED
    substituted = Request(f"{SVC}:GetFile", "arn:aws:s3:::b/x", {"aws:username": "x"})
    assert evaluate([named], substituted).decision is Decision.IMPLICIT_DENY


def test_empty_sid_counts_as_no_sid() -> None:
    policy = parse_policy(
        _doc(dict(VALID_STATEMENT, Sid=""), dict(VALID_STATEMENT, Sid=""))
    )
    assert [s.sid for s in policy.statements] == [None, None]


def test_json_numbers_and_booleans_in_conditions_become_text() -> None:
    policy = parse_policy(
        _doc(
            _stmt(
                Condition={
                    "Bool": {"aws:SecureTransport": True},
                    "NumericLessThan": {"k": 5},
                }
            )
        )
    )
    assert [c.values for c in policy.statements[0].conditions] == [("true",), ("5",)]


def test_parsing_does_not_mutate_the_document() -> None:
    original = copy.deepcopy(READ_ONLY)
    parse_policy(READ_ONLY)
    assert original == READ_ONLY


# --------------------------------------------------------------------------- malformed documents

# (case id, document, expected error path, fragment of the expected message)
MALFORMED: list[tuple[str, Any, str, str]] = [
    (
        "document-is-a-list",
        [VALID_STATEMENT],
        "",
        "a policy document must be a JSON object, not a list",
    ),
    ("document-is-a-string", "{}", "", "must be a JSON object, not a string"),
    (
        "version-missing",
        {"Statement": [VALID_STATEMENT]},
        "Version",
        "Version is missing",
    ),
    (
        "version-unknown",
        {"Version": "2012-10-18", "Statement": [VALID_STATEMENT]},
        "Version",
        "unsupported Version '2012-10-18'",
    ),
    (
        "version-a-number",
        {"Version": 2012, "Statement": [VALID_STATEMENT]},
        "Version",
        "Version must be a string, not a number",
    ),
    (
        "statement-missing",
        {"Version": "2012-10-17"},
        "Statement",
        "Statement is missing",
    ),
    (
        "statement-empty-list",
        _doc(),
        "Statement",
        "Statement must not be an empty list",
    ),
    (
        "statement-a-string",
        {"Version": "2012-10-17", "Statement": "Allow"},
        "Statement",
        "must be an object or a list of objects",
    ),
    ("statement-element-a-string", _doc("Allow"), "Statement[0]", "a statement must be a JSON object, not a string"),  # type: ignore[arg-type]
    ("statement-element-a-list", _doc([VALID_STATEMENT]), "Statement[0]", "a statement must be a JSON object, not a list"),  # type: ignore[arg-type]
    ("statement-element-null", _doc(None), "Statement[0]", "not null"),  # type: ignore[arg-type]
    (
        "unknown-top-level-key",
        dict(_doc(VALID_STATEMENT), Foo=1),
        "Foo",
        "unknown element 'Foo'",
    ),
    (
        "top-level-key-wrong-case",
        {"Version": "2012-10-17", "statement": [VALID_STATEMENT]},
        "statement",
        "element names are case sensitive: 'Statement'",
    ),
    ("id-not-a-string", dict(_doc(VALID_STATEMENT), Id=7), "Id", "Id must be a string"),
    (
        "unknown-statement-key",
        _doc(_stmt(Actions=[f"{SVC}:GetFile"])),
        "Statement[0].Actions",
        "did you mean 'Action'?",
    ),
    (
        "principal-present",
        _doc(_stmt(Principal={"AWS": "*"})),
        "Statement[0].Principal",
        "Principal is not allowed in an identity-based policy",
    ),
    (
        "not-principal-present",
        _doc(_stmt(NotPrincipal={"AWS": "*"})),
        "Statement[0].NotPrincipal",
        "NotPrincipal is not allowed in an identity-based policy",
    ),
    (
        "action-and-not-action",
        _doc(_stmt(NotAction=f"{SVC}:Delete*")),
        "Statement[0]",
        "must have Action or NotAction, not both",
    ),
    (
        "neither-action-nor-not-action",
        _doc(_stmt(Action=_DELETE)),
        "Statement[0]",
        "must have Action or NotAction",
    ),
    (
        "resource-and-not-resource",
        _doc(_stmt(NotResource="*")),
        "Statement[0]",
        "must have Resource or NotResource, not both",
    ),
    (
        "neither-resource-nor-not-resource",
        _doc(_stmt(Resource=_DELETE)),
        "Statement[0]",
        "must have Resource or NotResource",
    ),
    (
        "action-empty-list",
        _doc(_stmt(Action=[])),
        "Statement[0].Action",
        "Action must not be an empty list",
    ),
    (
        "action-a-number",
        _doc(_stmt(Action=5)),
        "Statement[0].Action",
        "Action must be a string or a list of strings, not a number",
    ),
    (
        "action-list-with-number",
        _doc(_stmt(Action=[f"{SVC}:GetFile", 5])),
        "Statement[0].Action[1]",
        "must be a string, not a number",
    ),
    (
        "action-empty-string",
        _doc(_stmt(Action="")),
        "Statement[0].Action",
        "action is empty",
    ),
    (
        "action-without-prefix",
        _doc(_stmt(Action="GetFile")),
        "Statement[0].Action",
        'must be "*" or "service-prefix:ActionName"',
    ),
    (
        "action-wildcard-in-prefix",
        _doc(_stmt(Action="aws-*:GetFile")),
        "Statement[0].Action",
        "service prefix must not contain wildcards",
    ),
    (
        "action-empty-name",
        _doc(_stmt(Action=f"{SVC}:")),
        "Statement[0].Action",
        "empty action name",
    ),
    (
        "action-empty-prefix",
        _doc(_stmt(Action=":GetFile")),
        "Statement[0].Action",
        "empty service prefix",
    ),
    (
        "action-with-whitespace",
        _doc(_stmt(Action=f"{SVC}: GetFile")),
        "Statement[0].Action",
        "contains whitespace",
    ),
    (
        "not-action-empty-list",
        _doc(_stmt(Action=_DELETE, NotAction=[])),
        "Statement[0].NotAction",
        "NotAction must not be an empty list",
    ),
    (
        "resource-empty-list",
        _doc(_stmt(Resource=[])),
        "Statement[0].Resource",
        "Resource must not be an empty list",
    ),
    (
        "resource-a-number",
        _doc(_stmt(Resource=1)),
        "Statement[0].Resource",
        "not a number",
    ),
    (
        "resource-empty-string",
        _doc(_stmt(Resource="")),
        "Statement[0].Resource",
        "a resource must not be empty",
    ),
    (
        "resource-not-an-arn",
        _doc(_stmt(Resource="workspace/*")),
        "Statement[0].Resource",
        'must be "*" or an ARN starting with "arn:"',
    ),
    (
        "resource-wildcard-in-service",
        _doc(_stmt(Resource=["*", "arn:aws:*:us-east-1:1:x"])),
        "Statement[0].Resource[1]",
        "service segment '*' must not contain wildcards",
    ),
    (
        "resource-malformed-variable",
        _doc(_stmt(Resource="arn:aws:s3:::b/${aws:username")),
        "Statement[0].Resource",
        "malformed policy variable",
    ),
    (
        "effect-missing",
        _doc(_stmt(Effect=_DELETE)),
        "Statement[0]",
        "Effect is missing",
    ),
    (
        "effect-lowercase",
        _doc(_stmt(Effect="allow")),
        "Statement[0].Effect",
        'Effect must be "Allow" or "Deny", not \'allow\'',
    ),
    (
        "sid-duplicate",
        _doc(_stmt(Sid="A"), _stmt(Sid="A")),
        "Statement[1].Sid",
        "duplicate Sid 'A' (also Statement[0])",
    ),
    (
        "sid-not-a-string",
        _doc(_stmt(Sid=1)),
        "Statement[0].Sid",
        "Sid must be a string",
    ),
    (
        "sid-with-punctuation",
        _doc(_stmt(Sid="my-sid")),
        "Statement[0].Sid",
        "may contain only ASCII letters and digits",
    ),
    (
        "condition-a-list",
        _doc(_stmt(Condition=[])),
        "Statement[0].Condition",
        "Condition must be an object, not a list",
    ),
    (
        "condition-empty",
        _doc(_stmt(Condition={})),
        "Statement[0].Condition",
        "Condition must not be empty",
    ),
    (
        "unknown-operator",
        _doc(_stmt(Condition={"StringEqualz": {"k": "v"}})),
        "Statement[0].Condition.StringEqualz",
        "unknown condition operator 'StringEqualz'; did you mean 'StringEquals'?",
    ),
    (
        "operator-wrong-case",
        _doc(_stmt(Condition={"stringequals": {"k": "v"}})),
        "Statement[0].Condition.stringequals",
        "operator names are case sensitive: 'StringEquals'",
    ),
    (
        "null-if-exists",
        _doc(_stmt(Condition={"NullIfExists": {"k": "true"}})),
        "Statement[0].Condition.NullIfExists",
        "Null takes neither IfExists nor a set qualifier",
    ),
    (
        "unknown-set-qualifier",
        _doc(_stmt(Condition={"ForSomeValues:StringEquals": {"k": "v"}})),
        "Statement[0].Condition.ForSomeValues:StringEquals",
        "unknown condition operator",
    ),
    (
        "operator-value-a-string",
        _doc(_stmt(Condition={"StringEquals": "v"})),
        "Statement[0].Condition.StringEquals",
        "must map condition keys to values",
    ),
    (
        "operator-without-keys",
        _doc(_stmt(Condition={"StringEquals": {}})),
        "Statement[0].Condition.StringEquals",
        "must name at least one condition key",
    ),
    (
        "condition-values-empty-list",
        _doc(_stmt(Condition={"StringEquals": {"k": []}})),
        "Statement[0].Condition.StringEquals.k",
        "condition values must not be an empty list",
    ),
    (
        "condition-value-an-object",
        _doc(_stmt(Condition={"StringEquals": {"k": {"a": 1}}})),
        "Statement[0].Condition.StringEquals.k",
        "not an object",
    ),
    (
        "condition-value-null",
        _doc(_stmt(Condition={"StringEquals": {"k": ["a", None]}})),
        "Statement[0].Condition.StringEquals.k[1]",
        "not null",
    ),
    (
        "numeric-value-not-a-number",
        _doc(_stmt(Condition={"NumericEquals": {"k": "abc"}})),
        "Statement[0].Condition.NumericEquals.k",
        "NumericEquals value 'abc' is not a valid number",
    ),
    (
        "numeric-value-a-variable",
        _doc(_stmt(Condition={"NumericLessThan": {"k": "${aws:x}"}})),
        "Statement[0].Condition.NumericLessThan.k",
        "policy variables are not supported by Numeric operators",
    ),
    (
        "date-value-not-a-date",
        _doc(_stmt(Condition={"DateLessThan": {"aws:CurrentTime": "tomorrow"}})),
        "Statement[0].Condition.DateLessThan.aws:CurrentTime",
        "is not a valid date",
    ),
    (
        "bool-value-not-a-boolean",
        _doc(_stmt(Condition={"Bool": {"aws:SecureTransport": "yes"}})),
        "Statement[0].Condition.Bool.aws:SecureTransport",
        "is not a valid boolean",
    ),
    (
        "ip-value-not-an-address",
        _doc(_stmt(Condition={"IpAddress": {"aws:SourceIp": "999.1.1.1/8"}})),
        "Statement[0].Condition.IpAddress.aws:SourceIp",
        "is not a valid IP address or CIDR range",
    ),
    (
        "binary-value-not-base64",
        _doc(_stmt(Condition={"BinaryEquals": {"k": "not base64!"}})),
        "Statement[0].Condition.BinaryEquals.k",
        "is not a valid base64 value",
    ),
    (
        "arn-value-incomplete",
        _doc(_stmt(Condition={"ArnLike": {"aws:SourceArn": "arn:aws:s3"}})),
        "Statement[0].Condition.ArnLike.aws:SourceArn",
        "needs six colon-separated components",
    ),
    (
        "null-value-not-a-boolean",
        _doc(_stmt(Condition={"Null": {"k": "maybe"}})),
        "Statement[0].Condition.Null.k",
        "is not a valid Null value",
    ),
    (
        "condition-key-empty",
        _doc(_stmt(Condition={"StringEquals": {"": "v"}})),
        "Statement[0].Condition.StringEquals.",
        "a condition key must be a non-empty string",
    ),
    (
        "condition-value-malformed-variable",
        _doc(_stmt(Condition={"StringEquals": {"k": "${aws:username"}})),
        "Statement[0].Condition.StringEquals.k",
        "malformed policy variable",
    ),
]


@pytest.mark.parametrize(
    ("document", "path", "fragment"),
    [
        pytest.param(doc, path, fragment, id=case)
        for case, doc, path, fragment in MALFORMED
    ],
)
def test_malformed_policy_is_an_error_and_never_an_allow(
    document: Any, path: str, fragment: str
) -> None:
    errors = validate_policy(document)
    assert any(
        error.path == path and fragment in error.message for error in errors
    ), errors
    with pytest.raises(PolicyParseError) as raised:
        NamedPolicy.from_document("bad", document)
    assert raised.value.errors == tuple(errors)


def test_there_are_at_least_thirty_malformed_cases() -> None:
    assert len(MALFORMED) >= 30


def test_all_errors_are_reported_at_once_with_paths() -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Dup", "Effect": "Permit", "Action": 3, "Resource": "*"},
            {"Sid": "Dup", "Effect": "Deny", "NotAction": [], "Resource": "bucket"},
        ],
    }
    assert [str(error) for error in validate_policy(document)] == [
        'Statement[0].Effect: Effect must be "Allow" or "Deny", not \'Permit\'',
        "Statement[0].Action: Action must be a string or a list of strings, not a number",
        "Statement[1].Sid: duplicate Sid 'Dup' (also Statement[0]); Sids must be unique within a policy",
        "Statement[1].NotAction: NotAction must not be an empty list",
        'Statement[1].Resource: resource \'bucket\' must be "*" or an ARN starting with "arn:"',
    ]


def test_parse_error_message_lists_every_error() -> None:
    with pytest.raises(PolicyParseError) as raised:
        parse_policy({"Statement": "x"})
    assert str(raised.value).splitlines() == [
        'Version: Version is missing; use "2012-10-17" (without it AWS applies 2008-10-17,'
        " where policy variables are literal text)",
        "Statement: Statement must be an object or a list of objects, not a string",
    ]


def test_policy_error_string_without_path() -> None:
    assert str(PolicyError("", "boom")) == "boom"
    assert str(PolicyError("Version", "boom")) == "Version: boom"


def test_valid_policy_has_no_errors() -> None:
    assert validate_policy(READ_ONLY) == []


# --------------------------------------------------------------------------- size


def test_huge_document_of_ten_thousand_statements_parses_and_evaluates_quickly() -> (
    None
):
    statements = [
        {
            "Sid": f"S{index}",
            "Effect": "Allow",
            "Action": f"{SVC}:Action{index}",
            "Resource": f"arn:aws:{SVC}:*:*:workspace/w{index}",
        }
        for index in range(10_000)
    ]
    statements.append(
        {
            "Sid": "DenyLast",
            "Effect": "Deny",
            "Action": f"{SVC}:Action9999",
            "Resource": "*",
        }
    )
    started = time.perf_counter()
    named = NamedPolicy.from_document("huge", _doc(*statements))
    policies = PolicySet([named])
    allowed = Request(f"{SVC}:Action5000", f"arn:aws:{SVC}:us:1:workspace/w5000")
    denied = Request(f"{SVC}:Action9999", f"arn:aws:{SVC}:us:1:workspace/w9999")
    assert policies.evaluate(allowed).decision is Decision.ALLOWED
    assert policies.evaluate(denied).decision is Decision.EXPLICIT_DENY
    assert policies.decide(allowed.action, allowed.resource) is Decision.ALLOWED
    assert time.perf_counter() - started < 10
