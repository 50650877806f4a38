"""The one Jinja environment, its filters, and black formatting of generated Python."""

from __future__ import annotations

import gc
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from generator.errors import RenderError

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

# Pinned in pyproject.toml; the mode is fixed here so the bytes never depend on a config file.
BLACK_TARGET = "py39"
BLACK_LINE_LENGTH = 88


def to_json(value: Any, indent: int = 2) -> str:
    """JSON exactly as we publish it: key order kept, 2-space indent, UTF-8 characters as-is."""
    return json.dumps(value, indent=indent, ensure_ascii=False)


def pyrepr(value: Any) -> str:
    """A Python literal for a str/int/bool/None/tuple value (safe inside generated code)."""
    if isinstance(value, tuple | list):
        inner = ", ".join(pyrepr(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, str | int | bool) or value is None:
        return repr(value)
    raise TypeError(f"pyrepr cannot render {type(value).__name__}")


def pydoc(value: Any) -> str:
    """Text safe inside a generated docstring: one line, no backslash or quote surprises."""
    text = " ".join(str(value).split())
    return text.replace("\\", "\\\\").replace('"', '\\"')


def md_cell(value: Any) -> str:
    """Text safe inside a markdown table cell: pipes escaped, newlines become <br>."""
    text = str(value)
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    text = text.replace("\r\n", "\n").replace("\n", "<br>")
    return text


def md_code(value: Any) -> str:
    """Inline code that survives backticks in the value and sits safely in a table cell."""
    text = str(value)
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return md_cell(f"{fence}{pad}{text}{pad}{fence}")


def md_text(value: Any) -> str:
    """Prose in a markdown paragraph: one paragraph, no accidental HTML."""
    return " ".join(str(value).split()).replace("<", "&lt;")


def md_anchor(value: Any) -> str:
    """GitHub-style heading anchor."""
    text = str(value).strip().lower()
    kept = "".join(ch for ch in text if ch.isalnum() or ch in " -_")
    return kept.replace(" ", "-")


FILTERS = {
    "to_json": to_json,
    "pyrepr": pyrepr,
    "pydoc": pydoc,
    "md_cell": md_cell,
    "md_code": md_code,
    "md_text": md_text,
    "md_anchor": md_anchor,
}


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters.update(FILTERS)
    return env


def render_template(name: str, **context: Any) -> str:
    try:
        return environment().get_template(name).render(**context)
    except Exception as exc:  # a template bug: say which template, write nothing
        raise RenderError(
            f"cannot render templates/{name}: {type(exc).__name__}: {exc};"
            " nothing was written"
        ) from exc


def format_python(source: str) -> str:
    """Format generated Python with black, in process, with a mode fixed in code."""
    import black  # imported lazily: only generation of Python output needs it
    from black.mode import TargetVersion

    mode = black.Mode(
        target_versions={TargetVersion[BLACK_TARGET.upper()]},
        line_length=BLACK_LINE_LENGTH,
    )
    # black allocates millions of short-lived objects; with the cyclic collector running,
    # each full collection also walks everything the pipeline holds, so formatting a big
    # module grows faster than its size (20x spec: 15.5 s with it, 8.3 s without).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return black.format_str(source, mode=mode)
    except Exception as exc:  # invalid generated Python: a template bug
        raise RenderError(
            f"black cannot format the generated Python: {type(exc).__name__}: {exc};"
            " nothing was written"
        ) from exc
    finally:
        if collecting:
            gc.enable()


def normalize_text(text: str) -> str:
    """LF line endings and exactly one final newline."""
    text = text.replace("\r\n", "\n")
    return text.rstrip("\n") + "\n"
