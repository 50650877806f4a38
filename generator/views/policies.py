"""View for the policy JSON files: one document per managed and example policy."""

from __future__ import annotations

from typing import Any

from generator.model import Spec

MANAGED_DIR = "policies/managed"
EXAMPLES_DIR = "policies/examples"


def build_policy_views(spec: Spec) -> dict[str, dict[str, Any]]:
    """{relative output path: {"document": the IAM JSON, key order as published}}."""
    views: dict[str, dict[str, Any]] = {}
    for managed in spec.managed_policies:
        views[f"{MANAGED_DIR}/{managed.name}.json"] = {
            "document": iam_key_order(managed.document)
        }
    for example in spec.example_policies:
        views[f"{EXAMPLES_DIR}/{example.slug}.json"] = {
            "document": iam_key_order(example.document)
        }
    return views


TOP_LEVEL_ORDER = ("Version", "Id", "Statement")


def iam_key_order(document: dict[str, Any]) -> dict[str, Any]:
    """``Version`` first, then ``Id`` and ``Statement``; statements keep their published order."""
    ordered = {key: document[key] for key in TOP_LEVEL_ORDER if key in document}
    ordered.update((k, v) for k, v in document.items() if k not in ordered)
    return ordered
