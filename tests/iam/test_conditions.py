"""Condition operators, pinned to the IAM User Guide ("Condition operators", "Condition",
"Single-valued vs. multivalued context keys", "Variables and tags")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from generator.iam import OPERATOR_NAMES
from generator.iam.conditions import (
    ConditionError,
    check_condition,
    compile_condition,
    normalize_context,
    parse_condition_operator,
)

Context = Mapping[str, str | Sequence[str]]


def holds(
    operator: str, values: str | list[str], context: Context, *, key: str = "k"
) -> bool:
    """Whether ``{operator: {key: values}}`` holds for the context."""
    return reason(operator, values, context, key=key) is None


def reason(
    operator: str,
    values: str | list[str],
    context: Context,
    *,
    key: str = "k",
    variables: bool = True,
) -> str | None:
    parsed = parse_condition_operator(operator)
    texts = [values] if isinstance(values, str) else values
    condition = compile_condition(parsed, key, texts, variables=variables)
    return check_condition(condition, normalize_context(context))


# --------------------------------------------------------------------------- every operator

# (operator, policy value, context value that satisfies it, context value that does not)
OPERATOR_CASES = [
    ("StringEquals", "developer", "developer", "Developer"),
    ("StringNotEquals", "admin", "developer", "admin"),
    ("StringEqualsIgnoreCase", "Developer", "DEVELOPER", "admin"),
    ("StringNotEqualsIgnoreCase", "Admin", "developer", "ADMIN"),
    ("StringLike", "dev-*-?", "dev-team-1", "prod-team-1"),
    ("StringNotLike", "dev-*", "prod-1", "dev-1"),
    ("NumericEquals", "10", "10.0", "11"),
    ("NumericNotEquals", "10", "11", "1e1"),
    ("NumericLessThan", "10", "9.5", "10"),
    ("NumericLessThanEquals", "10", "10", "10.01"),
    ("NumericGreaterThan", "10", "11", "10"),
    ("NumericGreaterThanEquals", "10", "10", "-3"),
    (
        "DateEquals",
        "2026-01-01T00:00:00Z",
        "2026-01-01T01:00:00+01:00",
        "2026-01-02T00:00:00Z",
    ),
    ("DateNotEquals", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "1767225600"),
    (
        "DateLessThan",
        "2026-01-01T00:00:00Z",
        "2025-12-31T23:59:59Z",
        "2026-01-01T00:00:00Z",
    ),
    (
        "DateLessThanEquals",
        "2026-01-01",
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:01Z",
    ),
    ("DateGreaterThan", "1767225600", "2026-06-01T00:00:00Z", "2025-06-01T00:00:00Z"),
    (
        "DateGreaterThanEquals",
        "2026-01-01T00:00:00Z",
        "2026-01-01T00:00:00Z",
        "2025-12-31",
    ),
    ("Bool", "true", "true", "false"),
    ("BinaryEquals", "QmluYXJ5VmFsdWU=", "QmluYXJ5VmFsdWU=", "T3RoZXI="),
    ("IpAddress", "203.0.113.0/24", "203.0.113.7", "198.51.100.7"),
    ("NotIpAddress", "203.0.113.0/24", "198.51.100.7", "203.0.113.7"),
    (
        "ArnEquals",
        "arn:aws:s3:::bucket/*",
        "arn:aws:s3:::bucket/key",
        "arn:aws:s3:::other/key",
    ),
    (
        "ArnLike",
        "arn:aws:iam::*:role/Admin?",
        "arn:aws:iam::123456789012:role/AdminX",
        "arn:aws:iam::123456789012:role/Dev",
    ),
    (
        "ArnNotEquals",
        "arn:aws:iam::123456789012:root",
        "arn:aws:iam::210987654321:root",
        "arn:aws:iam::123456789012:root",
    ),
    (
        "ArnNotLike",
        "arn:aws:iam::*:role/Admin*",
        "arn:aws:iam::1:role/Dev",
        "arn:aws:iam::1:role/AdminX",
    ),
]


@pytest.mark.parametrize(("operator", "policy", "good", "bad"), OPERATOR_CASES)
def test_every_operator_has_a_true_and_a_false_case(
    operator: str, policy: str, good: str, bad: str
) -> None:
    """IAM UG, Condition operators: each operator's documented comparison."""
    assert holds(operator, policy, {"k": good})
    assert not holds(operator, policy, {"k": bad})


def test_operator_cases_cover_every_base_operator_except_null() -> None:
    bases = {
        name
        for name in OPERATOR_NAMES
        if ":" not in name and not name.endswith("IfExists")
    }
    assert {case[0] for case in OPERATOR_CASES} == bases - {"Null"}


def test_null_true_means_the_key_is_absent() -> None:
    """IAM UG, Condition operators, Null: "true" - the key doesn't exist (is null)."""
    assert holds("Null", "true", {})
    assert not holds("Null", "true", {"k": "v"})


def test_null_false_means_the_key_is_present() -> None:
    assert holds("Null", "false", {"k": "v"})
    assert not holds("Null", "false", {})


def test_ip_address_compares_versions_and_single_addresses() -> None:
    assert holds("IpAddress", "2001:db8::/32", {"k": "2001:db8::1"})
    assert not holds("IpAddress", "2001:db8::/32", {"k": "203.0.113.7"})
    assert holds("IpAddress", "203.0.113.7", {"k": "203.0.113.7"})


def test_arn_components_are_matched_separately_and_case_sensitively() -> None:
    """IAM UG, ARN condition operators: "each of the six colon-delimited components of the
    ARN is checked separately"; matching is case sensitive."""
    assert not holds(
        "ArnLike", "arn:aws:iam::*:role/x", {"k": "arn:aws:iam::1:2:role/x"}
    )
    assert holds(
        "ArnLike",
        "arn:aws:logs:*:*:log-group:*",
        {"k": "arn:aws:logs:us:1:log-group:a:b"},
    )
    assert not holds(
        "ArnLike", "arn:aws:iam::*:role/Admin", {"k": "arn:aws:iam::1:role/admin"}
    )
    assert not holds("ArnLike", "arn:aws:iam::*:role/Admin", {"k": "not-an-arn"})


def test_string_like_wildcards_cross_every_character() -> None:
    assert holds("StringLike", "a*z", {"k": "a:/.b+(z"})
    assert not holds("StringLike", "a[bc]", {"k": "ab"})


# --------------------------------------------------------------------------- missing keys


def _sample_value(base: str) -> str:
    samples = {
        "Numeric": "1",
        "Date": "2026-01-01T00:00:00Z",
        "Bool": "true",
        "BinaryEquals": "QQ==",
        "IpAddress": "10.0.0.0/8",
        "NotIpAddress": "10.0.0.0/8",
        "Arn": "arn:aws:s3:::b",
    }
    for prefix, value in samples.items():
        if base.startswith(prefix):
            return value
    return "value"


def _expected_when_missing(operator: str) -> bool:
    parsed = parse_condition_operator(operator)
    if parsed.qualifier == "ForAllValues":
        return True  # "also returns true if there are no context keys in the request"
    if parsed.if_exists:
        return True  # ...IfExists: "If the key is not present, evaluate the condition as true"
    if parsed.qualifier == "ForAnyValue":
        return False  # at least one value must match; none exists
    return (
        parsed.negated
    )  # "Important" note: negated operators are true when the key is missing


@pytest.mark.parametrize(
    "operator", [name for name in OPERATOR_NAMES if name != "Null"]
)
def test_missing_key_rule_for_every_operator(operator: str) -> None:
    """IAM UG, Condition operators ("Important"): a missing key makes the condition false,
    except that negated operators are true, ...IfExists is true, ForAllValues is true and
    ForAnyValue is false."""
    base = parse_condition_operator(operator).base
    assert holds(operator, _sample_value(base), {}) is _expected_when_missing(operator)


def test_missing_key_reason_names_the_key() -> None:
    assert (
        reason("IpAddress", "10.0.0.0/8", {}, key="aws:SourceIp")
        == "Condition key aws:SourceIp is missing from the request context"
    )


def test_string_not_equals_with_missing_key_is_true() -> None:
    """IAM UG, Condition operators: "If the policy condition requires that the key is not
    matched, such as StringNotLike or ArnNotLike, and the right key is not present, the
    condition is true"."""
    assert holds("StringNotEquals", "admin", {})
    assert holds("StringNotLike", "admin*", {})
    assert holds("ArnNotLike", "arn:aws:s3:::b", {})


def test_if_exists_compares_normally_when_the_key_is_present() -> None:
    """IAM UG, ...IfExists: "If the key is present, evaluate the condition as specified"."""
    assert holds("StringEqualsIfExists", "a", {"k": "a"})
    assert not holds("StringEqualsIfExists", "a", {"k": "b"})
    assert holds("StringEqualsIfExists", "a", {})
    assert not holds("NumericLessThanIfExists", "5", {"k": "7"})


def test_empty_list_counts_as_missing_key() -> None:
    assert not holds("StringEquals", "a", {"k": []})
    assert holds("StringNotEquals", "a", {"k": []})
    assert holds("Null", "true", {"k": []})


def test_condition_key_names_are_case_insensitive() -> None:
    """IAM UG, Condition element: condition key names are not case sensitive."""
    assert holds(
        "StringEquals", "a", {"AWS:PrincipalTag/Team": "a"}, key="aws:principaltag/team"
    )
    assert holds(
        "StringEquals", "a", {"aws:principaltag/team": "a"}, key="AWS:PrincipalTag/Team"
    )


def test_condition_values_are_case_sensitive_for_string_equals() -> None:
    assert not holds("StringEquals", "Admin", {"k": "admin"})


# --------------------------------------------------------------------------- several values


def test_several_values_for_one_key_are_ored() -> None:
    """IAM UG, Condition element: several values for one key are evaluated with OR."""
    assert holds("StringEquals", ["developer", "admin"], {"k": "admin"})
    assert not holds("StringEquals", ["developer", "admin"], {"k": "viewer"})


def test_negated_operator_with_several_values_works_like_and() -> None:
    """IAM UG, Condition element: "When a policy lists multiple values for a negated matching
    condition operator like StringNotEquals or DateNotEquals, the effective permissions work
    like a logical AND"."""
    assert holds("StringNotEquals", ["a", "b"], {"k": "c"})
    assert not holds("StringNotEquals", ["a", "b"], {"k": "a"})
    assert not holds("StringNotEquals", ["a", "b"], {"k": "b"})
    assert not holds(
        "NotIpAddress", ["10.0.0.0/8", "192.168.0.0/16"], {"k": "192.168.1.1"}
    )


def test_plain_operator_on_multivalued_context_value() -> None:
    """Docs silent (they require a set operator): positive = any value matches, negated =
    no value matches."""
    assert holds("StringEquals", "a", {"k": ["b", "a"]})
    assert not holds("StringNotEquals", "a", {"k": ["b", "a"]})
    assert holds("StringNotEquals", "a", {"k": ["b", "c"]})


# --------------------------------------------------------------------------- set operators


def test_for_all_values_requires_every_context_value_to_match() -> None:
    """IAM UG, multivalued context keys: ForAllValues is true when every value in the
    request matches at least one policy value."""
    assert holds("ForAllValues:StringEquals", ["a", "b"], {"k": ["a", "b"]})
    assert holds("ForAllValues:StringEquals", ["a", "b"], {"k": ["a"]})
    assert not holds("ForAllValues:StringEquals", ["a", "b"], {"k": ["a", "c"]})


def test_for_all_values_is_true_for_missing_key_and_empty_set() -> None:
    """IAM UG: ForAllValues "also returns true if there are no context keys in the request"."""
    assert holds("ForAllValues:StringEquals", ["a"], {})
    assert holds("ForAllValues:StringEquals", ["a"], {"k": []})


def test_for_any_value_requires_one_matching_value() -> None:
    assert holds("ForAnyValue:StringEquals", ["a"], {"k": ["c", "a"]})
    assert not holds("ForAnyValue:StringEquals", ["a"], {"k": ["c"]})


def test_for_any_value_is_false_for_missing_key_and_empty_set() -> None:
    """IAM UG: ForAnyValue returns false if the key is missing from the request."""
    assert not holds("ForAnyValue:StringEquals", ["a"], {})
    assert not holds("ForAnyValue:StringEquals", ["a"], {"k": []})
    assert not holds("ForAnyValue:StringNotEquals", ["a"], {})


def test_set_operators_apply_negation_per_value() -> None:
    assert holds("ForAllValues:StringNotEquals", ["a"], {"k": ["b", "c"]})
    assert not holds("ForAllValues:StringNotEquals", ["a"], {"k": ["b", "a"]})
    assert holds("ForAnyValue:StringNotEquals", ["a"], {"k": ["a", "b"]})
    assert not holds("ForAnyValue:StringNotEquals", ["a"], {"k": ["a"]})


def test_set_operator_with_if_exists() -> None:
    assert holds("ForAnyValue:StringEqualsIfExists", ["a"], {})
    assert not holds("ForAnyValue:StringEqualsIfExists", ["a"], {"k": ["b"]})


def test_set_operators_with_like_operators() -> None:
    assert holds(
        "ForAllValues:StringLike", "Created*", {"k": ["CreatedBy", "CreatedAt"]}
    )
    assert not holds(
        "ForAllValues:StringLike", "Created*", {"k": ["CreatedBy", "Owner"]}
    )


# --------------------------------------------------------------------------- unparseable context


@pytest.mark.parametrize(
    ("operator", "policy"),
    [
        ("NumericLessThan", "10"),
        ("NumericNotEquals", "10"),
        ("DateLessThan", "2026-01-01"),
        ("DateNotEquals", "2026-01-01"),
        ("Bool", "true"),
        ("IpAddress", "10.0.0.0/8"),
        ("NotIpAddress", "10.0.0.0/8"),
        ("BinaryEquals", "QQ=="),
    ],
)
def test_unparseable_context_value_is_false_not_a_crash(
    operator: str, policy: str
) -> None:
    assert not holds(operator, policy, {"k": "not-a-valid-value!"})


def test_unparseable_context_value_reason() -> None:
    assert (
        reason("NumericLessThan", "10", {"k": "abc"})
        == "Condition NumericLessThan k: context value 'abc' is not a valid number"
    )


# --------------------------------------------------------------------------- policy variables


def test_policy_variable_in_condition_value_is_substituted() -> None:
    """IAM UG, Variables and tags: variables in condition values of string operators."""
    context = {"aws:username": "alice", "k": "alice"}
    assert holds("StringEquals", "${aws:username}", context)
    assert not holds(
        "StringEquals", "${aws:username}", {"aws:username": "alice", "k": "bob"}
    )


def test_policy_variable_inside_a_like_pattern_is_literal() -> None:
    assert holds(
        "StringLike",
        "home/${aws:username}/*",
        {"aws:username": "alice", "k": "home/alice/x"},
    )
    assert not holds(
        "StringLike",
        "home/${aws:username}/*",
        {"aws:username": "alice", "k": "home/bob/x"},
    )
    assert not holds(
        "StringLike", "home/${aws:username}", {"aws:username": "*", "k": "home/x"}
    )
    assert holds(
        "StringLike", "home/${aws:username}", {"aws:username": "*", "k": "home/*"}
    )


def test_missing_policy_variable_matches_nothing() -> None:
    """IAM UG, Variables and tags: "If AWS cannot resolve a variable this might cause the
    entire statement to be invalid"."""
    assert not holds("StringEquals", "${aws:username}", {"k": "${aws:username}"})
    assert (
        reason("StringEquals", "${aws:username}", {"k": "x"})
        == "Condition StringEquals k: policy variable ${aws:username} has no value in the request context"
    )


def test_missing_policy_variable_makes_a_negated_condition_false() -> None:
    assert not holds("StringNotEquals", "${aws:username}", {"k": "x"})
    assert holds("StringNotEquals", "${aws:username}", {"k": "x", "aws:username": "y"})


def test_missing_policy_variable_leaves_other_values_in_force() -> None:
    assert holds("StringEquals", ["${aws:username}", "fallback"], {"k": "fallback"})


def test_policy_variable_default_value() -> None:
    """IAM UG, Variables and tags: ``${aws:PrincipalTag/team, 'company-wide'}``."""
    value = "${aws:PrincipalTag/team, 'company-wide'}"
    assert holds("StringEquals", value, {"k": "company-wide"})
    assert holds("StringEquals", value, {"k": "red", "aws:PrincipalTag/team": "red"})


def test_policy_variables_in_bool_and_arn_values() -> None:
    assert holds(
        "Bool",
        "${aws:PrincipalTag/flag}",
        {"aws:PrincipalTag/flag": "TRUE", "k": "true"},
    )
    assert holds(
        "ArnLike",
        "arn:aws:iam::${aws:PrincipalAccount}:role/*",
        {"aws:PrincipalAccount": "1", "k": "arn:aws:iam::1:role/x"},
    )
    assert not holds(
        "ArnLike",
        "arn:aws:iam::${aws:PrincipalAccount}:role/*",
        {"aws:PrincipalAccount": "1", "k": "arn:aws:iam::2:role/x"},
    )


@pytest.mark.parametrize(
    ("escape", "char"), [("${*}", "*"), ("${?}", "?"), ("${$}", "$")]
)
def test_escaped_wildcards_are_literal_in_like_values(escape: str, char: str) -> None:
    assert holds("StringLike", f"a{escape}", {"k": f"a{char}"})
    assert not holds("StringLike", f"a{escape}", {"k": "ab"})


def test_variables_are_literal_in_2008_policies() -> None:
    assert (
        reason(
            "StringEquals", "${aws:username}", {"k": "${aws:username}"}, variables=False
        )
        is None
    )


# --------------------------------------------------------------------------- explanations


def test_failure_reasons_read_as_sentences() -> None:
    assert (
        reason(
            "StringEquals",
            "developer",
            {"aws-external-anthropic:Capability": "admin"},
            key="aws-external-anthropic:Capability",
        )
        == "Condition StringEquals aws-external-anthropic:Capability: context value 'admin' is not one of ['developer']"
    )
    assert (
        reason("StringNotEquals", ["a", "b"], {"k": "b"})
        == "Condition StringNotEquals k: context value 'b' is one of ['a', 'b']"
    )
    assert (
        reason("NumericLessThan", "5", {"k": "7"})
        == "Condition NumericLessThan k: context value '7' is not less than one of ['5']"
    )
    assert (
        reason("Null", "true", {"k": "v"})
        == "Condition Null k: the key is present but the policy requires it absent"
    )
    assert (
        reason("ForAllValues:StringEquals", ["a"], {"k": ["a", "z"]})
        == "Condition ForAllValues:StringEquals k: context value 'z' is not one of ['a']"
    )
    assert (
        reason("ForAnyValue:StringEquals", ["a"], {"k": ["y", "z"]})
        == "Condition ForAnyValue:StringEquals k: no context value in ['y', 'z'] is one of ['a']"
    )
    assert (
        reason("StringEquals", "${aws:username}", {"aws:username": "alice", "k": "bob"})
        == "Condition StringEquals k: context value 'bob' is not one of ['${aws:username}'] (resolved: ['alice'])"
    )


# --------------------------------------------------------------------------- operator names


def test_operator_names_cover_qualifiers_and_if_exists() -> None:
    assert "ForAllValues:StringNotLikeIfExists" in OPERATOR_NAMES
    assert "Null" in OPERATOR_NAMES
    assert "NullIfExists" not in OPERATOR_NAMES
    assert "ForAnyValue:Null" not in OPERATOR_NAMES
    assert len(OPERATOR_NAMES) == 26 * 6 + 1


@pytest.mark.parametrize(
    "name",
    ["StringEqual", "IfExists", "ForAllValues:", "ForAnyValue:Null", "Stringequals"],
)
def test_unknown_operators_are_errors(name: str) -> None:
    with pytest.raises(ConditionError, match="unknown condition operator"):
        parse_condition_operator(name)


def test_normalize_context_rejects_wrong_types_and_case_duplicates() -> None:
    with pytest.raises(TypeError, match="must be a string or a list of strings"):
        normalize_context({"k": 5})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="given twice"):
        normalize_context({"aws:username": "a", "AWS:UserName": "b"})
