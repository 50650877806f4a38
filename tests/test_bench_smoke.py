"""The benchmarks' setups work and their sides agree, on small samples (no timing here).

``make bench`` times the sides; these tests only pin that each comparison is between sides
that give the same answers, so a ratio never compares a right answer with a wrong one. They
also pin that what was made faster for the benchmarks still answers as before.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from conftest import REPO_ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

if (
    str(REPO_ROOT) not in sys.path
):  # bench/ is a folder of the repository, not installed
    sys.path.insert(0, str(REPO_ROOT))

from bench import (  # noqa: E402
    p1_routing,
    p2_check,
    p3_generation,
    p4_simulation,
    p5_expansion,
)
from generator.iam import PolicySet, Request, evaluate  # noqa: E402
from generator.iam.matcher import (  # noqa: E402
    GlobMode,
    _regex_source,
    compile_resource_pattern,
)


def test_p1_routers_give_the_same_action_for_every_request() -> None:
    setup = p1_routing.Setup(size=400)
    assert p1_routing.disagreements(setup.requests, setup.answers()) == []
    hits = setup.hits()
    assert 0 < hits < len(setup.requests)  # both hits and misses
    kinds = {path.endswith("/") for _, path in setup.requests}
    assert kinds == {True, False}  # trailing slashes are part of the mix


def test_p1_literal_first_order_matches_the_generated_resolver() -> None:
    assert p1_routing._literal_first("/v1/work/poll") < p1_routing._literal_first(
        "/v1/work/{work_id}"
    )


def test_p2_sides_run() -> None:
    _wall, _cpu, code = p2_check.run_process(p2_check.IMPORTS)
    assert code == 0
    cached = p2_check.run_process(p2_check.CHECK)[2]
    full, output = p2_check.check_exit_code()
    assert cached == full, output  # cached and full check agree on the real repository
    assert full in (0, 1), output


def test_p3_synthetic_spec_is_valid_and_scales_the_actions() -> None:
    raw = p3_generation.synthetic_spec(2)
    assert p3_generation.count_actions(raw) == 2 * p3_generation.count_actions(
        p3_generation.synthetic_spec(1)
    )
    outputs = p3_generation.generate_in_process(
        raw
    )  # validates, checks claims, renders
    real = p3_generation.generate_in_process(p3_generation.SPEC_PATH.read_bytes())
    assert outputs.keys() == real.keys()
    package = outputs["python/aws_external_anthropic_iam/__init__.py"]
    assert "GetFileC2 = " in package
    assert '"/c2/v1/files/{file_id}"' in package


def test_p4_evaluators_agree_on_a_stream_without_repeats() -> None:
    setup = p4_simulation.Setup()
    stream = p4_simulation.request_stream(setup.actions, 150, seed=7)
    triples = {(a, r, repr(sorted(c.items()))) for a, r, c in stream}
    assert len(triples) == len(stream)
    assert setup.disagreements(stream) == []
    assert set(setup.ours(stream)) == {"allowed", "explicitDeny", "implicitDeny"}


def test_p4_fast_decisions_agree_with_explained_evaluation() -> None:
    """decide() (per-action shortcuts, plan caches) against evaluate() on P4's policies."""
    setup = p4_simulation.Setup()
    stream = p4_simulation.request_stream(setup.actions, 120, seed=11)
    sets = setup.fresh_sets()
    for action, resource, context in stream + stream:  # cold, then cached
        for named, policy_set in zip(setup.named, sets, strict=True):
            expected = evaluate([named], Request(action, resource, context)).decision
            assert policy_set.decide(action, resource, context) is expected, named.name


def test_p5_expanders_agree() -> None:
    setup = p5_expansion.Setup()
    assert setup.disagreements() == []
    assert any("*" in pattern for pattern in setup.patterns)


# Resource patterns with policy variables are matched with one precompiled regex (values as
# backreferences) instead of a regex compiled per value: same answers as the compiled one.

_VALUE = st.text(alphabet="ab/:*?$.+()[]\\^x\x00", max_size=6)
_LITERAL = st.text(alphabet="ab/:.+()[]x", max_size=6)


@st.composite
def _patterns(draw: st.DrawFn) -> tuple[str, list[str]]:
    parts: list[str] = ["arn:aws:svc:"]
    keys: list[str] = []
    for _ in range(draw(st.integers(min_value=1, max_value=5))):
        kind = draw(st.sampled_from(["literal", "star", "question", "variable"]))
        if kind == "literal":
            parts.append(draw(_LITERAL))
        elif kind == "star":
            parts.append("*")
        elif kind == "question":
            parts.append("?")
        else:
            key = draw(st.sampled_from(["k1", "k2", "K1"]))
            keys.append(key)
            parts.append("${" + key + "}")
    return "".join(parts), keys


@settings(max_examples=400, deadline=None)
@given(
    pattern=_patterns(),
    values=st.dictionaries(st.sampled_from(["k1", "k2"]), _VALUE),
    tail=_VALUE,
    use_values=st.booleans(),
)
def test_resource_variables_match_as_if_compiled_per_value(
    pattern: tuple[str, list[str]], values: dict[str, str], tail: str, use_values: bool
) -> None:
    text, _keys = pattern
    compiled = compile_resource_pattern(text)
    context = {key: (value,) for key, value in values.items()}
    # A resource built from the values, so that matches happen, or an unrelated one.
    resource = (
        re.sub(
            r"\$\{(\w+)\}", lambda m: values.get(m.group(1).lower(), "?"), text
        ).replace("*", tail)
        if use_values
        else "arn:aws:svc:" + tail
    )
    source = _regex_source(compiled._tokens, GlobMode.RESOURCE, context)
    expected = (
        source is not None and re.fullmatch(source, resource, re.DOTALL) is not None
    )
    assert compiled.matches(resource, context) is expected


def test_resource_variable_values_are_literal_text() -> None:
    pattern = compile_resource_pattern("arn:aws:svc:*:*:workspace/${aws:username}")
    resource = "arn:aws:svc:us:1:workspace/a.b"
    assert pattern.matches(resource, {"aws:username": ("a.b",)})
    assert not pattern.matches(resource, {"aws:username": ("a?b",)})
    assert not pattern.matches(resource, {"aws:username": ("a*",)})
    assert not pattern.matches(resource, {})
    assert not pattern.matches(resource, {"aws:username": ("a.b", "c")})


def test_per_action_shortcuts_follow_the_statements() -> None:
    """Action-only decisions never hide a resource- or context-dependent statement."""
    svc = "aws-external-anthropic"
    workspace = f"arn:aws:{svc}:us-west-2:1:workspace/w1"
    documents: list[dict[str, Any]] = [
        {"Effect": "Allow", "Action": f"{svc}:Get*", "Resource": "*"},
        {
            "Effect": "Deny",
            "Action": f"{svc}:GetFile",
            "Resource": f"arn:aws:{svc}:*:*:workspace/w1",
        },
        {
            "Effect": "Deny",
            "Action": f"{svc}:GetSkill",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/team": "red"}},
        },
    ]
    from generator.iam import NamedPolicy, parse_policy

    named = NamedPolicy(
        "p", parse_policy({"Version": "2012-10-17", "Statement": documents})
    )
    policy_set = PolicySet([named])
    other = workspace.replace("w1", "w2")
    assert policy_set.decide(f"{svc}:GetModel", workspace) == "allowed"
    assert policy_set.decide(f"{svc}:GetFile", workspace) == "explicitDeny"
    assert policy_set.decide(f"{svc}:GetFile", other) == "allowed"
    red = {"aws:PrincipalTag/team": "red"}
    assert policy_set.decide(f"{svc}:GetSkill", workspace, red) == "explicitDeny"
    assert policy_set.decide(f"{svc}:GetSkill", other, {}) == "allowed"
    assert policy_set.decide(f"{svc}:ListFiles", workspace) == "implicitDeny"
