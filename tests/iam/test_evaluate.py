"""Policy evaluation, pinned to the IAM User Guide ("Policy evaluation logic", "How AWS
enforcement code logic evaluates requests to allow or deny access")."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.iam import (
    Decision,
    NamedPolicy,
    PolicyKind,
    PolicySet,
    Request,
    authorize,
    evaluate,
)

SVC = "aws-external-anthropic"
WS = f"arn:aws:{SVC}:us-west-2:123456789012:workspace/wrkspc_01AbCdEf23GhIj"
OTHER_WS = f"arn:aws:{SVC}:us-west-2:123456789012:workspace/wrkspc_other"
BEARER = f"{SVC}:CallWithBearerToken"


def policy(name: str, *statements: dict[str, Any]) -> NamedPolicy:
    return NamedPolicy.from_document(
        name, {"Version": "2012-10-17", "Statement": list(statements)}
    )


def allow(
    action: str | list[str], resource: str | list[str] = "*", **extra: Any
) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(
    action: str | list[str], resource: str | list[str] = "*", **extra: Any
) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


READ_ONLY = policy(
    "AnthropicReadOnlyAccess",
    allow(
        [f"{SVC}:Get*", f"{SVC}:List*"],
        f"arn:aws:{SVC}:*:*:workspace/*",
        Sid="AnthropicReadOnlyWorkspace",
    ),
    allow(
        [f"{SVC}:GetAccountStatus", BEARER], "*", Sid="AnthropicReadOnlyResourceless"
    ),
)


def decide(
    policies: list[NamedPolicy],
    action: str,
    resource: str | None = None,
    **context: Any,
) -> Decision:
    return evaluate(policies, Request(action, resource, context)).decision


# --------------------------------------------------------------------------- basic rules


def test_no_policy_means_implicit_deny() -> None:
    """IAM UG: "By default, all requests are implicitly denied"."""
    assert decide([], f"{SVC}:GetFile", WS) is Decision.IMPLICIT_DENY


def test_applicable_allow_grants() -> None:
    assert decide([READ_ONLY], f"{SVC}:GetFile", WS) is Decision.ALLOWED


def test_explicit_deny_overrides_allow_in_the_same_policy() -> None:
    """IAM UG: "An explicit deny overrides an explicit allow"."""
    both = policy("p", allow(f"{SVC}:*"), deny(f"{SVC}:Delete*"))
    assert decide([both], f"{SVC}:DeleteFile", WS) is Decision.EXPLICIT_DENY
    assert decide([both], f"{SVC}:GetFile", WS) is Decision.ALLOWED


def test_explicit_deny_in_any_policy_overrides_allows_in_others() -> None:
    denies = policy("deny-batch", deny(f"{SVC}:CreateBatchInference"))
    full = policy("full", allow(f"{SVC}:*"))
    assert (
        decide([full, denies], f"{SVC}:CreateBatchInference", WS)
        is Decision.EXPLICIT_DENY
    )


def test_identity_policies_are_a_union() -> None:
    files = policy("files", allow(f"{SVC}:GetFile", WS))
    models = policy("models", allow(f"{SVC}:GetModel", WS))
    assert decide([files, models], f"{SVC}:GetModel", WS) is Decision.ALLOWED
    assert decide([files, models], f"{SVC}:GetFile", WS) is Decision.ALLOWED
    assert decide([files, models], f"{SVC}:GetSkill", WS) is Decision.IMPLICIT_DENY


def test_unmet_condition_on_one_allow_does_not_block_another_allow() -> None:
    """A statement whose condition fails simply does not apply (moto gets this wrong)."""
    conditional = policy(
        "c", allow(f"{SVC}:GetFile", Condition={"StringEquals": {"aws:username": "x"}})
    )
    plain = policy("p", allow(f"{SVC}:GetFile"))
    assert decide([conditional, plain], f"{SVC}:GetFile", WS) is Decision.ALLOWED


def test_several_condition_operators_and_keys_are_anded() -> None:
    """IAM UG, Condition element: several operators, or several keys, are evaluated with AND."""
    statement = allow(
        f"{SVC}:GetFile",
        Condition={
            "StringEquals": {"aws:username": "alice", "aws:PrincipalTag/team": "red"},
            "Bool": {"aws:SecureTransport": "true"},
        },
    )
    policies = [policy("p", statement)]
    full = {
        "aws:username": "alice",
        "aws:PrincipalTag/team": "red",
        "aws:SecureTransport": "true",
    }
    assert (
        evaluate(policies, Request(f"{SVC}:GetFile", WS, full)).decision
        is Decision.ALLOWED
    )
    for key in full:
        partial = {k: v for k, v in full.items() if k != key}
        assert (
            evaluate(policies, Request(f"{SVC}:GetFile", WS, partial)).decision
            is Decision.IMPLICIT_DENY
        )


def test_case_of_action_in_request_does_not_matter() -> None:
    assert decide([READ_ONLY], f"{SVC.upper()}:getfile", WS) is Decision.ALLOWED


def test_request_action_must_have_a_prefix() -> None:
    with pytest.raises(ValueError, match="must be 'service-prefix:ActionName'"):
        Request("GetFile", WS)


# --------------------------------------------------------------------------- NotAction / NotResource


def test_not_action_allows_everything_else_including_other_services() -> None:
    """IAM UG, NotAction: the statement matches every action except those listed."""
    everything_but_delete = policy(
        "p", {"Effect": "Allow", "NotAction": f"{SVC}:Delete*", "Resource": "*"}
    )
    assert decide([everything_but_delete], f"{SVC}:GetFile", WS) is Decision.ALLOWED
    assert decide([everything_but_delete], "iam:CreateUser", "*") is Decision.ALLOWED
    assert (
        decide([everything_but_delete], f"{SVC}:DeleteFile", WS)
        is Decision.IMPLICIT_DENY
    )


def test_not_resource_excludes_the_listed_arns() -> None:
    """IAM UG, NotResource: the statement applies to every resource except those listed
    (moto ignores NotResource and allows)."""
    p = policy("p", {"Effect": "Allow", "Action": f"{SVC}:*", "NotResource": OTHER_WS})
    assert decide([p], f"{SVC}:GetFile", WS) is Decision.ALLOWED
    assert decide([p], f"{SVC}:GetFile", OTHER_WS) is Decision.IMPLICIT_DENY


def test_not_resource_applies_to_actions_without_resource_unless_it_lists_star() -> (
    None
):
    p = policy(
        "p",
        {
            "Effect": "Allow",
            "Action": f"{SVC}:*",
            "NotResource": f"arn:aws:{SVC}:*:*:workspace/*",
        },
    )
    assert decide([p], f"{SVC}:ListWorkspaces") is Decision.ALLOWED
    star = policy("p", {"Effect": "Allow", "Action": f"{SVC}:*", "NotResource": "*"})
    assert decide([star], f"{SVC}:ListWorkspaces") is Decision.IMPLICIT_DENY
    assert decide([star], f"{SVC}:GetFile", WS) is Decision.IMPLICIT_DENY


def test_action_without_resource_type_is_granted_only_by_star() -> None:
    """IAM UG, Resource element: actions without resource-level permissions need ``*``
    (a workspace ARN filters out account-scoped ListWorkspaces - rule D5)."""
    assert decide([READ_ONLY], f"{SVC}:ListWorkspaces") is Decision.IMPLICIT_DENY
    assert decide([READ_ONLY], f"{SVC}:GetAccountStatus") is Decision.ALLOWED
    arn_star = policy("p", allow(f"{SVC}:ListWorkspaces", "arn:*"))
    assert decide([arn_star], f"{SVC}:ListWorkspaces") is Decision.IMPLICIT_DENY


def test_policy_variable_in_resource() -> None:
    p = policy(
        "p",
        allow(
            f"{SVC}:GetFile",
            f"arn:aws:{SVC}:*:*:workspace/${{aws:PrincipalTag/workspace}}",
        ),
    )
    ctx = {"aws:PrincipalTag/workspace": "wrkspc_01AbCdEf23GhIj"}
    assert (
        evaluate([p], Request(f"{SVC}:GetFile", WS, ctx)).decision is Decision.ALLOWED
    )
    assert (
        evaluate([p], Request(f"{SVC}:GetFile", OTHER_WS, ctx)).decision
        is Decision.IMPLICIT_DENY
    )
    assert (
        evaluate([p], Request(f"{SVC}:GetFile", WS, {})).decision
        is Decision.IMPLICIT_DENY
    )


def test_unresolvable_variable_in_not_resource_makes_the_statement_not_apply() -> None:
    p = policy(
        "p",
        {
            "Effect": "Deny",
            "Action": f"{SVC}:*",
            "NotResource": f"arn:aws:{SVC}:*:*:workspace/${{aws:username}}",
        },
    )
    result = evaluate([p], Request(f"{SVC}:GetFile", WS))
    assert result.decision is Decision.IMPLICIT_DENY
    assert result.not_applied[0].reasons == (
        f"NotResource arn:aws:{SVC}:*:*:workspace/${{aws:username}} cannot be evaluated:"
        " policy variable ${aws:username} has no value in the request context",
    )


# --------------------------------------------------------------------------- explanations


def test_reasons_for_statements_that_did_not_apply() -> None:
    capability = policy(
        "console",
        allow(
            f"{SVC}:AssumeConsole",
            "*",
            Sid="Console",
            Condition={"StringEquals": {f"{SVC}:Capability": "developer"}},
        ),
        allow(
            f"{SVC}:GetFile",
            "*",
            Sid="Network",
            Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        ),
    )
    listing = evaluate([READ_ONLY], Request(f"{SVC}:ListWorkspaces"))
    assert [(str(r.statement), r.reasons) for r in listing.not_applied] == [
        (
            "AnthropicReadOnlyAccess/AnthropicReadOnlyWorkspace",
            (
                f'Resource arn:aws:{SVC}:*:*:workspace/* does not apply: ListWorkspaces has no resource type, only "*" grants it',
            ),
        ),
        (
            "AnthropicReadOnlyAccess/AnthropicReadOnlyResourceless",
            (
                f"Action {SVC}:ListWorkspaces is not matched by [{SVC}:GetAccountStatus, {BEARER}]",
            ),
        ),
    ]
    console = evaluate(
        [capability],
        Request(f"{SVC}:AssumeConsole", None, {f"{SVC}:Capability": "admin"}),
    )
    assert console.not_applied[0].reasons == (
        f"Condition StringEquals {SVC}:Capability: context value 'admin' is not one of ['developer']",
    )
    assert console.not_applied[1].reasons == (
        f"Action {SVC}:AssumeConsole is not matched by [{SVC}:GetFile]",
    )
    network = evaluate([capability], Request(f"{SVC}:GetFile", WS))
    assert network.not_applied[1].reasons == (
        "Condition key aws:SourceIp is missing from the request context",
    )


def test_action_mismatch_reason_uses_the_patterns_as_written() -> None:
    result = evaluate(
        [policy("p", allow(f"{SVC}:Get*"))], Request(f"{SVC}:ListWorkspaces")
    )
    assert result.not_applied[0].reasons == (
        f"Action {SVC}:ListWorkspaces is not matched by [{SVC}:Get*]",
    )


def test_not_action_and_not_resource_reasons() -> None:
    p = policy(
        "p",
        {"Effect": "Allow", "NotAction": f"{SVC}:Delete*", "Resource": "*"},
        {"Effect": "Allow", "Action": "*", "NotResource": WS},
    )
    result = evaluate([p], Request(f"{SVC}:DeleteFile", WS))
    assert [r.reasons for r in result.not_applied] == [
        (f"Action {SVC}:DeleteFile is excluded by NotAction {SVC}:Delete*",),
        (f"Resource {WS} is excluded by NotResource {WS}",),
    ]


def test_every_failing_condition_is_reported() -> None:
    p = policy(
        "p",
        allow(
            f"{SVC}:GetFile",
            Condition={
                "StringEquals": {"aws:username": "a"},
                "Bool": {"aws:SecureTransport": "true"},
            },
        ),
    )
    result = evaluate([p], Request(f"{SVC}:GetFile", WS, {"aws:username": "b"}))
    assert result.not_applied[0].reasons == (
        "Condition StringEquals aws:username: context value 'b' is not one of ['a']",
        "Condition key aws:SecureTransport is missing from the request context",
    )


def test_deciding_statements_are_named_by_sid_or_index() -> None:
    p = policy("custom", allow(f"{SVC}:GetFile"), deny(f"{SVC}:GetFile", Sid="NoFiles"))
    denied = evaluate([p], Request(f"{SVC}:GetFile", WS))
    assert [str(ref) for ref in denied.deciding] == ["custom/NoFiles"]
    assert denied.explanation == (
        f"explicitDeny: {SVC}:GetFile on {WS} is explicitly denied in identity-based policy custom/NoFiles"
    )
    allowed = evaluate(
        [policy("custom", allow(f"{SVC}:GetFile"))], Request(f"{SVC}:GetFile", WS)
    )
    assert [str(ref) for ref in allowed.deciding] == ["custom/Statement[0]"]
    assert (
        allowed.explanation
        == f"allowed: {SVC}:GetFile on {WS} is allowed by custom/Statement[0]"
    )
    nothing = evaluate([], Request(f"{SVC}:ListWorkspaces"))
    assert nothing.deciding == ()
    assert (
        nothing.explanation
        == f"implicitDeny: no identity-based policy allows {SVC}:ListWorkspaces (no resource)"
    )


def test_every_statement_has_an_outcome() -> None:
    result = evaluate([READ_ONLY], Request(f"{SVC}:GetFile", WS))
    assert [(str(r.statement), r.applies) for r in result.statements] == [
        ("AnthropicReadOnlyAccess/AnthropicReadOnlyWorkspace", True),
        ("AnthropicReadOnlyAccess/AnthropicReadOnlyResourceless", False),
    ]


# --------------------------------------------------------------------------- boundary and SCP


FULL = policy("full", allow(f"{SVC}:*"))
FILES_ONLY = policy("boundary", allow([f"{SVC}:GetFile", f"{SVC}:ListFiles"]))


def test_permissions_boundary_intersects_with_identity_policies() -> None:
    """IAM UG, Policy evaluation logic: with a permissions boundary, "permissions are
    determined by the intersection of the two categories"."""
    assert (
        evaluate([FULL], Request(f"{SVC}:GetFile", WS), boundary=FILES_ONLY).decision
        is Decision.ALLOWED
    )
    denied = evaluate([FULL], Request(f"{SVC}:GetModel", WS), boundary=FILES_ONLY)
    assert denied.decision is Decision.IMPLICIT_DENY
    assert (
        denied.explanation
        == f"implicitDeny: no permissions boundary allows {SVC}:GetModel on {WS}"
    )
    assert (
        evaluate(
            [READ_ONLY], Request(f"{SVC}:ListFiles", None), boundary=FILES_ONLY
        ).decision
        is Decision.IMPLICIT_DENY
    )


def test_boundary_alone_grants_nothing() -> None:
    result = evaluate([], Request(f"{SVC}:GetFile", WS), boundary=FILES_ONLY)
    assert result.decision is Decision.IMPLICIT_DENY
    assert result.boundary is not None and result.boundary.decision is Decision.ALLOWED


def test_explicit_deny_in_boundary_wins() -> None:
    boundary = policy("boundary", allow("*"), deny(f"{SVC}:GetFile", Sid="NoFiles"))
    result = evaluate([FULL], Request(f"{SVC}:GetFile", WS), boundary=boundary)
    assert result.decision is Decision.EXPLICIT_DENY
    assert [(ref.kind, str(ref)) for ref in result.deciding] == [
        (PolicyKind.PERMISSIONS_BOUNDARY, "boundary/NoFiles")
    ]


def test_service_control_policies_must_also_allow() -> None:
    """IAM UG, Policy evaluation logic: SCPs limit what identity policies can grant."""
    scp = policy("scp", allow(f"{SVC}:Get*"))
    assert (
        evaluate([FULL], Request(f"{SVC}:GetFile", WS), scps=[scp]).decision
        is Decision.ALLOWED
    )
    denied = evaluate([FULL], Request(f"{SVC}:DeleteFile", WS), scps=[scp])
    assert denied.decision is Decision.IMPLICIT_DENY
    assert (
        denied.explanation
        == f"implicitDeny: no service control policy allows {SVC}:DeleteFile on {WS}"
    )
    assert (
        evaluate([FULL], Request(f"{SVC}:GetFile", WS), scps=[]).decision
        is Decision.IMPLICIT_DENY
    )


def test_explicit_deny_in_scp_wins() -> None:
    scp = policy("scp", allow("*"), deny(f"{SVC}:Delete*"))
    assert (
        evaluate([FULL], Request(f"{SVC}:DeleteFile", WS), scps=[scp]).decision
        is Decision.EXPLICIT_DENY
    )


def test_all_three_kinds_together() -> None:
    scp = policy("scp", allow("*"))
    result = evaluate(
        [FULL], Request(f"{SVC}:GetFile", WS), boundary=FILES_ONLY, scps=[scp]
    )
    assert result.decision is Decision.ALLOWED
    assert [kind.kind for kind in result.kinds] == [
        PolicyKind.IDENTITY,
        PolicyKind.PERMISSIONS_BOUNDARY,
        PolicyKind.SERVICE_CONTROL_POLICY,
    ]
    assert [str(ref) for ref in result.deciding] == [
        "full/Statement[0]",
        "boundary/Statement[0]",
        "scp/Statement[0]",
    ]


# --------------------------------------------------------------------------- bearer tokens


def test_sigv4_call_needs_only_the_route_action() -> None:
    """Rule R7: SigV4 callers do not need CallWithBearerToken."""
    files = policy("files", allow(f"{SVC}:GetFile", WS))
    result = authorize(
        [files], f"{SVC}:GetFile", WS, bearer=False, bearer_action=BEARER
    )
    assert result.decision is Decision.ALLOWED
    assert result.bearer is None


def test_bearer_call_also_needs_call_with_bearer_token_on_star() -> None:
    """Rule R7/D10: API-key callers need CallWithBearerToken, which has no resource type."""
    files = policy("files", allow(f"{SVC}:GetFile", WS))
    missing = authorize(
        [files], f"{SVC}:GetFile", WS, bearer=True, bearer_action=BEARER
    )
    assert missing.decision is Decision.IMPLICIT_DENY
    assert missing.route.decision is Decision.ALLOWED
    assert missing.bearer is not None and missing.bearer.request == Request(
        BEARER, None, {}
    )
    assert missing.explanation == (
        f"allowed: {SVC}:GetFile on {WS} is allowed by files/Statement[0];"
        f" bearer token: implicitDeny: no identity-based policy allows {BEARER} (no resource)"
    )
    on_workspace = policy("ws", allow([f"{SVC}:GetFile", BEARER], WS))
    assert (
        authorize(
            [on_workspace], f"{SVC}:GetFile", WS, bearer=True, bearer_action=BEARER
        ).decision
        is Decision.IMPLICIT_DENY
    )
    assert (
        authorize(
            [READ_ONLY], f"{SVC}:GetFile", WS, bearer=True, bearer_action=BEARER
        ).decision
        is Decision.ALLOWED
    )


def test_explicit_deny_of_the_bearer_action_wins() -> None:
    no_keys = policy("no-keys", deny(BEARER))
    result = authorize(
        [READ_ONLY, no_keys], f"{SVC}:GetFile", WS, bearer=True, bearer_action=BEARER
    )
    assert result.decision is Decision.EXPLICIT_DENY
    route_denied = authorize(
        [READ_ONLY], f"{SVC}:DeleteFile", WS, bearer=True, bearer_action=BEARER
    )
    assert route_denied.decision is Decision.IMPLICIT_DENY


def test_bearer_check_sees_the_request_context() -> None:
    long_term_only = policy(
        "p",
        allow(f"{SVC}:GetFile"),
        allow(
            BEARER, Condition={"StringEquals": {f"{SVC}:BearerTokenType": "LONG_TERM"}}
        ),
    )
    context = {f"{SVC}:BearerTokenType": "LONG_TERM"}
    assert (
        authorize(
            [long_term_only],
            f"{SVC}:GetFile",
            WS,
            context,
            bearer=True,
            bearer_action=BEARER,
        ).decision
        is Decision.ALLOWED
    )
    assert (
        authorize(
            [long_term_only],
            f"{SVC}:GetFile",
            WS,
            {},
            bearer=True,
            bearer_action=BEARER,
        ).decision
        is Decision.IMPLICIT_DENY
    )


# --------------------------------------------------------------------------- fast path


def test_decide_is_cached_but_still_reads_the_context() -> None:
    p = policy(
        "p",
        allow(
            f"{SVC}:AssumeConsole",
            Condition={"StringEquals": {f"{SVC}:Capability": "developer"}},
        ),
    )
    policies = PolicySet([p])
    for _ in range(3):
        assert (
            policies.decide(
                f"{SVC}:AssumeConsole", None, {f"{SVC}:Capability": "developer"}
            )
            is Decision.ALLOWED
        )
        assert (
            policies.decide(
                f"{SVC}:AssumeConsole", None, {f"{SVC}:Capability": "admin"}
            )
            is Decision.IMPLICIT_DENY
        )
        assert policies.decide(f"{SVC}:AssumeConsole") is Decision.IMPLICIT_DENY


def test_decide_with_variables_in_resources() -> None:
    p = policy(
        "p",
        deny(f"{SVC}:*", f"arn:aws:{SVC}:*:*:workspace/${{aws:PrincipalTag/blocked}}"),
        allow(f"{SVC}:*"),
    )
    policies = PolicySet([p])
    assert (
        policies.decide(
            f"{SVC}:GetFile", WS, {"aws:PrincipalTag/blocked": "wrkspc_01AbCdEf23GhIj"}
        )
        is Decision.EXPLICIT_DENY
    )
    assert (
        policies.decide(f"{SVC}:GetFile", WS, {"aws:PrincipalTag/blocked": "other"})
        is Decision.ALLOWED
    )
    assert policies.decide(f"{SVC}:GetFile", WS) is Decision.ALLOWED


@pytest.mark.slow
def test_cached_decisions_are_sub_microsecond() -> None:
    policies = PolicySet([READ_ONLY])
    decide_fast = policies.decide
    decide_fast(f"{SVC}:GetFile", WS)
    rounds = 200_000
    started = time.perf_counter()
    for _ in range(rounds):
        decide_fast(f"{SVC}:GetFile", WS)
    per_decision = (time.perf_counter() - started) / rounds
    assert per_decision < 1e-6


# --------------------------------------------------------------------------- properties

ACTION_PATTERNS = [
    f"{SVC}:*",
    f"{SVC}:Get*",
    f"{SVC}:GetFile",
    f"{SVC}:*File",
    f"{SVC}:List*",
    "*",
    "other:*",
    f"{SVC}:Get?ile",
]
RESOURCE_PATTERNS = [
    "*",
    f"arn:aws:{SVC}:*:*:workspace/*",
    WS,
    OTHER_WS,
    f"arn:aws:{SVC}:*:*:workspace/${{aws:username}}",
    f"arn:aws:{SVC}:*:*:workspace/${{aws:PrincipalTag/ws, 'wrkspc_other'}}",
]
CONDITIONS: list[dict[str, Any]] = [
    {"StringEquals": {f"{SVC}:Capability": "developer"}},
    {"StringNotEquals": {f"{SVC}:Capability": "admin"}},
    {"StringLikeIfExists": {f"{SVC}:Capability": "dev*"}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}},
    {"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}},
    {"Null": {f"{SVC}:Capability": "true"}},
    {"StringEquals": {"aws:username": "${aws:PrincipalTag/owner}"}},
]
ACTIONS = [
    f"{SVC}:GetFile",
    f"{SVC}:ListFiles",
    f"{SVC}:CreateFile",
    f"{SVC}:GetUserProfile",
    "other:Thing",
]
RESOURCES: list[str | None] = [
    None,
    WS,
    OTHER_WS,
    f"arn:aws:{SVC}:us:1:workspace/alice",
]


@st.composite
def statements(draw: st.DrawFn) -> dict[str, Any]:
    """A random statement over a small vocabulary of patterns and conditions."""
    statement: dict[str, Any] = {"Effect": draw(st.sampled_from(["Allow", "Deny"]))}
    action_key = "NotAction" if draw(st.booleans()) else "Action"
    statement[action_key] = draw(
        st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=3)
    )
    resource_key = "NotResource" if draw(st.booleans()) else "Resource"
    statement[resource_key] = draw(
        st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=2)
    )
    conditions: dict[str, Any] = {}
    for condition in draw(st.lists(st.sampled_from(CONDITIONS), max_size=2)):
        conditions.update(condition)
    if conditions:
        statement["Condition"] = conditions
    return statement


policy_sets = st.lists(st.lists(statements(), min_size=1, max_size=4), max_size=3)
contexts = st.fixed_dictionaries(
    {},
    optional={
        f"{SVC}:Capability": st.sampled_from(["developer", "admin", "dev-ops"]),
        "aws:SecureTransport": st.sampled_from(["true", "false"]),
        "aws:TagKeys": st.lists(st.sampled_from(["a", "b", "c"]), max_size=3),
        "aws:username": st.sampled_from(["alice", "wrkspc_other"]),
        "aws:PrincipalTag/owner": st.sampled_from(["alice", "bob"]),
        "aws:PrincipalTag/ws": st.just("wrkspc_01AbCdEf23GhIj"),
    },
)
requests = st.builds(
    Request, st.sampled_from(ACTIONS), st.sampled_from(RESOURCES), contexts
)


def _named(raw: list[list[dict[str, Any]]]) -> list[NamedPolicy]:
    return [policy(f"p{index}", *stmts) for index, stmts in enumerate(raw)]


def _decision(raw: list[list[dict[str, Any]]], request: Request) -> Decision:
    return evaluate(_named(raw), request).decision


@settings(max_examples=300, deadline=None)
@given(
    raw=policy_sets,
    extra=statements(),
    request=requests,
    where=st.integers(min_value=0, max_value=5),
)
def test_adding_a_deny_statement_never_widens_access(
    raw: list[list[dict[str, Any]]], extra: dict[str, Any], request: Request, where: int
) -> None:
    before = _decision(raw, request)
    extra = dict(extra, Effect="Deny")
    widened = [list(stmts) for stmts in raw] or [[]]
    widened[where % len(widened)].append(extra)
    after = _decision(widened, request)
    assert not (after is Decision.ALLOWED and before is not Decision.ALLOWED)
    if before is Decision.EXPLICIT_DENY:
        assert after is Decision.EXPLICIT_DENY


@settings(max_examples=300, deadline=None)
@given(raw=policy_sets, request=requests, data=st.data())
def test_removing_an_allow_statement_never_widens_access(
    raw: list[list[dict[str, Any]]], request: Request, data: st.DataObject
) -> None:
    allows = [
        (p, s)
        for p, stmts in enumerate(raw)
        for s, stmt in enumerate(stmts)
        if stmt["Effect"] == "Allow"
    ]
    if not allows:
        return
    p, s = data.draw(st.sampled_from(allows))
    narrowed = [list(stmts) for stmts in raw]
    del narrowed[p][s]
    narrowed = [stmts for stmts in narrowed if stmts]
    before, after = _decision(raw, request), _decision(narrowed, request)
    assert not (after is Decision.ALLOWED and before is not Decision.ALLOWED)
    if before is not Decision.ALLOWED:
        assert after is before  # the denies are untouched


@settings(max_examples=300, deadline=None)
@given(raw=policy_sets, request=requests, seed=st.integers())
def test_statement_and_policy_order_never_change_the_decision(
    raw: list[list[dict[str, Any]]], request: Request, seed: int
) -> None:
    """IAM UG: all applicable policies are evaluated; order does not matter."""
    shuffler = random.Random(seed)
    shuffled = [shuffler.sample(stmts, len(stmts)) for stmts in raw]
    shuffler.shuffle(shuffled)
    assert _decision(shuffled, request) is _decision(raw, request)


@settings(max_examples=300, deadline=None)
@given(
    raw=policy_sets,
    boundary=st.lists(statements(), min_size=1, max_size=3),
    request_list=st.lists(requests, min_size=1, max_size=6),
)
def test_fast_decide_agrees_with_explained_evaluation(
    raw: list[list[dict[str, Any]]],
    boundary: list[dict[str, Any]],
    request_list: list[Request],
) -> None:
    named = _named(raw)
    bound = policy("boundary", *boundary)
    variants = [
        PolicySet(named),
        PolicySet(named, boundary=bound),
        PolicySet(named, scps=[bound]),
    ]
    for policies in variants:
        for request in request_list + request_list:  # twice: cold and cached plans
            expected = policies.evaluate(request).decision
            assert (
                policies.decide(request.action, request.resource, request.context)
                is expected
            )


@settings(max_examples=200, deadline=None)
@given(
    raw=policy_sets,
    boundary=st.lists(statements(), min_size=1, max_size=3),
    request=requests,
)
def test_a_boundary_never_widens_access(
    raw: list[list[dict[str, Any]]], boundary: list[dict[str, Any]], request: Request
) -> None:
    named = _named(raw)
    without = evaluate(named, request).decision
    with_boundary = evaluate(named, request, boundary=policy("b", *boundary)).decision
    assert not (with_boundary is Decision.ALLOWED and without is not Decision.ALLOWED)
