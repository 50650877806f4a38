"""View for service-reference/: the service in AWS's programmatic Service Reference format.

AWS publishes one JSON file per service prefix (``/v1/<prefix>/<prefix>.json``) and an index
(``_services.json``: a list of ``{service, url}``); linters such as iam-policy-validator read
them from a local folder. We emit the same two files so those tools know this service.

The access level is not stored in that format: it is four flags from which consumers derive it
(PermissionManagement > TaggingOnly > Write > List > none = Read). AWS sets the flags with
implications, which its own data shows (every tagging action is also a write, every
permissions-management action too), and we follow them.
"""

from __future__ import annotations

from typing import Any

from generator.catalog import Catalog
from generator.model import Action

SERVICE_REFERENCE_DIR = "service-reference"
SERVICES_INDEX_PATH = f"{SERVICE_REFERENCE_DIR}/_services.json"
# The format version we checked our file against (iam-policy-validator 1.31.4's ServiceDetail
# model and the typed models of peer-tools.md §1); not the service's API version.
SERVICE_REFERENCE_VERSION = "v1.4"
SERVICE_REFERENCE_URL = (
    "https://servicereference.us-east-1.amazonaws.com/v1/{prefix}/{prefix}.json"
)

# Access level -> the flags AWS sets for it, in the key order AWS writes them.
ACCESS_LEVEL_FLAGS: dict[str, dict[str, bool]] = {
    "Read": {
        "IsList": False,
        "IsPermissionManagement": False,
        "IsTaggingOnly": False,
        "IsWrite": False,
    },
    "List": {
        "IsList": True,
        "IsPermissionManagement": False,
        "IsTaggingOnly": False,
        "IsWrite": False,
    },
    "Write": {
        "IsList": False,
        "IsPermissionManagement": False,
        "IsTaggingOnly": False,
        "IsWrite": True,
    },
    "Tagging": {
        "IsList": False,
        "IsPermissionManagement": False,
        "IsTaggingOnly": True,
        "IsWrite": True,
    },
    "Permissions management": {
        "IsList": False,
        "IsPermissionManagement": True,
        "IsTaggingOnly": False,
        "IsWrite": True,
    },
}

# Scopes whose actions bind to the workspace resource type; account-scoped and route-less
# actions carry no Resources, which in this format means only Resource "*" grants them.
SCOPES_WITH_RESOURCE = ("workspace", "workspace-optional")


def service_reference_path(prefix: str) -> str:
    return f"{SERVICE_REFERENCE_DIR}/{prefix}.json"


def access_level_flags(access_level: str) -> dict[str, bool]:
    """The four Annotations.Properties flags of an access level (a fresh dict)."""
    return dict(ACCESS_LEVEL_FLAGS[access_level])


def action_resource_types(catalog: Catalog, action: Action) -> tuple[str, ...]:
    """Resource type names an action binds to; none for account-scoped and route-less ones."""
    if action.scope not in SCOPES_WITH_RESOURCE:
        return ()
    return tuple(r.name for r in catalog.spec.service.resource_types)


def build_service_reference_view(catalog: Catalog) -> dict[str, Any]:
    """``{"service": ServiceDetail}``: keys in AWS's order, every list sorted by name."""
    spec = catalog.spec
    actions = []
    for action in sorted(catalog.actions, key=lambda a: a.name):
        entry: dict[str, Any] = {"Name": action.name}
        if action.condition_keys:
            entry["ActionConditionKeys"] = sorted(action.condition_keys)
        entry["Annotations"] = {"Properties": access_level_flags(action.access_level)}
        resources = action_resource_types(catalog, action)
        if resources:
            entry["Resources"] = [{"Name": name} for name in resources]
        actions.append(entry)
    service: dict[str, Any] = {
        "Name": catalog.prefix,
        "Actions": actions,
        "ConditionKeys": [
            {"Name": key.name, "Types": [key.type]}
            for key in sorted(spec.condition_keys, key=lambda k: k.name)
        ],
        # AWS's Operations name API operations and their SDK methods; the spec has HTTP routes,
        # not named operations, so we publish none rather than invent names. Routes and their
        # actions are in openapi/openapi.json (x-iam-action).
        "Operations": [],
        "Resources": [
            {
                "Name": resource.name,
                "ARNFormats": [resource.arn_format],
                "ConditionKeys": sorted(resource.condition_keys),
            }
            for resource in sorted(spec.service.resource_types, key=lambda r: r.name)
        ],
        "Version": SERVICE_REFERENCE_VERSION,
    }
    return {"service": service}


def build_services_index_view(catalog: Catalog) -> dict[str, Any]:
    """``{"services": [...]}``: the one-entry index AWS serves at the root of the format."""
    return {
        "services": [
            {
                "service": catalog.prefix,
                "url": SERVICE_REFERENCE_URL.format(prefix=catalog.prefix),
            }
        ]
    }
