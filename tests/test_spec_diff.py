"""`iamgen diff`: spec evolution from the 58-action version to today (issue 4, section 4).

The old side is tests/fixtures/evolution/spec-58.yaml, the spec as it stood at the 58-action
pages (its decisions say what it chose); the new side is the real spec. Policies are judged by
the simulator on a SigV4 request for the example workspace, so "matches" (an Allow statement's
Action covers the action) and "grants" (the request is allowed) can differ: actions without a
resource type are granted only by ``Resource: "*"`` (IAM User Guide, "Resource" element).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, REAL_SPEC, REPO_ROOT, describe, run_iamgen

from generator.pipeline import LoadedModel, load_model
from generator.spec_diff import build_report

SPEC_58 = FIXTURES / "evolution" / "spec-58.yaml"
SPEC_IN_REPO = "spec/aws-external-anthropic.yaml"
LATER_ACTIONS = [
    "ProcessEnvironmentWork",
    "CreateWebhook",
    "GetWebhook",
    "ListWebhooks",
    "UpdateWebhook",
    "DeleteWebhook",
    "RotateWebhookSecret",
    "RegisterKey",
    "GetKey",
    "ListKeys",
    "UpdateKey",
    "DisableKey",
    "ListComplianceActivities",
    "CreateDeployment",
    "GetDeployment",
    "ListDeployments",
    "UpdateDeployment",
    "PauseDeployment",
    "UnpauseDeployment",
    "RunDeployment",
    "ArchiveDeployment",
]
GET_LIST_POLICIES = [
    "AnthropicReadOnlyAccess",
    "AnthropicInferenceAccess",
    "AnthropicLimitedAccess",
]
Report = dict[str, Any]


def load(text: str, label: str = "spec.yaml") -> LoadedModel:
    return load_model(text.encode("utf-8"), label)


def edited(text: str, *replacements: tuple[str, str]) -> str:
    """``text`` with each ``old`` (which must occur) replaced everywhere by ``new``."""
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def old_text() -> str:
    return SPEC_58.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def old_model(old_text: str) -> LoadedModel:
    return load(old_text, "spec-58.yaml")


@pytest.fixture(scope="module")
def new_model() -> LoadedModel:
    return load_model(REAL_SPEC.read_bytes(), SPEC_IN_REPO)


@pytest.fixture(scope="module")
def report(old_model: LoadedModel, new_model: LoadedModel) -> Report:
    return build_report(old_model, "spec-58.yaml", new_model, SPEC_IN_REPO)


def policy(report: Report, name: str) -> Report:
    found = [p for p in report["policies"] if p["policy"] == name]
    assert len(found) == 1, name
    result: Report = found[0]
    return result


def names(entries: list[Report], key: str = "action") -> list[str]:
    return [entry[key] for entry in entries]


def by_name(entries: list[Report], key: str = "action") -> dict[str, Report]:
    return {entry[key]: entry for entry in entries}


# ------------------------------------------------------------------------- the fixture


def test_fixture_is_the_58_action_spec(old_model: LoadedModel) -> None:
    spec = old_model.spec
    documented = [a for a in spec.actions if a.introduced == "docs-58"]
    assert len(documented) == 58
    assert len(spec.actions) == 63  # plus the five reference-only actions (its D1)
    assert [g.name for g in spec.groups][:14] == [
        "Inference",
        "Batch processing",
        "Models",
        "Files",
        "Skills",
        "User profiles",
        "Agents",
        "Sessions",
        "Environments",
        "Vaults",
        "Memory stores",
        "Workspaces",
        "Authentication",
        "Console access",
    ]
    assert {a.name for g in spec.groups[:14] for a in g.actions} >= {
        a.name for a in documented
    }
    assert (
        len(old_model.catalog.routes) == 84
    )  # 32 AWS-guide rows + 52 Managed Agents rows
    assert [(p.name, p.version) for p in spec.managed_policies] == [
        ("AnthropicFullAccess", "v2"),
        ("AnthropicReadOnlyAccess", "v2"),
        ("AnthropicInferenceAccess", "v2"),
        ("AnthropicLimitedAccess", "v4"),
    ]
    assert len(spec.example_policies) == 6
    scopes = {a.name: a.scope for a in spec.actions if "UserProfile" in a.name}
    assert set(scopes.values()) == {"workspace"}  # 58-era reference data (its DEC-1)


def test_fixture_validates_with_the_cli() -> None:
    result = run_iamgen("validate", "--spec", SPEC_58, cwd=REPO_ROOT)
    assert result.returncode == 0, describe(result)
    assert "ok (63 actions, 84 routes)" in result.stdout


# ------------------------------------------------------------------------- actions and routes


def test_actions_added_are_exactly_the_later_ones(report: Report) -> None:
    actions = report["actions"]
    assert names(actions["added"]) == LATER_ACTIONS
    assert actions["removed"] == []
    assert actions["renamed"] == []
    key = by_name(actions["added"])["GetKey"]
    assert (key["group"], key["access_level"], key["scope"]) == (
        "Encryption keys",
        "Read",
        "account",
    )
    assert report["summary"]["actions_added"] == 21


def test_scope_condition_key_and_exposure_changes_are_reported(report: Report) -> None:
    changed = by_name(report["actions"]["changed"])
    assert changed["GetUserProfile"]["changes"] == {
        "scope": {"old": "workspace", "new": "account"},
        "condition_keys": {"old": ["aws:ResourceTag/${TagKey}"], "new": []},
    }
    assert changed["GetSkill"]["changes"] == {
        "exposes": {"old": [], "new": ["skill-content"]}
    }
    assert "aws-external-anthropic:KeyArn" in (
        changed["CreateWorkspace"]["changes"]["condition_keys"]["new"]
    )
    assert "GetFile" not in changed


def test_routes_added_are_the_later_rows(report: Report) -> None:
    routes = report["routes"]
    added = names(routes["added"], "route")
    assert len(added) == 21
    assert "GET /v1/webhooks/{webhook_id}" in added
    assert "GET /v1/skills/{skill_id}/versions/{version}/content" in added
    assert "GET /v1/environments/{environment_id}/work/stats" in added
    assert routes["removed"] == []
    assert routes["moved"] == []


def test_parameter_renames_are_renames_not_moves(report: Report) -> None:
    routes = report["routes"]
    renamed = by_name(routes["parameters_renamed"], "old_route")
    assert renamed["GET /v1/files/{id}"] == {
        "old_route": "GET /v1/files/{id}",
        "new_route": "GET /v1/files/{file_id}",
        "action": "GetFile",
        "parameters": [{"old": "id", "new": "file_id"}],
    }
    # Only the renamed parameter is listed; {resource_id} kept its name.
    assert renamed["GET /v1/sessions/{id}/resources/{resource_id}"]["parameters"] == [
        {"old": "id", "new": "session_id"}
    ]
    every_route = [
        entry["route"]
        for section in ("added", "removed", "moved")
        for entry in routes[section]
    ]
    assert "GET /v1/files/{file_id}" not in every_route
    assert not any("{id}" in route for route in every_route)
    assert report["summary"]["routes_parameters_renamed"] == 61


# ------------------------------------------------------------------------- widening report


@pytest.mark.parametrize("name", GET_LIST_POLICIES)
def test_webhook_reads_newly_granted_by_get_list_policies(
    report: Report, name: str
) -> None:
    found = policy(report, name)
    now = by_name(found["actions"]["now_grants"])
    for action in ("GetWebhook", "ListWebhooks"):
        assert now[action]["old"] == "absent"
        assert now[action]["new"] == "granted"
    routes = names(found["routes"]["now_grants"], "route")
    assert "GET /v1/webhooks" in routes
    assert "GET /v1/webhooks/{webhook_id}" in routes


@pytest.mark.parametrize("name", GET_LIST_POLICIES)
def test_key_and_compliance_reads_are_matched_but_not_granted(
    report: Report, name: str
) -> None:
    found = policy(report, name)
    matched = by_name(found["actions"]["now_matches_without_granting"])
    for action in ("GetKey", "ListKeys", "ListComplianceActivities"):
        assert matched[action]["old"] == "absent"
        assert matched[action]["new"] == "matched"
        assert f'{action} has no resource type, only "*" grants it' in (
            matched[action]["reason"]
        )
    granted = names(found["actions"]["now_grants"])
    assert not {"GetKey", "ListKeys", "ListComplianceActivities"} & set(granted)
    routes = names(found["routes"]["now_matches_without_granting"], "route")
    assert "GET /v1/organizations/external_keys" in routes
    assert "GET /v1/compliance/activities" in routes


def test_full_access_grants_the_key_actions_on_star(report: Report) -> None:
    found = policy(report, "AnthropicFullAccess")
    assert names(found["actions"]["now_grants"]) == LATER_ACTIONS
    assert found["actions"]["now_matches_without_granting"] == []


def test_limited_access_v4_to_v6_grants_environment_work_and_webhook_writes(
    report: Report,
) -> None:
    found = policy(report, "AnthropicLimitedAccess")
    assert (found["old_version"], found["new_version"]) == ("v4", "v6")
    assert found["document_changed"] is True
    now = by_name(found["actions"]["now_grants"])
    for action in (
        "ProcessEnvironmentWork",
        "CreateWebhook",
        "UpdateWebhook",
        "DeleteWebhook",
        "RotateWebhookSecret",
    ):
        assert (now[action]["old"], now[action]["new"]) == ("absent", "granted")
    # Present in v4's spec but not named by v4: from not matched to granted.
    assert (now["CreateAgent"]["old"], now["CreateAgent"]["new"]) == (
        "not matched",
        "granted",
    )
    routes = names(found["routes"]["now_grants"], "route")
    assert "POST /v1/environments/{environment_id}/work/{work_id}/ack" in routes
    assert "POST /v1/webhooks/{webhook_id}/regenerate_signing_secret" in routes
    # v6 allows AssumeConsole only with Capability=developer; the sample has no context.
    console = by_name(found["actions"]["now_matches_without_granting"])["AssumeConsole"]
    assert "aws-external-anthropic:Capability" in console["reason"]


def test_user_profiles_no_longer_granted_through_workspace_statements(
    report: Report,
) -> None:
    found = policy(report, "AnthropicReadOnlyAccess")
    lost = by_name(found["actions"]["no_longer_grants"])
    assert set(lost) == {"GetUserProfile", "ListUserProfiles"}
    assert (lost["GetUserProfile"]["old"], lost["GetUserProfile"]["new"]) == (
        "granted",
        "matched",
    )
    assert names(found["routes"]["no_longer_grants"], "route") == [
        "GET /v1/user_profiles/{user_profile_id}",
        "GET /v1/user_profiles",
    ]


def test_policies_in_one_spec_only_are_compared_with_nothing(report: Report) -> None:
    self_hosted = policy(report, "AnthropicSelfHostedEnvironmentAccess")
    assert self_hosted["presence"] == "added"
    assert (self_hosted["old_version"], self_hosted["new_version"]) == (None, "v1")
    assert names(self_hosted["actions"]["now_grants"]) == [
        "GetSkill",
        "GetSession",
        "UpdateSession",
        "GetEnvironment",
        "ProcessEnvironmentWork",
        "CallWithBearerToken",
    ]
    example = policy(report, "single-workspace-inference")
    assert (example["kind"], example["presence"]) == ("example", "added")


def test_unchanged_deny_only_example_reports_nothing(report: Report) -> None:
    found = policy(report, "zdr-feature-lockdown")
    assert found["presence"] == "both"
    assert found["document_changed"] is False
    assert all(not entries for entries in found["actions"].values())
    assert all(not entries for entries in found["routes"].values())


def test_reverse_diff_mirrors_the_forward_one(
    old_model: LoadedModel, new_model: LoadedModel
) -> None:
    back = build_report(new_model, SPEC_IN_REPO, old_model, "spec-58.yaml")
    assert names(back["actions"]["removed"]) == LATER_ACTIONS
    found = policy(back, "AnthropicReadOnlyAccess")
    assert {"GetWebhook", "ListWebhooks"} <= set(
        names(found["actions"]["no_longer_grants"])
    )
    assert {"GetKey", "ListKeys", "ListComplianceActivities"} == set(
        names(found["actions"]["no_longer_matches"])
    )
    assert policy(back, "AnthropicSelfHostedEnvironmentAccess")["presence"] == "removed"


def test_same_spec_gives_an_empty_report(old_model: LoadedModel) -> None:
    same = build_report(old_model, "a", old_model, "b")
    assert all(not v for v in same["actions"].values())
    assert all(not v for v in same["routes"].values())
    for found in same["policies"]:
        assert all(not v for v in found["actions"].values())
        assert all(not v for v in found["routes"].values())


# ------------------------------------------------------------------------- rename heuristic


def test_rename_with_the_same_routes(old_text: str, old_model: LoadedModel) -> None:
    # Every mention changes, policies included, so the policies still name the action.
    new = load(edited(old_text, ("CancelBatchInference", "PauseBatchInference")))
    result = build_report(old_model, "old", new, "new")
    assert result["actions"]["renamed"] == [
        {
            "old": "CancelBatchInference",
            "new": "PauseBatchInference",
            "reason": "same routes",
        }
    ]
    assert result["actions"]["added"] == result["actions"]["removed"] == []
    assert result["routes"]["moved"] == []
    # Renamed in the policies too, so the Inference policy grants the same routes.
    found = policy(result, "AnthropicInferenceAccess")
    assert found["routes"]["now_grants"] == found["routes"]["no_longer_grants"] == []


def test_rename_with_the_same_noun_and_access_level(
    old_text: str, old_model: LoadedModel
) -> None:
    new = load(
        edited(
            old_text,
            ("name: ArchiveVault", "name: DisableVault"),
            ("POST /v1/vaults/{id}/archive", "POST /v1/vaults/{id}/disable"),
        )
    )
    result = build_report(old_model, "old", new, "new")
    assert result["actions"]["renamed"] == [
        {
            "old": "ArchiveVault",
            "new": "DisableVault",
            "reason": "same noun and access level",
        }
    ]
    assert names(result["routes"]["added"], "route") == ["POST /v1/vaults/{id}/disable"]
    assert names(result["routes"]["removed"], "route") == [
        "POST /v1/vaults/{id}/archive"
    ]


def test_ambiguous_candidates_are_not_paired(
    old_text: str, old_model: LoadedModel
) -> None:
    # Two Vault write actions disappear and two appear: no unique pairing, no guess.
    new = load(
        edited(
            old_text,
            ("name: ArchiveVault", "name: DisableVault"),
            ("POST /v1/vaults/{id}/archive", "POST /v1/vaults/{id}/disable"),
            ("name: DeleteVault", "name: PauseVault"),
            ("DELETE /v1/vaults/{id}\n", "DELETE /v1/vaults/{id}/pause\n"),
        )
    )
    result = build_report(old_model, "old", new, "new")
    assert result["actions"]["renamed"] == []
    assert names(result["actions"]["removed"]) == ["ArchiveVault", "DeleteVault"]
    assert names(result["actions"]["added"]) == ["DisableVault", "PauseVault"]


def test_case_only_rename_is_reported(old_text: str, old_model: LoadedModel) -> None:
    new = load(edited(old_text, ("name: CountTokens", "name: CountTOKENS")))
    result = build_report(old_model, "old", new, "new")
    assert result["actions"]["renamed"] == [
        {"old": "CountTokens", "new": "CountTOKENS", "reason": "case only"}
    ]
    # IAM matches action names case-insensitively: no policy changes.
    assert all(
        not entries for p in result["policies"] for entries in p["actions"].values()
    )


def test_route_moved_between_actions(old_text: str, old_model: LoadedModel) -> None:
    moved = "          - GET /v1/sessions/{id}/events/stream\n"
    text = edited(old_text, (moved, ""))
    text = edited(
        text,
        (
            "          - POST /v1/sessions/{id}/events\n",
            "          - POST /v1/sessions/{id}/events\n" + moved,
        ),
    )
    result = build_report(old_model, "old", load(text), "new")
    assert result["routes"]["moved"] == [
        {
            "route": "GET /v1/sessions/{id}/events/stream",
            "old_route": "GET /v1/sessions/{id}/events/stream",
            "old_action": "GetSession",
            "new_action": "UpdateSession",
        }
    ]
    # Get* granted the stream through GetSession; nothing grants UpdateSession.
    found = policy(result, "AnthropicReadOnlyAccess")
    assert found["actions"]["no_longer_grants"] == []
    assert found["routes"]["no_longer_grants"] == [
        {
            "route": "GET /v1/sessions/{id}/events/stream",
            "action": "UpdateSession",
            "old": "granted",
            "new": "not matched",
            "reason": None,
        }
    ]
    full = policy(result, "AnthropicFullAccess")
    assert all(not entries for entries in full["routes"].values())


# ------------------------------------------------------------------------- the command


def test_cli_json_is_stable_and_exits_0() -> None:
    first = run_iamgen("diff", SPEC_58, "--json", cwd=REPO_ROOT)
    second = run_iamgen("diff", SPEC_58, "--json", cwd=REPO_ROOT, PYTHONHASHSEED="7")
    assert first.returncode == 0, describe(first)
    assert first.stdout == second.stdout
    data = json.loads(first.stdout)
    assert list(data) == [
        "old",
        "new",
        "sample_request",
        "summary",
        "actions",
        "routes",
        "policies",
    ]
    assert data["old"]["spec"] == "tests/fixtures/evolution/spec-58.yaml"
    assert data["new"]["spec"] == SPEC_IN_REPO
    assert data["sample_request"]["auth"] == "sigv4"
    assert list(data["policies"][0]) == [
        "policy",
        "kind",
        "presence",
        "old_version",
        "new_version",
        "document_changed",
        "actions",
        "routes",
    ]


def test_cli_text_is_grouped_by_section() -> None:
    result = run_iamgen("diff", SPEC_58, REAL_SPEC, cwd=REPO_ROOT)
    assert result.returncode == 0, describe(result)
    out = result.stdout
    assert out.index("\nActions: 21 added") < out.index("\nRoutes: 21 added")
    assert out.index("\nRoutes: ") < out.index("\nPolicies (widening report)")
    assert "  renamed parameters  GET /v1/files/{file_id}  (id -> file_id)\n" in out
    assert (
        "  AnthropicLimitedAccess (managed policy, v4 -> v6, document changed)\n" in out
    )
    assert "    actions now matched but not granted (3):\n      GetKey: " in out
    assert out.endswith("\n") and not out.endswith("\n\n")


def git(repo: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(repo),
    }
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path, old_text: str) -> Path:
    """A git repository whose HEAD holds the 58 spec; the working copy is today's spec."""
    root = tmp_path / "repo"
    (root / "spec").mkdir(parents=True)
    git(root, "init", "-q")
    (root / SPEC_IN_REPO).write_text(old_text, encoding="utf-8")
    git(root, "add", SPEC_IN_REPO)
    git(root, "commit", "-q", "-m", "58-action spec")
    (root / SPEC_IN_REPO).write_bytes(REAL_SPEC.read_bytes())
    return root


def test_git_revision_is_read_from_the_repository(repo: Path) -> None:
    result = run_iamgen("diff", "HEAD", "--json", cwd=repo)
    assert result.returncode == 0, describe(result)
    data = json.loads(result.stdout)
    assert data["old"]["spec"] == f"HEAD:{SPEC_IN_REPO}"
    assert data["new"]["spec"] == SPEC_IN_REPO
    assert (data["old"]["actions"], data["new"]["actions"]) == (63, 84)
    assert names(data["actions"]["added"]) == LATER_ACTIONS


def test_invalid_spec_at_a_revision_is_located_and_exits_2(
    repo: Path, old_text: str
) -> None:
    (repo / SPEC_IN_REPO).write_text(
        edited(old_text, ("access_level: Read", "access_level: Reed")), "utf-8"
    )
    git(repo, "commit", "-q", "-am", "broken")
    (repo / SPEC_IN_REPO).write_text(old_text, encoding="utf-8")
    result = run_iamgen("diff", "HEAD", cwd=repo)
    assert result.returncode == 2, describe(result)
    assert "Traceback" not in result.stderr
    assert f"HEAD:{SPEC_IN_REPO}:" in result.stderr
    assert "'Reed' is not one of: Read, List" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("no-such-rev",), "'no-such-rev' is neither a spec file nor a git revision"),
        (("--", "-p"), "'-p' is neither a spec file nor a git revision"),
        (("missing.yaml",), "'missing.yaml' is neither a spec file nor a git revision"),
        (("HEAD", "--spec", "absent.yaml"), "cannot read spec absent.yaml"),
    ],
)
def test_bad_revisions_and_files_exit_2_without_traceback(
    repo: Path, args: tuple[str, ...], message: str
) -> None:
    result = run_iamgen("diff", *args, cwd=repo)
    assert result.returncode == 2, describe(result)
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"iamgen diff: {message}"), result.stderr


def test_revision_without_the_spec_exits_2(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "README").write_text("x\n", encoding="utf-8")
    git(tmp_path, "add", "README")
    git(tmp_path, "commit", "-q", "-m", "no spec")
    result = run_iamgen("diff", "HEAD", REAL_SPEC, cwd=tmp_path)
    assert result.returncode == 2, describe(result)
    assert "Traceback" not in result.stderr
    assert f"git show HEAD:{SPEC_IN_REPO}: fatal:" in result.stderr


def test_outside_a_repository_a_revision_exits_2(tmp_path: Path) -> None:
    result = run_iamgen(
        "diff", "HEAD", REAL_SPEC, cwd=tmp_path, GIT_CEILING_DIRECTORIES=str(tmp_path)
    )
    assert result.returncode == 2, describe(result)
    assert "Traceback" not in result.stderr
    assert "not a git repository" in result.stderr


def test_errors_of_both_specs_are_reported_together(
    tmp_path: Path, old_text: str
) -> None:
    old = tmp_path / "old.yaml"
    new = tmp_path / "new.yaml"
    old.write_text(edited(old_text, ("scope: route-less", "scope: nowhere")), "utf-8")
    new.write_text(
        edited(old_text, ("name: Inference\n", "name: Batch processing\n")), "utf-8"
    )
    result = run_iamgen("diff", old, new, cwd=tmp_path)
    assert result.returncode == 2, describe(result)
    assert "Traceback" not in result.stderr
    assert "old.yaml:" in result.stderr and "'nowhere' is not one of" in result.stderr
    assert "new.yaml:" in result.stderr and "group Batch processing appears twice" in (
        result.stderr
    )
    assert "errors in the spec" in result.stderr


def test_usage_errors_exit_2() -> None:
    result = run_iamgen("diff", cwd=REPO_ROOT)
    assert result.returncode == 2
    assert "OLD_SPEC_OR_GIT_REV" in result.stderr
