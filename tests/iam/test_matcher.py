"""The action/resource matcher, pinned rule by rule to the IAM User Guide.

Each test name says which rule it pins; the hypothesis tests compare the matcher with an
independent reference written as dynamic programming over characters.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.iam.matcher import (
    PatternError,
    action_matches,
    compile_resource_pattern,
    expand_action_pattern,
    fold_case,
    parse_action_pattern,
    resource_matches,
)

SVC = "aws-external-anthropic"
WS = f"arn:aws:{SVC}:us-west-2:123456789012:workspace/wrkspc_01AbCdEf23GhIj"
SAMPLE_ACTIONS = [
    f"{SVC}:{name}"
    for name in (
        "CreateFile",
        "GetFile",
        "ListFiles",
        "DeleteFile",
        "CreateUserProfile",
        "GetUserProfile",
        "UpdateUserProfile",
        "ListUserProfiles",
        "GetModel",
        "ListModels",
        "ListWorkspaces",
        "CallWithBearerToken",
    )
]


# --------------------------------------------------------------------------- reference


def _reference_glob(pattern: str, text: str, *, resource: bool) -> bool:
    """dp[i][j]: pattern[:i] matches text[:j]. Written independently of the matcher.

    resource=True applies the Resource-element rule: ``?`` and a ``*`` inside a segment do
    not match ``:``; a ``*`` that ends a segment (next char ``:`` or end) may.
    """
    rows, cols = len(pattern) + 1, len(text) + 1
    dp = [[False] * cols for _ in range(rows)]
    dp[0][0] = True
    for i, p in enumerate(pattern, start=1):
        crosses = not resource or i == len(pattern) or pattern[i] == ":"
        for j in range(cols):
            if p == "*":
                dp[i][j] = dp[i - 1][j] or (
                    j > 0 and dp[i][j - 1] and (crosses or text[j - 1] != ":")
                )
            elif p == "?":
                dp[i][j] = (
                    j > 0 and dp[i - 1][j - 1] and (not resource or text[j - 1] != ":")
                )
            else:
                dp[i][j] = j > 0 and dp[i - 1][j - 1] and text[j - 1] == p
    return dp[-1][-1]


def _reference_action(pattern: str, action: str) -> bool:
    if pattern == "*":
        return True
    p_prefix, _, p_name = pattern.partition(":")
    a_prefix, colon, a_name = action.partition(":")
    if not colon or p_prefix.lower() != a_prefix.lower():
        return False
    return _reference_glob(p_name.lower(), a_name.lower(), resource=False)


# --------------------------------------------------------------------------- actions


def test_action_prefix_and_name_are_case_insensitive() -> None:
    """IAM UG, Action element: "The prefix and the action name are case insensitive"."""
    assert action_matches(f"{SVC}:GetFile", f"{SVC}:getfile")
    assert action_matches(f"{SVC.upper()}:GETFILE", f"{SVC}:GetFile")
    assert action_matches(f"{SVC}:getf*", f"{SVC}:GetFile")


def test_action_star_matches_any_run_including_empty() -> None:
    """IAM UG, Action element: the multi-character wildcard ``*``."""
    assert action_matches(f"{SVC}:Get*", f"{SVC}:Get")
    assert action_matches(f"{SVC}:*", f"{SVC}:GetFile")
    assert action_matches(f"{SVC}:*File", f"{SVC}:GetFile")
    assert not action_matches(f"{SVC}:*File", f"{SVC}:ListFiles")


def test_action_star_file_overmatches_user_profile_actions_rule_r8() -> None:
    """IAM UG, Action element (case insensitive) => ``*File`` also matches ``*UserProfile``."""
    assert expand_action_pattern(f"{SVC}:*File", SAMPLE_ACTIONS) == [
        f"{SVC}:CreateFile",
        f"{SVC}:CreateUserProfile",
        f"{SVC}:DeleteFile",
        f"{SVC}:GetFile",
        f"{SVC}:GetUserProfile",
        f"{SVC}:UpdateUserProfile",
    ]


def test_action_question_mark_matches_exactly_one_character() -> None:
    """IAM UG, Action element: the single-character wildcard ``?``."""
    assert action_matches(f"{SVC}:Get?ile", f"{SVC}:GetFile")
    assert not action_matches(f"{SVC}:Get?ile", f"{SVC}:Getile")
    assert not action_matches(f"{SVC}:Get?ile", f"{SVC}:GetFFile")


def test_bare_star_matches_every_action_of_every_service() -> None:
    """IAM UG, Action element: ``"Action": "*"`` covers all actions."""
    assert action_matches("*", f"{SVC}:GetFile")
    assert action_matches("*", "sts:GetWebIdentityToken")


def test_action_of_other_service_is_not_matched() -> None:
    """The service prefix is compared exactly (case-insensitively), never as a prefix."""
    assert not action_matches(f"{SVC}:*", "sts:GetWebIdentityToken")
    assert not action_matches("aws-external:*", f"{SVC}:GetFile")


def test_brackets_are_literal_not_a_character_class_peer_divergence() -> None:
    """IAM has no character classes: ``[CG]et*`` must not match GetFile (parliament,
    policyuniverse and fnmatch-based tools get this wrong)."""
    assert not action_matches(f"{SVC}:[CG]et*", f"{SVC}:GetFile")
    assert expand_action_pattern(f"{SVC}:[CG]et*", SAMPLE_ACTIONS) == []
    assert action_matches(f"{SVC}:[CG]et*", f"{SVC}:[cg]etFile")


@pytest.mark.parametrize("literal", [".", "+", "(", ")", "^", "$", "|", "\\", "{"])
def test_regex_metacharacters_in_actions_are_literal(literal: str) -> None:
    """Only ``*`` and ``?`` are wildcards; everything else is literal text."""
    pattern = parse_action_pattern(f"{SVC}:Get{literal}ile")
    assert not pattern.matches(f"{SVC}:GetFile")
    assert pattern.matches(f"{SVC}:Get{literal}ile")


def test_expand_returns_sorted_unique_names() -> None:
    names = [f"{SVC}:ListFiles", f"{SVC}:GetFile", f"{SVC}:GetFile"]
    assert expand_action_pattern(f"{SVC}:*", names) == [
        f"{SVC}:GetFile",
        f"{SVC}:ListFiles",
    ]


def test_unicode_case_folding_cannot_merge_distinct_names() -> None:
    """Only ASCII letters fold: the Kelvin sign is not the letter k."""
    assert fold_case("GetKey") == "getkey"
    assert not action_matches(f"{SVC}:Get\u212aey", f"{SVC}:GetKey")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("aws-*:GetFile", "the service prefix must not contain wildcards"),
        (
            "aws-external-?nthropic:GetFile",
            "the service prefix must not contain wildcards",
        ),
        ("GetFile", 'must be "*" or "service-prefix:ActionName"'),
        (":GetFile", "empty service prefix"),
        (f"{SVC}:", "empty action name"),
        ("", "action is empty"),
        (f"{SVC}: GetFile", "contains whitespace"),
        (f"{SVC}:Get:File", "more than one ':'"),
        ("aws_external:GetFile", "may contain only letters, digits and '-'"),
    ],
)
def test_invalid_action_patterns_are_errors(text: str, message: str) -> None:
    """IAM UG, Action element: AWS rejects wildcards in the vendor ("Action vendors must not
    contain wildcards") and actions without a service prefix."""
    with pytest.raises(
        PatternError, match=message.replace("(", r"\(").replace("*", r"\*")
    ):
        parse_action_pattern(text)


_ACTION_NAME_CHARS = "aAbBfF.+([-"
_ACTION_PATTERN_CHARS = _ACTION_NAME_CHARS + "*?"


@settings(max_examples=400, deadline=None)
@given(
    prefix=st.text("abAB-", min_size=1, max_size=3),
    other_prefix=st.text("abAB-", min_size=1, max_size=3),
    name_pattern=st.text(_ACTION_PATTERN_CHARS, min_size=1, max_size=8),
    name=st.text(_ACTION_NAME_CHARS, min_size=0, max_size=10),
)
def test_action_matcher_agrees_with_reference(
    prefix: str, other_prefix: str, name_pattern: str, name: str
) -> None:
    pattern = f"{prefix}:{name_pattern}"
    for action in (
        f"{prefix}:{name}",
        f"{other_prefix}:{name}",
        f"{prefix.upper()}:{name}",
    ):
        assert action_matches(pattern, action) == _reference_action(pattern, action)


# --------------------------------------------------------------------------- resources


def test_resource_names_are_case_sensitive_peer_divergence() -> None:
    """IAM UG, Resource element: "In the Resource element, the IAM user name is case
    sensitive" (principalmapper matches resources case-insensitively)."""
    assert resource_matches(
        "arn:aws:iam::123456789012:user/Bob", "arn:aws:iam::123456789012:user/Bob"
    )
    assert not resource_matches(
        "arn:aws:iam::123456789012:user/Bob", "arn:aws:iam::123456789012:user/bob"
    )
    assert not resource_matches(WS.lower(), WS)


def test_star_and_question_mark_work_within_a_segment() -> None:
    """IAM UG, Resource element: "You can use wildcard characters (* and ?) within the
    individual segments of an ARN"."""
    assert resource_matches(f"arn:aws:{SVC}:*:*:workspace/*", WS)
    assert resource_matches(f"arn:aws:{SVC}:us-west-?:123456789012:workspace/*", WS)
    assert not resource_matches(
        f"arn:aws:{SVC}:*:*:workspace/*", WS.replace("workspace", "vault")
    )


def test_star_inside_a_segment_does_not_cross_colons() -> None:
    """A ``*`` that is not the last character of its segment stays in that segment."""
    assert resource_matches("arn:aws:svc:a*b:c", "arn:aws:svc:axxb:c")
    assert not resource_matches("arn:aws:svc:a*b:c", "arn:aws:svc:a:x:b:c")
    assert not resource_matches("arn:aws:svc:?:c", "arn:aws:svc:::c")


def test_star_at_end_of_a_segment_can_match_across_colons() -> None:
    """IAM UG, Resource element: "If the * wildcard is the last character of a resource
    ARN segment, it can expand to match beyond colon boundaries"."""
    assert resource_matches(f"arn:aws:{SVC}:*", WS)
    assert resource_matches(
        "arn:aws:logs:us-east-1:1:log-group:*",
        "arn:aws:logs:us-east-1:1:log-group:g:log-stream:s",
    )
    assert resource_matches("arn:aws:svc:*:123:thing", "arn:aws:svc:us:extra:123:thing")


def test_star_expands_over_slashes() -> None:
    """IAM UG, Resource element: ``*`` can replace everything in a segment, including ``/``."""
    assert resource_matches("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b/c")


def test_star_alone_matches_everything_including_no_resource() -> None:
    """IAM UG, Resource element: actions without resource-level permissions use ``*``;
    only ``"*"`` grants an action that has no resource type."""
    assert resource_matches("*", WS)
    assert resource_matches("*", None)
    assert resource_matches("*", "")


@pytest.mark.parametrize(
    "pattern", ["arn:*", f"arn:aws:{SVC}:*:*:*", "arn:aws:svc:::?"]
)
def test_no_other_pattern_matches_no_resource(pattern: str) -> None:
    assert not resource_matches(pattern, None)


@pytest.mark.parametrize(
    "literal", ["+", "(", ")", ".", "[", "]", "^", "$", "|", "\\", "{"]
)
def test_regex_metacharacters_in_arns_are_literal_peer_divergence(literal: str) -> None:
    """principalmapper escapes only ``.``, ``$``, ``^``: ``+`` fails to match itself and
    ``(`` raises. Here every character other than ``*``/``?`` is literal."""
    pattern = f"arn:aws:svc:::name{literal}x*"
    assert resource_matches(pattern, f"arn:aws:svc:::name{literal}x/1")
    assert not resource_matches(pattern, "arn:aws:svc:::namex/1")
    assert not resource_matches(pattern, "arn:aws:svc:::nameex/1")


def test_resource_patterns_are_compiled_once() -> None:
    assert compile_resource_pattern(
        f"arn:aws:{SVC}:*:*:workspace/*"
    ) is compile_resource_pattern(f"arn:aws:{SVC}:*:*:workspace/*")


_ARN_CHARS = "ab:/+(.[$"


@settings(max_examples=500, deadline=None)
@given(
    pattern=st.text(_ARN_CHARS + "*?", min_size=1, max_size=9),
    resource=st.text(_ARN_CHARS, max_size=10),
)
def test_resource_matcher_agrees_with_reference(pattern: str, resource: str) -> None:
    expected = _reference_glob(pattern, resource, resource=True)
    assert resource_matches(pattern, resource) == expected


@settings(max_examples=200, deadline=None)
@given(
    pattern=st.text(_ARN_CHARS, min_size=1, max_size=9),
    resource=st.text(_ARN_CHARS, max_size=10),
)
def test_pattern_without_wildcards_matches_only_itself(
    pattern: str, resource: str
) -> None:
    assert resource_matches(pattern, resource) == (pattern == resource)


# --------------------------------------------------------------------------- variables


def test_policy_variable_in_resource_is_substituted() -> None:
    """IAM UG, Variables and tags: ``${aws:username}`` is replaced by the request's value."""
    pattern = "arn:aws:s3:::bucket/home/${aws:username}/*"
    context = {"aws:username": ("alice",)}
    assert resource_matches(pattern, "arn:aws:s3:::bucket/home/alice/notes", context)
    assert not resource_matches(pattern, "arn:aws:s3:::bucket/home/bob/notes", context)


def test_policy_variable_key_lookup_is_case_insensitive() -> None:
    """IAM UG, Condition element: condition key names are not case sensitive."""
    pattern = "arn:aws:s3:::bucket/${AWS:UserName}"
    assert resource_matches(
        pattern, "arn:aws:s3:::bucket/alice", {"aws:username": ("alice",)}
    )


def test_missing_policy_variable_matches_nothing() -> None:
    """IAM UG, Variables and tags: an unresolved variable makes the resource not match."""
    pattern = compile_resource_pattern("arn:aws:s3:::bucket/${aws:username}")
    assert not pattern.matches("arn:aws:s3:::bucket/", {})
    assert not pattern.matches("arn:aws:s3:::bucket/${aws:username}", {})
    assert [var.written for var in pattern.unresolved({})] == ["${aws:username}"]


def test_policy_variable_default_is_used_when_key_is_missing() -> None:
    """IAM UG, Variables and tags: ``${key, 'default'}``."""
    pattern = "arn:aws:s3:::bucket/${aws:PrincipalTag/team, 'company-wide'}/*"
    assert resource_matches(pattern, "arn:aws:s3:::bucket/company-wide/x", {})
    assert resource_matches(
        pattern, "arn:aws:s3:::bucket/red/x", {"aws:principaltag/team": ("red",)}
    )


def test_multivalued_key_cannot_be_a_policy_variable() -> None:
    """IAM UG, Single-valued vs. multivalued context keys: multivalued keys can't be variables."""
    pattern = "arn:aws:s3:::bucket/${aws:TagKeys}"
    assert not resource_matches(
        pattern, "arn:aws:s3:::bucket/a", {"aws:tagkeys": ("a", "b")}
    )


@pytest.mark.parametrize(
    ("escape", "char"), [("${*}", "*"), ("${?}", "?"), ("${$}", "$")]
)
def test_escaped_special_characters_are_literal(escape: str, char: str) -> None:
    """IAM UG, Variables and tags: ``${*}``, ``${?}``, ``${$}`` are the literal characters."""
    pattern = f"arn:aws:s3:::bucket/{escape}"
    assert resource_matches(pattern, f"arn:aws:s3:::bucket/{char}")
    assert not resource_matches(pattern, "arn:aws:s3:::bucket/x")


def test_substituted_values_are_literal_never_wildcards() -> None:
    pattern = "arn:aws:s3:::bucket/${aws:username}"
    context = {"aws:username": ("*",)}
    assert resource_matches(pattern, "arn:aws:s3:::bucket/*", context)
    assert not resource_matches(pattern, "arn:aws:s3:::bucket/anything", context)


def test_variables_are_literal_text_in_2008_policies() -> None:
    """IAM UG, Version element: in 2008-10-17 ``${aws:username}`` is a literal string."""
    pattern = compile_resource_pattern(
        "arn:aws:s3:::bucket/${aws:username}", variables=False
    )
    assert pattern.matches(
        "arn:aws:s3:::bucket/${aws:username}", {"aws:username": ("alice",)}
    )
    assert not pattern.matches(
        "arn:aws:s3:::bucket/alice", {"aws:username": ("alice",)}
    )


def test_default_value_quotes_are_doubled() -> None:
    pattern = "arn:aws:s3:::b/${aws:username, 'it''s'}"
    assert resource_matches(pattern, "arn:aws:s3:::b/it's", {})


@pytest.mark.parametrize(
    "text",
    ["arn:aws:s3:::b/${aws:username", "arn:aws:s3:::b/${}", "arn:aws:s3:::b/${a b}"],
)
def test_malformed_policy_variable_is_an_error(text: str) -> None:
    with pytest.raises(PatternError, match="malformed policy variable"):
        compile_resource_pattern(text)
