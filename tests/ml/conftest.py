"""Fixtures for the propensity model: synthetic marts in fresh warehouse databases."""

from __future__ import annotations

import psycopg2
import pytest

from aimass.testing import temporary_database
from aimass.warehouse import ensure_layout
from ml.config import load_config
from ml.pipeline import train_and_register
from tests.ml.factories import SyntheticMarts, load_marts, simulate


@pytest.fixture(scope="session")
def marts() -> SyntheticMarts:
    """600 simulated users over 90 days (in memory; loaded per test)."""
    return simulate(n_users=600, n_days=90, seed=7)


@pytest.fixture(scope="session")
def orders_only_marts() -> SyntheticMarts:
    """The same simulator with only the orders source: event columns are zero or null."""
    return simulate(n_users=600, n_days=90, seed=11, orders_only=True)


@pytest.fixture(scope="session")
def config():
    return load_config()


@pytest.fixture
def marts_db(warehouse, marts):
    """A fresh warehouse connection with the synthetic marts and simulator truth loaded."""
    load_marts(warehouse, marts)
    return warehouse


@pytest.fixture(scope="module")
def readonly_marts_db(marts):
    """A module-wide database with the marts loaded, for tests that never write to it."""
    with temporary_database() as url:
        conn = psycopg2.connect(url)
        try:
            ensure_layout(conn)
            load_marts(conn, marts)
            yield conn
        finally:
            conn.close()


@pytest.fixture(scope="module")
def champion_db(marts, config):
    """A module-wide database with one trained champion, for tests that only read or score."""
    with temporary_database() as url:
        conn = psycopg2.connect(url)
        try:
            ensure_layout(conn)
            load_marts(conn, marts)
            summary = train_and_register(conn, as_of=marts.cutoff, config=config)
            assert summary["status"] == "champion", summary
            yield conn, summary
        finally:
            conn.close()
