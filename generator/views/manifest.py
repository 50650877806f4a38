"""View for MANIFEST.json: every generated file with its sha256, and the spec's hash."""

from __future__ import annotations

import hashlib
from typing import Any

MANIFEST_PATH = "MANIFEST.json"
GENERATOR = "iamgen"


def build_manifest_view(
    outputs: dict[str, str], spec_sha256: str, spec_path: str
) -> dict[str, Any]:
    files = {
        path: {"sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}
        for path, text in sorted(outputs.items())
        if path != MANIFEST_PATH
    }
    return {
        "manifest": {
            "generator": GENERATOR,
            "spec": {"path": spec_path, "sha256": spec_sha256},
            "files": files,
        }
    }
