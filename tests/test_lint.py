"""``iamgen lint``: every code fires where its rule says and stays quiet otherwise.

Policies are small inline documents linted against the real spec's catalog. The findings of
AWS's managed policies and of the documented example policies are pinned: AWS's own policies
trigger some warnings (they lint as AWS wrote them), and each pinned finding below was
checked by hand against the spec (scopes, routes, ``exposes``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.catalog import Catalog
from generator.lint import (
    CODES,
    Finding,
    LintInputError,
    exit_code,
    format_json,
    format_sarif,
    format_text,
    lint_files,
    lint_policy,
)
from generator.pipeline import load_model

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO / "spec" / "aws-external-anthropic.yaml"
MINIMAL_SPEC = REPO / "tests" / "fixtures" / "specs" / "minimal.yaml"
LINT_FIXTURES = REPO / "tests" / "fixtures" / "lint"

P = "aws-external-anthropic:"
WORKSPACES = "arn:aws:aws-external-anthropic:*:*:workspace/*"
ONE_WORKSPACE = "arn:aws:aws-external-anthropic:us-west-2:123456789012:workspace/wrkspc_01AbCdEf23GhIj"

# The expansions the spec itself claims (note verb-noun-naming), in spec order.
GET_STAR = (
    "GetBatchInference",
    "GetModel",
    "GetFile",
    "GetSkill",
    "GetAgent",
    "GetSession",
    "GetEnvironment",
    "GetVault",
    "GetMemoryStore",
    "GetWebhook",
    "GetUserProfile",
    "GetWorkspace",
    "GetKey",
    "GetDeployment",
    "GetAccountStatus",
)
LIST_STAR = (
    "ListBatchInferences",
    "ListModels",
    "ListFiles",
    "ListSkills",
    "ListAgents",
    "ListSessions",
    "ListEnvironments",
    "ListVaults",
    "ListMemoryStores",
    "ListWebhooks",
    "ListUserProfiles",
    "ListWorkspaces",
    "ListKeys",
    "ListComplianceActivities",
    "ListDeployments",
    "ListTagsForResource",
)
# (code, statement, json path, actions); "ALL" stands for every action of the spec.
Pin = tuple[str, str | None, str, tuple[str, ...] | str]

CONTENT_READS = (
    "GetBatchInference",
    "GetFile",
    "GetSkill",
    "GetSession",
    "GetMemoryStore",
)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_model(SPEC.read_bytes(), "spec/aws-external-anthropic.yaml").catalog


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(
    action: str | list[str], resource: str | list[str] = "*", **more: Any
) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **more}


def deny(
    action: str | list[str], resource: str | list[str] = "*", **more: Any
) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **more}


def lint(catalog: Catalog, document: object) -> list[Finding]:
    return lint_policy(catalog, "test.json", document)


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def only(findings: list[Finding], code: str) -> list[Finding]:
    return [f for f in findings if f.code == code]


def the(findings: list[Finding], code: str) -> Finding:
    found = only(findings, code)
    assert len(found) == 1, findings
    return found[0]


def summary(
    findings: list[Finding],
) -> list[tuple[str, str | None, str, tuple[str, ...]]]:
    return [(f.code, f.statement, f.json_path, f.actions) for f in findings]


# ---------------------------------------------------------------------------- catalogue


def test_the_issue_codes_keep_their_numbers_and_severities() -> None:
    issue = {
        "IAM001": "error",
        "IAM010": "error",
        "IAM011": "error",
        "IAM020": "warning",
        "IAM021": "info",
        "IAM030": "warning",
        "IAM031": "warning",
        "IAM040": "warning",
        "IAM041": "info",
        "IAM042": "warning",
        "IAM050": "info",
        "IAM060": "info",
    }
    assert {code: CODES[code][0] for code in issue} == issue
    # Codes we added: Allow+NotAction (widening, like IAM021) and a Deny that misses
    # resource-less actions (the IAM030 rule seen from the Deny side).
    assert set(CODES) - set(issue) == {"IAM022", "IAM032"}
    assert all(code.startswith("IAM") and len(code) == 6 for code in CODES)


# ---------------------------------------------------------------------------- IAM001


def test_iam001_reports_every_grammar_error_and_still_checks_action_names(
    catalog: Catalog,
) -> None:
    document = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [P + "GetFiles", 5, P + "Foo*", "s3:GetObject"],
                "Resource": "*",
                "Principal": "*",
            }
        ]
    }
    findings = lint(catalog, document)
    assert summary(findings) == [
        ("IAM001", None, "Version", ()),
        ("IAM010", "Statement[0]", "Statement[0].Action[0]", ()),
        ("IAM001", "Statement[0]", "Statement[0].Action[1]", ()),
        ("IAM011", "Statement[0]", "Statement[0].Action[2]", ()),
        ("IAM001", "Statement[0]", "Statement[0].Principal", ()),
    ]
    assert findings[2].message == "must be a string, not a number"


def test_iam001_uses_the_sid_when_the_statement_has_one(catalog: Catalog) -> None:
    findings = lint(
        catalog, policy({"Sid": "Reads", "Effect": "Allow", "Resource": "*"})
    )
    assert summary(findings) == [("IAM001", "Reads", "Statement[0]", ())]
    assert findings[0].message == "a statement must have Action or NotAction"


@pytest.mark.parametrize("document", [None, [], "x", 3, {"Statement": "x"}])
def test_iam001_for_documents_of_the_wrong_shape(
    catalog: Catalog, document: object
) -> None:
    findings = lint(catalog, document)
    assert findings and set(codes(findings)) == {"IAM001"}


def test_iam001_not_for_a_valid_policy(catalog: Catalog) -> None:
    assert "IAM001" not in codes(lint(catalog, policy(allow(P + "ListFiles"))))


# ---------------------------------------------------------------------------- IAM010/011


def test_iam010_unknown_exact_action_with_a_suggestion(catalog: Catalog) -> None:
    finding = the(lint(catalog, policy(allow(P + "GetFiles"))), "IAM010")
    assert finding.severity == "error"
    assert finding.json_path == "Statement[0].Action"
    assert finding.message == (
        "unknown action aws-external-anthropic:GetFiles: not one of the 84 actions of "
        "aws-external-anthropic; did you mean GetFile?"
    )


def test_iam010_suggestion_ignores_case(catalog: Catalog) -> None:
    finding = the(lint(catalog, policy(allow(P + "listfile"))), "IAM010")
    assert finding.message.endswith("; did you mean ListFiles?")


def test_iam010_not_for_other_case_or_other_services(catalog: Catalog) -> None:
    # IAM matches action names (and prefixes) case-insensitively: getfile is GetFile.
    document = policy(
        allow(
            [
                "aws-external-anthropic:getfile",
                "AWS-EXTERNAL-ANTHROPIC:LISTFILES",
                "sts:NoSuchAction",
                "aws-marketplace:Subscribe",
                "iam:Whatever",
            ],
            WORKSPACES,
        )
    )
    found = codes(lint(catalog, document))
    assert "IAM010" not in found and "IAM011" not in found


def test_iam011_pattern_that_matches_nothing(catalog: Catalog) -> None:
    finding = the(lint(catalog, policy(deny([P + "Get*", P + "Purge*"]))), "IAM011")
    assert finding.json_path == "Statement[0].Action[1]"
    assert finding.message == (
        "aws-external-anthropic:Purge* matches no action of aws-external-anthropic"
    )


def test_iam011_not_for_foreign_patterns_or_patterns_that_match(
    catalog: Catalog,
) -> None:
    document = policy(allow(["sts:Purge*", P + "Get?ile", P + "*Files"], WORKSPACES))
    assert "IAM011" not in codes(lint(catalog, document))


# ---------------------------------------------------------------------------- IAM020


def test_iam020_star_file_also_matches_user_profiles(catalog: Catalog) -> None:
    finding = the(lint(catalog, policy(deny(P + "*File"))), "IAM020")
    assert finding.severity == "warning"
    assert finding.actions == (
        "CreateFile",
        "GetFile",
        "DeleteFile",
        "CreateUserProfile",
        "GetUserProfile",
        "UpdateUserProfile",
    )
    assert finding.message.startswith(
        "aws-external-anthropic:*File also matches CreateUserProfile, GetUserProfile, "
        "UpdateUserProfile, not only CreateFile, GetFile, DeleteFile"
    )


def test_iam020_star_files_catches_list_user_profiles(catalog: Catalog) -> None:
    # "ListUserProfiles" ends in "files" once case is ignored.
    finding = the(lint(catalog, policy(deny(P + "*Files"))), "IAM020")
    assert finding.actions == ("ListFiles", "ListUserProfiles")


def test_iam020_not_for_a_pattern_within_one_family(catalog: Catalog) -> None:
    # *BatchInference* stays in one family; Get* is a verb wildcard (IAM021's business).
    document = policy(deny([P + "*BatchInference*", P + "Get*", P + "CreateFile"]))
    assert "IAM020" not in codes(lint(catalog, document))


# ---------------------------------------------------------------------------- IAM021/022


def test_iam021_verb_wildcard(catalog: Catalog) -> None:
    finding = the(lint(catalog, policy(allow(P + "List*", WORKSPACES))), "IAM021")
    assert finding.severity == "info"
    assert finding.actions == LIST_STAR
    assert finding.message == (
        "aws-external-anthropic:List* matches 16 actions today and every List action "
        "added later"
    )


def test_iam021_service_wildcard(catalog: Catalog) -> None:
    finding = the(lint(catalog, policy(allow(P + "*"))), "IAM021")
    assert finding.actions == tuple(a.name for a in catalog.actions)
    assert finding.message == (
        "aws-external-anthropic:* matches all 84 actions of aws-external-anthropic today "
        "and every action added later"
    )


def test_iam021_bare_star_says_it_covers_every_aws_service(catalog: Catalog) -> None:
    finding = the(lint(catalog, policy(allow("*"))), "IAM021")
    assert "every action of every AWS service" in finding.message


def test_iam021_not_for_exact_actions_or_a_deny(catalog: Catalog) -> None:
    # A Deny's wildcard that widens only denies more.
    document = policy(allow(P + "GetFile", WORKSPACES), deny([P + "Delete*", P + "*"]))
    assert "IAM021" not in codes(lint(catalog, document))


def test_iam021_for_a_deny_notaction_since_that_widens_access(catalog: Catalog) -> None:
    document = policy({"Effect": "Deny", "NotAction": P + "Get*", "Resource": "*"})
    assert the(lint(catalog, document), "IAM021").json_path == "Statement[0].NotAction"


def test_iam022_allow_with_notaction(catalog: Catalog) -> None:
    document = policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    finding = the(lint(catalog, document), "IAM022")
    assert finding.json_path == "Statement[0].NotAction"
    assert "every other action of every AWS service" in finding.message


def test_iam022_not_for_deny_with_notaction(catalog: Catalog) -> None:
    document = policy({"Effect": "Deny", "NotAction": P + "Get*", "Resource": "*"})
    assert "IAM022" not in codes(lint(catalog, document))


# ---------------------------------------------------------------------------- IAM030/031/032


def test_iam030_account_scoped_action_on_a_workspace_arn(catalog: Catalog) -> None:
    document = policy(allow([P + "GetWorkspace", P + "ListWorkspaces"], WORKSPACES))
    finding = the(lint(catalog, document), "IAM030")
    assert (finding.statement, finding.json_path) == (
        "Statement[0]",
        "Statement[0].Action[1]",
    )
    assert finding.actions == ("ListWorkspaces",)
    assert finding.message == (
        'ListWorkspaces is account-scoped (no resource type); only Resource "*" grants it '
        "and no statement of this policy does, so this statement's Resource "
        "arn:aws:aws-external-anthropic:*:*:workspace/* silently grants nothing for it"
    )


def test_iam030_not_when_granted_on_star_elsewhere_or_on_star(catalog: Catalog) -> None:
    elsewhere = policy(
        allow(P + "List*", WORKSPACES),
        allow([P + "ListWorkspaces", P + "ListKeys"]),
        # A grant under a condition still counts: the condition may hold.
        allow(
            [P + "ListUserProfiles", P + "ListComplianceActivities"],
            Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        ),
    )
    assert "IAM030" not in codes(lint(catalog, elsewhere))
    assert "IAM030" not in codes(lint(catalog, policy(allow(P + "ListWorkspaces"))))


def test_iam030_not_for_an_action_the_policy_denies_on_star(catalog: Catalog) -> None:
    document = policy(
        allow(P + "ListWorkspaces", WORKSPACES), deny(P + "ListWorkspaces")
    )
    assert "IAM030" not in codes(lint(catalog, document))


def test_iam030_resource_pattern_like_arn_star_does_not_count_as_star(
    catalog: Catalog,
) -> None:
    # Only "*" applies to an action without a resource type, not "arn:*".
    document = policy(allow(P + "CreateWorkspace", "arn:*"))
    assert the(lint(catalog, document), "IAM030").actions == ("CreateWorkspace",)


def test_iam031_route_less_action_on_a_workspace_arn(catalog: Catalog) -> None:
    document = policy(
        allow([P + "CallWithBearerToken", P + "AssumeConsole"], ONE_WORKSPACE)
    )
    found = only(lint(catalog, document), "IAM031")
    assert [(f.severity, f.json_path, f.actions) for f in found] == [
        ("warning", "Statement[0].Action[0]", ("CallWithBearerToken",)),
        ("warning", "Statement[0].Action[1]", ("AssumeConsole",)),
    ]
    assert found[0].message.startswith(
        "CallWithBearerToken is route-less: it binds to no workspace"
    )


def test_iam031_names_several_actions_matched_by_one_pattern(catalog: Catalog) -> None:
    document = policy(allow(P + "*", ONE_WORKSPACE))
    finding = the(lint(catalog, document), "IAM031")
    assert finding.actions == ("CallWithBearerToken", "AssumeConsole")
    assert finding.message.startswith(
        "CallWithBearerToken, AssumeConsole are route-less: they bind to no workspace"
    )


def test_iam031_not_on_star(catalog: Catalog) -> None:
    document = policy(allow([P + "CallWithBearerToken", P + "AssumeConsole"]))
    assert "IAM031" not in codes(lint(catalog, document))


def test_iam032_deny_on_a_workspace_arn_misses_resourceless_actions(
    catalog: Catalog,
) -> None:
    finding = the(lint(catalog, policy(deny(P + "Create*", WORKSPACES))), "IAM032")
    assert finding.actions == (
        "CreateUserProfile",
        "CreateUserProfileEnrollmentUrl",
        "CreateWorkspace",
    )


def test_iam032_not_for_a_deny_on_star(catalog: Catalog) -> None:
    assert "IAM032" not in codes(lint(catalog, policy(deny(P + "Create*"))))


# ---------------------------------------------------------------------------- IAM040


def test_iam040_delete_star_leaves_updates_and_archives(catalog: Catalog) -> None:
    # Deny-only: it will be combined with an Allow policy, so every undenied path counts.
    finding = the(lint(catalog, policy(deny(P + "Delete*"))), "IAM040")
    assert finding.severity == "warning"
    assert finding.json_path == "Statement[0].Action"
    assert finding.actions == (
        "UpdateSkill",
        "ArchiveAgent",
        "UpdateSession",
        "ArchiveSession",
        "ArchiveEnvironment",
        "UpdateVault",
        "ArchiveVault",
        "UpdateMemoryStore",
        "ArchiveMemoryStore",
        "ArchiveWorkspace",
        "ArchiveDeployment",
    )
    assert "UpdateSkill (e.g. DELETE /v1/skills/{skill_id}/versions/{version})" in (
        finding.message
    )
    assert "ArchiveAgent (archives instead of deleting)" in finding.message


def test_iam040_create_only_reports_sub_resource_updates_not_archives(
    catalog: Catalog,
) -> None:
    # Archive counts only where the Delete is denied too, or where there is no Delete.
    finding = the(
        lint(catalog, policy(deny([P + "CreateSkill", P + "CreateSession"]))), "IAM040"
    )
    assert finding.actions == ("UpdateSkill", "UpdateSession")


def test_iam040_with_allows_reports_only_what_the_policy_grants(
    catalog: Catalog,
) -> None:
    document = policy(
        allow([P + "UpdateSkill", P + "DeleteSkill", P + "UpdateSession"], WORKSPACES),
        deny(P + "DeleteSkill"),
    )
    assert the(lint(catalog, document), "IAM040").actions == ("UpdateSkill",)


def test_iam040_not_when_updates_and_archives_are_denied_too(catalog: Catalog) -> None:
    document = policy(
        deny([P + "Delete*", P + "Create*", P + "Archive*"]),
        deny(
            [
                P + "UpdateSkill",
                P + "UpdateSession",
                P + "UpdateVault",
                P + "UpdateMemoryStore",
            ]
        ),
    )
    assert "IAM040" not in codes(lint(catalog, document))


def test_iam040_not_for_families_without_update_or_archive_paths(
    catalog: Catalog,
) -> None:
    document = policy(deny([P + "CreateFile", P + "DeleteBatchInference"]))
    assert "IAM040" not in codes(lint(catalog, document))


# ---------------------------------------------------------------------------- IAM041/042


def test_iam041_creation_denied_without_reads_and_deletes(catalog: Catalog) -> None:
    finding = the(
        lint(catalog, policy(deny(P + "CreateFile", ONE_WORKSPACE))), "IAM041"
    )
    assert finding.severity == "info"
    assert finding.actions == ("GetFile", "ListFiles", "DeleteFile")
    assert finding.message == (
        "this Deny blocks CreateFile but not the same resources' reads and deletes "
        "(File: GetFile, ListFiles, DeleteFile); data already there stays readable and "
        "removable. A full lockdown denies these too"
    )


def test_iam041_not_for_a_full_lockdown(catalog: Catalog) -> None:
    document = policy(
        deny(
            [P + "CreateFile", P + "GetFile", P + "ListFiles", P + "DeleteFile"],
            ONE_WORKSPACE,
        )
    )
    assert "IAM041" not in codes(lint(catalog, document))


def test_iam041_not_for_reads_the_policy_itself_grants(catalog: Catalog) -> None:
    document = policy(
        allow([P + "GetFile", P + "ListFiles", P + "DeleteFile"], WORKSPACES),
        deny(P + "CreateFile"),
    )
    assert "IAM041" not in codes(lint(catalog, document))


def test_iam042_only_one_inference_action_denied(catalog: Catalog) -> None:
    finding = the(lint(catalog, policy(deny(P + "CreateInference"))), "IAM042")
    assert finding.severity == "warning"
    assert finding.actions == ("CreateInference", "CreateBatchInference")
    assert finding.message.startswith(
        "denies CreateInference but not CreateBatchInference: the two are independent"
    )


def test_iam042_not_when_both_or_neither_are_denied(catalog: Catalog) -> None:
    both = policy(deny(P + "CreateInference"), deny(P + "CreateBatchInference"))
    assert "IAM042" not in codes(lint(catalog, both))
    assert "IAM042" not in codes(lint(catalog, policy(deny(P + "CreateFile"))))
    # Create*Inference matches both.
    assert "IAM042" not in codes(lint(catalog, policy(deny(P + "Create*Inference"))))


# ---------------------------------------------------------------------------- IAM050


def test_iam050_read_that_downloads_content(catalog: Catalog) -> None:
    document = policy(
        allow([P + "ListFiles", P + "GetFile", P + "GetSession"], ONE_WORKSPACE)
    )
    found = only(lint(catalog, document), "IAM050")
    assert [(f.json_path, f.actions) for f in found] == [
        ("Statement[0].Action[1]", ("GetFile",)),
        ("Statement[0].Action[2]", ("GetSession",)),
    ]
    assert found[0].message == (
        "grants GetFile (file bytes): this read downloads stored content, not only metadata"
    )
    assert "GetSession (conversation history)" in found[1].message


def test_iam050_on_another_workspace_arn_still_counts(catalog: Catalog) -> None:
    other = "arn:aws:aws-external-anthropic:eu-west-1:111122223333:workspace/wrkspc_X*"
    assert the(lint(catalog, policy(allow(P + "GetMemoryStore", other))), "IAM050")


def test_iam050_not_for_metadata_reads_or_denied_content(catalog: Catalog) -> None:
    assert "IAM050" not in codes(
        lint(catalog, policy(allow([P + "ListFiles", P + "GetModel"])))
    )
    denied = policy(allow(P + "Get*", WORKSPACES), deny([P + n for n in CONTENT_READS]))
    assert "IAM050" not in codes(lint(catalog, denied))


# ---------------------------------------------------------------------------- IAM060


def test_iam060_route_actions_without_the_bearer_action(catalog: Catalog) -> None:
    finding = the(
        lint(catalog, policy(allow(P + "CreateInference", ONE_WORKSPACE))), "IAM060"
    )
    assert (finding.statement, finding.json_path) == (None, "")
    assert finding.actions == ("CreateInference",)
    assert finding.message == (
        "grants 1 route action (CreateInference) but not CallWithBearerToken: callers "
        'using an API key (bearer token) are refused; grant CallWithBearerToken on Resource "*" '
        "if they should be served (SigV4 callers do not need it)"
    )


def test_iam060_bearer_action_on_a_workspace_arn_does_not_grant_it(
    catalog: Catalog,
) -> None:
    document = policy(
        allow([P + "CreateInference", P + "CallWithBearerToken"], ONE_WORKSPACE)
    )
    assert {"IAM031", "IAM060"} <= set(codes(lint(catalog, document)))


def test_iam060_not_with_the_bearer_action_or_without_route_actions(
    catalog: Catalog,
) -> None:
    granted = policy(
        allow(P + "CreateInference", ONE_WORKSPACE), allow(P + "CallWithBearerToken")
    )
    assert "IAM060" not in codes(lint(catalog, granted))
    # AssumeConsole has no route; a deny-only policy grants nothing.
    assert "IAM060" not in codes(lint(catalog, policy(allow(P + "AssumeConsole"))))
    assert "IAM060" not in codes(lint(catalog, policy(deny(P + "CreateFile"))))


# ---------------------------------------------------------------------------- AWS's policies

PINNED_MANAGED: dict[str, list[Pin]] = {
    "AnthropicFullAccess": [
        ("IAM021", "AnthropicFullAccess", "Statement[0].Action[0]", "ALL"),
        ("IAM050", "AnthropicFullAccess", "Statement[0].Action[0]", CONTENT_READS),
    ],
    "AnthropicReadOnlyAccess": [
        ("IAM021", "AnthropicReadOnlyWorkspace", "Statement[0].Action[0]", GET_STAR),
        # GetAccountStatus is granted on "*" by AnthropicReadOnlyResourceless: not listed.
        (
            "IAM030",
            "AnthropicReadOnlyWorkspace",
            "Statement[0].Action[0]",
            ("GetUserProfile", "GetKey"),
        ),
        (
            "IAM050",
            "AnthropicReadOnlyWorkspace",
            "Statement[0].Action[0]",
            CONTENT_READS,
        ),
        ("IAM021", "AnthropicReadOnlyWorkspace", "Statement[0].Action[1]", LIST_STAR),
        (
            "IAM030",
            "AnthropicReadOnlyWorkspace",
            "Statement[0].Action[1]",
            (
                "ListUserProfiles",
                "ListWorkspaces",
                "ListKeys",
                "ListComplianceActivities",
            ),
        ),
    ],
    "AnthropicInferenceAccess": [
        ("IAM021", "AnthropicInferenceWorkspace", "Statement[0].Action[0]", GET_STAR),
        (
            "IAM030",
            "AnthropicInferenceWorkspace",
            "Statement[0].Action[0]",
            ("GetUserProfile", "GetKey"),
        ),
        (
            "IAM050",
            "AnthropicInferenceWorkspace",
            "Statement[0].Action[0]",
            CONTENT_READS,
        ),
        ("IAM021", "AnthropicInferenceWorkspace", "Statement[0].Action[1]", LIST_STAR),
        (
            "IAM030",
            "AnthropicInferenceWorkspace",
            "Statement[0].Action[1]",
            (
                "ListUserProfiles",
                "ListWorkspaces",
                "ListKeys",
                "ListComplianceActivities",
            ),
        ),
    ],
    "AnthropicLimitedAccess": [
        ("IAM021", "AnthropicLimitedWorkspace", "Statement[0].Action[0]", GET_STAR),
        (
            "IAM030",
            "AnthropicLimitedWorkspace",
            "Statement[0].Action[0]",
            ("GetUserProfile", "GetKey"),
        ),
        (
            "IAM050",
            "AnthropicLimitedWorkspace",
            "Statement[0].Action[0]",
            CONTENT_READS,
        ),
        ("IAM021", "AnthropicLimitedWorkspace", "Statement[0].Action[1]", LIST_STAR),
        (
            "IAM030",
            "AnthropicLimitedWorkspace",
            "Statement[0].Action[1]",
            (
                "ListUserProfiles",
                "ListWorkspaces",
                "ListKeys",
                "ListComplianceActivities",
            ),
        ),
        # User profiles are account-scoped: the v6 policy's explicit user-profile writes
        # on workspace ARNs grant nothing.
        (
            "IAM030",
            "AnthropicLimitedWorkspace",
            "Statement[0].Action[17]",
            ("CreateUserProfile",),
        ),
        (
            "IAM030",
            "AnthropicLimitedWorkspace",
            "Statement[0].Action[35]",
            ("UpdateUserProfile",),
        ),
    ],
    "AnthropicSelfHostedEnvironmentAccess": [
        (
            "IAM050",
            "AnthropicSelfHostedEnvironmentWorkspace",
            "Statement[0].Action[1]",
            ("GetSession",),
        ),
        (
            "IAM050",
            "AnthropicSelfHostedEnvironmentWorkspace",
            "Statement[0].Action[2]",
            ("GetSkill",),
        ),
    ],
}


def _expand(
    pins: list[Pin], catalog: Catalog
) -> list[tuple[str, str | None, str, tuple[str, ...]]]:
    every = tuple(a.name for a in catalog.actions)
    return [(c, s, p, every if isinstance(a, str) else a) for c, s, p, a in pins]


def test_every_managed_policy_is_pinned(catalog: Catalog) -> None:
    assert sorted(p.name for p in catalog.spec.managed_policies) == sorted(
        PINNED_MANAGED
    )


@pytest.mark.parametrize("name", sorted(PINNED_MANAGED))
def test_managed_policy_findings(catalog: Catalog, name: str) -> None:
    # Managed policies lint as AWS wrote them: their findings are expected, not hidden.
    findings = lint_files(catalog, [name])
    assert summary(findings) == _expand(PINNED_MANAGED[name], catalog)
    assert {f.policy for f in findings} == {name}
    assert {f.location for f in findings} == {f"managed:{name}"}


def test_managed_policy_names_are_case_insensitive(catalog: Catalog) -> None:
    findings = lint_files(catalog, ["anthropicreadonlyaccess"])
    assert findings and {f.policy for f in findings} == {"AnthropicReadOnlyAccess"}
    assert exit_code(findings) == 1  # IAM030 is a warning


PINNED_EXAMPLES: dict[str, list[Pin]] = {
    "deny-batch-inference": [
        (
            "IAM060",
            None,
            "",
            (
                "CreateInference",
                "CountTokens",
                "GetModel",
                "ListModels",
                "GetWorkspace",
            ),
        ),
        # facts.md D24: ListWorkspaces on a workspace ARN is never granted.
        ("IAM030", "Statement[0]", "Statement[0].Action[5]", ("ListWorkspaces",)),
        (
            "IAM041",
            "Statement[1]",
            "Statement[1].Action",
            ("CancelBatchInference", "DeleteBatchInference"),
        ),
        # By the rule's text: only CreateBatchInference is denied. Here it is the intent
        # (the example allows CreateInference), but the rule cannot know intent.
        (
            "IAM042",
            "Statement[1]",
            "Statement[1].Action",
            ("CreateInference", "CreateBatchInference"),
        ),
    ],
    "single-workspace-inference-aws": [
        (
            "IAM060",
            None,
            "",
            (
                "CreateInference",
                "CountTokens",
                "GetBatchInference",
                "ListBatchInferences",
                "GetModel",
                "ListModels",
                "GetFile",
                "ListFiles",
                "GetSkill",
                "ListSkills",
                "GetAgent",
                "ListAgents",
                "GetSession",
                "ListSessions",
                "GetEnvironment",
                "ListEnvironments",
                "GetVault",
                "ListVaults",
                "GetMemoryStore",
                "ListMemoryStores",
                "GetWebhook",
                "ListWebhooks",
                "GetWorkspace",
            ),
        ),
        ("IAM021", "Statement[0]", "Statement[0].Action[2]", GET_STAR),
        # Nothing grants GetAccountStatus on "*" here, unlike in the managed policies.
        (
            "IAM030",
            "Statement[0]",
            "Statement[0].Action[2]",
            ("GetUserProfile", "GetKey", "GetAccountStatus"),
        ),
        ("IAM050", "Statement[0]", "Statement[0].Action[2]", CONTENT_READS),
        ("IAM021", "Statement[0]", "Statement[0].Action[3]", LIST_STAR),
        (
            "IAM030",
            "Statement[0]",
            "Statement[0].Action[3]",
            (
                "ListUserProfiles",
                "ListWorkspaces",
                "ListKeys",
                "ListComplianceActivities",
            ),
        ),
    ],
    "single-workspace-inference": [
        (
            "IAM060",
            None,
            "",
            (
                "CreateInference",
                "CountTokens",
                "GetModel",
                "ListModels",
                "GetWorkspace",
            ),
        ),
    ],
    "per-customer-workspace-isolation": [
        ("IAM021", "Statement[0]", "Statement[0].Action", "ALL"),
        # Every account-scoped action is matched by aws-external-anthropic:* on the one
        # workspace ARN and granted nowhere on "*". The route-less two are granted on "*"
        # by Statement[1], so no IAM031.
        (
            "IAM030",
            "Statement[0]",
            "Statement[0].Action",
            (
                "CreateUserProfile",
                "GetUserProfile",
                "ListUserProfiles",
                "UpdateUserProfile",
                "CreateUserProfileEnrollmentUrl",
                "CreateWorkspace",
                "ListWorkspaces",
                "RegisterKey",
                "GetKey",
                "ListKeys",
                "UpdateKey",
                "DisableKey",
                "ListComplianceActivities",
                "GetAccountStatus",
            ),
        ),
        ("IAM050", "Statement[0]", "Statement[0].Action", CONTENT_READS),
    ],
    "zdr-feature-lockdown": [
        # facts.md: "blocks creation only; a full lockdown also denies GetFile, ListFiles,
        # DeleteFile, GetBatchInference, ListBatchInferences, CancelBatchInference,
        # DeleteBatchInference" - exactly the actions listed.
        (
            "IAM041",
            "Statement[0]",
            "Statement[0].Action",
            (
                "GetBatchInference",
                "ListBatchInferences",
                "CancelBatchInference",
                "DeleteBatchInference",
                "GetFile",
                "ListFiles",
                "DeleteFile",
            ),
        ),
        # IAM042 fires: the example denies CreateBatchInference and not CreateInference,
        # which is exactly "only one of the two denied". (Real-time inference keeps no
        # data, so this is likely the intent; the warning says the two are independent.)
        (
            "IAM042",
            "Statement[0]",
            "Statement[0].Action",
            ("CreateInference", "CreateBatchInference"),
        ),
    ],
    "provisioning-automation": [
        (
            "IAM060",
            None,
            "",
            (
                "CreateWorkspace",
                "GetWorkspace",
                "ListWorkspaces",
                "UpdateWorkspace",
                "ArchiveWorkspace",
            ),
        ),
    ],
    # AssumeConsole on "*" under a condition: no route, nothing to say.
    "console-admin-capability": [],
}


def test_every_example_policy_is_pinned(catalog: Catalog) -> None:
    assert sorted(e.slug for e in catalog.spec.example_policies) == sorted(
        PINNED_EXAMPLES
    )


@pytest.mark.parametrize("slug", sorted(PINNED_EXAMPLES))
def test_example_policy_findings(catalog: Catalog, slug: str) -> None:
    (example,) = [e for e in catalog.spec.example_policies if e.slug == slug]
    findings = lint_policy(catalog, slug, example.document)
    assert summary(findings) == _expand(PINNED_EXAMPLES[slug], catalog)


def test_zdr_lockdown_has_no_mutation_leak(catalog: Catalog) -> None:
    # Files and batches have no Update/Archive action: IAM040 has nothing to say.
    assert "IAM040" not in codes(lint_files(catalog, ["zdr-feature-lockdown"]))


# ---------------------------------------------------------------------------- files


def test_lint_files_reports_json_syntax_errors_with_line_and_column(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(LINT_FIXTURES)
    (finding,) = lint_files(catalog, ["broken.json"])
    assert (finding.code, finding.policy, finding.statement, finding.json_path) == (
        "IAM001",
        "broken.json",
        None,
        "",
    )
    assert (
        finding.message == "invalid JSON at line 6, column 7: Expecting ',' delimiter"
    )


def test_lint_files_rejects_duplicate_keys(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(LINT_FIXTURES)
    (finding,) = lint_files(catalog, ["duplicate-key.json"])
    assert finding.code == "IAM001"
    assert "duplicate key 'Action'" in finding.message


def test_lint_files_clean_policy_has_no_findings(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(LINT_FIXTURES)
    findings = lint_files(catalog, ["clean.json"])
    assert findings == []
    assert exit_code(findings) == 0
    assert format_text(findings) == ""
    assert json.loads(format_json(findings)) == []


def test_lint_files_unknown_argument_is_bad_input(
    catalog: Catalog, tmp_path: Path
) -> None:
    with pytest.raises(
        LintInputError, match="no such file, and not a managed policy name"
    ):
        lint_files(catalog, [str(tmp_path / "missing.json")])


def test_text_output_is_one_line_per_finding(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(LINT_FIXTURES)
    findings = lint_files(catalog, ["star-file.json"])
    arn = ONE_WORKSPACE
    assert format_text(findings) == (
        "star-file.json: IAM060 info: grants 3 route actions (CreateFile, GetFile, "
        "DeleteFile) but not CallWithBearerToken: callers using an API key (bearer token) "
        'are refused; grant CallWithBearerToken on Resource "*" if they should be served '
        "(SigV4 callers do not need it)\n"
        "star-file.json: FilesOnOneWorkspace: IAM020 warning: aws-external-anthropic:*File "
        "also matches CreateUserProfile, GetUserProfile, UpdateUserProfile, not only "
        "CreateFile, GetFile, DeleteFile: IAM compares action names case-insensitively "
        "and '*' runs across words; list the intended actions explicitly\n"
        "star-file.json: FilesOnOneWorkspace: IAM030 warning: CreateUserProfile, "
        "GetUserProfile, UpdateUserProfile are account-scoped (no resource type); only "
        'Resource "*" grants them and no statement of this policy does, so this '
        f"statement's Resource {arn} silently grants nothing for them\n"
        "star-file.json: FilesOnOneWorkspace: IAM050 info: grants GetFile (file bytes): "
        "this read downloads stored content, not only metadata\n"
        "star-file.json: FilesOnOneWorkspace: IAM031 warning: CallWithBearerToken is "
        'route-less: it binds to no workspace; only Resource "*" grants it and no '
        f"statement of this policy does, so this statement's Resource {arn} silently "
        "grants nothing for it\n"
    )
    assert exit_code(findings) == 1


def test_json_output_parses_with_the_documented_keys(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(LINT_FIXTURES)
    findings = lint_files(catalog, ["star-file.json", "broken.json"])
    items = json.loads(format_json(findings))
    assert [list(item) for item in items] == [
        ["code", "severity", "message", "policy", "statement", "path", "actions"]
    ] * len(findings)
    assert items[1] == {
        "code": "IAM020",
        "severity": "warning",
        "message": findings[1].message,
        "policy": "star-file.json",
        "statement": "FilesOnOneWorkspace",
        "path": "Statement[0].Action[0]",
        "actions": list(findings[1].actions),
    }
    assert items[-1]["policy"] == "broken.json" and items[-1]["statement"] is None


def test_sarif_output_is_structurally_valid(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(LINT_FIXTURES)
    findings = lint_files(
        catalog, ["star-file.json", "broken.json", "AnthropicReadOnlyAccess"]
    )
    log = json.loads(format_sarif(findings, "1.2.3"))
    assert log["version"] == "2.1.0" and "$schema" in log
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("iamgen", "1.2.3")
    rules = driver["rules"]
    assert [r["id"] for r in rules] == sorted(CODES)
    levels = {"error": "error", "warning": "warning", "info": "note"}
    for rule in rules:
        assert rule["shortDescription"]["text"] == CODES[rule["id"]][1]
        assert rule["defaultConfiguration"]["level"] == levels[CODES[rule["id"]][0]]
    results = run["results"]
    assert len(results) == len(findings)
    for result, finding in zip(results, findings, strict=True):
        assert result["ruleId"] == finding.code
        assert rules[result["ruleIndex"]]["id"] == finding.code
        assert result["level"] == levels[finding.severity]
        assert result["message"]["text"] == finding.message
        (location,) = result["locations"]
        uri = location["physicalLocation"]["artifactLocation"]["uri"]
        if finding.json_path:
            (logical,) = location["logicalLocations"]
            assert logical["fullyQualifiedName"] == finding.json_path
        else:
            assert "logicalLocations" not in location
        expected_uri = (
            "managed:AnthropicReadOnlyAccess"
            if finding.policy.startswith("Anthropic")
            else finding.policy
        )
        assert uri == expected_uri


def test_lint_policy_against_the_minimal_fixture_spec() -> None:
    # The linter is driven by the spec's data: the fixture spec's ReadOnly trips IAM030
    # for its one account-scoped action.
    minimal = load_model(MINIMAL_SPEC.read_bytes(), "minimal.yaml").catalog
    (managed,) = minimal.spec.managed_policies
    findings = lint_policy(minimal, managed.name, managed.document)
    assert [(f.code, f.json_path, f.actions) for f in findings] == [
        ("IAM021", "Statement[0].Action[0]", ("GetFile", "GetEnvironment")),
        ("IAM050", "Statement[0].Action[0]", ("GetFile",)),
        ("IAM021", "Statement[0].Action[1]", ("ListFiles", "ListWorkspaces")),
        ("IAM030", "Statement[0].Action[1]", ("ListWorkspaces",)),
    ]


# ---------------------------------------------------------------------------- robustness


def test_findings_follow_document_order_then_code(catalog: Catalog) -> None:
    document = policy(
        deny(P + "CreateInference"),
        allow([P + "*File", P + "ListWorkspaces"], WORKSPACES),
    )
    findings = lint(catalog, document)
    assert [(f.json_path, f.code) for f in findings] == [
        ("", "IAM060"),  # the document as a whole comes first
        ("Statement[0].Action", "IAM042"),
        ("Statement[1].Action[0]", "IAM020"),
        ("Statement[1].Action[0]", "IAM030"),
        ("Statement[1].Action[0]", "IAM050"),
        ("Statement[1].Action[1]", "IAM030"),
    ]


_ACTIONS = st.sampled_from(
    [
        P + "GetFile",
        P + "Get*",
        P + "*File",
        P + "Nope",
        "*",
        "s3:Get*",
        "*:x",
        "",
        "a:b:c",
        7,
    ]
)
_RESOURCES = st.sampled_from(
    ["*", WORKSPACES, ONE_WORKSPACE, "arn:*", "x", "arn:aws:s3:::b", None]
)
_STATEMENTS = st.fixed_dictionaries(
    {},
    optional={
        "Sid": st.sampled_from(["A", "B", "", "bad sid", 1]),
        "Effect": st.sampled_from(["Allow", "Deny", "allow"]),
        "Action": st.one_of(_ACTIONS, st.lists(_ACTIONS, max_size=3)),
        "NotAction": st.one_of(_ACTIONS, st.lists(_ACTIONS, max_size=3)),
        "Resource": st.one_of(_RESOURCES, st.lists(_RESOURCES, max_size=2)),
        "NotResource": _RESOURCES,
        "Condition": st.sampled_from(
            [{"Bool": {"aws:SecureTransport": "true"}}, {"Nope": {"k": "v"}}, {}, "x"]
        ),
    },
)
_DOCUMENTS = st.one_of(
    st.fixed_dictionaries(
        {"Statement": st.one_of(st.lists(_STATEMENTS, max_size=3), _STATEMENTS)},
        optional={"Version": st.sampled_from(["2012-10-17", "2008-10-17", "1"])},
    ),
    st.none(),
    st.text(max_size=3),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(document=_DOCUMENTS)
def test_lint_never_crashes_and_is_deterministic(
    catalog: Catalog, document: object
) -> None:
    first = lint(catalog, document)
    assert first == lint(catalog, document)
    for finding in first:
        assert finding.code in CODES and finding.severity == CODES[finding.code][0]
    format_sarif(first, "0")
    json.loads(format_json(first))


def test_output_does_not_depend_on_hash_seed() -> None:
    script = (
        "import sys; from pathlib import Path; "
        "from generator.pipeline import load_model; "
        "from generator.lint import lint_files, format_sarif; "
        "c = load_model(Path(sys.argv[1]).read_bytes(), 'spec').catalog; "
        "names = [p.name for p in c.spec.managed_policies]"
        " + [e.slug for e in c.spec.example_policies]; "
        "sys.stdout.write(format_sarif(lint_files(c, names), '0'))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script, str(SPEC)],
            cwd=REPO,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("0", "4242")
    }
    assert len(outputs) == 1
