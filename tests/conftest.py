"""Shared fixtures: every test that touches PostgreSQL gets a database of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg2
import pytest

from aimass.setup.runtime_env import airflow_settings, platform_settings
from aimass.testing import admin_url, temporary_database
from aimass.warehouse import connect, ensure_layout


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


# An isolated platform for end-to-end runs: fresh warehouse and Airflow metadata databases,
# a temporary AIMASS_HOME, and the same runtime settings `make setup` writes.

REPO_ROOT = Path(__file__).resolve().parents[1]
AIRFLOW = str(Path(sys.executable).parent / "airflow")


@pytest.fixture(scope="module")
def platform_env():
    """Environment variables of a throw-away platform (databases dropped afterwards)."""
    with (
        temporary_database("aimass_e2e_wh") as warehouse_dsn,
        temporary_database("aimass_e2e_af") as metadata_dsn,
        tempfile.TemporaryDirectory(prefix="aimass-e2e-") as home,
    ):
        with connect(warehouse_dsn) as conn:
            ensure_layout(conn)
        env = {
            **os.environ,
            "AIMASS_TASK_RETRIES": "0",
            **platform_settings(
                home=Path(home), admin_dsn=admin_url(), warehouse_dsn=warehouse_dsn, pii_key=None
            ),
            **airflow_settings(home=Path(home), repo_root=REPO_ROOT, metadata_dsn=metadata_dsn),
        }
        migrate = subprocess.run(
            [AIRFLOW, "db", "migrate"], env=env, capture_output=True, text=True
        )
        assert migrate.returncode == 0, migrate.stdout[-3000:] + migrate.stderr[-3000:]
        yield env


def _run_dag(env: dict, dag_id: str, day: str, conf: str | None = None):
    cmd = [AIRFLOW, "dags", "test", dag_id, day]
    if conf:
        cmd += ["--conf", conf]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1200)


@pytest.fixture(scope="module")
def run_dag():
    """`airflow dags test` for one day: (env, dag_id, day, conf) -> completed process."""
    return _run_dag
