"""Shared fixtures: every test that touches PostgreSQL gets a database of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
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


@contextmanager
def platform(*, pii_key: str | None = None, pools: bool = True, prefix: str = "aimass_e2e"):
    """A throw-away platform: fresh warehouse and Airflow metadata databases (migrated), a
    temporary home, the runtime settings `make setup` writes, and (with `pools`) the Airflow
    pools the DAGs use. Yields its environment; drops the databases afterwards.

    Two platforms given the same `pii_key` pseudonymise identically, so their tables compare.
    """
    with (
        temporary_database(f"{prefix}_wh") as warehouse_dsn,
        temporary_database(f"{prefix}_af") as metadata_dsn,
        tempfile.TemporaryDirectory(prefix=f"{prefix.replace('_', '-')}-") as home,
    ):
        with connect(warehouse_dsn) as conn:
            ensure_layout(conn)
        env = {
            **os.environ,
            "AIMASS_TASK_RETRIES": "0",
            **platform_settings(
                home=Path(home), admin_dsn=admin_url(), warehouse_dsn=warehouse_dsn, pii_key=pii_key
            ),
            **airflow_settings(home=Path(home), repo_root=REPO_ROOT, metadata_dsn=metadata_dsn),
        }
        migrate = subprocess.run(
            [AIRFLOW, "db", "migrate"], env=env, capture_output=True, text=True
        )
        assert migrate.returncode == 0, migrate.stdout[-3000:] + migrate.stderr[-3000:]
        if pools:
            created = subprocess.run(
                [sys.executable, "-m", "aimass.orchestration.pools"],
                env=env,
                capture_output=True,
                text=True,
            )
            assert created.returncode == 0, created.stdout + created.stderr
        yield env


@pytest.fixture(scope="module")
def platform_env():
    """Environment variables of a throw-away platform (databases dropped afterwards)."""
    with platform() as env:
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
