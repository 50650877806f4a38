"""IAM semantics engine: match, parse, validate and evaluate identity-based policies.

Independent of the service spec: it works on plain JSON-like policy documents.

* :mod:`.matcher` - action and resource pattern matching (one matcher used everywhere).
* :mod:`.policy` - parse/validate a policy document into frozen, compiled dataclasses.
* :mod:`.conditions` - condition operators and request-context handling.
* :mod:`.evaluate` - decisions (allowed / explicitDeny / implicitDeny) with explanations.
"""

from .conditions import OPERATOR_NAMES, Condition, ConditionOperator, normalize_context
from .evaluate import (
    Authorization,
    Decision,
    Evaluation,
    KindEvaluation,
    PolicyKind,
    PolicySet,
    Request,
    StatementRef,
    StatementResult,
    authorize,
    evaluate,
)
from .matcher import (
    ActionPattern,
    PatternError,
    ResourcePattern,
    action_matches,
    compile_resource_pattern,
    expand_action_pattern,
    parse_action_pattern,
    resource_matches,
)
from .policy import (
    SUPPORTED_VERSIONS,
    Effect,
    NamedPolicy,
    Policy,
    PolicyError,
    PolicyParseError,
    Statement,
    parse_policy,
    validate_policy,
)

__all__ = [
    "OPERATOR_NAMES",
    "SUPPORTED_VERSIONS",
    "ActionPattern",
    "Authorization",
    "Condition",
    "ConditionOperator",
    "Decision",
    "Effect",
    "Evaluation",
    "KindEvaluation",
    "NamedPolicy",
    "PatternError",
    "Policy",
    "PolicyError",
    "PolicyKind",
    "PolicyParseError",
    "PolicySet",
    "Request",
    "ResourcePattern",
    "Statement",
    "StatementRef",
    "StatementResult",
    "action_matches",
    "authorize",
    "compile_resource_pattern",
    "evaluate",
    "expand_action_pattern",
    "normalize_context",
    "parse_action_pattern",
    "parse_policy",
    "resource_matches",
    "validate_policy",
]
