"""What the outputs contain: published policies, JSON layout, OpenAPI, markdown, headers."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, HEADER, REAL_SPEC, Build, loaded_model, read_tree
from openapi_spec_validator import validate

from generator.render import md_cell, md_code

PUBLISHED = FIXTURES / "published"
# The managed policy versions the spec records (facts.yaml managed_policies[].versions[]);
# tests/fixtures/published/<name>.json is that version's document_json, verbatim.
PUBLISHED_VERSIONS = {
    "AnthropicFullAccess": "v2",
    "AnthropicReadOnlyAccess": "v2",
    "AnthropicInferenceAccess": "v2",
    "AnthropicLimitedAccess": "v6",
    "AnthropicSelfHostedEnvironmentAccess": "v1",
}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def ordered(text: str) -> Any:
    """JSON with every object as a list of (key, value) pairs: equality includes key order."""
    return json.loads(text, object_pairs_hook=list)


# ---------------------------------------------------------------------------- policies


@pytest.mark.parametrize("name", list(PUBLISHED_VERSIONS))
def test_managed_policy_equals_the_published_document(
    real_out: Path, name: str
) -> None:
    published = (PUBLISHED / f"{name}.json").read_text(encoding="utf-8")
    generated = (real_out / f"policies/managed/{name}.json").read_text(encoding="utf-8")
    assert json.loads(generated) == json.loads(published)
    assert ordered(generated) == ordered(published), "same content, different key order"
    assert next(iter(json.loads(generated))) == "Version"


def test_spec_records_the_published_versions() -> None:
    spec = loaded_model(REAL_SPEC).spec
    assert {p.name: p.version for p in spec.managed_policies} == PUBLISHED_VERSIONS


def test_every_policy_file_puts_version_first(any_build: Build) -> None:
    policies = sorted((any_build.out / "policies").rglob("*.json"))
    assert policies
    for path in policies:
        keys = list(json.loads(path.read_text(encoding="utf-8")))
        assert keys in (["Version", "Statement"], ["Version", "Id", "Statement"]), path


def test_every_json_file_is_indented_with_two_spaces(any_build: Build) -> None:
    for rel, data in read_tree(any_build.out).items():
        if not rel.endswith(".json"):
            continue
        text = data.decode("utf-8")
        canonical = json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
        assert text == canonical, f"{rel} is not 2-space indented JSON"


def test_real_spec_counts(real_out: Path) -> None:
    model = loaded_model(REAL_SPEC)
    assert len(model.spec.actions) == 84
    assert len(model.catalog.routes) == 105
    assert len(model.spec.managed_policies) == 5
    assert len(model.spec.example_policies) == 7
    assert len(list((real_out / "policies/managed").glob("*.json"))) == 5
    assert len(list((real_out / "policies/examples").glob("*.json"))) == 7


# ---------------------------------------------------------------------------- OpenAPI


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def test_openapi_document_is_valid(any_build: Build) -> None:
    document = json.loads((any_build.out / "openapi/openapi.json").read_text("utf-8"))
    validate(document)
    assert document["openapi"].startswith("3.1.")
    assert document["info"]["description"].startswith(HEADER)


def test_openapi_has_one_operation_per_route_with_its_iam_action(
    any_build: Build,
) -> None:
    document = json.loads((any_build.out / "openapi/openapi.json").read_text("utf-8"))
    catalog = loaded_model(any_build.spec).catalog
    found = {(method, path): op for method, path, op in operations(document)}
    assert sorted(found) == sorted((r.method, r.path) for r in catalog.routes)
    for route in catalog.routes:
        operation = found[(route.method, route.path)]
        action = catalog.action_by_name[route.action]
        assert operation["x-iam-action"] == f"aws-external-anthropic:{route.action}"
        assert operation["x-cloudtrail-event-type"] == action.event_type
        assert operation["tags"] == [catalog.group_of[route.action].name]


def test_openapi_operation_ids_are_unique(any_build: Build) -> None:
    document = json.loads((any_build.out / "openapi/openapi.json").read_text("utf-8"))
    ids = [op["operationId"] for _m, _p, op in operations(document)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", i) for i in ids)


def test_openapi_declares_every_path_parameter(any_build: Build) -> None:
    document = json.loads((any_build.out / "openapi/openapi.json").read_text("utf-8"))
    for path, item in document["paths"].items():
        placeholders = re.findall(r"\{([^}]+)\}", path)
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            declared = [
                p["name"]
                for p in [*item.get("parameters", []), *operation.get("parameters", [])]
                if p.get("in") == "path"
            ]
            assert sorted(declared) == sorted(placeholders), f"{method} {path}"
            for parameter in item.get("parameters", []):
                if parameter.get("in") == "path":
                    assert parameter["required"] is True


# ---------------------------------------------------------------------------- markdown


def split_row(line: str) -> list[str]:
    r"""Cells of a GFM table row.

    GFM splits a row on every ``|`` not escaped as ``\|`` (even inside a code span, so a
    pipe in inline code must be escaped too); a leading and a trailing pipe are dropped.
    """
    assert line.startswith("|") and line.endswith("|"), line
    cells, current, index = [], "", 1
    body = line[:-1]
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            current += body[index : index + 2]
            index += 2
            continue
        if char == "|":
            cells.append(current)
            current = ""
        else:
            current += char
        index += 1
    cells.append(current)
    return [cell.strip() for cell in cells]


def code_spans_balanced(cell: str) -> bool:
    """Every backtick run that opens a code span is closed by a run of the same length."""
    runs = re.findall(r"`+", re.sub(r"\\.", "", cell))
    open_run = None
    for run in runs:
        if open_run is None:
            open_run = run
        elif run == open_run:
            open_run = None
    return open_run is None


def markdown_tables(text: str) -> list[tuple[int, list[str]]]:
    """Each table as (first line number, its lines), outside fenced code blocks."""
    tables: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    in_fence = False
    for number, line in enumerate([*text.split("\n"), ""], 1):
        if line.startswith("```"):
            in_fence = not in_fence
        if not in_fence and line.startswith("|"):
            if not current:
                start = number
            current.append(line)
            continue
        if current:
            tables.append((start, current))
            current = []
    return tables


def test_markdown_tables_have_a_consistent_column_count(any_build: Build) -> None:
    text = (any_build.out / "docs/iam-actions.md").read_text(encoding="utf-8")
    tables = markdown_tables(text)
    assert len(tables) >= 5
    for start, lines in tables:
        header = split_row(lines[0])
        assert len(lines) >= 2, f"table at line {start} has no delimiter row"
        delimiter = split_row(lines[1])
        assert all(re.fullmatch(r":?-{3,}:?", cell) for cell in delimiter), start
        assert len(delimiter) == len(header), f"table at line {start}: delimiter row"
        for offset, line in enumerate(lines[2:], 2):
            cells = split_row(line)
            assert len(cells) == len(
                header
            ), f"line {start + offset}: {len(cells)} cells, header has {len(header)}"
            assert all(code_spans_balanced(cell) for cell in cells), start + offset


def test_a_pipe_in_a_description_stays_in_its_cell(minimal_out: Path) -> None:
    # minimal.yaml: GetFile's description and decision D1's choice contain "|".
    lines = (
        (minimal_out / "docs/iam-actions.md").read_text(encoding="utf-8").split("\n")
    )
    get_file = [split_row(line) for line in lines if line.startswith("| `GetFile` |")]
    action_rows = [cells for cells in get_file if len(cells) == 6]
    assert len(action_rows) == 1
    assert action_rows[0][1] == r"Read a file's metadata \| or download its bytes."
    d1 = [split_row(line) for line in lines if line.startswith("| D1 |")]
    assert len(d1) == 1
    assert d1[0][2] == r"We follow SRC-B's newer table \| including pipes in text."


def test_markdown_parser_counts_escapes_and_code_spans() -> None:
    assert split_row(r"| a \| b | `c \| d` | e |") == [r"a \| b", r"`c \| d`", "e"]
    assert split_row("| `a | b` |") == [
        "`a",
        "b`",
    ]  # GFM: an unescaped pipe always splits
    assert code_spans_balanced("``a`b`` and `c`")
    assert not code_spans_balanced("`a")


@pytest.mark.parametrize(
    ("filter_", "value", "expected"),
    [
        (md_cell, "a | b", r"a \| b"),
        (md_cell, "two\nlines", "two<br>lines"),
        (md_cell, "back\\slash", "back\\\\slash"),
        (md_code, "GET /v1/x|y", r"`GET /v1/x\|y`"),
        (md_code, "a`b", "``a`b``"),
        (md_code, "`edge", "`` `edge ``"),
    ],
)
def test_markdown_filters_escape_for_a_table_cell(
    filter_: Any, value: str, expected: str
) -> None:
    assert filter_(value) == expected
    assert len(split_row(f"| {filter_(value)} | x |")) == 2


# ---------------------------------------------------------------------------- headers


COMMENT_HEADERS = {".py": f"# {HEADER}", ".md": f"<!-- {HEADER} -->"}
NO_COMMENT_SYNTAX = {
    ".json",
    ".typed",
}  # JSON has no comments; py.typed is a PEP 561 marker


def test_every_file_that_can_carry_a_comment_starts_with_the_header(
    any_build: Build,
) -> None:
    tree = read_tree(any_build.out)
    checked = 0
    for rel, data in tree.items():
        suffix = Path(rel).suffix
        assert (
            suffix in COMMENT_HEADERS or suffix in NO_COMMENT_SYNTAX
        ), f"{rel}: new kind of output; decide how it carries the generated-code header"
        if suffix in COMMENT_HEADERS:
            first_line = data.decode("utf-8").split("\n", 1)[0]
            assert first_line == COMMENT_HEADERS[suffix], rel
            checked += 1
    assert checked >= 2


# ---------------------------------------------------------------------------- manifest


def test_manifest_lists_every_file_with_its_hash_and_the_spec_hash(
    any_build: Build,
) -> None:
    tree = read_tree(any_build.out)
    manifest = json.loads(tree.pop("MANIFEST.json"))
    assert manifest["generator"] == "iamgen"
    assert manifest["spec"] == {
        "path": "spec/aws-external-anthropic.yaml",
        "sha256": hashlib.sha256(any_build.spec.read_bytes()).hexdigest(),
    }
    assert manifest["files"] == {
        rel: {"sha256": hashlib.sha256(data).hexdigest()} for rel, data in tree.items()
    }
    assert list(manifest["files"]) == sorted(manifest["files"])
