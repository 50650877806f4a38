"""The generated Python package: imported, resolved against, type-checked and linted.

Every test runs on the package generated from the fixture spec and from the real spec.
"""

from __future__ import annotations

import ast
import itertools
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import (
    PACKAGE_DIR,
    REAL_SPEC,
    Build,
    import_generated_package,
    loaded_model,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.catalog import Catalog
from generator.model import Route
from generator.routing import RouteResolver

PREFIX = "aws-external-anthropic"
PYTHON_39 = Path("/root/.pyenv/versions/3.9.18/bin/python")
STDLIB_IMPORTS = {"__future__", "enum", "re", "typing"}


_IMPORTS = itertools.count()


@pytest.fixture
def package(any_build: Build) -> ModuleType:
    """The generated package, imported under a fresh module name."""
    name = f"generated_iam_{next(_IMPORTS)}"
    return import_generated_package(any_build.out / PACKAGE_DIR, name)


@pytest.fixture
def catalog(any_build: Build) -> Catalog:
    return loaded_model(any_build.spec).catalog


def sample_value(param: str) -> str:
    """A realistic id that is never a literal segment of any route."""
    return f"{param.removesuffix('_id')}_01AbC9"


def fill(route: Route) -> str:
    return "/" + "/".join(
        sample_value(s[1:-1]) if s.startswith("{") else s for s in route.segments
    )


def row(found: Any) -> tuple[str, str] | None:
    return None if found is None else (found.method, found.path)


# ---------------------------------------------------------------------------- contents


def test_action_enum_is_every_spec_action_with_its_full_name(
    package: ModuleType, catalog: Catalog
) -> None:
    assert package.SERVICE_PREFIX == PREFIX
    assert [member.name for member in package.Action] == [
        a.name for a in catalog.actions
    ]
    for member in package.Action:
        assert member.value == f"{PREFIX}:{member.name}"
        assert isinstance(member, str) and member == f"{PREFIX}:{member.name}"


def test_route_table_and_action_metadata_match_the_spec(
    package: ModuleType, catalog: Catalog
) -> None:
    assert [(r.method, r.path, r.action.name) for r in package.ROUTES] == [
        (r.method, r.path, r.action) for r in catalog.routes
    ]
    for action in catalog.actions:
        info = package.ACTIONS[package.Action[action.name]]
        assert info.group == catalog.group_of[action.name].name
        assert info.access_level.value == action.access_level
        assert info.scope.value == action.scope
        assert (info.event_type and info.event_type.value) == action.event_type
        assert [(r.method, r.path) for r in info.routes] == [
            (r.method, r.path) for r in catalog.routes if r.action == action.name
        ]
        for route in info.routes:
            assert route.event_type.value == action.event_type
    assert {p.name: p.value for p in package.ManagedPolicy} == {
        p.name: p.arn for p in catalog.spec.managed_policies
    }
    assert {e.value for e in package.EventType} == {"Data", "Management"}


def test_imports_only_the_standard_library(any_build: Build) -> None:
    tree = ast.parse((any_build.out / PACKAGE_DIR / "__init__.py").read_text("utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= STDLIB_IMPORTS


# ---------------------------------------------------------------------------- resolve


def test_documented_examples(package: ModuleType) -> None:
    get_file = package.Action.GetFile
    assert package.resolve("GET", "/v1/files/file_01/content") is get_file
    assert package.resolve("GET", "/v1/files/file_01/content?download=1") is get_file
    assert package.resolve("PUT", "/v1/files/file_01/content") is None
    assert package.resolve("get", "/v1/files/file_01/content") is None
    assert package.resolve("GET", "/v1/files/file_01/content/") is None
    assert package.resolve("GET", "/v1/files//content") is None
    assert package.resolve("GET", "/v1/files/%2e%2e/content") is None
    assert package.resolve("GET", "/V1/FILES/file_01/content") is None
    assert package.resolve("GET", "/v1/no_such_route") is None
    assert package.resolve("GET", "/v2/files") is None
    assert package.resolve("GET", "") is None


def test_every_route_template_resolves_to_its_action(
    package: ModuleType, catalog: Catalog
) -> None:
    for route in catalog.routes:
        action = package.Action[route.action]
        concrete = fill(route)
        assert package.resolve(route.method, concrete) is action, concrete
        found = package.resolve_route(route.method, concrete)
        assert (found.method, found.path, found.action) == (
            route.method,
            route.path,
            action,
        )
        # The query string is not part of the route.
        assert package.resolve(route.method, concrete + "?limit=10&after=a/b") is action
        assert package.resolve(route.method, concrete + "?") is action
        # Percent-escapes in a parameter stay opaque.
        if route.params:
            encoded = route.path.replace("{" + route.params[-1] + "}", "file%2F01", 1)
            encoded = fill(Route(route.method, encoded, route.action))
            assert package.resolve(route.method, encoded) is action, encoded


def unlisted_variants(route: Route) -> dict[str, tuple[str, str]]:
    concrete = fill(route)
    variants = {
        "trailing slash": (route.method, concrete + "/"),
        "double slash": (
            route.method,
            concrete.replace("/", "//", 2).replace("//", "/", 1),
        ),
        "leading double slash": (route.method, "/" + concrete),
        "lower-case method": (route.method.lower(), concrete),
        "upper-case path": (route.method, concrete.upper()),
        "no leading slash": (route.method, concrete[1:]),
        "dot segment": (route.method, concrete.replace("/", "/./", 1)),
        "dot-dot segment": (route.method, "/v1/../" + concrete[len("/v1/") :]),
        "empty path": (route.method, ""),
    }
    if route.params:
        last = route.params[-1]
        value = sample_value(last)
        for label, replacement in {
            "'..' as a parameter": "..",
            "'.' as a parameter": ".",
            "%2e%2e as a parameter": "%2e%2e",
            "%2E%2e as a parameter": "%2E%2e",
            "empty parameter": "",
            "space in a parameter": "a b",
            "bad percent escape": "a%zz",
        }.items():
            variants[label] = (
                route.method,
                _replace_last(concrete, value, replacement),
            )
    return variants


def _replace_last(text: str, old: str, new: str) -> str:
    head, _sep, tail = text.rpartition(old)
    return head + new + tail


def test_unlisted_requests_resolve_to_none(
    package: ModuleType, catalog: Catalog
) -> None:
    for route in catalog.routes:
        for label, (method, path) in unlisted_variants(route).items():
            assert package.resolve(method, path) is None, f"{label}: {method} {path}"
            assert (
                package.resolve_route(method, path) is None
            ), f"{label}: {method} {path}"


def templates_matching(
    routes: tuple[Route, ...], method: str, path: str
) -> list[Route]:
    """A naive matcher, independent of the resolvers (for paths of literals and ids)."""
    segments = path[1:].split("/")
    return [
        route
        for route in routes
        if route.method == method
        and len(route.segments) == len(segments)
        and all(
            t == s or (t.startswith("{") and s not in ("", ".", ".."))
            for t, s in zip(route.segments, segments, strict=True)
        )
    ]


def test_a_method_not_listed_for_a_path_resolves_to_none(
    package: ModuleType, catalog: Catalog
) -> None:
    checked = 0
    for route in catalog.routes:
        concrete = fill(route)
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"):
            if not templates_matching(catalog.routes, method, concrete):
                assert package.resolve(method, concrete) is None, (method, route.path)
                checked += 1
    assert checked > len(catalog.routes)


def test_a_literal_segment_wins_over_a_parameter(package: ModuleType) -> None:
    # GET /.../work/poll is ProcessEnvironmentWork; GET /.../work/{work_id} is GetEnvironment.
    assert (
        package.resolve("GET", "/v1/environments/env_01/work/poll")
        is package.Action.ProcessEnvironmentWork
    )
    assert (
        package.resolve("GET", "/v1/environments/env_01/work/work_01")
        is package.Action.GetEnvironment
    )


# ---------------------------------------------------------------------------- the resolver agrees


PCHAR = "abcXYZ019-._~!$&'()*+,;=:@"
SEGMENT_TEXT = st.text(alphabet=PCHAR + "%/?#{} é", max_size=10)
METHODS = st.sampled_from(
    ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "get", "Post"]
)


@st.composite
def request_like(draw: st.DrawFn, routes: tuple[Route, ...]) -> tuple[str, str]:
    """A route filled with arbitrary values, then possibly mutated."""
    route = draw(st.sampled_from(routes))
    segments = [
        (
            draw(st.one_of(st.just(sample_value(s[1:-1])), SEGMENT_TEXT, st.just("..")))
            if s.startswith("{")
            else s
        )
        for s in route.segments
    ]
    path = "/" + "/".join(segments)
    mutation = draw(
        st.sampled_from(["none", "insert", "delete", "case", "append", "join"])
    )
    if path and mutation in ("insert", "delete"):
        at = draw(st.integers(0, len(path) - 1))
        piece = draw(SEGMENT_TEXT) if mutation == "insert" else ""
        path = path[:at] + piece + path[at + (mutation == "delete") :]
    elif mutation == "case":
        path = path.swapcase()
    elif mutation == "append":
        path += draw(SEGMENT_TEXT)
    elif mutation == "join":
        other = draw(st.sampled_from(routes))
        path = path.rstrip("/") + other.path
    method = draw(st.one_of(st.just(route.method), METHODS))
    return method, path


def test_generated_resolver_agrees_with_route_resolver(
    package: ModuleType, catalog: Catalog
) -> None:
    reference = RouteResolver(catalog.routes)
    for route in catalog.routes:
        for method, path in [
            (route.method, fill(route)),
            (route.method, route.path),
            *unlisted_variants(route).values(),
        ]:
            assert row(package.resolve_route(method, path)) == row(
                reference.resolve(method, path)
            ), (method, path)

    @settings(
        max_examples=400,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(request_like(catalog.routes))
    def agrees(request: tuple[str, str]) -> None:
        method, path = request
        assert row(package.resolve_route(method, path)) == row(
            reference.resolve(method, path)
        )

    agrees()


# ---------------------------------------------------------------------------- tools


def run_tool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300)


# mypy 2.x checks 3.10 at the oldest; the 3.9 import itself is tested below.
@pytest.mark.parametrize("python_version", ["3.10", "3.11"])
def test_mypy_strict_passes(
    any_build: Build, python_version: str, tmp_path: Path
) -> None:
    result = run_tool(
        sys.executable,
        "-m",
        "mypy",
        "--strict",
        "--python-version",
        python_version,
        "--cache-dir",
        str(tmp_path / "mypy-cache"),
        "aws_external_anthropic_iam",
        cwd=any_build.out / "python",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_passes(any_build: Build) -> None:
    result = run_tool(
        sys.executable,
        "-m",
        "ruff",
        "check",
        "--isolated",
        "--no-cache",
        "--select",
        "E,F,W,I,B,UP",
        "--ignore",
        "E501",
        "--target-version",
        "py39",
        "aws_external_anthropic_iam",
        cwd=any_build.out / "python",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_imports_and_resolves_on_python_39_without_site_packages(
    any_build: Build,
) -> None:
    python = PYTHON_39 if PYTHON_39.exists() else Path(sys.executable)
    note = (
        ""
        if python == PYTHON_39
        else f" ({PYTHON_39} is missing: ran {python} instead)"
    )
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(any_build.out / 'python')!r})\n"
        "import aws_external_anthropic_iam as iam\n"
        "assert iam.resolve('GET', '/v1/files/file_01/content') is iam.Action.GetFile\n"
        "assert iam.resolve('GET', '/v1/files/file_01/content/') is None\n"
        "assert iam.ACTIONS[iam.Action.GetFile].routes\n"
        "print(len(iam.Action), len(iam.ROUTES), sys.version_info[:2])\n"
    )
    # -I: isolated from the environment; -S: no site-packages, so no third-party import;
    # -B: no __pycache__ in the shared generated tree.
    result = run_tool(str(python), "-I", "-S", "-B", "-c", script, cwd=any_build.out)
    assert result.returncode == 0, result.stderr + note
    if python == PYTHON_39:
        assert result.stdout.strip().endswith("(3, 9)"), result.stdout


def test_real_package_counts(real_out: Path) -> None:
    package = import_generated_package(
        real_out / PACKAGE_DIR, "generated_iam_real_counts"
    )
    assert (len(package.Action), len(package.ROUTES)) == (84, 105)
    assert len(package.ManagedPolicy) == 5
    assert REAL_SPEC.is_file()
