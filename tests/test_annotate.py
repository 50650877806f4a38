"""``iamgen annotate``: IAM annotations on OpenAPI documents iamgen did not write.

The fixtures in tests/fixtures/openapi/ are third-party-style documents modelled on the
Anthropic API's route list: SDK parameter names, ``?beta=true`` path keys, vendor extensions,
servers with base paths, and routes the platform does not serve.
"""

from __future__ import annotations

import difflib
import io
import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonpath_rfc9535
import jsonschema  # type: ignore[import-untyped]
import pytest
from conftest import (
    FIXTURES,
    REAL_SPEC,
    REPO_ROOT,
    describe,
    iamgen_env,
    run_iamgen,
)
from openapi_spec_validator import validate
from ruamel.yaml import YAML

from generator.annotate import (
    OPERATION_METHODS,
    AnnotateError,
    AnnotationPlan,
    SourceDocument,
    apply_plan,
    normalized_path,
    plan_annotations,
    read_document,
    render_document,
    server_prefixes,
)
from generator.catalog import Catalog
from generator.pipeline import load_model

OPENAPI = FIXTURES / "openapi"
GATEWAY_YAML = OPENAPI / "gateway-anthropic-3.1.yaml"
PROXY_JSON = OPENAPI / "proxy-anthropic-3.0.json"
PREFIX = "aws-external-anthropic"
ANNOTATION_KEYS = ("x-iam-action", "x-cloudtrail-event-type", "x-iam-available")


# ---------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Annotated:
    """One fixture run through ``--output`` and ``--overlay`` (both with ``--json``)."""

    source: Path
    output: Path
    overlay: Path
    summary: dict[str, Any]
    overlay_summary: dict[str, Any]


def annotate(*args: str | Path) -> Any:
    return run_iamgen("annotate", "--spec", REAL_SPEC, *args, cwd=REPO_ROOT)


def run_fixture(source: Path, folder: Path, overlay_name: str) -> Annotated:
    output = folder / f"annotated{source.suffix}"
    overlay = folder / overlay_name
    result = annotate(source, "--output", output, "--json")
    assert result.returncode == 0, describe(result)
    overlay_result = annotate(source, "--overlay", overlay, "--json")
    assert overlay_result.returncode == 0, describe(overlay_result)
    return Annotated(
        source,
        output,
        overlay,
        json.loads(result.stdout),
        json.loads(overlay_result.stdout),
    )


def load_plain(path: Path) -> Any:
    """The file as plain data (dicts, lists, scalars), whatever its format."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)
    return YAML(typ="safe", pure=True).load(text)


def operations(document: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """(METHOD, path key) -> operation, for every operation under ``paths``."""
    return {
        (method.upper(), key): item[method]
        for key, item in document.get("paths", {}).items()
        if not key.startswith("x-") and "$ref" not in item
        for method in OPERATION_METHODS
        if method in item
    }


def without_annotations(document: Any) -> Any:
    """A copy with the annotator's keys removed from every operation under ``paths``."""
    copy = json.loads(json.dumps(document))
    for operation in operations(copy).values():
        for key in ANNOTATION_KEYS:
            operation.pop(key, None)
    return copy


# The shape of an Overlay 1.0.x document (after the Overlay Specification 1.0.0).
OVERLAY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["overlay", "info", "actions"],
    "properties": {
        "overlay": {"type": "string", "pattern": "^1\\.0\\.\\d+$"},
        "info": {
            "type": "object",
            "required": ["title", "version"],
            "properties": {"title": {"type": "string"}, "version": {"type": "string"}},
            "patternProperties": {"^x-": {}},
            "additionalProperties": False,
        },
        "extends": {"type": "string"},
        "actions": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["target"],
                "properties": {
                    "target": {"type": "string", "pattern": "^\\$"},
                    "description": {"type": "string"},
                    "update": {},
                    "remove": {"type": "boolean"},
                },
                "patternProperties": {"^x-": {}},
                "additionalProperties": False,
            },
        },
    },
    "patternProperties": {"^x-": {}},
    "additionalProperties": False,
}


def apply_overlay(document: Any, overlay: dict[str, Any]) -> Any:
    """Overlay 1.0.0 ``update`` actions, applied with an RFC 9535 JSONPath implementation.

    Every target must select exactly one node, and that node must be an operation.
    """
    jsonschema.validate(overlay, OVERLAY_SCHEMA)
    result = json.loads(json.dumps(document))
    for action in overlay["actions"]:
        assert "remove" not in action, "the annotator never removes"
        nodes = jsonpath_rfc9535.find(action["target"], result)
        assert len(nodes) == 1, f"{action['target']} selects {len(nodes)} nodes"
        node = nodes[0]
        assert node.path() == action["target"], "targets are Normalized Paths"
        location = node.location
        assert len(location) == 3 and location[0] == "paths", location
        assert location[2] in OPERATION_METHODS, location
        assert isinstance(node.value, dict), location
        merge(node.value, action["update"])
    return result


def merge(target: dict[str, Any], update: dict[str, Any]) -> None:
    """Overlay ``update`` on an object: properties merged recursively."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = value


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_model(
        REAL_SPEC.read_bytes(), "spec/aws-external-anthropic.yaml"
    ).catalog


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Annotated:
    return run_fixture(GATEWAY_YAML, tmp_path_factory.mktemp("gateway"), "ov.yaml")


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Annotated:
    return run_fixture(PROXY_JSON, tmp_path_factory.mktemp("proxy"), "ov.json")


def plan_for(
    tmp_path: Path, text: str, catalog: Catalog
) -> tuple[SourceDocument, AnnotationPlan]:
    """Read a small YAML document from text, plan and apply."""
    path = tmp_path / "doc.yaml"
    path.write_text(text, encoding="utf-8")
    document = read_document(path)
    plan = plan_annotations(document.tree, catalog)
    apply_plan(document, plan)
    return document, plan


def small_document(paths: str, servers: str = "") -> str:
    return (
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\n"
        + servers
        + "paths:\n"
        + paths
    )


# ---------------------------------------------------------------------------- the gateway document

# Operations of gateway-anthropic-3.1.yaml that the platform does not serve.
GATEWAY_UNAVAILABLE = [
    ("OPTIONS", "/v1/messages"),
    ("POST", "/v1/complete"),
    ("HEAD", "/v1/files/{file_id}/content"),
    ("GET", "/v1/sessions/{session_id}/threads?beta=true"),
    ("GET", "/v1/sessions/{session_id}/threads/{thread_id}/stream?beta=true"),
    ("POST", "/v1/user_profiles/{user_profile_id}/enrollment_url?beta=true"),
    ("GET", "/v1/dreams?beta=true"),
    ("POST", "/v1/dreams?beta=true"),
    ("POST", "/v1/dreams/{dream_id}/cancel?beta=true"),
    ("POST", "/v1/tunnels/{tunnel_id}/reveal_token?beta=true"),
    ("GET", "/v1/tunnels/{tunnel_id}/certificates?beta=true"),
    ("GET", "/v1/organizations/users"),
    ("DELETE", "/v1/organizations/users/{user_id}"),
]


def test_gateway_counts(gateway: Annotated, catalog: Catalog) -> None:
    summary = gateway.summary
    counts = summary["counts"]
    assert counts["operations"] == 51
    assert counts["annotated"] == 38
    assert counts["unavailable"] == 13
    assert counts["overwritten"] == 1
    assert counts["skipped"] == 1
    # 38 operations hit 33 distinct routes (GA and ?beta=true twins share a route).
    hit = {entry["route"] for entry in summary["annotated"]}
    assert len(hit) == 33
    assert counts["missing"] == len(catalog.routes) - 33
    for name in ("annotated", "unavailable", "missing", "overwritten", "skipped"):
        assert counts[name] == len(summary[name]), name
    every_route = {f"{r.method} {r.path}" for r in catalog.routes}
    missing = {entry["route"] for entry in summary["missing"]}
    assert missing == every_route - hit
    assert gateway.overlay_summary["counts"] == counts


def test_gateway_unavailable_operations(gateway: Annotated) -> None:
    listed = [(op["method"], op["path"]) for op in gateway.summary["unavailable"]]
    assert listed == GATEWAY_UNAVAILABLE


@pytest.mark.parametrize(
    ("method", "path_key", "action", "route"),
    [
        # GetFile on the content route, GA and beta keys alike.
        (
            "GET",
            "/v1/files/{file_id}/content",
            "GetFile",
            "/v1/files/{file_id}/content",
        ),
        (
            "GET",
            "/v1/files/{file_id}/content?beta=true",
            "GetFile",
            "/v1/files/{file_id}/content",
        ),
        ("GET", "/v1/files/{file_id}", "GetFile", "/v1/files/{file_id}"),
        ("GET", "/v1/files?beta=true", "ListFiles", "/v1/files"),
        ("POST", "/v1/messages?beta=true", "CreateInference", "/v1/messages"),
        # The literal segment wins over {work_id}; {work_id} is GetEnvironment for GET.
        (
            "GET",
            "/v1/environments/{environment_id}/work/poll?beta=true",
            "ProcessEnvironmentWork",
            "/v1/environments/{environment_id}/work/poll",
        ),
        (
            "GET",
            "/v1/environments/{environment_id}/work/stats?beta=true",
            "GetEnvironment",
            "/v1/environments/{environment_id}/work/stats",
        ),
        (
            "GET",
            "/v1/environments/{environment_id}/work/{work_id}?beta=true",
            "GetEnvironment",
            "/v1/environments/{environment_id}/work/{work_id}",
        ),
        (
            "POST",
            "/v1/environments/{environment_id}/work/{work_id}?beta=true",
            "ProcessEnvironmentWork",
            "/v1/environments/{environment_id}/work/{work_id}",
        ),
        (
            "DELETE",
            "/v1/skills/{skill_id}/versions/{version}?beta=true",
            "UpdateSkill",
            "/v1/skills/{skill_id}/versions/{version}",
        ),
        # The stale hand annotation (ListModels) is overwritten.
        ("GET", "/v1/models/{model_id}", "GetModel", "/v1/models/{model_id}"),
        # Path-level servers: https://admin.example.com/v1 puts /v1 in front.
        (
            "GET",
            "/organizations/workspaces/{workspace_id}",
            "GetWorkspace",
            "/v1/organizations/workspaces/{workspace_id}",
        ),
        (
            "POST",
            "/organizations/workspaces/{workspace_id}",
            "UpdateWorkspace",
            "/v1/organizations/workspaces/{workspace_id}",
        ),
        ("GET", "/v1/organizations/workspaces?beta=true", "ListWorkspaces", None),
        # Operation-level servers: https://downloads.example.com/anthropic/v1.
        (
            "GET",
            "/files/{file_id}/content",
            "GetFile",
            "/v1/files/{file_id}/content",
        ),
    ],
)
def test_gateway_actions(
    gateway: Annotated,
    catalog: Catalog,
    method: str,
    path_key: str,
    action: str,
    route: str | None,
) -> None:
    operation = operations(load_plain(gateway.output))[(method, path_key)]
    assert operation["x-iam-action"] == f"{PREFIX}:{action}"
    assert (
        operation["x-cloudtrail-event-type"]
        == catalog.action_by_name[action].event_type
    )
    assert "x-iam-available" not in operation
    entry = next(
        e
        for e in gateway.summary["annotated"]
        if (e["method"], e["path"]) == (method, path_key)
    )
    assert entry["action"] == f"{PREFIX}:{action}"
    if route is not None:
        assert entry["route"] == f"{method} {route}"


def test_gateway_every_operation_has_an_action_or_the_marker(
    gateway: Annotated,
) -> None:
    for (method, key), operation in operations(load_plain(gateway.output)).items():
        if (method, key) in GATEWAY_UNAVAILABLE:
            assert operation.get("x-iam-available") is False, (method, key)
            assert "x-iam-action" not in operation, (method, key)
            assert "x-cloudtrail-event-type" not in operation, (method, key)
        else:
            assert operation["x-iam-action"].startswith(f"{PREFIX}:"), (method, key)
            assert operation["x-cloudtrail-event-type"] in ("Data", "Management")


def test_gateway_overwrite_and_skip_are_reported(gateway: Annotated) -> None:
    assert gateway.summary["overwritten"] == [
        {
            "method": "GET",
            "path": "/v1/models/{model_id}",
            "operationId": "retrieveModel",
            "route": "GET /v1/models/{model_id}",
            "action": f"{PREFIX}:GetModel",
            "event_type": "Data",
            "key": "x-iam-action",
            "old": f"{PREFIX}:ListModels",
            "new": f"{PREFIX}:GetModel",
        }
    ]
    assert gateway.summary["skipped"] == [
        {
            "path": "/v1/messages/batches/{message_batch_id}/results?beta=true",
            "reason": "the Path Item is a $ref (#/components/pathItems/BetaBatchResults); "
            "its operations may be shared by several paths",
        }
    ]


def test_gateway_only_operations_change(gateway: Annotated) -> None:
    """Path-item fields, x- keys, webhooks, components and the $ref'd item are untouched."""
    before, after = load_plain(gateway.source), load_plain(gateway.output)
    assert without_annotations(after) == without_annotations(before)
    assert after["webhooks"] == before["webhooks"]
    assert after["components"] == before["components"]
    assert after["paths"]["x-paths-meta"] == before["paths"]["x-paths-meta"]


ADDED_LINE = re.compile(
    r"^ +(x-iam-action: [A-Za-z:-]+|x-cloudtrail-event-type: (Data|Management)"
    r"|x-iam-available: false)$"
)


def test_gateway_yaml_keeps_comments_order_and_quoting(gateway: Annotated) -> None:
    """Every input line survives, in order; only annotation lines are added."""
    before = gateway.source.read_text(encoding="utf-8").splitlines()
    after = gateway.output.read_text(encoding="utf-8").splitlines()
    changed = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(
        None, before, after, autojunk=False
    ).get_opcodes():
        if tag == "equal":
            continue
        if tag == "insert":
            assert all(ADDED_LINE.match(line) for line in after[j1:j2]), after[j1:j2]
            continue
        changed.append((before[i1:i2], after[j1:j2]))
    # The one value overwritten keeps its double quotes.
    assert changed == [
        (
            [f'      x-iam-action: "{PREFIX}:ListModels"'],
            [
                f'      x-iam-action: "{PREFIX}:GetModel"',
                "      x-cloudtrail-event-type: Data",
            ],
        )
    ]
    text = gateway.output.read_text(encoding="utf-8")
    assert text.startswith(
        "# Example Gateway: the Anthropic-compatible routes we proxy."
    )
    assert text.endswith("      name: x-gateway-key\n# end of document\n")
    # A comment after an operation's last line still comes before what it introduces.
    assert (
        f"      x-iam-action: {PREFIX}:GetBatchInference\n"
        "      x-cloudtrail-event-type: Data\n"
        "  # The beta twin is shared with another gateway document, so it is a reference.\n"
    ) in text
    assert (
        "      x-iam-available: false\n"
        "  # ---- Files -----------------------------------------------------------"
    ) in text


def test_gateway_overlay_round_trip(gateway: Annotated) -> None:
    overlay = load_plain(gateway.overlay)
    assert list(overlay) == ["overlay", "info", "extends", "actions"]
    assert overlay["overlay"] == "1.0.0"
    assert overlay["info"]["title"] == (
        "IAM annotations (x-iam-action) for Example Gateway: Anthropic API"
    )
    assert re.fullmatch(r"spec-sha256-[0-9a-f]{12}", overlay["info"]["version"])
    assert (gateway.overlay.parent / overlay["extends"]).resolve() == GATEWAY_YAML
    assert len(overlay["actions"]) == gateway.summary["counts"]["operations"]
    targets = [action["target"] for action in overlay["actions"]]
    assert len(set(targets)) == len(targets)
    applied = apply_overlay(load_plain(GATEWAY_YAML), overlay)
    assert applied == load_plain(gateway.output)
    # Same key order too: updates append new keys last, as --output does.
    assert json.dumps(applied) == json.dumps(load_plain(gateway.output))
    assert not gateway.output.with_name("annotated.yaml.tmp").exists()


# ---------------------------------------------------------------------------- the proxy document


def test_proxy_json_counts_and_actions(proxy: Annotated, catalog: Catalog) -> None:
    counts = proxy.summary["counts"]
    assert (counts["annotated"], counts["unavailable"], counts["skipped"]) == (5, 2, 0)
    assert counts["missing"] == len(catalog.routes) - 5
    actions = {
        key: op.get("x-iam-action")
        for (_method, key), op in operations(load_plain(proxy.output)).items()
    }
    assert actions == {
        "/messages": f"{PREFIX}:CreateInference",
        "/messages/batches/{id}": f"{PREFIX}:GetBatchInference",
        "/files/{id}/content": f"{PREFIX}:GetFile",
        "/environments/{env}/work/poll": f"{PREFIX}:ProcessEnvironmentWork",
        "/environments/{env}/work/{work}": f"{PREFIX}:GetEnvironment",
        "/complete": None,
        "/~legacy/files/{id}/it's": None,
    }


def test_proxy_json_keeps_indentation_and_key_order(proxy: Annotated) -> None:
    before = PROXY_JSON.read_text(encoding="utf-8").splitlines()
    after = proxy.output.read_text(encoding="utf-8").splitlines()
    remaining = [
        line.rstrip(",")
        for line in after
        if not re.match(
            r'^ +"x-(iam-action|cloudtrail-event-type|iam-available)"', line
        )
    ]
    assert remaining == [line.rstrip(",") for line in before]


def test_proxy_overlay_round_trip_with_quoted_keys(proxy: Annotated) -> None:
    overlay = json.loads(proxy.overlay.read_text(encoding="utf-8"))
    targets = [action["target"] for action in overlay["actions"]]
    assert "$['paths']['/~legacy/files/{id}/it\\'s']['get']" in targets
    applied = apply_overlay(load_plain(PROXY_JSON), overlay)
    assert json.dumps(applied) == json.dumps(load_plain(proxy.output))


# ---------------------------------------------------------------------------- both documents


@pytest.mark.parametrize("fixture", ["gateway", "proxy"])
def test_output_still_passes_openapi_spec_validator(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    annotated: Annotated = request.getfixturevalue(fixture)
    validate(load_plain(annotated.source))
    validate(load_plain(annotated.output))


@pytest.mark.parametrize("source", [GATEWAY_YAML, PROXY_JSON], ids=["yaml", "json"])
def test_annotating_twice_changes_nothing(
    source: Path, tmp_path: Path, catalog: Catalog
) -> None:
    first = tmp_path / f"first{source.suffix}"
    result = annotate(source, "--output", first)
    assert result.returncode == 0, describe(result)
    document = read_document(first)
    plan = plan_annotations(document.tree, catalog)
    assert all(not op.overwritten for op in plan.operations)
    apply_plan(document, plan)
    assert render_document(document) == first.read_text(encoding="utf-8")


def test_unchanged_yaml_is_written_back_byte_for_byte() -> None:
    document = read_document(GATEWAY_YAML)
    assert render_document(document) == GATEWAY_YAML.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------- CLI behaviour


def test_stdout_gets_the_document_and_stderr_the_summary() -> None:
    result = annotate(PROXY_JSON)
    assert result.returncode == 0, describe(result)
    assert json.loads(result.stdout)["paths"]["/messages"]["post"]["x-iam-action"] == (
        f"{PREFIX}:CreateInference"
    )
    assert result.stderr.startswith(
        f"{PROXY_JSON}: 5 operations annotated, 2 not available on the platform, "
    )
    assert "  unavailable: POST /complete\n" in result.stderr
    assert f"  missing: GET /v1/models ({PREFIX}:ListModels)\n" in result.stderr


def test_json_alone_is_a_dry_run() -> None:
    result = annotate(PROXY_JSON, "--json")
    assert result.returncode == 0, describe(result)
    summary = json.loads(result.stdout)
    assert summary["written"] is None
    assert list(summary) == [
        "document",
        "counts",
        "annotated",
        "unavailable",
        "missing",
        "overwritten",
        "skipped",
        "written",
    ]
    assert summary["annotated"][0] == {
        "method": "POST",
        "path": "/messages",
        "operationId": "messages_post",
        "route": "POST /v1/messages",
        "action": f"{PREFIX}:CreateInference",
        "event_type": "Data",
    }
    assert result.stderr == ""


def test_output_and_overlay_exclude_each_other(tmp_path: Path) -> None:
    result = annotate(
        PROXY_JSON, "--output", tmp_path / "a.json", "--overlay", tmp_path / "b.json"
    )
    assert result.returncode == 2
    assert "not allowed with argument" in result.stderr
    assert list(tmp_path.iterdir()) == []


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


BAD_INPUTS: list[tuple[str, Callable[[Path], Path], str]] = [
    ("missing", lambda d: d / "nope.yaml", "{path}: no such file"),
    ("directory", lambda d: d, "{path}: not a file"),
    (
        "invalid-json",
        lambda d: _write(d, "bad.json", '{"openapi": "3.1.0",\n  "paths": {]\n}'),
        "{path}:2:13: invalid JSON: Expecting property name enclosed in double quotes",
    ),
    (
        "invalid-yaml",
        lambda d: _write(d, "bad.yaml", "openapi: 3.1.0\npaths:\n  /a: [\n"),
        "{path}:4:1: invalid YAML: expected the node content, but found '<stream end>'",
    ),
    (
        "not-openapi",
        lambda d: _write(d, "policy.json", '{"Version": "2012-10-17"}'),
        "{path}: not an OpenAPI document (no 'openapi' field)",
    ),
    (
        "top-level-list",
        lambda d: _write(d, "list.yaml", "- openapi: 3.1.0\n"),
        "{path}: not an OpenAPI document (the top level is not a mapping)",
    ),
    (
        "swagger-2",
        lambda d: _write(
            d, "swagger.yaml", "swagger: '2.0'\ninfo: {title: t, version: '1'}\n"
        ),
        "{path}: Swagger 2.0 is not supported; convert it to OpenAPI 3.0 or 3.1 first",
    ),
    (
        "openapi-4",
        lambda d: _write(d, "v4.yaml", "openapi: 4.0.0\n"),
        "{path}: OpenAPI version '4.0.0' is not supported (3.0.x or 3.1.x)",
    ),
    (
        "unquoted-version",
        lambda d: _write(d, "float.yaml", "openapi: 3.0\npaths: {}\n"),
        "{path}: 'openapi' must be a version string such as '3.1.0', got 3.0",
    ),
    (
        "paths-not-mapping",
        lambda d: _write(d, "p.yaml", "openapi: 3.0.3\npaths: [a]\n"),
        "{path}: 'paths' is not a mapping",
    ),
    (
        "operation-not-mapping",
        lambda d: _write(
            d, "o.yaml", "openapi: 3.0.3\npaths:\n  /v1/files:\n    get: 1\n"
        ),
        "{path}: operation GET /v1/files is not a mapping",
    ),
    (
        "empty",
        lambda d: _write(d, "empty.yaml", "\n"),
        "{path}: empty file, not an OpenAPI document",
    ),
    (
        "invalid-utf8",
        lambda d: _write_bytes(d, "latin1.yaml", b"openapi: 3.1.0\ninfo: caf\xe9\n"),
        "{path}:2:10: invalid UTF-8 (byte 0xe9)",
    ),
]


def _write_bytes(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("destination", ["--output", "--overlay", None])
@pytest.mark.parametrize(
    ("make", "message"),
    [(make, message) for _name, make, message in BAD_INPUTS],
    ids=[name for name, _make, _message in BAD_INPUTS],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(
    tmp_path: Path, make: Callable[[Path], Path], message: str, destination: str | None
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    source = make(inputs)
    out = tmp_path / "out.yaml"
    args: list[str | Path] = [source]
    if destination is not None:
        args += [destination, out]
    result = annotate(*args)
    assert result.returncode == 2, describe(result)
    assert result.stderr == f"iamgen annotate: {message.format(path=source)}\n"
    assert result.stdout == ""
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


# ---------------------------------------------------------------------------- matching rules


def test_server_prefixes_are_tried_longest_first() -> None:
    assert server_prefixes({"url": "https://gw.example.com/anthropic/v1/"}) == [
        "/anthropic/v1",
        "/v1",
        "",
    ]
    assert server_prefixes({"url": "/"}) == [""]
    assert server_prefixes(
        {
            "url": "https://{host}/{base}",
            "variables": {"host": {"default": "h"}, "base": {"default": "v1"}},
        }
    ) == ["/v1", ""]


def test_servers_with_a_base_path(tmp_path: Path, catalog: Catalog) -> None:
    text = small_document(
        "  /messages:\n"
        "    post: {responses: {'200': {description: ok}}}\n"
        "  /v1/files:\n"
        "    servers: [{url: 'https://gw.example.com/proxy/anthropic'}]\n"
        "    get: {responses: {'200': {description: ok}}}\n"
        "  /files:\n"
        "    get:\n"
        "      servers: [{url: /other}, {url: 'https://x.example.com/{root}',"
        " variables: {root: {default: v1}}}]\n"
        "      responses: {'200': {description: ok}}\n",
        servers="servers:\n  - url: https://api.example.com/v1\n",
    )
    _document, plan = plan_for(tmp_path, text, catalog)
    routes = {(op.method, op.path_key): op.route for op in plan.operations}
    assert routes[("post", "/messages")] is not None
    assert routes[("post", "/messages")].path == "/v1/messages"
    assert routes[("get", "/v1/files")] is not None
    assert routes[("get", "/v1/files")].path == "/v1/files"
    assert routes[("get", "/files")] is not None
    assert routes[("get", "/files")].path == "/v1/files"


def test_literal_segments_in_the_document_are_concrete_values(
    tmp_path: Path, catalog: Catalog
) -> None:
    """A literal fills a spec parameter when no spec literal matches (the gateway's rule)."""
    text = small_document(
        "  /v1/skills/{skill}/versions/latest:\n"
        "    get: {responses: {'200': {description: ok}}}\n"
        "  /v1/{resource}:\n"
        "    get: {responses: {'200': {description: ok}}}\n"
        "  /v1/files/:\n"
        "    get: {responses: {'200': {description: ok}}}\n"
        "  /V1/FILES:\n"
        "    get: {responses: {'200': {description: ok}}}\n"
    )
    _document, plan = plan_for(tmp_path, text, catalog)
    actions = {op.path_key: op.update.get("x-iam-action") for op in plan.operations}
    assert actions == {
        "/v1/skills/{skill}/versions/latest": f"{PREFIX}:GetSkill",
        # A template never stands for a literal: /v1/{resource} is no single route.
        "/v1/{resource}": None,
        # Fail closed like the resolver: trailing slash and upper case are not routes.
        "/v1/files/": None,
        "/V1/FILES": None,
    }


def test_stale_values_are_overwritten_never_deleted(
    tmp_path: Path, catalog: Catalog
) -> None:
    text = small_document(
        "  /v1/complete:\n"
        "    post:\n"
        "      responses: {'200': {description: ok}}\n"
        "      x-iam-action: aws-external-anthropic:CreateInference\n"
        "      x-cloudtrail-event-type: Data\n"
        "  /v1/models:\n"
        "    get:\n"
        "      responses: {'200': {description: ok}}\n"
        "      x-iam-available: false\n"
        "      x-iam-action: aws-external-anthropic:ListModels\n"
    )
    document, plan = plan_for(tmp_path, text, catalog)
    assert render_document(document) == small_document(
        "  /v1/complete:\n"
        "    post:\n"
        "      responses: {'200': {description: ok}}\n"
        "      x-iam-action:\n"
        "      x-cloudtrail-event-type:\n"
        "      x-iam-available: false\n"
        "  /v1/models:\n"
        "    get:\n"
        "      responses: {'200': {description: ok}}\n"
        "      x-iam-available: true\n"
        "      x-iam-action: aws-external-anthropic:ListModels\n"
        "      x-cloudtrail-event-type: Data\n"
    )
    changes = [
        (op.path_key, c.key, c.old, c.new)
        for op in plan.operations
        for c in op.overwritten
    ]
    assert changes == [
        ("/v1/complete", "x-iam-action", f"{PREFIX}:CreateInference", None),
        ("/v1/complete", "x-cloudtrail-event-type", "Data", None),
        ("/v1/models", "x-iam-available", False, True),
    ]


def test_yaml_alias_shared_by_two_routes_with_different_actions(
    tmp_path: Path, catalog: Catalog
) -> None:
    text = small_document(
        "  /v1/files:\n"
        "    get: &shared {responses: {'200': {description: ok}}}\n"
        "  /v1/models:\n"
        "    get: *shared\n"
    )
    with pytest.raises(AnnotateError) as error:
        plan_for(tmp_path, text, catalog)
    assert str(error.value) == (
        "GET /v1/models is a YAML alias of GET /v1/files, but the two need different "
        "annotations"
    )


def test_crlf_line_endings_are_kept(tmp_path: Path, catalog: Catalog) -> None:
    text = small_document(
        "  /v1/models:\n    get: {responses: {'200': {description: ok}}}\n"
    ).replace("\n", "\r\n")
    path = tmp_path / "crlf.yaml"
    path.write_bytes(text.encode("utf-8"))
    document = read_document(path)
    apply_plan(document, plan_annotations(document.tree, catalog))
    rendered = render_document(document)
    assert "\r\n" in rendered and "\n" not in rendered.replace("\r\n", "")
    assert (
        f"x-iam-action: {PREFIX}:ListModels, x-cloudtrail-event-type: Data}}\r\n"
        in rendered
    )


# ---------------------------------------------------------------------------- JSONPath quoting


@pytest.mark.parametrize(
    "key",
    [
        "/v1/files?beta=true",
        "/v1/files/{file_id}/content",
        "/~legacy/~1/it's",
        "/back\\slash",
        "/quote'and\\'both",
        "/tab\there/new\nline",
        '/double"quote',
        "/unicode/é/☃",
    ],
)
def test_targets_select_exactly_one_operation(key: str) -> None:
    decoys = {
        key.replace("'", ""): {"get": {}},
        key.replace("\\", ""): {"get": {}},
        key + "x": {"get": {}},
        key: {"get": {"mark": 1}, "post": {}},
    }
    document = {"paths": decoys}
    target = normalized_path(("paths", key, "get"))
    nodes = jsonpath_rfc9535.find(target, document)
    assert [node.value for node in nodes] == [{"mark": 1}]
    assert nodes[0].path() == target


def test_overlay_yaml_targets_survive_yaml_round_trip() -> None:
    key = "/~legacy/files/{id}/it's"
    target = normalized_path(("paths", key, "get"))
    stream = io.StringIO()
    YAML(typ="rt").dump({"target": target}, stream)
    assert YAML(typ="safe", pure=True).load(stream.getvalue()) == {"target": target}


def test_source_document_format_follows_content(tmp_path: Path) -> None:
    json_without_suffix = _write(tmp_path, "doc", '{"openapi": "3.0.3", "paths": {}}')
    yaml_document: SourceDocument = read_document(GATEWAY_YAML)
    assert read_document(json_without_suffix).format == "json"
    assert yaml_document.format == "yaml"


def test_a_reader_that_leaves_early_gets_no_traceback() -> None:
    """``iamgen annotate doc --json | head -1``: stdout closes before the summary is out."""
    command = [sys.executable, "-m", "generator", "annotate", "--spec", str(REAL_SPEC)]
    process = subprocess.Popen(
        [*command, str(GATEWAY_YAML), "--json"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO_ROOT,
        env=iamgen_env(),
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait(timeout=120) == 141
    assert b"Traceback" not in stderr, stderr.decode()
