"""Fixtures shared by the hardening tests."""

from __future__ import annotations

import pytest
from conftest import REAL_SPEC

from generator import pipeline


@pytest.fixture(scope="session")
def real_model() -> pipeline.LoadedModel:
    """The repository's spec, loaded once (commands under test get it via a monkeypatch)."""
    return pipeline.load_model(
        REAL_SPEC.read_bytes(), "spec/aws-external-anthropic.yaml"
    )
