"""Claims in spec notes are evaluated at generation time (issue 3, section 4)."""

from __future__ import annotations

import re
from pathlib import Path

from generator.claims import check_claims
from generator.load import load_spec_text
from generator.model import build_spec
from generator.validate import all_notes
from tests.conftest import MINIMAL_SPEC, REAL_SPEC, REPO_ROOT, run_iamgen


def load(text: str, path: str = "spec.yaml"):
    loaded, errors = load_spec_text(text.encode(), path)
    assert loaded is not None, errors
    spec, errors = build_spec(loaded.data, loaded.locator)
    assert spec is not None, errors
    return spec, loaded.locator


def test_every_claim_of_the_real_spec_holds() -> None:
    spec, locator = load(REAL_SPEC.read_text(encoding="utf-8"))
    assert check_claims(spec, locator) == []
    claims = [c for n in all_notes(spec) for c in n.claims]
    assert len(claims) >= 100


def test_false_claims_are_located_errors() -> None:
    text = MINIMAL_SPEC.read_text(encoding="utf-8")
    text = text.replace(
        "matches: [CreateFile, DeleteFile, GetFile]",
        "matches: [CreateFile, GetFile, ListFiles]",
    )
    text = text.replace(
        "request: {route: GET /v1/organizations/workspaces}\n                decision: implicitDeny",
        "request: {route: GET /v1/organizations/workspaces}\n                decision: allowed",
    )
    spec, locator = load(text)
    messages = [str(e) for e in check_claims(spec, locator)]
    assert messages == [
        "spec.yaml:55:13: claim of note star-file: aws-external-anthropic:*File matches "
        "3 actions, not as claimed: it also matches DeleteFile; it does not match ListFiles",
        "spec.yaml:134:17: claim of note list-workspaces-account-scoped: expected allowed, "
        "but the evaluator decides implicitDeny (implicitDeny: no identity-based policy "
        "allows aws-external-anthropic:ListWorkspaces (no resource))",
    ]


def test_claim_on_an_unlisted_route_is_an_error() -> None:
    text = MINIMAL_SPEC.read_text(encoding="utf-8").replace(
        "request: {route: GET /v1/files/file_01/content}",
        "request: {route: GET /v1/files/file_01/content/}",
    )
    spec, locator = load(text)
    [error] = check_claims(spec, locator)
    assert "is not in the route table" in error.message


def test_make_check_fails_when_a_claim_in_the_spec_is_false(tmp_path: Path) -> None:
    # A false claim stops validate, check and generate alike with exit 2.
    spec_dir = tmp_path / "spec"
    spec_dir.mkdir()
    text = REAL_SPEC.read_text(encoding="utf-8")
    needle = "decision: implicitDeny"
    assert needle in text
    (spec_dir / "aws-external-anthropic.yaml").write_text(
        text.replace(needle, "decision: allowed", 1)
    )
    for command in ("validate", "check", "generate"):
        result = run_iamgen(command, cwd=tmp_path)
        assert result.returncode == 2, command
        assert re.search(
            r"spec/aws-external-anthropic.yaml:\d+:\d+: claim of note ", result.stderr
        )
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "generated").exists()


def _notes_with_claims(spec) -> dict[str, int]:
    return {n.id: len(n.claims) for n in all_notes(spec) if n.claims}


def test_every_documented_trap_is_backed_by_a_claim() -> None:
    spec, _ = load(REAL_SPEC.read_text(encoding="utf-8"))
    claims = [c for n in all_notes(spec) for c in n.claims]
    expands = {c.expand for c in claims if c.expand}
    assert "aws-external-anthropic:*File" in expands
    decided = [c for c in claims if c.request is not None]

    def claimed(route_or_action: str, decision: str) -> bool:
        return any(
            (c.request.route == route_or_action or c.request.action == route_or_action)
            and c.decision == decision
            for c in decided
        )

    # Delete* does not stop archive or sub-resource deletes mapped to Update* actions.
    assert claimed("ArchiveAgent", "allowed") or claimed(
        "POST /v1/agents/agent_01/archive", "allowed"
    )
    for sub_resource_delete in ("skills", "sessions", "vaults", "memory_stores"):
        assert any(
            c.request.route
            and c.request.route.startswith(f"DELETE /v1/{sub_resource_delete}/")
            and c.request.route.count("/") >= 5
            and c.decision == "allowed"
            for c in decided
        ), sub_resource_delete
    # Account-scoped actions are dropped by a workspace-ARN statement.
    assert claimed("GET /v1/organizations/workspaces", "implicitDeny")
    # Route-less actions: bearer auth needs CallWithBearerToken.
    assert any(
        c.request.auth == "bearer" and c.decision == "implicitDeny" for c in decided
    )
    # CreateInference and CreateBatchInference are independent.
    assert claimed("POST /v1/messages/batches", "allowed")


def test_the_page_shows_each_note_next_to_its_verified_examples() -> None:
    page = (REPO_ROOT / "generated" / "docs" / "iam-actions.md").read_text(
        encoding="utf-8"
    )
    spec, _ = load(REAL_SPEC.read_text(encoding="utf-8"))
    verified = page.count("  - Verified: ")
    total = sum(len(n.claims) for n in all_notes(spec))
    # Each claim appears under its note; expand claims appear again under wildcard warnings.
    assert verified >= total
    assert "[1]: " in page  # coverage matrix footnotes exist
