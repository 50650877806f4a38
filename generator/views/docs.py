"""View for docs/iam-actions.md: the reference page, regenerated from the spec.

Everything the template prints is decided here (order, counts, which notes go where, the
verified examples under each note); the template only lays it out and escapes it.
"""

from __future__ import annotations

from typing import Any

from generator.catalog import Catalog
from generator.claims import describe_claim
from generator.model import Action, Note
from generator.views.cloudtrail import (
    SELECTORS_PATH,
    build_cloudtrail_view,
    narrowed_selector_example,
)
from generator.views.coverage import build_coverage_view
from generator.views.policies import iam_key_order
from generator.views.wildcards import build_wildcard_view

SCOPE_TEXT = {
    "workspace": "workspace (required)",
    "workspace-optional": "workspace (optional)",
    "account": 'none: account-scoped, grant on "*"',
    "route-less": 'none: route-less, grant on "*"',
}


def build_docs_view(catalog: Catalog) -> dict[str, Any]:
    spec = catalog.spec
    service = spec.service
    resource = service.resource_types[0]
    routed = [a for a in catalog.actions if a.routes]
    management = [a.name for a in catalog.actions if a.event_type == "Management"]
    unrouted = [a for a in catalog.actions if not a.routes]
    return {
        "service": {
            "name": service.name,
            "rows": [
                ("IAM service prefix", f"`{service.prefix}`"),
                ("SigV4 signing name", f"`{service.sigv4_service_name}`"),
                ("Endpoint", f"`{service.endpoint}`"),
                ("Workspace header", f"`{service.workspace_header}`"),
                (
                    "Resource types",
                    ", ".join(f"`{r.name}`" for r in service.resource_types),
                ),
                ("Workspace ARN format", f"`{resource.arn_format_docs}`"),
                (
                    "ARN format (Service Authorization Reference)",
                    f"`{resource.arn_format}`",
                ),
                ("Example workspace ARN", f"`{resource.arn_example}`"),
                (
                    "CloudTrail data-event resource type",
                    f"`{resource.cloudtrail_resource_type}`",
                ),
                ("Actions", f"{len(catalog.actions)} in {len(spec.groups)} groups"),
                ("Routes", f"{len(catalog.routes)}"),
            ],
            "notes": [_note(catalog, n) for n in service.notes],
        },
        "action_count": len(catalog.actions),
        "group_count": len(spec.groups),
        "routed_count": len(routed),
        "unrouted": [a.name for a in unrouted],
        "groups": [
            {
                "name": group.name,
                "description": group.description,
                "actions": [_action_row(catalog, a) for a in group.actions],
                "notes": [_note(catalog, n) for n in group.notes]
                + [
                    _note(catalog, n, about=a.name)
                    for a in group.actions
                    for n in a.notes
                ],
            }
            for group in spec.groups
        ],
        "routes": [
            {
                "method": r.method,
                "path": r.path,
                "action": r.action,
                "event_type": catalog.action_by_name[r.action].event_type,
            }
            for r in catalog.routes
        ],
        "condition_keys": [
            {
                "name": k.name,
                "type": k.type,
                "description": k.description,
                "documented_values": ", ".join(f"`{v}`" for v in k.values),
                "actions": ", ".join(
                    a.name for a in catalog.actions if k.name in a.condition_keys
                ),
            }
            for k in spec.condition_keys
        ],
        "managed_policies": [
            {
                "name": p.name,
                "arn": p.arn,
                "version": p.version,
                "created": p.created,
                "updated": p.updated,
                "description": p.description,
                "summary": p.summary,
                "notes": [_note(catalog, n) for n in p.notes],
                "document": iam_key_order(p.document),
            }
            for p in spec.managed_policies
        ],
        "example_policies": [
            {
                "slug": e.slug,
                "title": e.title,
                "purpose": e.purpose,
                "notes": [_note(catalog, n) for n in e.notes],
                "document": iam_key_order(e.document),
            }
            for e in spec.example_policies
        ],
        "wildcards": build_wildcard_view(catalog),
        "cloudtrail": {
            "path": SELECTORS_PATH,
            "selectors": build_cloudtrail_view(catalog)["selectors"],
            "narrowed": narrowed_selector_example(catalog),
            "data_count": sum(1 for a in catalog.actions if a.event_type == "Data"),
            "management_count": len(management),
            "management_actions": management,
            "undocumented_count": sum(
                1 for a in catalog.actions if a.event_type is None
            ),
        },
        "coverage": build_coverage_view(catalog),
        "decisions": [
            {
                "id": d.id,
                "topic": d.topic,
                "choice": d.choice,
                "sources": ", ".join(d.sources),
            }
            for d in spec.decisions
        ],
        "sources": [
            {"id": s.id, "title": s.title, "url": s.url, "as_of": s.as_of or ""}
            for s in spec.sources
        ],
    }


def _action_row(catalog: Catalog, action: Action) -> dict[str, Any]:
    return {
        "name": action.name,
        "description": action.description,
        "access_level": action.access_level,
        "scope": SCOPE_TEXT[action.scope],
        "event_type": action.event_type or "not documented",
        "routes": list(action.routes),
        "no_routes_reason": action.no_routes_reason or "",
    }


def _note(catalog: Catalog, note: Note, about: str | None = None) -> dict[str, Any]:
    return {
        "id": note.id,
        "about": about or "",
        "text": note.text,
        "verified": [describe_claim(catalog, c) for c in note.claims],
    }
