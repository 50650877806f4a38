"""Malformed policies never allow anything: simulate exits 2, lint reports IAM001, the spec
gives a located error.

Each case is a policy file; the ones that are JSON-representable documents are also put in
the minimal spec as an example policy. The three readers of people's policies must agree:

* ``iamgen simulate --policy FILE --action GetFile``: exit 2, one line on stderr naming the
  file and the problem, nothing on stdout (so no decision at all, let alone "allowed");
* ``iamgen lint FILE``: an IAM001 error finding with the same problem, exit 1;
* ``iamgen validate`` of a spec holding the document: ``spec.yaml:LINE:COL: message`` errors,
  located inside the policy document.

Found by these cases and fixed: simulate read duplicate keys last-one-wins (a statement with
``"Effect": "Deny", "Effect": "Allow"`` was simulated as Allow, while lint refused it), took
NaN, crashed with a RecursionError traceback on deeply nested JSON, and simulated documents far
larger than any IAM policy can be (IAM quotas: 10,240 characters without white space, the
inline role policy limit; managed policies 6,144).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import MINIMAL_SPEC, REAL_SPEC, REPO_ROOT, iamgen_env

from generator import cli, pipeline
from generator.errors import SpecInvalid
from generator.iam.policy import (
    MAX_POLICY_CHARACTERS,
    PolicyParseError,
    parse_policy,
    validate_policy,
)
from generator.policy_files import MAX_POLICY_FILE_BYTES

ARN = "arn:aws:aws-external-anthropic:us-west-2:123456789012:workspace/wrkspc_01AbCdEf23GhIj"
ALLOW = {"Effect": "Allow", "Action": "aws-external-anthropic:GetFile", "Resource": "*"}


def doc(*statements: dict[str, Any], **top: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"Version": "2012-10-17", "Statement": list(statements)}
    body.update(top)
    return {k: v for k, v in body.items() if v is not None}


def stmt(**changes: Any) -> dict[str, Any]:
    """ALLOW with elements replaced (a value of None removes the element)."""
    out = {**ALLOW, **changes}
    return {k: v for k, v in out.items() if v is not None}


@dataclass(frozen=True)
class Case:
    name: str
    policy: object
    """A document (serialized as JSON) or the file's raw bytes."""
    message: str
    """A fragment of the problem as simulate, lint and the spec report it."""
    spec_message: str | None = None
    """The fragment in the spec's error, when it differs (YAML types, spec-only rules)."""

    @property
    def raw(self) -> bytes:
        if isinstance(self.policy, bytes):
            return self.policy
        return json.dumps(self.policy, indent=2).encode("utf-8")

    @property
    def in_spec(self) -> bool:
        return not isinstance(self.policy, bytes)


HUGE = doc(
    *(
        stmt(Sid=f"S{index}", Action=f"aws-external-anthropic:GetFile{index}")
        for index in range(400)
    )
)
VALID_TEXT = json.dumps(doc(ALLOW))
TWO_MB = b'{"Version": "2012-10-17", "Id": "' + b"x" * (2 * 1024 * 1024) + b'"}'

CASES: list[Case] = [
    # ---------------------------------------------------------------- the document
    Case(
        "a-list",
        [ALLOW],
        "a policy document must be a JSON object, not a list",
        "expected a mapping, got a list",
    ),
    Case(
        "a-string",
        "Allow everything",
        "must be a JSON object, not a string",
        "expected a mapping, got a string",
    ),
    Case(
        "null", None, "must be a JSON object, not null", "expected a mapping, got null"
    ),
    Case(
        "a-number",
        42,
        "must be a JSON object, not a number",
        "expected a mapping, got a number",
    ),
    Case(
        "a-boolean",
        True,
        "must be a JSON object, not a boolean",
        "expected a mapping, got a boolean",
    ),
    Case("empty-object", {}, "Version is missing"),
    Case("no-version", {"Statement": [ALLOW]}, "Version is missing"),
    Case("bad-version", doc(ALLOW, Version="2012-10-18"), "unsupported Version"),
    Case(
        "numeric-version",
        doc(ALLOW, Version=2012),
        "Version must be a string, not a number",
    ),
    Case(
        "unknown-top-level-element",
        doc(ALLOW, Statements=[ALLOW]),
        "unknown element 'Statements'",
    ),
    # ---------------------------------------------------------------- Statement
    Case("no-statement", {"Version": "2012-10-17"}, "Statement is missing"),
    Case("empty-statement-list", doc(), "Statement must not be an empty list"),
    Case(
        "statement-a-string",
        {"Version": "2012-10-17", "Statement": "Allow"},
        "Statement must be an object or a list of objects, not a string",
    ),
    Case(
        "statement-item-a-string",
        {"Version": "2012-10-17", "Statement": ["Allow"]},
        "a statement must be a JSON object, not a string",
    ),
    Case("no-effect", doc(stmt(Effect=None)), "Effect is missing"),
    Case("lower-case-effect", doc(stmt(Effect="allow")), 'Effect must be "Allow" or'),
    Case("effect-a-list", doc(stmt(Effect=["Allow"])), 'Effect must be "Allow" or'),
    Case(
        "unknown-statement-element",
        doc(stmt(Actions=["aws-external-anthropic:GetFile"])),
        "unknown element 'Actions'",
    ),
    Case("principal", doc(stmt(Principal="*")), "Principal is not allowed"),
    Case("bad-sid", doc(stmt(Sid="read-files")), "may contain only ASCII letters"),
    Case(
        "duplicate-sids",
        doc(stmt(Sid="Same"), stmt(Sid="Same")),
        "duplicate Sid 'Same'",
    ),
    # ---------------------------------------------------------------- Action
    Case("empty-action-list", doc(stmt(Action=[])), "Action must not be an empty list"),
    Case("action-a-number", doc(stmt(Action=5)), "Action must be a string or a list"),
    Case(
        "action-item-a-number", doc(stmt(Action=[5])), "must be a string, not a number"
    ),
    Case(
        "action-and-notaction",
        doc(stmt(NotAction="aws-external-anthropic:DeleteFile")),
        "a statement must have Action or NotAction, not both",
    ),
    Case(
        "neither-action-nor-notaction",
        doc(stmt(Action=None)),
        "a statement must have Action or NotAction",
    ),
    Case("empty-action", doc(stmt(Action="")), "action is empty"),
    Case("action-without-prefix", doc(stmt(Action="GetFile")), 'must be "*" or'),
    Case(
        "wildcard-in-prefix",
        doc(stmt(Action="aws-external-*:GetFile")),
        "the service prefix must not contain wildcards",
    ),
    Case(
        "action-with-space",
        doc(stmt(Action="aws-external-anthropic: GetFile")),
        "whitespace",
    ),
    # ---------------------------------------------------------------- Resource
    Case("no-resource", doc(stmt(Resource=None)), "must have Resource or NotResource"),
    Case(
        "resource-and-notresource",
        doc(stmt(NotResource=ARN)),
        "must have Resource or NotResource, not both",
    ),
    Case(
        "empty-resource-list",
        doc(stmt(Resource=[])),
        "Resource must not be an empty list",
    ),
    Case(
        "resource-not-an-arn",
        doc(stmt(Resource="workspace/x")),
        'must be "*" or an ARN',
    ),
    Case(
        "wildcard-in-arn-service",
        doc(stmt(Resource="arn:aws:*:us-west-2:123456789012:workspace/x")),
        "must not contain wildcards",
    ),
    Case(
        "malformed-policy-variable",
        doc(
            stmt(Resource="arn:aws:aws-external-anthropic:*:*:workspace/${aws:username")
        ),
        "malformed policy variable",
    ),
    Case(
        "resource-an-object",
        doc(stmt(Resource={"Arn": ARN})),
        "Resource must be a string",
    ),
    # ---------------------------------------------------------------- Condition
    Case(
        "condition-a-string", doc(stmt(Condition="true")), "Condition must be an object"
    ),
    Case("empty-condition", doc(stmt(Condition={})), "Condition must not be empty"),
    Case(
        "unknown-operator",
        doc(stmt(Condition={"StringEqualz": {"aws:username": "bob"}})),
        "unknown condition operator 'StringEqualz'",
    ),
    Case(
        "operator-in-wrong-case",
        doc(stmt(Condition={"stringequals": {"aws:username": "bob"}})),
        "operator names are case sensitive",
    ),
    Case(
        "null-if-exists",
        doc(stmt(Condition={"NullIfExists": {"aws:username": "true"}})),
        "Null takes neither IfExists",
    ),
    Case(
        "operator-without-keys",
        doc(stmt(Condition={"StringEquals": {}})),
        "must name at least one condition key",
    ),
    Case(
        "empty-condition-values",
        doc(stmt(Condition={"StringEquals": {"aws:username": []}})),
        "condition values must not be an empty list",
    ),
    Case(
        "condition-value-an-object",
        doc(stmt(Condition={"StringEquals": {"aws:username": {"a": 1}}})),
        "a condition value must be a string, number or boolean, not an object",
    ),
    Case(
        "not-a-number",
        doc(stmt(Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": "soon"}})),
        "is not a valid number",
    ),
    Case(
        "not-a-date",
        doc(stmt(Condition={"DateGreaterThan": {"aws:CurrentTime": "tomorrow"}})),
        "is not a valid date",
    ),
    Case(
        "not-an-ip-range",
        doc(stmt(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}})),
        "is not a valid IP address or CIDR range",
    ),
    # ---------------------------------------------------------------- size
    Case(
        "larger-than-any-iam-policy",
        HUGE,
        f"no IAM policy may exceed {MAX_POLICY_CHARACTERS:,}",
    ),
    # ---------------------------------------------------------------- the file (not in a spec)
    Case(
        "duplicate-effect-deny-then-allow",
        b'{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Effect": "Allow",'
        b' "Action": "*", "Resource": "*"}}',
        "duplicate key 'Effect'",
    ),
    Case(
        "duplicate-statement",
        b'{"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "*",'
        b' "Resource": "*"}, "Statement": {"Effect": "Allow", "Action": "*",'
        b' "Resource": "*"}}',
        "duplicate key 'Statement'",
    ),
    Case(
        "nan",
        b'{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*",'
        b' "Resource": "*", "Condition": {"NumericLessThan": {"k": NaN}}}}',
        "NaN is not a JSON value",
    ),
    Case("trailing-comma", VALID_TEXT.encode()[:-2] + b",]}", "invalid JSON at line 1"),
    Case("truncated", VALID_TEXT.encode()[:50], "invalid JSON at line 1"),
    Case("empty-file", b"", "invalid JSON at line 1, column 1"),
    Case(
        "invalid-utf8", VALID_TEXT.encode().replace(b"Allow", b"All\xffow"), "not UTF-8"
    ),
    Case("utf16", VALID_TEXT.encode("utf-16"), "not UTF-8"),
    Case(
        "nested-too-deeply",
        b'{"Version": "2012-10-17", "Statement": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        "nested too deeply",
    ),
    Case(
        "deep-condition-value",
        b'{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*",'
        b' "Resource": "*", "Condition": {"StringEquals": {"k": '
        + b'{"a":' * 1200
        + b"1"
        + b"}" * 1200
        + b"}}}}",
        "nested too deeply",
    ),
    Case("a-two-megabyte-file", TWO_MB, f"the file is {len(TWO_MB)} bytes"),
    Case(
        "a-policy-of-20000-characters",
        json.dumps(doc(stmt(Sid="A" * 20_000))).encode(),
        f"no IAM policy may exceed {MAX_POLICY_CHARACTERS:,}",
    ),
]


def test_there_are_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c.in_spec and c.name != "larger-than-any-iam-policy"],
    ids=lambda c: c.name,
)
def test_the_engine_never_builds_a_policy_from_the_document(case: Case) -> None:
    # The size limit is the readers' (simulate, lint, spec), tested with every other reader
    # case; the engine itself parses any size (a 10,000-statement test relies on it).
    assert validate_policy(case.policy), "no error reported"
    with pytest.raises(PolicyParseError):
        parse_policy(case.policy)


# ---------------------------------------------------------------------------- simulate


@pytest.fixture
def policy_file(tmp_path: Path) -> Any:
    def write(case: Case) -> Path:
        path = tmp_path / f"{case.name}.json"
        path.write_bytes(case.raw)
        return path

    return write


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_simulate_exits_2_with_no_decision(
    case: Case,
    policy_file: Any,
    real_model: pipeline.LoadedModel,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(pipeline, "load_model", lambda raw, path: real_model)
    path = policy_file(case)
    argv = ["simulate", "--spec", str(REAL_SPEC), "--policy", str(path)]
    code, out, err = _run([*argv, "--action", "GetFile"], capsys)
    assert code == 2, err
    assert out == ""
    assert err.startswith(f"iamgen simulate: {path}: "), err
    assert case.message in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    "request_args",
    [
        ["--action", "GetFile", "--json"],
        ["--route", "GET /v1/files/file_01/content"],
        ["--route", "GET /v1/files/file_01/content", "--json", "--auth", "bearer"],
    ],
)
@pytest.mark.parametrize(
    "name", ["duplicate-effect-deny-then-allow", "action-and-notaction", "a-list"]
)
def test_simulate_refuses_whatever_the_request(
    name: str,
    request_args: list[str],
    policy_file: Any,
    real_model: pipeline.LoadedModel,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(pipeline, "load_model", lambda raw, path: real_model)
    path = policy_file(next(case for case in CASES if case.name == name))
    argv = ["simulate", "--spec", str(REAL_SPEC), "--policy", str(path)]
    code, out, err = _run([*argv, *request_args], capsys)
    assert (code, out) == (2, ""), err


@pytest.mark.parametrize("option", ["--boundary", "--scp"])
def test_a_malformed_boundary_or_scp_is_refused_too(
    option: str,
    policy_file: Any,
    real_model: pipeline.LoadedModel,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(pipeline, "load_model", lambda raw, path: real_model)
    bad = policy_file(CASES[0])
    argv = ["simulate", "--spec", str(REAL_SPEC), "--policy", "AnthropicFullAccess"]
    code, out, err = _run([*argv, option, str(bad), "--action", "GetFile"], capsys)
    assert (code, out) == (2, "")
    assert CASES[0].message in err


def test_simulate_in_a_subprocess_has_no_traceback(tmp_path: Path) -> None:
    names = ("duplicate-effect-deny-then-allow", "nested-too-deeply", "a-list", "nan")
    chosen = [case for case in CASES if case.name in names]
    processes = []
    for case in chosen:
        path = tmp_path / f"{case.name}.json"
        path.write_bytes(case.raw)
        processes.append(
            (
                case,
                subprocess.Popen(
                    [sys.executable, "-m", "generator", "simulate", "--spec"]
                    + [str(MINIMAL_SPEC), "--policy", str(path), "--action", "GetFile"],
                    cwd=REPO_ROOT,
                    env=iamgen_env(),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
            )
        )
    for case, process in processes:
        out, err = process.communicate(timeout=120)
        assert (process.returncode, out) == (2, ""), (case.name, err)
        assert "Traceback" not in err and case.message in err


def test_a_well_formed_twin_of_the_duplicate_key_case_is_simulated(
    tmp_path: Path,
    real_model: pipeline.LoadedModel,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The control for the duplicate-key case: the same statement written once is read.
    monkeypatch.setattr(pipeline, "load_model", lambda raw, path: real_model)
    path = tmp_path / "deny.json"
    path.write_text(json.dumps(doc(stmt(Effect="Deny", Action="*"))))
    argv = ["simulate", "--spec", str(REAL_SPEC), "--policy", str(path), "--json"]
    code, out, _err = _run([*argv, "--action", "GetFile"], capsys)
    assert code == 0
    assert json.loads(out)["decision"] == "explicitDeny"


def test_file_size_limit_is_far_above_any_iam_policy() -> None:
    assert MAX_POLICY_FILE_BYTES >= 50 * MAX_POLICY_CHARACTERS


# ---------------------------------------------------------------------------- lint


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_lint_reports_iam001_and_exits_1(
    case: Case,
    policy_file: Any,
    real_model: pipeline.LoadedModel,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(pipeline, "load_model", lambda raw, path: real_model)
    path = policy_file(case)
    argv = ["lint", "--spec", str(REAL_SPEC), str(path), "--format", "json"]
    code, out, err = _run(argv, capsys)
    assert code == 1, err
    findings = json.loads(out)
    grammar = [f for f in findings if f["code"] == "IAM001"]
    assert grammar, findings
    assert all(f["severity"] == "error" for f in grammar)
    assert any(case.message in f["message"] for f in grammar), grammar


# ---------------------------------------------------------------------------- spec

SPEC_NAME = "spec.yaml"
MINIMAL = MINIMAL_SPEC.read_text(encoding="utf-8")
DOCUMENT_KEY = "    document:\n      Version"
LOCATED = re.compile(r"^spec\.yaml:(?P<line>[0-9]+):(?P<col>[0-9]+): (?P<message>.+)$")


def _spec_with_example_document(document: object) -> tuple[str, int]:
    """The minimal spec with its (last) example policy's document replaced; and its line."""
    start = MINIMAL.rindex(DOCUMENT_KEY)
    text = MINIMAL[:start] + "    document: " + json.dumps(document) + "\n"
    return text, MINIMAL.count("\n", 0, start) + 1


@pytest.mark.parametrize("case", [c for c in CASES if c.in_spec], ids=lambda c: c.name)
def test_a_malformed_policy_in_the_spec_is_a_located_error(case: Case) -> None:
    text, line = _spec_with_example_document(case.policy)
    with pytest.raises(SpecInvalid) as raised:
        pipeline.load_model(text.encode("utf-8"), SPEC_NAME)
    errors = [LOCATED.match(str(error)) for error in raised.value.errors]
    assert all(errors), raised.value.errors
    assert all(int(m["line"]) == line for m in errors if m), raised.value.errors
    wanted = case.spec_message or case.message
    assert any(wanted in m["message"] for m in errors if m), raised.value.errors


def test_the_unmodified_example_document_is_valid() -> None:
    # The control: the replacement above keeps the spec valid when the document is valid.
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "aws-external-anthropic:CreateFile",
                    "aws-external-anthropic:GetFile",
                ],
                "Resource": ARN,
            }
        ],
    }
    text, _line = _spec_with_example_document(document)
    assert len(pipeline.load_model(text.encode("utf-8"), SPEC_NAME).spec.actions) == 8
