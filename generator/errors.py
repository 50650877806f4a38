"""Errors that name a place in the spec, reported all at once."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class SpecError:
    """One problem in a spec file, located 1-based as ``path:line:col``."""

    path: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.message}"


class SpecInvalid(Exception):
    """Raised by the pipeline when the spec has errors; carries every one of them."""

    def __init__(self, errors: list[SpecError]) -> None:
        self.errors = sorted(set(errors))
        super().__init__("\n".join(str(e) for e in self.errors))


class OutputError(Exception):
    """Raised when writing or reading the output folder fails; the message is for people."""


class RenderError(OutputError):
    """An output could not be rendered (a template or black failed): nothing is written."""
