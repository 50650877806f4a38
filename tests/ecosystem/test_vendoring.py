"""Vendoring and CI adoption (issue 4, section 5): verify, JSON Schema, CloudTrail, hooks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
from pre_commit.clientlib import load_manifest
from ruamel.yaml import YAML

from tests.conftest import REAL_SPEC, REPO_ROOT, run_iamgen

GENERATED = REPO_ROOT / "generated"


def vendored_copy(tmp_path: Path) -> Path:
    target = tmp_path / "vendor"
    shutil.copytree(GENERATED, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def test_verify_accepts_an_exact_copy(tmp_path: Path) -> None:
    folder = vendored_copy(tmp_path)
    result = run_iamgen("verify", folder, "--json", cwd=REPO_ROOT)
    assert result.returncode == 0, result.stdout
    data = json.loads(result.stdout)
    assert data["clean"] is True
    manifest = json.loads((GENERATED / "MANIFEST.json").read_text())
    assert data["spec"]["sha256"] == manifest["spec"]["sha256"]
    assert len(data["checked"]) == len(manifest["files"])


def test_verify_reports_edited_missing_and_extra_files(tmp_path: Path) -> None:
    folder = vendored_copy(tmp_path)
    with open(folder / "policies/managed/AnthropicFullAccess.json", "a") as handle:
        handle.write(" ")
    (folder / "openapi/openapi.json").unlink()
    (folder / "docs/notes.txt").write_text("mine")
    result = run_iamgen("verify", folder, "--json", cwd=REPO_ROOT)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["edited"] == ["policies/managed/AnthropicFullAccess.json"]
    assert data["missing"] == ["openapi/openapi.json"]
    assert data["extra"] == ["docs/notes.txt"]


def test_verify_partial_copy_tolerates_absent_files_but_not_edits(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "partial"
    (folder / "policies/managed").mkdir(parents=True)
    shutil.copy(GENERATED / "MANIFEST.json", folder)
    shutil.copy(
        GENERATED / "policies/managed/AnthropicReadOnlyAccess.json",
        folder / "policies/managed",
    )
    assert run_iamgen("verify", folder, cwd=REPO_ROOT).returncode == 1
    assert run_iamgen("verify", folder, "--partial", cwd=REPO_ROOT).returncode == 0
    (folder / "policies/managed/AnthropicReadOnlyAccess.json").write_text("{}\n")
    result = run_iamgen("verify", folder, "--partial", cwd=REPO_ROOT)
    assert result.returncode == 1
    assert "edited: policies/managed/AnthropicReadOnlyAccess.json" in result.stdout


def test_verify_without_manifest_is_bad_input(tmp_path: Path) -> None:
    result = run_iamgen("verify", tmp_path, cwd=REPO_ROOT)
    assert result.returncode == 2
    assert "MANIFEST.json not found" in result.stderr
    (tmp_path / "MANIFEST.json").write_text('{"files": []}')
    result = run_iamgen("verify", tmp_path, cwd=REPO_ROOT)
    assert result.returncode == 2
    assert "is not an iamgen manifest" in result.stderr
    assert "Traceback" not in result.stderr


def test_spec_validates_against_the_generated_json_schema() -> None:
    schema = json.loads((GENERATED / "schema/spec.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    data = YAML(typ="safe").load(REAL_SPEC.read_text(encoding="utf-8"))
    jsonschema.validate(data, schema)


def test_schema_rejects_what_the_loader_rejects() -> None:
    schema = json.loads((GENERATED / "schema/spec.schema.json").read_text())
    data = YAML(typ="safe").load(REAL_SPEC.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    data["groups"][0]["actions"][0]["access_level"] = "Admin"
    data["groups"][0]["unknown"] = 1
    del data["service"]["prefix"]
    messages = sorted(e.message for e in validator.iter_errors(data))
    assert (
        "'Admin' is not one of ['Read', 'List', 'Write', 'Tagging', 'Permissions management']"
        in messages
    )
    assert "'prefix' is a required property" in messages
    assert any("'unknown' was unexpected" in m for m in messages)


def test_spec_first_line_points_editors_at_the_schema() -> None:
    first = REAL_SPEC.read_text(encoding="utf-8").splitlines()[0]
    assert (
        first == "# yaml-language-server: $schema=../generated/schema/spec.schema.json"
    )
    assert (
        (REAL_SPEC.parent / "../generated/schema/spec.schema.json").resolve().is_file()
    )


def test_cloudtrail_selectors_select_this_services_data_events() -> None:
    selectors = json.loads(
        (GENERATED / "cloudtrail/data-event-selectors.json").read_text()
    )
    assert len(selectors) == 1
    fields = {f["Field"]: f for f in selectors[0]["FieldSelectors"]}
    assert fields["eventCategory"] == {"Field": "eventCategory", "Equals": ["Data"]}
    assert fields["resources.type"]["Equals"] == [
        "AWS::AWSExternalAnthropic::Workspace"
    ]
    page = (GENERATED / "docs/iam-actions.md").read_text()
    assert "## CloudTrail data events" in page
    assert '"Field": "resources.ARN"' in page


def test_pre_commit_hooks_manifest_is_valid() -> None:
    hooks = load_manifest(str(REPO_ROOT / ".pre-commit-hooks.yaml"))
    by_id = {hook["id"]: hook for hook in hooks}
    assert by_id["iamgen-check"]["entry"] == "iamgen check"
    assert by_id["iamgen-check"]["pass_filenames"] is False
    assert by_id["iamgen-verify"]["entry"] == "iamgen verify"


def test_example_ci_workflow_runs_make_check() -> None:
    workflow = YAML(typ="safe").load(
        (REPO_ROOT / ".github/workflows/check.yml").read_text()
    )
    assert {"push", "pull_request"} <= set(workflow["on"])
    [job] = workflow["jobs"].values()
    assert job["runs-on"]
    runs = [step.get("run") for step in job["steps"]]
    assert "make check" in runs and "make test" in runs
    assert all("uses" in step or "run" in step for step in job["steps"])
