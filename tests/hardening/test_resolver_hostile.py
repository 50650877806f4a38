"""Hostile request paths: the generated ``resolve`` and ``iamgen explain`` fail closed.

The rule (README, "The resolver fails closed"): nothing is normalized, so anything that is not
exactly a listed route resolves to None: wrong or lower-case methods, trailing ``/``, ``//``,
dot segments (also percent-encoded: ``%2e``, ``%2E%2e``), upper-case paths, raw control
characters and non-ASCII, absolute URLs. Percent-escapes stay opaque inside a parameter (an
external key id is a URL-encoded KMS key ARN, ``%3A`` and ``%2F`` included), except that a
parameter value which decodes (RFC 3986 section 2.3, unreserved characters) to a literal
sibling of the same position is refused: ``work/%70oll`` is ``work/poll`` to a gateway that
normalizes, and resolving it as ``work/{work_id}`` would authorize GetEnvironment for a call
that polls work (ProcessEnvironmentWork). A query string is ignored.

The hypothesis tests compare the generated resolver with an independent oracle written here
from the route table alone (``ROUTES``), not from the resolver's trie.
"""

from __future__ import annotations

import json
import string
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from conftest import (
    MINIMAL_SPEC,
    REAL_SPEC,
    REPO_ROOT,
    iamgen_env,
    import_generated_package,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from generator import cli, pipeline
from generator.routing import RouteResolver

GENERATED = import_generated_package(
    REPO_ROOT / "generated/python/aws_external_anthropic_iam", "hardening_generated_iam"
)
resolve: Callable[[str, str], Any] = GENERATED.resolve
resolve_route: Callable[[str, str], Any] = GENERATED.resolve_route
ROUTES = GENERATED.ROUTES

KMS_KEY = "arn%3Aaws%3Akms%3Aus-west-2%3A123456789012%3Akey%2Fabcd"
KEY_PATH = f"/v1/organizations/external_keys/{KMS_KEY}"
TEN_KB = 10 * 1024

# (method, path, expected action name or None)
CASES: list[tuple[str, str, str | None]] = [
    # --- the plain routes, as a baseline
    ("GET", "/v1/files", "ListFiles"),
    ("GET", "/v1/files/file_01", "GetFile"),
    ("GET", "/v1/files/file_01/content", "GetFile"),
    ("GET", "/v1/files/FILE_01/content", "GetFile"),  # ids keep their case
    ("POST", "/v1/messages/batches/msgbatch_1/cancel", "CancelBatchInference"),
    ("GET", "/v1/messages/batches/msgbatch_1/results", "GetBatchInference"),
    # --- methods: exact and case-sensitive
    ("get", "/v1/files/file_01", None),
    ("Get", "/v1/files/file_01", None),
    ("GET ", "/v1/files/file_01", None),
    (" GET", "/v1/files/file_01", None),
    ("HEAD", "/v1/files", None),
    ("OPTIONS", "/v1/files", None),
    ("PUT", "/v1/files/file_01", None),
    ("", "/v1/files", None),
    ("G\u0415T", "/v1/files", None),  # Cyrillic capital IE
    ("GET /v1/files/file_01/content?", "x", None),
    # --- case of the path's literals
    ("GET", "/V1/files/file_01", None),
    ("GET", "/v1/FILES/file_01", None),
    ("GET", "/v1/files/file_01/CONTENT", None),
    # --- slashes: trailing, doubled, empty parameter values
    ("GET", "/v1/files/", None),
    ("GET", "/v1/files/file_01/", None),
    ("GET", "/v1/files/file_01/content/", None),
    ("GET", "/v1/files//content", None),
    ("GET", "//v1/files", None),
    ("GET", "/v1//files", None),
    ("GET", "/", None),
    ("GET", "", None),
    # --- dot segments, raw and percent-encoded
    ("GET", "/v1/files/./content", None),
    ("GET", "/v1/files/../content", None),
    ("GET", "/v1/files/%2e/content", None),
    ("GET", "/v1/files/%2E/content", None),
    ("GET", "/v1/files/%2E%2e/content", None),
    ("GET", "/v1/files/.%2E/content", None),
    ("GET", "/v1/files/%2e./content", None),
    ("GET", "/v1/./files", None),
    ("GET", "/./v1/files", None),
    ("GET", "/v1/models/../files", None),
    ("GET", "/v1/files/x/../../models", None),
    (
        "GET",
        "/v1/files/%2e%2E%2e/content",
        "GetFile",
    ),  # "..." is a name, not a dot segment
    ("GET", "/v1/files/..x/content", "GetFile"),
    # --- percent-encoding stays opaque inside a parameter
    ("GET", KEY_PATH, "GetKey"),
    ("POST", KEY_PATH, "UpdateKey"),
    ("DELETE", KEY_PATH, "DisableKey"),
    ("GET", KEY_PATH.lower(), "GetKey"),
    ("GET", "/v1/files/a%2Fb/content", "GetFile"),
    ("GET", "/v1/files/a%2f..%2fb", "GetFile"),
    ("GET", "/v1/files/fil%C3%A9/content", "GetFile"),
    ("GET", "/v1/files/file%00/content", "GetFile"),
    ("GET", "/v1/files/a%20b", "GetFile"),
    ("GET", "/v1/organizations/external_keys/arn:aws:kms:us-west-2:1:key/abcd", None),
    ("GET", "/v1/files/%zz/content", None),
    ("GET", "/v1/files/%2/content", None),
    ("GET", "/v1/files/%/content", None),
    ("GET", "/v1/messages/%62atches", None),  # an encoded literal is not the literal
    # --- a parameter that percent-encodes a literal sibling is refused
    ("GET", "/v1/environments/env_1/work/poll", "ProcessEnvironmentWork"),
    ("GET", "/v1/environments/env_1/work/%70oll", None),
    ("GET", "/v1/environments/env_1/work/%70%6F%6C%6C", None),
    ("GET", "/v1/environments/env_1/work/%73tats", None),
    ("GET", "/v1/environments/env_1/work/stats", "GetEnvironment"),
    ("GET", "/v1/environments/env_1/work/work_9", "GetEnvironment"),
    ("GET", "/v1/environments/env_1/work/work%5F9", "GetEnvironment"),
    (
        "GET",
        "/v1/environments/env_1/work/%50oll",
        "GetEnvironment",
    ),  # "Poll" is no literal
    ("POST", "/v1/environments/env_1/work/poll", "ProcessEnvironmentWork"),
    # --- NUL, control characters, white space, non-ASCII (raw)
    ("GET", "/v1/files/file\x00/content", None),
    ("GET", "/v1/files/file\x01", None),
    ("GET", "/v1/files/file\x7f", None),
    ("GET", "/v1/files/file\t", None),
    ("GET", "/v1/files/file_01\n", None),
    ("GET", "/v1/files/file_01/content\r\n", None),
    ("GET", "/v1/files/file_01/content ", None),
    ("GET", " /v1/files/file_01/content", None),
    ("GET", "/v1/files/a b", None),
    ("GET", "/v1/files/fil\u00e9/content", None),
    ("GET", "/v1/\uff46iles/file_01", None),  # fullwidth f
    ("GET", "/v1/files/x\u202e", None),
    ("GET", "/v1/files/file_01\\content", None),
    # --- not origin-form
    ("GET", "http://localhost/v1/files", None),
    ("GET", "https://aws-external-anthropic.us-west-2.api.aws/v1/files", None),
    ("GET", "//aws-external-anthropic.us-west-2.api.aws/v1/files", None),
    ("GET", "v1/files", None),
    ("GET", "*", None),
    # --- query strings are ignored; fragments and matrix parameters are not special
    ("GET", "/v1/files?limit=1", "ListFiles"),
    ("GET", "/v1/files/file_01/content?x=/../y", "GetFile"),
    ("GET", "/v1/files/?x", None),
    ("GET", "?/v1/files", None),
    ("GET", "/v1/files#top", None),
    ("GET", "/v1/files;v=1", None),
    ("GET", "/v1/files/x;y/content", "GetFile"),
    # --- 10 kB paths
    ("GET", "/v1/files/" + "a" * TEN_KB + "/content", "GetFile"),
    ("GET", "/v1/" + "x/" * (TEN_KB // 2), None),
    ("GET", "/" * TEN_KB, None),
    ("GET", "/v1/files/x" + "/.." * (TEN_KB // 3), None),
    ("GET", "/v1/files/" + "%2e" * (TEN_KB // 3), "GetFile"),
]


def _id(case: tuple[str, str, str | None]) -> str:
    method, path, _ = case
    text = f"{method} {path}"
    return (
        (text[:60] + f"...({len(text)})" if len(text) > 70 else text)
        .encode("unicode_escape")
        .decode("ascii")
    )


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 40
    assert len({(m, p) for m, p, _ in CASES}) == len(CASES), "duplicate cases"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_generated_resolve_on_hostile_paths(case: tuple[str, str, str | None]) -> None:
    method, path, expected = case
    action = resolve(method, path)
    assert (None if action is None else action.name) == expected


def test_model_resolver_agrees_with_the_generated_one(
    real_model: pipeline.LoadedModel,
) -> None:
    resolver = RouteResolver(real_model.catalog.routes)
    for method, path, expected in CASES:
        route = resolver.resolve(method, path)
        assert (None if route is None else route.action) == expected, (method, path)


def test_oracle_agrees_with_the_table() -> None:
    for method, path, expected in CASES:
        assert oracle(method, path) == expected, (method, path)


def test_hostile_paths_resolve_fast() -> None:
    import time

    started = time.perf_counter()
    for _ in range(20):
        for method, path, _expected in CASES:
            resolve(method, path)
    per_call = (time.perf_counter() - started) / (20 * len(CASES))
    assert per_call < 1e-3, f"{per_call * 1e6:.0f} µs per call"
    deep = "/v1/files/x" + "/a" * 100_000  # far deeper than the route tree
    assert resolve("GET", deep) is None


# ---------------------------------------------------------------------------- explain


@pytest.fixture
def explain(
    real_model: pipeline.LoadedModel,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[[str, str], tuple[int, dict[str, Any], str]]:
    """``iamgen explain METHOD PATH --json`` in process, the real spec loaded once."""
    monkeypatch.setattr(pipeline, "load_model", lambda raw, path: real_model)

    def run(method: str, path: str) -> tuple[int, dict[str, Any], str]:
        code = cli.main(["explain", "--spec", str(REAL_SPEC), method, path, "--json"])
        captured = capsys.readouterr()
        return code, json.loads(captured.out), captured.err

    return run


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_explain_on_hostile_paths_never_names_an_unlisted_route(
    explain: Callable[[str, str], tuple[int, dict[str, Any], str]],
    case: tuple[str, str, str | None],
) -> None:
    method, path, expected = case
    code, data, err = explain(method, path)
    assert err == ""
    if expected is None:
        assert code == 1
        assert data["available"] is False
        assert "action" not in data
        assert "not in the route table" in data["reason"]
    else:
        assert code == 0
        assert data["available"] is True
        assert data["action"] == f"aws-external-anthropic:{expected}"


SUBPROCESS_CASES = [
    ("GET", "/v1/files/file_01/content ", 1),
    ("get", "/v1/files/file_01/content", 1),
    ("GET", "/v1/files/fil\u00e9/content", 1),
    ("GET", "/v1/environments/env_1/work/%70oll", 1),
    ("GET", "/v1/files/" + "a" * TEN_KB + "/content", 0),
    ("GET", "/v1/files/%2E%2e/content", 1),
]


def test_explain_in_a_subprocess_exits_0_or_1_without_a_traceback() -> None:
    # The minimal spec has the same kinds of routes and loads in a fraction of the time.
    processes = [
        (
            case,
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "generator",
                    "explain",
                    "--spec",
                    str(MINIMAL_SPEC),
                ]
                + [case[0], case[1], "--json"],
                cwd=REPO_ROOT,
                env=iamgen_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
        for case in SUBPROCESS_CASES
    ]
    for (method, path, expected_code), process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == expected_code, (method, path[:80], err)
        assert "Traceback" not in err and err == ""
        assert json.loads(out)["available"] is (expected_code == 0)


# ---------------------------------------------------------------------------- oracle

UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
PCHAR = UNRESERVED | frozenset("!$&'()*+,;=:@")
HEX = frozenset(string.hexdigits)
DOT_SEGMENTS = (".", "..")


def _is_parameter_value(segment: str) -> bool:
    """Non-empty; each character a pchar or part of a complete %XX escape (RFC 3986)."""
    if not segment:
        return False
    index = 0
    while index < len(segment):
        if segment[index] == "%":
            if not (
                index + 2 < len(segment)
                and segment[index + 1] in HEX
                and segment[index + 2] in HEX
            ):
                return False
            index += 3
        elif segment[index] in PCHAR:
            index += 1
        else:
            return False
    return True


def _decode_unreserved(segment: str) -> str:
    out = []
    index = 0
    while index < len(segment):
        chunk = segment[index : index + 3]
        if len(chunk) == 3 and chunk[0] == "%" and set(chunk[1:]) <= HEX:
            char = chr(int(chunk[1:], 16))
            out.append(char if char in UNRESERVED else chunk)
            index += 3
        else:
            out.append(segment[index])
            index += 1
    return "".join(out)


def _shape(segments: list[str]) -> tuple[str, ...]:
    return tuple("{}" if s.startswith("{") else s for s in segments)


TEMPLATES = [(route, route.path[1:].split("/")) for route in ROUTES]


def _literal_siblings(template: list[str], index: int) -> set[str]:
    """Literals that sit at ``index`` in any route whose earlier segments have this shape."""
    prefix = _shape(template[:index])
    return {
        other[index]
        for _route, other in TEMPLATES
        if len(other) > index
        and not other[index].startswith("{")
        and _shape(other[:index]) == prefix
    }


def oracle(method: str, path: str) -> str | None:
    """The action of the route ``method path`` matches, from the route table alone.

    Of all routes with the method whose segments match (literals exactly; parameters: a
    pchar value that is no dot segment and no percent-encoded literal sibling), the one
    with a literal at the first position where they differ wins.
    """
    path = path.split("?", 1)[0]
    if not path.startswith("/"):
        return None
    segments = path[1:].split("/")
    best: tuple[list[int], Any] | None = None
    for route, template in TEMPLATES:
        if route.method != method or len(template) != len(segments):
            continue
        kinds: list[int] = []
        for index, (part, segment) in enumerate(zip(template, segments, strict=True)):
            if not part.startswith("{"):
                if part != segment:
                    break
                kinds.append(0)
                continue
            decoded = _decode_unreserved(segment)
            if (
                not _is_parameter_value(segment)
                or decoded in DOT_SEGMENTS
                or ("%" in segment and decoded in _literal_siblings(template, index))
            ):
                break
            kinds.append(1)
        else:
            if best is None or kinds < best[0]:
                best = (kinds, route)
    return None if best is None else best[1].action.name


# ---------------------------------------------------------------------------- properties

_ESCAPE = st.builds(
    lambda byte, upper: f"%{byte:02X}" if upper else f"%{byte:02x}",
    st.integers(0, 255),
    st.booleans(),
)
IDS = st.lists(
    st.one_of(st.sampled_from(sorted(PCHAR)), _ESCAPE), min_size=1, max_size=20
).map("".join)


def _fill(template: list[str], draw_id: Callable[[], str]) -> list[str]:
    return [draw_id() if part.startswith("{") else part for part in template]


def _valid_id_at(template: list[str], index: int, value: str) -> bool:
    siblings = _literal_siblings(template, index)
    decoded = _decode_unreserved(value)
    return (
        decoded not in DOT_SEGMENTS
        and value not in siblings
        and decoded not in siblings
    )


PROPERTY_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@PROPERTY_SETTINGS
@given(data=st.data(), route_index=st.integers(0, len(TEMPLATES) - 1))
def test_every_template_filled_with_valid_ids_resolves_to_its_route(
    data: st.DataObject, route_index: int
) -> None:
    route, template = TEMPLATES[route_index]
    segments = _fill(template, lambda: data.draw(IDS))
    for index, part in enumerate(template):
        if part.startswith("{"):
            assume(_valid_id_at(template, index, segments[index]))
    path = "/" + "/".join(segments)
    assert resolve_route(route.method, path) == route
    assert resolve(route.method, path) is route.action
    assert resolve(route.method, path + "?q=/../x") is route.action
    assert oracle(route.method, path) == route.action.name


def _mutations(rng: st.DataObject, method: str, path: str) -> tuple[str, str]:
    kind = rng.draw(
        st.sampled_from(
            [
                "insert-slash",
                "drop-segment",
                "literal-case",
                "append-slash",
                "add-dotdot",
                "replace-with-dot",
                "encode-char",
                "double-slash",
                "method-case",
                "other-method",
            ]
        ),
        label="mutation",
    )
    segments = path[1:].split("/")
    if kind == "insert-slash":
        at = rng.draw(st.integers(0, len(path)), label="at")
        return method, path[:at] + "/" + path[at:]
    if kind == "drop-segment":
        at = rng.draw(st.integers(0, len(segments) - 1), label="at")
        return method, "/" + "/".join(segments[:at] + segments[at + 1 :])
    if kind == "literal-case":
        at = rng.draw(st.integers(0, len(segments) - 1), label="at")
        change = rng.draw(st.sampled_from([str.upper, str.title, str.swapcase]))
        segments[at] = change(segments[at])
        return method, "/" + "/".join(segments)
    if kind == "append-slash":
        return method, path + "/"
    if kind == "add-dotdot":
        at = rng.draw(st.integers(0, len(segments)), label="at")
        dots = rng.draw(st.sampled_from(["..", "%2e%2e", "%2E.", "."]))
        return method, "/" + "/".join(segments[:at] + [dots] + segments[at:])
    if kind == "replace-with-dot":
        at = rng.draw(st.integers(0, len(segments) - 1), label="at")
        segments[at] = rng.draw(st.sampled_from(["..", ".", "%2e", "%2E%2E"]))
        return method, "/" + "/".join(segments)
    if kind == "encode-char":
        at = rng.draw(st.integers(0, len(segments) - 1), label="at")
        segment = segments[at]
        if segment:
            pos = rng.draw(st.integers(0, len(segment) - 1), label="pos")
            upper = rng.draw(st.booleans())
            escape = (
                f"%{ord(segment[pos]):02X}" if upper else f"%{ord(segment[pos]):02x}"
            )
            segments[at] = segment[:pos] + escape + segment[pos + 1 :]
        return method, "/" + "/".join(segments)
    if kind == "double-slash":
        at = rng.draw(st.integers(0, len(segments)), label="at")
        return method, "/" + "/".join(segments[:at] + [""] + segments[at:])
    if kind == "method-case":
        return method.lower(), path
    return rng.draw(st.sampled_from(["GET", "POST", "DELETE", "PUT", "PATCH"])), path


@PROPERTY_SETTINGS
@given(data=st.data(), route_index=st.integers(0, len(TEMPLATES) - 1))
def test_mutations_resolve_to_nothing_or_to_the_route_they_really_match(
    data: st.DataObject, route_index: int
) -> None:
    route, template = TEMPLATES[route_index]
    ids = st.one_of(st.sampled_from(["poll", "stats", "file_01", "%70oll", "x"]), IDS)
    segments = _fill(template, lambda: data.draw(ids))
    method, path = route.method, "/" + "/".join(segments)
    for _ in range(data.draw(st.integers(1, 2), label="mutations")):
        method, path = _mutations(data, method, path)
    expected = oracle(method, path)
    action = resolve(method, path)
    assert (None if action is None else action.name) == expected, (method, path)


def test_every_literal_sibling_pair_is_known() -> None:
    # The one place a literal and a parameter share a position; if the route table grows
    # another, the table above should gain its disguised-literal cases too.
    shared = {
        (_shape(template[:index]), part)
        for _route, template in TEMPLATES
        for index, part in enumerate(template)
        if not part.startswith("{")
        and any(
            len(other) > index
            and other[index].startswith("{")
            and _shape(other[:index]) == _shape(template[:index])
            for _r, other in TEMPLATES
        )
    }
    assert {literal for _prefix, literal in shared} == {"poll", "stats"}
