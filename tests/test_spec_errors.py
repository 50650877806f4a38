"""Broken specs give exact, located messages: ``spec.yaml:LINE:COL: message``, exit 2.

Each broken spec is a small textual edit of tests/fixtures/specs/minimal.yaml. A case names
the text an error must point at (``At(needle, message)``); the expected ``LINE:COL`` is where
that needle sits in the broken file, so the test checks the position as well as the text.
Every case runs three ways: ``python -m generator validate`` in a subprocess, the pipeline's
``load_model`` in process, and ``generate`` in process (which must write nothing).
"""

from __future__ import annotations

import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, MINIMAL_SPEC, describe, known_fields, run_iamgen

import generator.load
from generator import cli
from generator.errors import SpecInvalid
from generator.load import MAX_DEPTH, MAX_SPEC_BYTES
from generator.model import Spec
from generator.pipeline import load_model

SPEC_NAME = "spec.yaml"
MINIMAL = MINIMAL_SPEC.read_text(encoding="utf-8")
BROKEN = FIXTURES / "broken"


def broken(old: str, new: str, text: str = MINIMAL) -> str:
    """``text`` with ``old`` (which must occur exactly once) replaced by ``new``."""
    count = text.count(old)
    assert count == 1, f"{old!r} occurs {count} times in the spec being edited"
    return text.replace(old, new)


@dataclass(frozen=True)
class At:
    """An expected error at ``needle`` in the broken text, moved right by ``offset``.

    The needle must be unique, or, with ``after``, its first occurrence after the unique
    text ``after``. It may also be an explicit ``(line, col)``.
    """

    needle: str | tuple[int, int]
    message: str
    offset: int = 0
    after: str = ""

    def line(self, text: str) -> str:
        if isinstance(self.needle, tuple):
            line, col = self.needle
        else:
            start = 0
            if self.after:
                assert text.count(self.after) == 1, f"{self.after!r} is not unique"
                start = text.index(self.after)
            else:
                count = text.count(self.needle)
                assert count == 1, f"needle {self.needle!r} occurs {count} times"
            index = text.index(self.needle, start) + self.offset
            line = text.count("\n", 0, index) + 1
            col = index - (text.rfind("\n", 0, index) + 1) + 1
        return f"{SPEC_NAME}:{line}:{col}: {self.message}"


def case(case_id: str, content: str | bytes, *errors: At) -> Any:
    return pytest.param(content, errors, id=case_id)


def expected_lines(content: str | bytes, errors: tuple[At, ...]) -> list[str]:
    text = content if isinstance(content, str) else content.decode("utf-8", "replace")
    return [error.line(text) for error in errors]


VERBS = (
    "Archive, Assume, Call, Cancel, Count, Create, Delete, Disable, Get, List, Pause, "
    "Process, Register, Rotate, Run, Tag, Unpause, Untag, Update"
)
GET_FILE_ACCESS = (
    "        description: Read a file's metadata | or download its bytes.\n"
    "        access_level: Read"
)
GET_ENVIRONMENT_ACCESS = (
    "        description: Read an environment or its work items.\n"
    "        access_level: Read"
)
LIST_FILES_SOURCES = '        routes: ["GET /v1/files"]\n        sources: [SRC-A]'
CALL_WITH_BEARER_ROUTES = (
    "        routes: []\n"
    "        no_routes_reason: An authentication-layer permission; it maps to no route.\n"
)
DELETE_ROUTE = 'routes: ["DELETE /v1/files/{file_id}"]'
READONLY_VERSION = (
    '      Version: "2012-10-17"\n      Statement:\n        - Sid: ReadWorkspace'
)
EXAMPLE_RESOURCE = (
    "          Resource: "
    "arn:aws:aws-external-anthropic:us-west-2:123456789012:workspace/wrkspc_01AbCdEf23GhIj"
)
BAD_UTF8 = MINIMAL.encode("utf-8").replace(
    b"Example Platform", b"Example \xff Platform"
)
assert BAD_UTF8.count(b"\xff") == 1

CASES = [
    # ------------------------------------------------------------------ YAML
    case(
        "yaml-syntax",
        broken("description: Upload a file.", "description: Upload: a file."),
        At("Upload: a file", "YAML: mapping values are not allowed here", offset=6),
    ),
    case(
        "yaml-unclosed-flow-sequence",
        broken("format: 1\n", "format: [1\n"),
        At("service:", "YAML: expected ',' or ']', but got ':'", offset=7),
    ),
    case(
        "duplicate-key",
        broken(
            "    title: A user guide page\n",
            "    title: A user guide page\n    title: x\n",
        ),
        At("title: x", 'YAML: found duplicate key "title"'),
    ),
    case(
        "tab-indentation",
        broken("\n  name: Example Platform", "\n\tname: Example Platform"),
        At("\tname", "YAML: found character '\\t' that cannot start any token"),
    ),
    case(
        "yaml-anchor",
        broken(
            "      sources: [SRC-A]\n  notes:", "      sources: &src [SRC-A]\n  notes:"
        ),
        At("&src", "YAML anchors are not allowed in the spec"),
    ),
    case(
        "yaml-alias",
        broken(
            "    title: A reference page\n",
            "    title: *guide\n",
            broken(
                "    title: A user guide page\n",
                "    title: &guide A user guide page\n",
            ),
        ),
        At("&guide", "YAML anchors are not allowed in the spec"),
        At("*guide", "YAML aliases are not allowed in the spec"),
    ),
    case(
        "invalid-utf8",
        BAD_UTF8,
        At((4, len("  name: Example ") + 1), "invalid UTF-8 (byte 0xff)"),
    ),
    case("empty-file", "", At((1, 1), "the spec is empty")),
    case("comments-only", "# nothing here\n", At((1, 1), "the spec is empty")),
    case(
        "top-level-list",
        "- format: 1\n- service: {}\n",
        At((1, 1), "the spec must be a mapping, got a list"),
    ),
    # ------------------------------------------------------------------ fields and types
    case(
        "unknown-field",
        broken(
            "    title: A user guide page\n",
            "    title: A user guide page\n    titel: x\n",
        ),
        At(
            "titel",
            "source: unknown field 'titel' (expected one of: as_of, id, title, url)",
        ),
    ),
    case(
        "unknown-top-level-field",
        MINIMAL + "extras: 1\n",
        At(
            "extras",
            f"spec: unknown field 'extras' (expected one of: {known_fields(Spec)})",
        ),
    ),
    case(
        "missing-required-field",
        broken("    url: https://example.com/a\n", ""),
        At("id: SRC-A", "source: missing required field 'url'"),
    ),
    case(
        "missing-required-action-field",
        broken("        description: List files.\n", ""),
        At("name: ListFiles", "action: missing required field 'description'"),
    ),
    case(
        "list-where-string-expected",
        broken("description: Upload a file.", "description: [Upload, a file]"),
        At("[Upload", "expected a string, got a list"),
    ),
    case(
        "number-where-string-expected",
        broken("    title: A user guide page\n", "    title: 42\n"),
        At("title: 42", "expected a string, got a number", offset=7),
    ),
    case(
        "boolean-where-string-expected",
        broken("    title: A user guide page\n", "    title: true\n"),
        At("true", "expected a string, got a boolean"),
    ),
    case(
        "unknown-format-version",
        broken("format: 1\n", "format: 2\n"),
        At("2\nservice", "format 2 is not supported: this generator reads format 1"),
    ),
    case(
        "string-where-integer-expected",
        broken("format: 1\n", "format: one\n"),
        At("one\n", "expected an integer, got a string"),
    ),
    case(
        "string-where-list-expected",
        broken('routes: ["GET /v1/files"]', "routes: GET /v1/files"),
        At("GET /v1/files\n", "expected a list, got a string"),
    ),
    case(
        "unquoted-date",
        broken('as_of: "2026-06"', "as_of: 2026-06-01"),
        At(
            "2026-06-01",
            "expected a string, got a date (2026-06-01; quote it to make it a string)",
        ),
    ),
    case(
        "nan-in-policy-document",
        broken(
            READONLY_VERSION,
            READONLY_VERSION.replace("Statement:", "Id: .nan\n      Statement:"),
        ),
        At(".nan", "NaN is not a JSON value"),
    ),
    # ------------------------------------------------------------------ enum values
    case(
        "bad-access-level",
        broken(
            GET_ENVIRONMENT_ACCESS,
            GET_ENVIRONMENT_ACCESS.replace("level: Read", "level: Reed"),
        ),
        At(
            "Reed",
            "'Reed' is not one of: Read, List, Write, Tagging, Permissions management",
        ),
    ),
    case(
        "bad-scope",
        broken("        scope: account\n", "        scope: global\n"),
        At(
            "global",
            "'global' is not one of: workspace, workspace-optional, account, route-less",
        ),
    ),
    case(
        "bad-event-type",
        broken("        event_type: Management", "        event_type: Mgmt"),
        At("Mgmt", "'Mgmt' is not one of: Data, Management"),
    ),
    case(
        "bad-introduced",
        broken(
            "        scope: route-less\n        introduced: docs-58",
            "        scope: route-less\n        introduced: docs-99",
        ),
        At(
            "docs-99",
            "'docs-99' is not one of: docs-58, docs-65, docs-71, sar, sar-2026-10-27",
        ),
    ),
    case(
        "bad-exposes",
        broken("exposes: [file-bytes]", "exposes: [file-contents]"),
        At(
            "file-contents",
            "'file-contents' is not one of: file-bytes, batch-results, conversation-history, "
            "memory-contents, skill-content",
        ),
    ),
    case(
        "bad-condition-key-type",
        broken(
            "    type: String\n    description: Tags",
            "    type: Text\n    description: Tags",
        ),
        At(
            "Text",
            "'Text' is not one of: String, ArrayOfString, Bool, ArrayOfBool, Numeric, "
            "ArrayOfNumeric, Date, ArrayOfDate, ARN, ArrayOfARN, IPAddress, ArrayOfIPAddress, "
            "Binary, ArrayOfBinary",
        ),
    ),
    # ------------------------------------------------------------------ action names
    case(
        "action-name-not-verb-noun",
        broken("name: ListFiles", "name: listFiles"),
        At("listFiles", "action name 'listFiles' is not VerbNoun"),
    ),
    case(
        "action-name-verb-only",
        broken("name: ListFiles", "name: List"),
        At("name: List\n", "action name 'List' is not VerbNoun", offset=6),
    ),
    case(
        "unknown-verb",
        broken("name: ListFiles", "name: FrobFiles"),
        At("FrobFiles", f"action FrobFiles: unknown verb 'Frob' (known: {VERBS})"),
    ),
    case(
        "actions-differing-only-in-case",
        broken("name: ListFiles", "name: GetFILE"),
        At(
            "GetFILE",
            "action GetFILE collides with GetFile: IAM action names are case-insensitive",
        ),
    ),
    case(
        "duplicate-action",
        broken("name: ListFiles", "name: GetFile"),
        At("GetFile\n        description: List", "action GetFile is defined twice"),
    ),
    # ------------------------------------------------------------------ routes
    case(
        "route-lowercase-method",
        broken(DELETE_ROUTE, 'routes: ["delete /v1/files/{file_id}"]'),
        At('"delete', "route 'delete /v1/files/{file_id}' is not 'METHOD /path'"),
    ),
    case(
        "route-missing-slash",
        broken(DELETE_ROUTE, 'routes: ["DELETE v1/files/{file_id}"]'),
        At('"DELETE v1', "route 'DELETE v1/files/{file_id}' is not 'METHOD /path'"),
    ),
    case(
        "route-unknown-method",
        broken(DELETE_ROUTE, 'routes: ["TRACE /v1/files/{file_id}"]'),
        At('"TRACE', "route 'TRACE /v1/files/{file_id}': unknown HTTP method TRACE"),
    ),
    case(
        "route-uppercase-literal",
        broken(DELETE_ROUTE, 'routes: ["DELETE /v1/Files/{file_id}"]'),
        At(
            '"DELETE /v1/Files',
            "route 'DELETE /v1/Files/{file_id}': segment 'Files' is neither a lowercase "
            "literal nor a {parameter}",
        ),
    ),
    case(
        "route-duplicated-parameter",
        broken(
            "- GET /v1/environments/{environment_id}/work/{work_id}\n",
            "- GET /v1/environments/{environment_id}/work/{environment_id}\n",
        ),
        At(
            "- GET /v1/environments/{environment_id}/work/{environment_id}",
            "route 'GET /v1/environments/{environment_id}/work/{environment_id}': "
            "parameter {environment_id} appears twice",
            offset=2,
        ),
    ),
    case(
        "routes-differing-only-in-parameter-names",
        broken(
            'routes: ["GET /v1/files"]',
            'routes: ["GET /v1/files", "GET /v1/files/{id}"]',
        ),
        At(
            '"GET /v1/files/{id}',
            "route GET /v1/files/{id} differs from GET /v1/files/{file_id} (GetFile) "
            "only in parameter names",
        ),
    ),
    case(
        "route-claimed-by-two-actions",
        broken(DELETE_ROUTE, 'routes: ["DELETE /v1/files/{file_id}", "GET /v1/files"]'),
        At(
            '"GET /v1/files"',
            after="name: DeleteFile",
            message="route GET /v1/files is claimed by both ListFiles and DeleteFile",
        ),
    ),
    case(
        "route-listed-twice",
        broken(
            DELETE_ROUTE,
            'routes: ["DELETE /v1/files/{file_id}", "DELETE /v1/files/{file_id}"]',
        ),
        At(
            '"DELETE /v1/files/{file_id}"]',
            "route DELETE /v1/files/{file_id} is listed twice for DeleteFile",
        ),
    ),
    # ------------------------------------------------------------------ verb discipline
    case(
        "get-action-with-post-route",
        broken(
            "- GET /v1/files/{file_id}/content", "- POST /v1/files/{file_id}/content"
        ),
        At(
            "POST /v1/files/{file_id}/content",
            "action GetFile is a Get* action, so it may only authorize GET routes, not POST",
        ),
    ),
    case(
        "get-action-with-write-access",
        broken(
            GET_ENVIRONMENT_ACCESS,
            GET_ENVIRONMENT_ACCESS.replace("level: Read", "level: Write"),
        ),
        At(
            "Write",
            after="name: GetEnvironment",
            message="action GetEnvironment: a Get* action must have access level Read or List, not "
            "Write (verb discipline keeps Get*/List* read-only)",
        ),
    ),
    case(
        "list-action-with-write-access",
        broken(
            "        description: List files.\n        access_level: List",
            "        description: List files.\n        access_level: Write",
        ),
        At(
            "Write",
            after="name: ListFiles",
            message="action ListFiles: a List* action must have access level Read or List, not "
            "Write (verb discipline keeps Get*/List* read-only)",
        ),
    ),
    case(
        "write-action-exposing-content",
        broken(
            "        description: Upload a file.\n",
            "        description: Upload a file.\n        exposes: [file-bytes]\n",
        ),
        At(
            "[file-bytes]\n        access_level: Write",
            "action CreateFile: only read actions expose content",
        ),
    ),
    # ------------------------------------------------------------------ routes and no_routes_reason
    case(
        "no-routes-without-reason",
        broken(CALL_WITH_BEARER_ROUTES, "        routes: []\n"),
        At(
            "[]",
            "action CallWithBearerToken has no routes: say why in no_routes_reason",
        ),
    ),
    case(
        "routes-with-no-routes-reason",
        broken(DELETE_ROUTE, DELETE_ROUTE + "\n        no_routes_reason: Because."),
        At(
            "Because.",
            "action DeleteFile has routes, so it cannot have no_routes_reason",
        ),
    ),
    case(
        "route-less-action-with-routes",
        broken(
            CALL_WITH_BEARER_ROUTES,
            "        routes: [POST /v1/auth]\n        event_type: Management\n",
        ),
        At("route-less", "action CallWithBearerToken is route-less but lists routes"),
    ),
    # ------------------------------------------------------------------ references
    case(
        "unknown-source",
        broken(LIST_FILES_SOURCES, LIST_FILES_SOURCES.replace("SRC-A", "SRC-C")),
        At("SRC-C", "unknown source 'SRC-C'"),
    ),
    case(
        "unknown-condition-key",
        broken(
            "        description: List files.\n",
            "        description: List files.\n"
            '        condition_keys: ["aws:RequestTag/${TagKey}"]\n',
        ),
        At('"aws:RequestTag', "unknown condition key 'aws:RequestTag/${TagKey}'"),
    ),
    case(
        "unknown-bearer-token-action",
        broken(
            "bearer_token_action: CallWithBearerToken",
            "bearer_token_action: CallWithToken",
        ),
        At("CallWithToken", "unknown action 'CallWithToken'"),
    ),
    case(
        "duplicate-group",
        broken("  - name: Workspaces\n", "  - name: Files\n"),
        At("Files", after="name: Environments", message="group Files appears twice"),
    ),
    case(
        "unknown-action-in-claim-request",
        broken(
            "request: {route: GET /v1/organizations/workspaces}",
            "request: {action: ListWorkspace}",
        ),
        At("ListWorkspace}", "unknown action 'ListWorkspace'"),
    ),
    case(
        "unknown-action-in-claim-matches",
        broken(
            "matches: [CreateFile, DeleteFile, GetFile]",
            "matches: [CreateFile, DeleteFile, GetFiles]",
        ),
        At("GetFiles", "unknown action 'GetFiles'"),
    ),
    case(
        "unknown-policy-in-claim",
        broken("- policy: single-workspace\n", "- policy: single-workspaces\n"),
        At(
            "single-workspaces",
            "unknown policy 'single-workspaces' (a managed policy name or example slug)",
        ),
    ),
    case(
        "duplicate-note-id",
        broken("      - id: star-file\n", "      - id: unlisted-routes-denied\n"),
        At(
            "unlisted-routes-denied",
            after="name: Files",
            message="note id unlisted-routes-denied appears twice",
        ),
    ),
    # ------------------------------------------------------------------ claims (evaluated)
    case(
        "false-expand-claim",
        broken(
            "matches: [CreateFile, DeleteFile, GetFile]",
            "matches: [CreateFile, GetFile]",
        ),
        At(
            "expand: aws-external-anthropic:*File",
            "claim of note star-file: aws-external-anthropic:*File matches 3 actions, "
            "not as claimed: it also matches DeleteFile",
        ),
    ),
    case(
        "false-decision-claim",
        broken(
            "workspaces}\n                decision: implicitDeny",
            "workspaces}\n                decision: allowed",
        ),
        At(
            "policy: ReadOnly",
            after="id: list-workspaces-account-scoped",
            message="claim of note list-workspaces-account-scoped: expected allowed, but the evaluator "
            "decides implicitDeny (implicitDeny: no identity-based policy allows "
            "aws-external-anthropic:ListWorkspaces (no resource))",
        ),
    ),
    # ------------------------------------------------------------------ policy documents
    case(
        "managed-policy-arn-not-its-name",
        broken("policy/ReadOnly\n", "policy/ReadOnlyX\n"),
        At(
            "arn:aws:iam::aws:policy/ReadOnlyX",
            "managed policy ARN 'arn:aws:iam::aws:policy/ReadOnlyX' should be "
            "'arn:aws:iam::aws:policy/ReadOnly'",
        ),
    ),
    case(
        "managed-policy-time-not-iso",
        broken('created: "2026-04-01T04:57:00Z"', 'created: "2026-04-01"'),
        At(
            '"2026-04-01"',
            "created '2026-04-01' is not an ISO 8601 UTC time (YYYY-MM-DDTHH:MM:SSZ)",
        ),
    ),
    case(
        "policy-version-2008",
        broken(READONLY_VERSION, READONLY_VERSION.replace("2012-10-17", "2008-10-17")),
        At('"2008-10-17"', "policy Version must be '2012-10-17' in the spec"),
    ),
    case(
        "policy-version-missing",
        broken(
            READONLY_VERSION,
            READONLY_VERSION.replace('Version: "2012-10-17"\n      ', ""),
        ),
        At(
            "Statement:\n        - Sid: ReadWorkspace",
            'Version is missing; use "2012-10-17" (without it AWS applies 2008-10-17, where '
            "policy variables are literal text)",
        ),
    ),
    case(
        "policy-effect-invalid",
        broken("        - Effect: Allow\n", "        - Effect: Permit\n"),
        At("Permit", 'Effect must be "Allow" or "Deny", not \'Permit\''),
    ),
    case(
        "policy-action-and-not-action",
        broken(
            "          Action: aws-external-anthropic:CallWithBearerToken\n",
            "          Action: aws-external-anthropic:CallWithBearerToken\n"
            "          NotAction: aws-external-anthropic:GetFile\n",
        ),
        At("Sid: Resourceless", "a statement must have Action or NotAction, not both"),
    ),
    case(
        "policy-neither-resource-nor-not-resource",
        broken('          Resource: "*"\n', ""),
        At("Sid: Resourceless", "a statement must have Resource or NotResource"),
    ),
    case(
        "policy-duplicate-sid",
        broken(
            "- Sid: Resourceless",
            "- Sid: ReadWorkspace\n"
            "          Effect: Allow\n"
            "          Action: aws-external-anthropic:GetFile\n"
            '          Resource: "*"\n'
            "        - Sid: Resourceless",
        ),
        At(
            "ReadWorkspace",
            after="workspace/*\n",
            message="duplicate Sid 'ReadWorkspace' (also Statement[0]); Sids must be unique within a policy",
        ),
    ),
    case(
        "policy-principal",
        broken(
            "        - Effect: Allow\n",
            "        - Effect: Allow\n          Principal: '*'\n",
        ),
        At(
            "'*'",
            "Principal is not allowed in an identity-based policy: the principal is the identity "
            "the policy is attached to (Principal belongs in resource-based and trust policies)",
        ),
    ),
    case(
        "pattern-on-our-prefix-matching-nothing",
        broken(
            "Action: aws-external-anthropic:CallWithBearerToken",
            "Action: aws-external-anthropic:Frob*",
        ),
        At(
            "aws-external-anthropic:Frob*",
            "pattern 'aws-external-anthropic:Frob*' matches no aws-external-anthropic action",
        ),
    ),
    case(
        "unknown-exact-action",
        broken(
            "- aws-external-anthropic:GetFile\n", "- aws-external-anthropic:GetFiles\n"
        ),
        At(
            "aws-external-anthropic:GetFiles",
            "action 'aws-external-anthropic:GetFiles' matches no aws-external-anthropic action",
        ),
    ),
    case(
        "malformed-arn",
        broken(
            EXAMPLE_RESOURCE,
            "          Resource: arn:aws:aws-external-anthropic:us-west-2",
        ),
        At(
            "arn:aws:aws-external-anthropic:us-west-2\n",
            "malformed ARN 'arn:aws:aws-external-anthropic:us-west-2': expected "
            'arn:partition:service:region:account:resource or "*"',
        ),
    ),
    case(
        "arn-of-our-service-not-a-workspace",
        broken(
            EXAMPLE_RESOURCE,
            "          Resource: arn:aws:aws-external-anthropic:us-west-2:123456789012:file/f1",
        ),
        At(
            "arn:aws:aws-external-anthropic:us-west-2:123456789012:file/f1",
            "malformed ARN 'arn:aws:aws-external-anthropic:us-west-2:123456789012:file/f1': "
            "aws-external-anthropic resources are workspace/<workspace-id>",
        ),
    ),
    # ------------------------------------------------------------------ several at once
    case(
        "several-cross-check-errors-sorted-by-line",
        broken(
            "- Sid: Resourceless",
            "- Sid: ReadWorkspace",
            broken(
                "name: ListFiles",
                "name: FrobFiles",
                broken(
                    LIST_FILES_SOURCES, LIST_FILES_SOURCES.replace("SRC-A", "SRC-C")
                ),
            ),
        ),
        At("FrobFiles", f"action FrobFiles: unknown verb 'Frob' (known: {VERBS})"),
        At("SRC-C", "unknown source 'SRC-C'"),
        At(
            "ReadWorkspace",
            after="workspace/*\n",
            message="duplicate Sid 'ReadWorkspace' (also Statement[0]); Sids must be unique within a policy",
        ),
    ),
    case(
        "several-field-errors-sorted-by-line",
        broken(
            "        event_type: Management",
            "        event_type: Mgmt",
            broken(
                "    title: A user guide page\n",
                "    title: 42\n    titel: x\n",
                broken("exposes: [file-bytes]", "exposes: [file-contents]"),
            ),
        ),
        At("title: 42", "expected a string, got a number", offset=7),
        At(
            "titel",
            "source: unknown field 'titel' (expected one of: as_of, id, title, url)",
        ),
        At(
            "file-contents",
            "'file-contents' is not one of: file-bytes, batch-results, conversation-history, "
            "memory-contents, skill-content",
        ),
        At("Mgmt", "'Mgmt' is not one of: Data, Management"),
    ),
]


def _summary(count: int) -> str:
    return f"{count} error{'s' if count != 1 else ''} in the spec"


def _write(folder: Path, content: str | bytes) -> Path:
    spec = folder / SPEC_NAME
    if isinstance(content, bytes):
        spec.write_bytes(content)
    else:
        spec.write_text(content, encoding="utf-8", newline="")
    return spec


@pytest.fixture(scope="session")
def validate_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[Path, subprocess.CompletedProcess[str]]]:
    """``iamgen validate`` on every broken spec, each in its own folder.

    The subprocesses are independent, so they run a few at a time; each test below then
    judges its own run.
    """
    root = tmp_path_factory.mktemp("broken-specs")

    def validate(
        param: Any,
    ) -> tuple[str, tuple[Path, subprocess.CompletedProcess[str]]]:
        folder = root / param.id
        folder.mkdir()
        _write(folder, param.values[0])
        return param.id, (
            folder,
            run_iamgen("validate", "--spec", SPEC_NAME, cwd=folder),
        )

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return dict(pool.map(validate, CASES))


@pytest.mark.parametrize(("content", "errors"), CASES)
def test_validate_cli_prints_exact_located_errors(
    validate_runs: dict[str, tuple[Path, subprocess.CompletedProcess[str]]],
    request: pytest.FixtureRequest,
    content: str | bytes,
    errors: tuple[At, ...],
) -> None:
    expected = expected_lines(content, errors)
    assert expected == sorted(expected, key=_position), "case lists errors out of order"

    folder, result = validate_runs[request.node.callspec.id]

    assert result.returncode == 2, describe(result)
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.splitlines() == [*expected, _summary(len(expected))]
    assert sorted(p.name for p in folder.iterdir()) == [SPEC_NAME]


@pytest.mark.parametrize(("content", "errors"), CASES)
def test_load_model_raises_every_error(
    content: str | bytes, errors: tuple[At, ...]
) -> None:
    raw = content if isinstance(content, bytes) else content.encode("utf-8")
    with pytest.raises(SpecInvalid) as raised:
        load_model(raw, SPEC_NAME)
    assert [str(error) for error in raised.value.errors] == expected_lines(
        content, errors
    )


@pytest.mark.parametrize(("content", "errors"), CASES)
def test_generate_on_broken_spec_writes_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    content: str | bytes,
    errors: tuple[At, ...],
) -> None:
    _write(tmp_path, content)
    monkeypatch.chdir(tmp_path)

    code = cli.main(["generate", "--spec", SPEC_NAME, "--out", "generated"])

    captured = capsys.readouterr()
    expected = expected_lines(content, errors)
    assert code == 2
    assert captured.err.splitlines() == [*expected, _summary(len(expected))]
    assert sorted(p.name for p in tmp_path.iterdir()) == [SPEC_NAME]


def _position(line: str) -> tuple[int, int]:
    _path, row, col, _rest = line.split(":", 3)
    return int(row), int(col)


# ---------------------------------------------------------------------------- accepted


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(
            broken(
                "Action: aws-external-anthropic:CallWithBearerToken",
                "Action: [aws-external-anthropic:CallWithBearerToken, sts:GetWebIdentityToken]",
            ),
            id="foreign-prefix-sts",
        ),
        pytest.param(
            broken(
                "Action: aws-external-anthropic:CallWithBearerToken",
                "Action: [aws-external-anthropic:CallWithBearerToken, iam:PassRole, "
                "aws-marketplace:Subscribe]",
            ),
            id="foreign-prefixes-iam-marketplace",
        ),
        pytest.param(
            # IAM matches action names case-insensitively, prefix included.
            broken(
                "- aws-external-anthropic:GetFile\n",
                "- AWS-External-Anthropic:getfile\n",
            ),
            id="action-reference-in-other-case",
        ),
        pytest.param("\ufeff" + MINIMAL, id="utf8-byte-order-mark"),
    ],
)
def test_valid_variants_are_accepted(tmp_path: Path, content: str) -> None:
    _write(tmp_path, content)
    result = run_iamgen("validate", "--spec", SPEC_NAME, cwd=tmp_path)
    assert result.returncode == 0, describe(result)
    assert result.stdout == f"{SPEC_NAME}: ok (8 actions, 10 routes)\n"
    assert result.stderr == ""


def test_missing_spec_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run_iamgen("validate", "--spec", "nope.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert (
        result.stderr
        == "iamgen: cannot read spec nope.yaml: No such file or directory\n"
    )


def test_null_value_is_located_on_its_own_line() -> None:
    # `title:` with no value is null; the error belongs to line 25, not to the next key.
    text = broken("    title: A user guide page\n", "    title:\n")
    with pytest.raises(SpecInvalid) as raised:
        load_model(text.encode("utf-8"), SPEC_NAME)
    title_line = text.count("\n", 0, text.index("    title:\n")) + 1
    assert [str(e) for e in raised.value.errors] == [
        f"{SPEC_NAME}:{title_line}:5: expected a string, got null"
    ]


# ---------------------------------------------------------------------------- hostile input


def _refused(raw: bytes) -> tuple[list[str], float]:
    """The errors for ``raw`` and the CPU seconds it took (CPU time: robust to a busy host)."""
    started = time.process_time()
    with pytest.raises(SpecInvalid) as raised:
        load_model(raw, SPEC_NAME)
    return [str(e) for e in raised.value.errors], time.process_time() - started


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    raw = b"# " + b"x" * MAX_SPEC_BYTES + b"\n"
    errors, elapsed = _refused(raw)
    assert errors == [
        f"{SPEC_NAME}:1:1: file is {len(raw)} bytes; the limit is {MAX_SPEC_BYTES}"
    ]
    assert elapsed < 0.5, f"refusing an oversized file took {elapsed:.2f}s"

    _write(tmp_path, raw)
    result = run_iamgen("validate", "--spec", SPEC_NAME, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [*errors, _summary(1)]


def test_size_limit_boundary(monkeypatch: pytest.MonkeyPatch) -> None:
    # A smaller limit keeps this fast; the comparison is the one used for MAX_SPEC_BYTES.
    raw = MINIMAL.encode("utf-8")
    monkeypatch.setattr(generator.load, "MAX_SPEC_BYTES", len(raw))
    assert len(load_model(raw, SPEC_NAME).spec.actions) == 8
    monkeypatch.setattr(generator.load, "MAX_SPEC_BYTES", len(raw) - 1)
    errors, _elapsed = _refused(raw)
    assert errors == [
        f"{SPEC_NAME}:1:1: file is {len(raw)} bytes; the limit is {len(raw) - 1}"
    ]


@pytest.mark.parametrize(
    ("prefix", "levels"),
    [("format: ", 70), ("format: ", MAX_DEPTH), ("x: ", 20_000)],
    ids=["70-levels", "just-over-the-limit", "20000-levels-unclosed"],
)
def test_deep_nesting_is_refused(prefix: str, levels: int) -> None:
    raw = (prefix + "[" * levels).encode("utf-8")
    errors, elapsed = _refused(raw)
    # The root mapping is level 1, so the MAX_DEPTH-th bracket opens the first level too many.
    assert errors == [
        f"{SPEC_NAME}:1:{len(prefix) + MAX_DEPTH}: nesting deeper than {MAX_DEPTH} levels"
    ]
    # ruamel's scanner is quadratic in open flow brackets up to its read-ahead, so this
    # costs some 0.7 s of CPU; the bound catches anything growing with the input.
    assert elapsed < 2.0, f"refusing deep nesting took {elapsed:.2f}s of CPU"


def test_nesting_at_the_limit_is_loaded() -> None:
    raw = ("format: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n").encode()
    errors, _elapsed = _refused(raw)
    # Loaded, so the model builder judges it: a list is no format number.
    assert errors[-1] == f"{SPEC_NAME}:1:9: expected an integer, got a list"
    assert not any("nesting deeper" in error for error in errors)


def test_billion_laughs_is_refused_in_under_a_second(tmp_path: Path) -> None:
    raw = (BROKEN / "billion-laughs.yaml").read_bytes()
    errors, elapsed = _refused(raw)
    assert errors == [
        f"{SPEC_NAME}:2:4: YAML anchors are not allowed in the spec (8 more)",
        f"{SPEC_NAME}:3:8: YAML aliases are not allowed in the spec (71 more)",
    ]
    assert elapsed < 1.0, f"refusing an alias bomb took {elapsed:.2f}s"

    _write(tmp_path, raw)
    started = time.perf_counter()
    result = run_iamgen("validate", "--spec", SPEC_NAME, cwd=tmp_path, timeout=10)
    assert time.perf_counter() - started < 5
    assert result.returncode == 2
    assert result.stderr.splitlines() == [*errors, _summary(2)]
