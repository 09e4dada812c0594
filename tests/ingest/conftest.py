"""Fixtures for ingestion tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from aimass.contracts import load_contracts


@pytest.fixture(scope="session")
def contracts():
    return load_contracts()


@pytest.fixture
def landing(tmp_path) -> Path:
    path = tmp_path / "landing"
    path.mkdir()
    return path
