"""Route resolution over the model, with exactly the generated resolver's rules.

The generated package carries its own copy (it must import with no third-party package); a
test holds the two to the same answers on the real spec and on random paths.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass, field

from generator.model import Route

# One path segment as RFC 3986 allows it (pchar): percent-escapes stay opaque.
_SEGMENT = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})+")
_DOT_SEGMENTS = frozenset((".", ".."))
# RFC 3986 section 2.3: a percent-encoded unreserved character is equivalent to the character.
_ENCODED_UNRESERVED = re.compile(
    r"%(2[DdEe]|3[0-9]|[46][1-9A-Fa-f]|[57][0-9Aa]|5[Ff]|7[Ee])"
)


def decode_unreserved(segment: str) -> str:
    """The segment with its percent-encoded unreserved characters decoded (nothing else)."""
    return _ENCODED_UNRESERVED.sub(lambda m: chr(int(m.group(1), 16)), segment)


def parameter_value_ok(segment: str, sibling_literals: Container[str]) -> bool:
    """A parameter value: non-empty pchars, never a dot segment even when percent-encoded, and
    never a sibling literal in disguise (work/%70oll is work/poll to a gateway that normalizes,
    so the parameter's route may not be the one that runs)."""
    if _SEGMENT.fullmatch(segment) is None:
        return False
    decoded = decode_unreserved(segment) if "%" in segment else segment
    if decoded in _DOT_SEGMENTS:
        return False
    return segment == decoded or decoded not in sibling_literals


@dataclass
class _Node:
    literals: dict[str, _Node] = field(default_factory=dict)
    param: _Node | None = None
    methods: dict[str, Route] = field(default_factory=dict)


class RouteResolver:
    """Literal segments before parameters; nothing normalized; unknown -> None (fail closed)."""

    def __init__(self, routes: tuple[Route, ...]) -> None:
        self._root = _Node()
        for route in routes:
            node = self._root
            for segment in route.segments:
                if segment.startswith("{"):
                    if node.param is None:
                        node.param = _Node()
                    node = node.param
                else:
                    node = node.literals.setdefault(segment, _Node())
            node.methods[route.method] = route

    def resolve(self, method: str, path: str) -> Route | None:
        query = path.find("?")
        if query >= 0:
            path = path[:query]
        if not path.startswith("/"):
            return None
        return self._match(self._root, path[1:].split("/"), 0, method)

    def _match(
        self, node: _Node, segments: list[str], index: int, method: str
    ) -> Route | None:
        if index == len(segments):
            return node.methods.get(method)
        segment = segments[index]
        literal = node.literals.get(segment)
        if literal is not None:
            found = self._match(literal, segments, index + 1, method)
            if found is not None:
                return found
        if node.param is None or not parameter_value_ok(segment, node.literals):
            return None
        return self._match(node.param, segments, index + 1, method)
