"""The semantic commands (explain, expand, simulate, lint): registered on the CLI parser."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def register(commands: Any, with_spec: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the semantic subcommands; each sets ``handler``."""
