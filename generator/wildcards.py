"""What an action pattern really matches in this service, and where that surprises.

Used by the reference page's wildcard warnings and by ``iamgen lint`` / ``expand``, so both
say the same thing. IAM matches action names case-insensitively with ``*`` and ``?`` as the
only wildcards (IAM User Guide, "IAM JSON policy elements: Action").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from generator.catalog import Catalog
from generator.iam.matcher import (
    ActionPattern,
    expand_action_pattern,
    parse_action_pattern,
)
from generator.model import KNOWN_VERBS, split_action_name


def resource_family(name: str) -> str:
    """The resource an action is about, singular: ListFiles -> File, ListKeys -> Key."""
    verb, noun = split_action_name(name)
    if verb == "List":
        if noun.endswith("ies"):
            return noun[:-3] + "y"
        if noun.endswith("s") and not noun.endswith("ss"):
            return noun[:-1]
    return noun


@dataclass(frozen=True)
class PatternAnalysis:
    pattern: ActionPattern
    matches: tuple[str, ...]
    """Short action names matched, in spec order."""
    families: tuple[str, ...]
    """Resource families of the matches, in first-seen order."""
    intended_families: tuple[str, ...]
    """Families the pattern's literal text names (empty for verb wildcards like ``Get*``)."""
    over_matched: tuple[str, ...]
    """Matched actions of a family the pattern does not name: ``*File`` -> CreateUserProfile."""
    is_verb_wildcard: bool
    """``Get*``, ``List*``: a whole verb, which widens whenever an action is added."""
    unscoped: tuple[str, ...]
    """Matched actions with no resource type: a statement on workspace ARNs never grants them."""


def analyze_pattern(catalog: Catalog, text: str) -> PatternAnalysis:
    """Expand ``text`` over the spec's actions and classify what it catches."""
    pattern = parse_action_pattern(text)
    full = expand_action_pattern(pattern, catalog.full_action_names)
    matched_set = {name.split(":", 1)[1] for name in full}
    matches = tuple(a.name for a in catalog.actions if a.name in matched_set)
    families: list[str] = []
    for name in matches:
        family = resource_family(name)
        if family not in families:
            families.append(family)

    literal = re.sub(r"[*?]", "", pattern.name)
    verb_prefix = next(
        (v for v in KNOWN_VERBS if pattern.name.startswith(v.lower() + "*")), None
    )
    is_verb_wildcard = (
        pattern.prefix is None
        or pattern.name == "*"
        or (verb_prefix is not None and pattern.name == verb_prefix.lower() + "*")
    )
    noun_literal = literal
    for verb in KNOWN_VERBS:
        if noun_literal.startswith(verb.lower()) and len(noun_literal) > len(verb):
            noun_literal = noun_literal[len(verb) :]
            break
    intended = tuple(
        f for f in families if not is_verb_wildcard and f.lower() == noun_literal
    )
    over_matched: tuple[str, ...] = ()
    if not is_verb_wildcard and len(families) > 1:
        keep = set(intended) if intended else {families[0]}
        over_matched = tuple(n for n in matches if resource_family(n) not in keep)
    unscoped = tuple(
        n
        for n in matches
        if catalog.action_by_name[n].scope in ("account", "route-less")
    )
    return PatternAnalysis(
        pattern=pattern,
        matches=matches,
        families=tuple(families),
        intended_families=intended,
        over_matched=over_matched,
        is_verb_wildcard=is_verb_wildcard,
        unscoped=unscoped,
    )
