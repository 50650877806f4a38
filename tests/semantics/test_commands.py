"""Behaviour of `iamgen explain`, `expand` and `simulate` on the real spec (issue 3, section 3).

IAM rules relied on are cited where a test depends on one.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import REPO_ROOT, run_iamgen

WORKSPACE = "arn:aws:aws-external-anthropic:us-west-2:123456789012:workspace/wrkspc_01AbCdEf23GhIj"


def iamgen_json(*args: str) -> tuple[int, dict]:
    result = run_iamgen(*args, "--json", cwd=REPO_ROOT)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)


# ------------------------------------------------------------------------------ explain


def test_explain_account_scoped_route_names_action_scope_and_granting_policies() -> (
    None
):
    code, data = iamgen_json("explain", "GET", "/v1/organizations/workspaces")
    assert code == 0
    assert data["action"] == "aws-external-anthropic:ListWorkspaces"
    assert data["group"] == "Workspaces"
    assert data["access_level"] == "List"
    assert data["scope"] == "account"
    assert data["resource"] is None
    assert data["event_type"] == "Management"
    # List* in the managed policies is scoped to workspace ARNs, so only FullAccess grants it.
    assert [p["policy"] for p in data["managed_policies_allowing"]] == [
        "AnthropicFullAccess"
    ]
    assert any("Resource" in n["text"] and "*" in n["text"] for n in data["notes"])


def test_explain_content_read_lists_exposure_and_all_read_policies() -> None:
    code, data = iamgen_json("explain", "GET", "/v1/files/file_011/content")
    assert code == 0
    assert data["action"] == "aws-external-anthropic:GetFile"
    assert data["route"] == "GET /v1/files/{file_id}/content"
    assert data["exposes"] == ["file-bytes"]
    allowing = {p["policy"]: p["auth"] for p in data["managed_policies_allowing"]}
    assert set(allowing) == {
        "AnthropicFullAccess",
        "AnthropicReadOnlyAccess",
        "AnthropicInferenceAccess",
        "AnthropicLimitedAccess",
    }
    assert allowing["AnthropicReadOnlyAccess"] == ["sigv4", "bearer"]


def test_explain_literal_segment_wins_over_parameter() -> None:
    _, data = iamgen_json("explain", "GET", "/v1/environments/env_1/work/poll")
    assert data["action"] == "aws-external-anthropic:ProcessEnvironmentWork"
    _, data = iamgen_json("explain", "GET", "/v1/environments/env_1/work/work_9")
    assert data["action"] == "aws-external-anthropic:GetEnvironment"


def test_explain_unavailable_route_says_so_and_exits_1() -> None:
    code, data = iamgen_json("explain", "POST", "/v1/complete")
    assert code == 1
    assert data["available"] is False
    assert "not in the route table" in data["reason"]


def test_explain_wrong_method_is_unavailable() -> None:
    code, data = iamgen_json("explain", "PUT", "/v1/files")
    assert (code, data["available"]) == (1, False)


def test_explain_text_output_has_no_traceback() -> None:
    result = run_iamgen("explain", "GET", "/v1/models", cwd=REPO_ROOT)
    assert result.returncode == 0
    assert "aws-external-anthropic:ListModels" in result.stdout


# ------------------------------------------------------------------------------ expand


def test_expand_star_file_over_matches_user_profiles_but_not_list_files() -> None:
    # IAM User Guide, Action element: action names are matched case-insensitively, so
    # "*File" matches "...UserProfile" ("Profile" ends in "file") and not "ListFiles".
    code, data = iamgen_json("expand", "aws-external-anthropic:*File")
    assert code == 0
    [result] = data["patterns"]
    assert result["matches"] == [
        "aws-external-anthropic:CreateFile",
        "aws-external-anthropic:CreateUserProfile",
        "aws-external-anthropic:DeleteFile",
        "aws-external-anthropic:GetFile",
        "aws-external-anthropic:GetUserProfile",
        "aws-external-anthropic:UpdateUserProfile",
    ]
    assert any("another resource family" in w for w in result["warnings"])


def test_expand_several_patterns_question_mark_and_case() -> None:
    code, data = iamgen_json("expand", "AWS-EXTERNAL-ANTHROPIC:get?ile", "List*")
    assert code == 0
    first, second = data["patterns"]
    assert first["matches"] == ["aws-external-anthropic:GetFile"]
    assert "aws-external-anthropic:ListWorkspaces" in second["matches"]
    assert any("ListWorkspaces" in w for w in second["warnings"])


def test_expand_character_class_is_literal() -> None:
    # IAM has no character classes: "[CG]et*" matches nothing.
    code, data = iamgen_json("expand", "aws-external-anthropic:[CG]et*")
    assert code == 0
    assert data["patterns"][0]["matches"] == []
    assert data["patterns"][0]["warnings"] == [
        "matches no aws-external-anthropic action"
    ]


def test_expand_wildcard_in_prefix_is_bad_input() -> None:
    result = run_iamgen("expand", "aws-*:GetFile", cwd=REPO_ROOT)
    assert result.returncode == 2
    assert "prefix" in result.stderr
    assert "Traceback" not in result.stderr


# ------------------------------------------------------------------------------ simulate


def test_simulate_readonly_denies_list_workspaces_and_explains_why() -> None:
    code, data = iamgen_json(
        "simulate",
        "--policy",
        "AnthropicReadOnlyAccess",
        "--route",
        "GET /v1/organizations/workspaces",
    )
    assert code == 0
    assert set(data) >= {"decision", "action", "resource", "statements", "reasons"}
    assert data["decision"] == "implicitDeny"
    assert data["action"] == "aws-external-anthropic:ListWorkspaces"
    assert data["resource"] is None
    assert data["statements"] == []
    assert any(
        "AnthropicReadOnlyWorkspace" in r and "ListWorkspaces has no resource type" in r
        for r in data["reasons"]
    )


def test_simulate_explicit_deny_wins_and_names_statement(tmp_path: Path) -> None:
    # IAM User Guide, policy evaluation logic: an explicit deny overrides any allow.
    deny = tmp_path / "deny.json"
    deny.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "NoFileReads",
                        "Effect": "Deny",
                        "Action": "aws-external-anthropic:GetFile",
                        "Resource": "*",
                    }
                ],
            }
        )
    )
    code, data = iamgen_json(
        "simulate",
        "--policy",
        "AnthropicFullAccess",
        str(deny),
        "--route",
        "GET /v1/files/f/content",
    )
    assert code == 0
    assert data["decision"] == "explicitDeny"
    assert data["resource"] == WORKSPACE
    assert [(s["policy"], s["statement"], s["effect"]) for s in data["statements"]] == [
        ("deny.json", "NoFileReads", "Deny")
    ]


def test_simulate_bearer_needs_call_with_bearer_token() -> None:
    sigv4_code, sigv4 = iamgen_json(
        "simulate",
        "--policy",
        "single-workspace-inference",
        "--route",
        "POST /v1/messages",
    )
    bearer_code, bearer = iamgen_json(
        "simulate",
        "--policy",
        "single-workspace-inference",
        "--route",
        "POST /v1/messages",
        "--auth",
        "bearer",
    )
    assert (sigv4_code, sigv4["decision"]) == (0, "allowed")
    assert (bearer_code, bearer["decision"]) == (0, "implicitDeny")
    assert bearer["bearer_token_action"] == "aws-external-anthropic:CallWithBearerToken"


def test_simulate_other_workspace_is_implicit_deny() -> None:
    _, data = iamgen_json(
        "simulate",
        "--policy",
        "single-workspace-inference",
        "--route",
        "POST /v1/messages",
        "--workspace",
        "arn:aws:aws-external-anthropic:us-west-2:123456789012:workspace/wrkspc_other",
    )
    assert data["decision"] == "implicitDeny"


def test_simulate_condition_context_is_used() -> None:
    allowed = iamgen_json(
        "simulate",
        "--policy",
        "AnthropicLimitedAccess",
        "--action",
        "AssumeConsole",
        "--context",
        "aws-external-anthropic:Capability=developer",
    )[1]
    denied = iamgen_json(
        "simulate",
        "--policy",
        "AnthropicLimitedAccess",
        "--action",
        "assumeconsole",
        "--context",
        "aws-external-anthropic:capability=admin",
    )[1]
    assert allowed["decision"] == "allowed"
    assert denied["decision"] == "implicitDeny"


def test_simulate_unknown_route_fails_closed() -> None:
    code, data = iamgen_json(
        "simulate", "--policy", "AnthropicFullAccess", "--route", "GET /v1/files/"
    )
    assert code == 0
    assert data["decision"] == "implicitDeny"
    assert data["action"] is None


def test_simulate_permissions_boundary_intersects(tmp_path: Path) -> None:
    # IAM User Guide, permissions boundaries: effective permissions are the intersection.
    boundary = tmp_path / "boundary.json"
    boundary.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": {
                    "Effect": "Allow",
                    "Action": "aws-external-anthropic:Get*",
                    "Resource": "*",
                },
            }
        )
    )
    common = (
        "simulate",
        "--policy",
        "AnthropicFullAccess",
        "--boundary",
        str(boundary),
    )
    assert iamgen_json(*common, "--action", "GetFile")[1]["decision"] == "allowed"
    assert (
        iamgen_json(*common, "--action", "DeleteFile")[1]["decision"] == "implicitDeny"
    )


def test_simulate_bad_inputs_exit_2_without_traceback(tmp_path: Path) -> None:
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"Version": "2012-10-17",')
    unknown_operator = tmp_path / "op.json"
    unknown_operator.write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": {
                    "Effect": "Allow",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"StringEqualz": {"aws:username": "x"}},
                },
            }
        )
    )
    cases = [
        ("--policy", str(bad_json), "--action", "GetFile"),
        ("--policy", str(unknown_operator), "--action", "GetFile"),
        ("--policy", "NoSuchPolicy", "--action", "GetFile"),
        ("--policy", "AnthropicFullAccess", "--action", "FrobFile"),
        (
            "--policy",
            "AnthropicFullAccess",
            "--action",
            "GetFile",
            "--context",
            "novalue",
        ),
        (
            "--policy",
            "AnthropicFullAccess",
            "--action",
            "GetFile",
            "--workspace",
            "wrkspc_1",
        ),
        ("--policy", "AnthropicFullAccess"),
    ]
    for case in cases:
        result = run_iamgen("simulate", *case, cwd=REPO_ROOT)
        assert result.returncode == 2, (case, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr, case
        assert result.stdout == "", case
