"""Shared fixtures: every test that touches PostgreSQL gets a database of its own."""

from __future__ import annotations

import psycopg2
import pytest

from aimass.testing import temporary_database
from aimass.warehouse import ensure_layout


@pytest.fixture
def empty_db_url():
    """DSN of a new, empty database, dropped after the test."""
    with temporary_database() as url:
        yield url


@pytest.fixture
def warehouse_url():
    """DSN of a new database with the warehouse layout (schemas, raw tables), dropped after."""
    with temporary_database() as url:
        conn = psycopg2.connect(url)
        try:
            ensure_layout(conn)
        finally:
            conn.close()
        yield url


@pytest.fixture
def warehouse(warehouse_url):
    """An open connection to a fresh warehouse database."""
    conn = psycopg2.connect(warehouse_url)
    try:
        yield conn
    finally:
        conn.close()
