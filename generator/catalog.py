"""Derived facts about a validated spec that several outputs need (routes, lookups).

Pure functions of the model; no rendering and no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from generator.model import Action, Group, JsonObject, Route, Spec, parse_route


@dataclass(frozen=True)
class PublishedPolicy:
    """A managed policy or documented example of the spec, found by name."""

    name: str
    uri: str
    """``managed:<Name>`` or ``example:<slug>``: where it came from, for reports."""
    document: JsonObject


@dataclass(frozen=True)
class Catalog:
    spec: Spec

    @cached_property
    def prefix(self) -> str:
        return self.spec.service.prefix

    @cached_property
    def actions(self) -> tuple[Action, ...]:
        return self.spec.actions

    @cached_property
    def action_by_name(self) -> dict[str, Action]:
        return {a.name: a for a in self.actions}

    @cached_property
    def group_of(self) -> dict[str, Group]:
        return {a.name: g for g in self.spec.groups for a in g.actions}

    @cached_property
    def routes(self) -> tuple[Route, ...]:
        """Every route, in group order, then action order, then the action's route order."""
        out = []
        for action in self.actions:
            for text in action.routes:
                route, _problem = parse_route(text, action.name)
                assert route is not None, "validated spec"
                out.append(route)
        return tuple(out)

    def full_name(self, action_name: str) -> str:
        return f"{self.prefix}:{action_name}"

    @cached_property
    def full_action_names(self) -> tuple[str, ...]:
        return tuple(self.full_name(a.name) for a in self.actions)

    @cached_property
    def example_workspace_arn(self) -> str:
        return self.spec.service.resource_types[0].arn_example

    def published_policy(self, name: str) -> PublishedPolicy | None:
        """A managed policy by name or an example by slug, case-insensitively."""
        wanted = name.lower()
        for managed in self.spec.managed_policies:
            if managed.name.lower() == wanted:
                return PublishedPolicy(
                    managed.name, f"managed:{managed.name}", managed.document
                )
        for example in self.spec.example_policies:
            if example.slug.lower() == wanted:
                return PublishedPolicy(
                    example.slug, f"example:{example.slug}", example.document
                )
        return None
