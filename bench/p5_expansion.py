"""P5: expanding every managed-policy pattern, ``expand_action_pattern`` vs policyuniverse.

The patterns are every Action and NotAction string of the spec's managed policies (each
expanded as a pattern; NotAction's complement is not this benchmark's business). Two name
sets:

* headline, each tool as it is used: ours expands over the spec's actions (what ``iamgen
  expand``, lint and the claims do); policyuniverse over its global permission set
  (``expander_minimizer.all_permissions``, 15,000+ names from its 2023 data) with our
  actions added, as peer-tools.md §4 describes. Answers are compared on our names: what
  policyuniverse finds among the spec's actions must be exactly what we find.
* the same name set for both: policyuniverse's set with ours added, given to
  ``expand_action_pattern`` too, answers compared whole.

policyuniverse's per-pattern expander is ``_expand_wildcard_action([pattern])`` (the list form
always expands, also ``?`` without ``*``), what ``expand_policy`` runs on each statement
without its deep copy; it lower-cases, so answers are compared case-folded. A name it does
not know comes back unchanged; the foreign actions the policies name (``sts:...``) are put in
both name sets so that no answer depends on that fallback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from bench.report import REPO_ROOT, BenchResult
from bench.timing import interleaved, per_call

TARGET = 10.0
SPEC_PATH = REPO_ROOT / "spec" / "aws-external-anthropic.yaml"


def managed_patterns() -> tuple[list[str], list[str]]:
    """(every Action/NotAction string of the managed policies, the spec's full action names)."""
    from generator.pipeline import load_model

    model = load_model(SPEC_PATH.read_bytes(), "spec/aws-external-anthropic.yaml")
    patterns: list[str] = []
    for policy in model.spec.managed_policies:
        statements = policy.document["Statement"]
        for statement in statements if isinstance(statements, list) else [statements]:
            for element in ("Action", "NotAction"):
                value = statement.get(element)
                if value is not None:
                    patterns += [value] if isinstance(value, str) else list(value)
    return patterns, list(model.catalog.full_action_names)


def foreign_literals(patterns: Iterable[str], prefix: str) -> list[str]:
    """Actions of other services named literally: both name sets get them."""
    return sorted(
        {
            p
            for p in patterns
            if not p.lower().startswith(prefix.lower() + ":") and not set("*?") & set(p)
        }
    )


def import_policyuniverse() -> tuple[Callable[[list[str]], list[str]], Any]:
    """(its per-pattern expander, the ``all_permissions`` set it expands over)."""
    from policyuniverse import expander_minimizer

    return (
        expander_minimizer._expand_wildcard_action,
        expander_minimizer.all_permissions,
    )


class Setup:
    def __init__(self) -> None:
        from generator.iam.matcher import expand_action_pattern

        self.patterns, self.names = managed_patterns()
        prefix = self.names[0].partition(":")[0]
        self.foreign = foreign_literals(self.patterns, prefix)
        self.ours_names = sorted({*self.names, *self.foreign})
        self.expand = expand_action_pattern
        self.theirs, permissions = import_policyuniverse()
        self.original_size = len(permissions)
        permissions.update(name.lower() for name in self.ours_names)
        # The same set for both: theirs (lower-case, as it keeps names) plus ours.
        self.shared_names = sorted(permissions)
        self.folded_ours = {name.lower() for name in self.ours_names}

    def ours(self, names: Sequence[str]) -> list[set[str]]:
        return [
            {n.lower() for n in self.expand(pattern, names)}
            for pattern in self.patterns
        ]

    def policyuniverse(self) -> list[set[str]]:
        return [set(self.theirs([pattern])) for pattern in self.patterns]

    def disagreements(self) -> list[str]:
        problems = []
        theirs = self.policyuniverse()
        ours_on_spec = self.ours(self.ours_names)
        ours_on_shared = self.ours(self.shared_names)
        for pattern, mine, shared, other in zip(
            self.patterns, ours_on_spec, ours_on_shared, theirs, strict=True
        ):
            if mine != other & self.folded_ours:
                problems.append(f"{pattern} on the spec's names: {mine} vs {other}")
            if shared != other:
                problems.append(
                    f"{pattern} on the shared names: {sorted(shared ^ other)[:5]} differ"
                )
        return problems


def run(rounds: int) -> BenchResult:
    setup = Setup()
    problems = setup.disagreements()
    if problems:
        raise AssertionError("P5: the expanders disagree:\n" + "\n".join(problems[:20]))
    patterns, expand, theirs = setup.patterns, setup.expand, setup.theirs
    spec_names, shared_names = setup.ours_names, setup.shared_names

    def ours_spec() -> None:
        for pattern in patterns:
            expand(pattern, spec_names)

    def ours_shared() -> None:
        for pattern in patterns:
            expand(pattern, shared_names)

    def policyuniverse() -> None:
        for pattern in patterns:
            theirs([pattern])

    timings = interleaved(
        {
            "ours (spec names)": ours_spec,
            "ours (shared names)": ours_shared,
            "policyuniverse": policyuniverse,
        },
        rounds,
    )
    n = len(patterns)
    headline = timings.ratio("policyuniverse", "ours (spec names)")
    same_set = timings.ratio("policyuniverse", "ours (shared names)")
    return BenchResult(
        key="P5",
        title="managed-policy pattern expansion: expand_action_pattern vs policyuniverse",
        target=f"at least {TARGET:.0f}x faster than policyuniverse",
        measured=f"{headline:.1f}x (same name set for both: {same_set:.1f}x)",
        passed=headline >= TARGET,
        tables=[
            [
                [
                    "Expander",
                    "Names searched",
                    "Median per pattern",
                    "Ours is faster by",
                ],
                [
                    "expand_action_pattern",
                    f"{len(spec_names)} (the spec's)",
                    per_call(timings.median("ours (spec names)"), n),
                    f"{headline:.1f}x",
                ],
                [
                    "expand_action_pattern",
                    f"{len(shared_names)} (policyuniverse's + ours)",
                    per_call(timings.median("ours (shared names)"), n),
                    f"{same_set:.1f}x",
                ],
                [
                    "policyuniverse _expand_wildcard_action",
                    f"{len(shared_names)} ({setup.original_size} + ours)",
                    per_call(timings.median("policyuniverse"), n),
                    "",
                ],
            ]
        ],
        notes=[
            f"{n} patterns ({len(set(patterns))} distinct) from "
            "the managed policies' Action/NotAction elements; both sides gave the same "
            f"answers (case-folded) for every pattern before timing. {rounds} rounds.",
            "On the same 15,000-name set both sides test every name, and ours costs about "
            "as much per name (a case fold and a compiled matcher, in Python) as "
            "policyuniverse's `fnmatch.filter`. IAM service prefixes are literal (no "
            "wildcards), so an index of names by prefix would make that case as fast as the "
            "spec's own; the project never expands over other services' names, so it has "
            "none.",
        ],
    )
