"""Route paths carry SDK parameter names; the reference page's `{id}` style derives from them
(issue 2, section 1)."""

from __future__ import annotations

from generator.pipeline import load_model
from tests.conftest import REAL_SPEC

# Rows as the reference page (../shared/reference/seed-iam-actions-page.txt) prints them.
SEED_PAGE_ROWS = [
    ("GET", "/v1/messages/batches/{id}/results", "GetBatchInference"),
    ("GET", "/v1/files/{id}/content", "GetFile"),
    ("GET", "/v1/skills/{id}/versions/{version}", "GetSkill"),
    ("DELETE", "/v1/skills/{id}/versions/{version}", "UpdateSkill"),
    ("GET", "/v1/sessions/{id}/resources/{id}", "GetSession"),
    ("GET", "/v1/vaults/{id}/credentials/{id}", "GetVault"),
    ("GET", "/v1/memory_stores/{id}/memory_versions/{id}", "GetMemoryStore"),
    ("POST", "/v1/organizations/workspaces/{id}/archive", "ArchiveWorkspace"),
]


def test_doc_style_paths_render_the_reference_pages_rows() -> None:
    model = load_model(REAL_SPEC.read_bytes(), "spec/aws-external-anthropic.yaml")
    doc_rows = {(r.method, r.doc_path): r.action for r in model.catalog.routes}
    assert len(doc_rows) == len(model.catalog.routes) == 105
    for method, path, action in SEED_PAGE_ROWS:
        assert doc_rows[(method, path)] == action, (method, path)
    # Work routes keep their second parameter's name, as the 65/71-action tables do.
    assert doc_rows[("GET", "/v1/environments/{id}/work/{work_id}")] == "GetEnvironment"
