"""View for the page's wildcard warnings: what common patterns really match."""

from __future__ import annotations

from typing import Any

from generator.catalog import Catalog
from generator.claims import describe_claim
from generator.iam.policy import raw_element_strings
from generator.validate import all_notes
from generator.wildcards import analyze_pattern

# Verb wildcards people write, plus the suffix pattern the reference page warns about (R8).
ACTION_ELEMENTS = ("Action", "NotAction")
COMMON_PATTERNS = (
    "*",
    "Get*",
    "List*",
    "Create*",
    "Update*",
    "Delete*",
    "Archive*",
    "*File",
)


def build_wildcard_view(catalog: Catalog) -> dict[str, Any]:
    patterns: list[str] = [f"{catalog.prefix}:{p}" for p in COMMON_PATTERNS]
    documents = [p.document for p in catalog.spec.managed_policies]
    documents += [e.document for e in catalog.spec.example_policies]
    for document in documents:
        for text in (r.text for r in raw_element_strings(document, ACTION_ELEMENTS)):
            if text.lower().startswith(catalog.prefix + ":") and (
                "*" in text or "?" in text
            ):
                if text not in patterns:
                    patterns.append(text)
    rows = []
    for text in patterns:
        analysis = analyze_pattern(catalog, text)
        surprises = []
        if analysis.over_matched:
            surprises.append(
                "also matches another resource family: "
                + ", ".join(analysis.over_matched)
            )
        if analysis.is_verb_wildcard:
            surprises.append(
                "widens whenever a matching action is added to the service"
            )
        rows.append(
            {
                "pattern": text,
                "matches": (
                    f"{len(analysis.matches)}: " + ", ".join(analysis.matches)
                    if analysis.matches
                    else "nothing"
                ),
                "unscoped": ", ".join(analysis.unscoped) or "-",
                "surprise": "; ".join(surprises) or "-",
            }
        )
    notes = [
        {
            "id": note.id,
            "about": "",
            "text": note.text,
            "verified": [describe_claim(catalog, c) for c in note.claims],
        }
        for note in all_notes(catalog.spec)
        if any(claim.expand is not None for claim in note.claims)
    ]
    return {"rows": rows, "notes": notes}
