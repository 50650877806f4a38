"""View for the generated Python package: plain values for python/__init__.py.jinja."""

from __future__ import annotations

from typing import Any

from generator.catalog import Catalog

PACKAGE_DIR = "python/aws_external_anthropic_iam"

ACCESS_LEVEL_MEMBERS = {
    "Read": "Read",
    "List": "List",
    "Write": "Write",
    "Tagging": "Tagging",
    "Permissions management": "PermissionsManagement",
}
SCOPE_MEMBERS = {
    "workspace": "Workspace",
    "workspace-optional": "WorkspaceOptional",
    "account": "Account",
    "route-less": "RouteLess",
}


def build_python_package_view(catalog: Catalog) -> dict[str, Any]:
    spec = catalog.spec
    routes = [
        {
            "method": r.method,
            "path": r.path,
            "action": r.action,
            "event_type": catalog.action_by_name[r.action].event_type,
        }
        for r in catalog.routes
    ]
    indexes_by_action: dict[str, list[int]] = {}
    for index, route in enumerate(catalog.routes):
        indexes_by_action.setdefault(route.action, []).append(index)
    actions = []
    for group in spec.groups:
        for action in group.actions:
            actions.append(
                {
                    "name": action.name,
                    "value": catalog.full_name(action.name),
                    "description": action.description,
                    "group": group.name,
                    "access_level": ACCESS_LEVEL_MEMBERS[action.access_level],
                    "scope": SCOPE_MEMBERS[action.scope],
                    "event_type": action.event_type,
                    "exposes": action.exposes,
                    "condition_keys": action.condition_keys,
                    "route_indexes": indexes_by_action.get(action.name, []),
                }
            )
    return {
        "service_prefix": catalog.prefix,
        "service_name": spec.service.name,
        "workspace_header": spec.service.workspace_header,
        "access_levels": list(ACCESS_LEVEL_MEMBERS.items()),
        "scopes": list(SCOPE_MEMBERS.items()),
        "actions": actions,
        "groups": [g.name for g in spec.groups],
        "managed_policies": [
            {"name": p.name, "arn": p.arn} for p in spec.managed_policies
        ],
        "routes": routes,
        "route_tree": _route_tree_literal(catalog),
    }


def _route_tree_literal(catalog: Catalog) -> str:
    """The resolver's trie as a Python literal.

    A node is ``(literal_children, parameter_child, methods)``: a dict from literal segment to
    node, the node for a ``{parameter}`` segment (or None), and a dict from HTTP method to the
    route-table row. Literal segments are tried before the parameter, so ``/work/poll``
    wins over ``/work/{work_id}``.
    """
    route_index = {(r.method, r.path): i for i, r in enumerate(catalog.routes)}
    root: dict[str, Any] = _new_node()
    for route in catalog.routes:
        node = root
        for segment in route.segments:
            if segment.startswith("{"):
                if node["param"] is None:
                    node["param"] = _new_node()
                node = node["param"]
            else:
                node = node["literals"].setdefault(segment, _new_node())
        node["methods"][route.method] = route_index[(route.method, route.path)]
    return _node_literal(root)


def _new_node() -> dict[str, Any]:
    return {"literals": {}, "param": None, "methods": {}}


def _node_literal(node: dict[str, Any]) -> str:
    literals = ", ".join(
        f"{key!r}: {_node_literal(child)}"
        for key, child in sorted(node["literals"].items())
    )
    param = "None" if node["param"] is None else _node_literal(node["param"])
    methods = ", ".join(
        f"{method!r}: ROUTES[{index}]"
        for method, index in sorted(node["methods"].items())
    )
    return f"({{{literals}}}, {param}, {{{methods}}})"
