"""Turn spec-level questions into IAM requests, and evaluate them.

One place decides what a request *is* for this service, so claims, ``simulate``, ``explain``
and the coverage matrix agree:

* the action comes from the route resolver (unknown route: no action; fail closed);
* the resource is the workspace ARN for workspace-scoped actions (required or optional), and
  "no resource" for account-scoped and route-less actions, which IAM grants only through
  ``Resource: "*"`` (Service Authorization Reference: no resource type);
* API-key (bearer) calls also need the service's bearer-token action.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from generator.catalog import Catalog
from generator.iam.evaluate import Authorization, PolicySet
from generator.iam.policy import NamedPolicy, parse_policy
from generator.model import Action, Route
from generator.routing import RouteResolver

AUTH_MODES = ("sigv4", "bearer")


class UnknownRoute(LookupError):
    """The request is not in the route table: the gateway denies it; no action applies."""


@dataclass(frozen=True)
class Simulator:
    catalog: Catalog

    @cached_property
    def resolver(self) -> RouteResolver:
        return RouteResolver(self.catalog.routes)

    @cached_property
    def managed(self) -> dict[str, NamedPolicy]:
        return {
            p.name: NamedPolicy(p.name, parse_policy(p.document))
            for p in self.catalog.spec.managed_policies
        }

    @cached_property
    def examples(self) -> dict[str, NamedPolicy]:
        return {
            e.slug: NamedPolicy(e.slug, parse_policy(e.document))
            for e in self.catalog.spec.example_policies
        }

    def named_policy(self, name: str) -> NamedPolicy | None:
        """A managed policy by name or an example by slug (``Catalog.published_policy``)."""
        published = self.catalog.published_policy(name)
        if published is None:
            return None
        table = self.managed if published.uri.startswith("managed:") else self.examples
        return table[published.name]

    def route_for(self, request_line: str) -> Route:
        """'METHOD /concrete/path' -> the route-table row, or UnknownRoute."""
        method, _, path = request_line.partition(" ")
        return self.route_of(method, path)

    def route_of(self, method: str, path: str) -> Route:
        """The route-table row of a request, or UnknownRoute.

        Exactly the generated ``resolve``: nothing is stripped or normalized, so whitespace
        around the method or the path is not a route either.
        """
        route = self.resolver.resolve(method, path)
        if route is None:
            raise UnknownRoute(
                f"{method} {path} is not in the route table: the gateway denies it "
                "and no IAM action applies"
            )
        return route

    def resource_for(self, action: Action, workspace_arn: str | None) -> str | None:
        """The request resource: the workspace ARN, or None for actions with no resource type."""
        if action.scope in ("account", "route-less"):
            return None
        return workspace_arn or self.catalog.example_workspace_arn

    def authorize(
        self,
        policies: Sequence[NamedPolicy],
        action: Action,
        *,
        workspace_arn: str | None = None,
        auth: str = "sigv4",
        context: Mapping[str, str | Sequence[str]] | None = None,
        boundary: NamedPolicy | None = None,
        scps: Sequence[NamedPolicy] | None = None,
    ) -> Authorization:
        bearer_action = self.catalog.spec.service.bearer_token_action
        bearer = auth == "bearer"
        if bearer and bearer_action is None:
            raise ValueError("this spec defines no bearer_token_action")
        policy_set = PolicySet(policies, boundary=boundary, scps=scps)
        return policy_set.authorize(
            self.catalog.full_name(action.name),
            self.resource_for(action, workspace_arn),
            context or {},
            bearer=bearer,
            bearer_action=self.catalog.full_name(bearer_action or action.name),
        )
