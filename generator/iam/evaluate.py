"""Decide whether a request is allowed by a set of policies, and explain why.

Rules followed (IAM User Guide, "Policy evaluation logic" and "How AWS enforcement code logic
evaluates requests to allow or deny access"):

* "By default, all requests are implicitly denied"; "an explicit deny overrides an explicit
  allow". A statement applies when its Action/NotAction, Resource/NotResource and every
  condition match the request; the order of statements and policies does not matter.
* Identity-based policies attached to one principal are a union: any applicable Allow grants.
* Permissions boundary: "permissions are determined by the intersection of the two
  categories" - the request must be allowed by the identity-based policies and by the
  boundary; an explicit deny in either wins.
* Service control policies: the same intersection (SCPs never grant on their own). All SCPs
  passed are treated as one level of the organization (their union must allow).
* A request for an action without a resource type carries no resource (``None``): only
  ``Resource: "*"`` grants it, and ``NotResource`` applies unless it lists ``"*"``
  (IAM User Guide, "Resource" element: such actions need the ``*`` wildcard).

The decision names are AWS's: ``allowed``, ``explicitDeny``, ``implicitDeny``.

Use :class:`PolicySet` to evaluate many requests against the same policies: it caches, per
(action, resource), which statements can matter, so a decision that needs no request context
is a dictionary lookup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from .conditions import check_condition, normalize_context
from .matcher import ContextValues
from .policy import Effect, NamedPolicy, Statement

__all__ = [
    "Authorization",
    "Decision",
    "Evaluation",
    "KindEvaluation",
    "PolicyKind",
    "PolicySet",
    "Request",
    "StatementRef",
    "StatementResult",
    "authorize",
    "evaluate",
]

RawContext = Mapping[str, str | Sequence[str]]
"""Request context as given by callers: key -> value or list of values."""


class Decision(StrEnum):
    """The outcome of an evaluation, named as AWS names it."""

    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicitDeny"
    IMPLICIT_DENY = "implicitDeny"


class PolicyKind(StrEnum):
    """The kinds of policy this engine evaluates."""

    IDENTITY = "identity-based policy"
    PERMISSIONS_BOUNDARY = "permissions boundary"
    SERVICE_CONTROL_POLICY = "service control policy"


@dataclass(frozen=True)
class Request:
    """What is being authorized."""

    action: str
    """Full action name, e.g. ``aws-external-anthropic:GetFile``."""
    resource: str | None = None
    """The resource ARN, or None for an action that has no resource type."""
    context: RawContext = field(default_factory=dict)
    """Condition keys (case insensitive) to a value or a list of values."""

    def __post_init__(self) -> None:
        prefix, colon, name = self.action.partition(":")
        if not (prefix and colon and name):
            raise ValueError(
                f"request action {self.action!r} must be 'service-prefix:ActionName'"
            )


@dataclass(frozen=True)
class StatementRef:
    """Identifies a statement in explanations."""

    kind: PolicyKind
    policy: str
    index: int
    sid: str | None
    effect: Effect
    path: str
    """``Statement[1]`` (or ``Statement`` for a single-object Statement element)."""

    def __str__(self) -> str:
        return f"{self.policy}/{self.sid or self.path}"


@dataclass(frozen=True)
class StatementResult:
    """Whether one statement applies to the request, and if not, why not."""

    statement: StatementRef
    applies: bool
    reasons: tuple[str, ...]
    """Empty when the statement applies; otherwise the first element that failed (Action,
    then Resource), or every failing condition."""


@dataclass(frozen=True)
class KindEvaluation:
    """The result for one kind of policy (identity, boundary, SCP)."""

    kind: PolicyKind
    decision: Decision
    deciding: tuple[StatementRef, ...]
    """The applicable Deny statements (explicitDeny) or Allow statements (allowed)."""
    statements: tuple[StatementResult, ...]


@dataclass(frozen=True)
class Evaluation:
    """The decision for a request with every statement's outcome."""

    request: Request
    decision: Decision
    deciding: tuple[StatementRef, ...]
    identity: KindEvaluation
    boundary: KindEvaluation | None = None
    scp: KindEvaluation | None = None

    @property
    def kinds(self) -> tuple[KindEvaluation, ...]:
        """The evaluated kinds in order: identity, boundary, SCP."""
        return tuple(
            kind
            for kind in (self.identity, self.boundary, self.scp)
            if kind is not None
        )

    @property
    def statements(self) -> tuple[StatementResult, ...]:
        """Every statement's outcome, kind by kind, in document order."""
        return tuple(result for kind in self.kinds for result in kind.statements)

    @property
    def not_applied(self) -> tuple[StatementResult, ...]:
        """The statements that did not apply, with their reasons."""
        return tuple(result for result in self.statements if not result.applies)

    @property
    def explanation(self) -> str:
        """One line in the style of AWS's access-denied messages."""
        request = self.request
        target = (
            f"{request.action} on {request.resource}"
            if request.resource
            else f"{request.action} (no resource)"
        )
        refs = ", ".join(str(ref) for ref in self.deciding)
        if self.decision is Decision.EXPLICIT_DENY:
            kinds = sorted({ref.kind.value for ref in self.deciding})
            return f"explicitDeny: {target} is explicitly denied in {' and '.join(kinds)} {refs}"
        if self.decision is Decision.ALLOWED:
            return f"allowed: {target} is allowed by {refs}"
        missing = [
            kind.kind.value
            for kind in self.kinds
            if kind.decision is not Decision.ALLOWED
        ]
        return f"implicitDeny: no {' and no '.join(missing)} allows {target}"


@dataclass(frozen=True)
class Authorization:
    """The decision for an API call: the route's action, plus the bearer-token check."""

    decision: Decision
    route: Evaluation
    bearer: Evaluation | None
    """The evaluation of the bearer-token action; None for SigV4 calls."""

    @property
    def explanation(self) -> str:
        """The route's explanation, followed by the bearer check's when there is one."""
        if self.bearer is None:
            return self.route.explanation
        return f"{self.route.explanation}; bearer token: {self.bearer.explanation}"


# --------------------------------------------------------------------------- statement checks


def _listing(texts: Sequence[str]) -> str:
    return "[" + ", ".join(texts) + "]"


def _action_name(action: str) -> str:
    return action.partition(":")[2]


def _action_reason(statement: Statement, action: str) -> str | None:
    if statement.matches_action(action):
        return None
    if statement.not_action:
        for pattern in statement.actions:
            if pattern.matches(action):
                return f"Action {action} is excluded by NotAction {pattern.text}"
    return f"Action {action} is not matched by {_listing([p.text for p in statement.actions])}"


def _resource_applies(
    statement: Statement, resource: str | None, context: ContextValues | None
) -> bool:
    """Whether the Resource/NotResource element covers the resource."""
    patterns = statement.resources
    if not statement.not_resource:
        for pattern in patterns:
            if pattern.matches(resource, context):
                return True
        return False
    for pattern in patterns:
        if pattern.matches(resource, context):
            return False
    # A NotResource entry whose variable cannot be resolved makes the statement invalid
    # rather than silently excluding nothing (IAM User Guide, "Variables and tags").
    return not any(
        pattern.variables and pattern.unresolved(context) for pattern in patterns
    )


def _resource_reason(
    statement: Statement,
    action: str,
    resource: str | None,
    context: ContextValues | None,
) -> str | None:
    """None when the resource element applies, else why not."""
    if _resource_applies(statement, resource, context):
        return None
    patterns = statement.resources
    listing = _listing([pattern.text for pattern in patterns])
    if not statement.not_resource:
        if resource is None:
            shown = patterns[0].text if len(patterns) == 1 else listing
            return (
                f"Resource {shown} does not apply: {_action_name(action)} has no resource"
                ' type, only "*" grants it'
            )
        reason = f"Resource {resource} is not matched by {listing}"
        unresolved = [var.written for p in patterns for var in p.unresolved(context)]
        if unresolved:
            reason += f" (policy variable {unresolved[0]} has no value in the request context)"
        return reason
    for pattern in patterns:
        if pattern.matches(resource, context):
            if resource is None:
                return (
                    f'NotResource "*" excludes every resource: {_action_name(action)} has no'
                    ' resource type, and no resource is still covered by "*"'
                )
            return f"Resource {resource} is excluded by NotResource {pattern.text}"
    for pattern in patterns:
        missing = pattern.unresolved(context)
        if missing:
            return (
                f"NotResource {pattern.text} cannot be evaluated: policy variable"
                f" {missing[0].written} has no value in the request context"
            )
    raise AssertionError("unreachable: NotResource did not apply for no reason")


def _statement_reasons(
    statement: Statement, action: str, resource: str | None, context: ContextValues
) -> tuple[str, ...]:
    reason = _action_reason(statement, action)
    if reason is None:
        reason = _resource_reason(statement, action, resource, context)
    if reason is not None:
        return (reason,)
    failures = (
        check_condition(condition, context) for condition in statement.conditions
    )
    return tuple(failure for failure in failures if failure is not None)


def _applies_in_context(
    entry: _Entry, resource: str | None, context: ContextValues
) -> bool:
    """Resource (when it has variables) and conditions; the action is known to match."""
    if entry.context_dependent_resource and not _resource_applies(
        entry.statement, resource, context
    ):
        return False
    for condition in entry.statement.conditions:
        if check_condition(condition, context, explain=False) is not None:
            return False
    return True


# --------------------------------------------------------------------------- policy sets


@dataclass(frozen=True)
class _Entry:
    ref: StatementRef
    statement: Statement
    context_dependent_resource: bool


@dataclass(frozen=True)
class _Kind:
    kind: PolicyKind
    entries: tuple[_Entry, ...]


@dataclass(frozen=True)
class _KindPlan:
    static_allow: bool
    """An Allow statement applies whatever the context."""
    denies: tuple[_Entry, ...]
    """Deny statements matching action and (static) resource that need the context."""
    allows: tuple[_Entry, ...]
    """Allow statements matching action and (static) resource that need the context."""


def _entries(kind: PolicyKind, policies: Sequence[NamedPolicy]) -> _Kind:
    entries: list[_Entry] = []
    for named in policies:
        for statement in named.policy.statements:
            ref = StatementRef(
                kind,
                named.name,
                statement.index,
                statement.sid,
                statement.effect,
                statement.path,
            )
            dependent = any(pattern.variables for pattern in statement.resources)
            entries.append(_Entry(ref, statement, dependent))
    return _Kind(kind, tuple(entries))


def _resource_free(entry: _Entry) -> bool:
    """Whether the resource element treats every request alike until the context is known.

    True for ``Resource: "*"`` and for patterns with variables (checked in context).
    """
    statement = entry.statement
    return entry.context_dependent_resource or (
        not statement.not_resource
        and any(pattern.matches_everything for pattern in statement.resources)
    )


def _classify(
    candidates: tuple[tuple[_Entry, ...], ...], resource: str | None
) -> Decision | tuple[_KindPlan, ...]:
    """The context-independent decision, or what to check against the context.

    ``candidates`` holds, per kind, the statements whose Action/NotAction covers the action.
    """
    static_deny = False
    needs_context = False
    per_kind: list[tuple[bool, list[_Entry], list[_Entry]]] = []
    for entries in candidates:
        static_allow = False
        denies: list[_Entry] = []
        allows: list[_Entry] = []
        for entry in entries:
            statement = entry.statement
            dynamic = entry.context_dependent_resource
            if not dynamic and not _resource_applies(statement, resource, None):
                continue
            is_deny = statement.effect is Effect.DENY
            if dynamic or statement.conditions:
                (denies if is_deny else allows).append(entry)
            elif is_deny:
                static_deny = True
            else:
                static_allow = True
        if denies or (allows and not static_allow):
            needs_context = True
        per_kind.append((static_allow, denies, allows))
    if static_deny:
        return Decision.EXPLICIT_DENY
    if not needs_context:
        if all(static_allow for static_allow, _, _ in per_kind):
            return Decision.ALLOWED
        return Decision.IMPLICIT_DENY
    return tuple(
        _KindPlan(static_allow, tuple(denies), tuple(allows))
        for static_allow, denies, allows in per_kind
    )


_CACHE_LIMIT = 100_000


class PolicySet:
    """Identity-based policies, with an optional permissions boundary and SCPs, ready to
    evaluate many requests. Policies are compiled when parsed; this class adds a per
    (action, resource) cache of the statements that can matter."""

    def __init__(
        self,
        identity: Sequence[NamedPolicy],
        *,
        boundary: NamedPolicy | None = None,
        scps: Sequence[NamedPolicy] | None = None,
    ) -> None:
        kinds = [_entries(PolicyKind.IDENTITY, identity)]
        if boundary is not None:
            kinds.append(_entries(PolicyKind.PERMISSIONS_BOUNDARY, [boundary]))
        if scps is not None:
            kinds.append(_entries(PolicyKind.SERVICE_CONTROL_POLICY, scps))
        self._kinds = tuple(kinds)
        self._decisions: dict[str, dict[str | None, Decision]] = {}
        """Context-independent decisions: action -> resource -> decision."""
        self._plans: dict[tuple[str, str | None], tuple[_KindPlan, ...]] = {}
        """Context-dependent (action, resource) pairs: the statements to check."""
        self._by_action: dict[str, tuple[tuple[_Entry, ...], ...]] = {}
        """Action -> per kind, the statements whose Action/NotAction covers it."""
        self._by_action_only: dict[str, Decision] = {}
        """Actions whose decision depends on neither the resource nor the context."""
        self._action_plans: dict[str, tuple[_KindPlan, ...]] = {}
        """Actions whose plan is the same for every resource: what to check in context."""
        self._cached = 0

    # ----------------------------------------------------------------- explained evaluation

    def evaluate(self, request: Request) -> Evaluation:
        """The decision for the request, with every statement's outcome."""
        context = normalize_context(request.context)
        results = [self._evaluate_kind(kind, request, context) for kind in self._kinds]
        if any(result.decision is Decision.EXPLICIT_DENY for result in results):
            decision = Decision.EXPLICIT_DENY
        elif all(result.decision is Decision.ALLOWED for result in results):
            decision = Decision.ALLOWED
        else:
            decision = Decision.IMPLICIT_DENY
        deciding: tuple[StatementRef, ...] = ()
        if decision is not Decision.IMPLICIT_DENY:
            deciding = tuple(
                ref
                for result in results
                if result.decision is decision
                for ref in result.deciding
            )
        by_kind = {result.kind: result for result in results}
        return Evaluation(
            request=request,
            decision=decision,
            deciding=deciding,
            identity=by_kind[PolicyKind.IDENTITY],
            boundary=by_kind.get(PolicyKind.PERMISSIONS_BOUNDARY),
            scp=by_kind.get(PolicyKind.SERVICE_CONTROL_POLICY),
        )

    @staticmethod
    def _evaluate_kind(
        kind: _Kind, request: Request, context: ContextValues
    ) -> KindEvaluation:
        outcomes: list[StatementResult] = []
        denies: list[StatementRef] = []
        allows: list[StatementRef] = []
        for entry in kind.entries:
            reasons = _statement_reasons(
                entry.statement, request.action, request.resource, context
            )
            outcomes.append(StatementResult(entry.ref, not reasons, reasons))
            if not reasons:
                (denies if entry.statement.effect is Effect.DENY else allows).append(
                    entry.ref
                )
        if denies:
            decision, deciding = Decision.EXPLICIT_DENY, tuple(denies)
        elif allows:
            decision, deciding = Decision.ALLOWED, tuple(allows)
        else:
            decision, deciding = Decision.IMPLICIT_DENY, ()
        return KindEvaluation(kind.kind, decision, deciding, tuple(outcomes))

    # ----------------------------------------------------------------- fast decisions

    def decide(
        self,
        action: str,
        resource: str | None = None,
        context: RawContext | None = None,
    ) -> Decision:
        """The decision only (same result as ``evaluate(...).decision``).

        Cached per action when the resource cannot matter, else per (action, resource): when
        no condition or policy variable can matter, the decision is a dictionary lookup;
        otherwise only the statements that can matter are checked against the context.
        """
        decision = self._by_action_only.get(action)
        if decision is not None:
            return decision
        plan = self._action_plans.get(action)
        if plan is not None:
            return self._decide_in_context(plan, resource, normalize_context(context))
        by_resource = self._decisions.get(action)
        if by_resource is not None:
            decision = by_resource.get(resource)
            if decision is not None:
                return decision
        plan = self._plans.get((action, resource))
        if plan is None:
            decision_or_plan = self._plan(action, resource)
            if isinstance(decision_or_plan, Decision):
                return decision_or_plan
            plan = decision_or_plan
        return self._decide_in_context(plan, resource, normalize_context(context))

    def _candidates(self, action: str) -> tuple[tuple[_Entry, ...], ...]:
        """Per kind, the statements whose Action/NotAction covers the action (cached)."""
        candidates = self._by_action.get(action)
        if candidates is None:
            candidates = tuple(
                tuple(
                    entry
                    for entry in kind.entries
                    if entry.statement.matches_action(action)
                )
                for kind in self._kinds
            )
            self._by_action[action] = candidates
            if all(_resource_free(e) for entries in candidates for e in entries):
                decision_or_plan = _classify(candidates, None)  # any resource: same
                if isinstance(decision_or_plan, Decision):
                    self._by_action_only[action] = decision_or_plan
                else:
                    self._action_plans[action] = decision_or_plan
            else:
                effects = [{e.statement.effect for e in ks} for ks in candidates]
                if all(Effect.DENY not in kind for kind in effects) and any(
                    Effect.ALLOW not in kind for kind in effects
                ):
                    # No Deny can apply and some kind has no Allow, whatever the resource.
                    self._by_action_only[action] = Decision.IMPLICIT_DENY
        return candidates

    def _plan(
        self, action: str, resource: str | None
    ) -> Decision | tuple[_KindPlan, ...]:
        """The context-independent decision, or what to check against the context."""
        if self._cached >= _CACHE_LIMIT:
            self._decisions.clear()
            self._plans.clear()
            self._by_action.clear()
            self._by_action_only.clear()
            self._action_plans.clear()
            self._cached = 0
        self._cached += 1
        candidates = self._candidates(action)
        # Found by action from now on, so not cached per resource:
        decision = self._by_action_only.get(action)
        if decision is not None:
            return decision
        plan = self._action_plans.get(action)
        if plan is not None:
            return plan
        decision_or_plan = _classify(candidates, resource)
        if isinstance(decision_or_plan, Decision):
            self._decisions.setdefault(action, {})[resource] = decision_or_plan
        else:
            self._plans[(action, resource)] = decision_or_plan
        return decision_or_plan

    @staticmethod
    def _decide_in_context(
        plan: tuple[_KindPlan, ...], resource: str | None, context: ContextValues
    ) -> Decision:
        for kind_plan in plan:
            for entry in kind_plan.denies:
                if _applies_in_context(entry, resource, context):
                    return Decision.EXPLICIT_DENY
        for kind_plan in plan:
            if kind_plan.static_allow:
                continue
            for entry in kind_plan.allows:
                if _applies_in_context(entry, resource, context):
                    break
            else:
                return Decision.IMPLICIT_DENY
        return Decision.ALLOWED

    # ----------------------------------------------------------------- API calls

    def authorize(
        self,
        action: str,
        resource: str | None,
        context: RawContext | None = None,
        *,
        bearer: bool,
        bearer_action: str,
    ) -> Authorization:
        """Authorize an API call. Bearer-token (API key) calls also need ``bearer_action``
        (e.g. ``aws-external-anthropic:CallWithBearerToken``, which has no resource type).
        """
        raw: RawContext = context or {}
        route = self.evaluate(Request(action, resource, raw))
        if not bearer:
            return Authorization(route.decision, route, None)
        token = self.evaluate(Request(bearer_action, None, raw))
        decisions = (route.decision, token.decision)
        if Decision.EXPLICIT_DENY in decisions:
            decision = Decision.EXPLICIT_DENY
        elif decisions == (Decision.ALLOWED, Decision.ALLOWED):
            decision = Decision.ALLOWED
        else:
            decision = Decision.IMPLICIT_DENY
        return Authorization(decision, route, token)


def evaluate(
    policies: Sequence[NamedPolicy],
    request: Request,
    *,
    boundary: NamedPolicy | None = None,
    scps: Sequence[NamedPolicy] | None = None,
) -> Evaluation:
    """Evaluate a request against identity-based policies (and optional boundary/SCPs)."""
    return PolicySet(policies, boundary=boundary, scps=scps).evaluate(request)


def authorize(
    policies: Sequence[NamedPolicy],
    action: str,
    resource: str | None,
    context: RawContext | None = None,
    *,
    bearer: bool,
    bearer_action: str,
    boundary: NamedPolicy | None = None,
    scps: Sequence[NamedPolicy] | None = None,
) -> Authorization:
    """Authorize an API call; see :meth:`PolicySet.authorize`."""
    return PolicySet(policies, boundary=boundary, scps=scps).authorize(
        action, resource, context, bearer=bearer, bearer_action=bearer_action
    )
