"""View for cloudtrail/data-event-selectors.json: CloudTrail advanced event selectors.

Data events are not logged by default (R13); these selectors log this service's data events,
selected by the data-event resource type. The list is what
``aws cloudtrail put-event-selectors --advanced-event-selectors file://...`` takes.
"""

from __future__ import annotations

from typing import Any

from generator.catalog import Catalog

SELECTORS_PATH = "cloudtrail/data-event-selectors.json"


def build_cloudtrail_view(catalog: Catalog) -> dict[str, Any]:
    service = catalog.spec.service
    selectors = [
        {
            "Name": f"Log {service.prefix} data events ({service.name})",
            "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Data"]},
                {"Field": "resources.type", "Equals": [r.cloudtrail_resource_type]},
            ],
        }
        for r in service.resource_types
    ]
    return {"selectors": selectors}


def narrowed_selector_example(catalog: Catalog) -> dict[str, Any]:
    """The same selector narrowed to one workspace, for the reference page."""
    resource = catalog.spec.service.resource_types[0]
    return {
        "Name": f"Log {catalog.prefix} data events of one workspace",
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": [resource.cloudtrail_resource_type]},
            {"Field": "resources.ARN", "Equals": [resource.arn_example]},
        ],
    }
