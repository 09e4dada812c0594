"""PostgreSQL restarted in the middle of a load: the load fails with a clear error, nothing of
the unit is committed, and the retry gives the same tables as one clean load.

Runs on a private cluster (`aimass.setup.local_cluster`) on a free port, never on the shared
server other tests use."""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import psycopg2
import pytest

from aimass.contracts import load_contracts
from aimass.ingest import sync_source
from aimass.setup import local_cluster
from aimass.testing import url_for_database
from aimass.warehouse import ensure_layout
from tests.ingest.helpers import DAY, PII_KEY, many_events_csv, rows, table_digest, write_partition

pytestmark = pytest.mark.slow
ROWS = 100_000
OUTCOME: dict = {}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster():
    """(pg_dir, port, admin DSN) of a private cluster, stopped and removed afterwards."""
    try:
        local_cluster.find_bindir()
    except local_cluster.NoBinariesError:
        pytest.skip("no PostgreSQL binaries on this machine (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="aimass-restart-"))
    root.chmod(0o755)  # as root the cluster runs as an unprivileged user
    pg_dir, port = root / "pg", _free_port()
    try:
        yield pg_dir, port, local_cluster.ensure_running(pg_dir, port=port)
    finally:
        local_cluster.stop(pg_dir)
        shutil.rmtree(root, ignore_errors=True)


def _database(admin: str, name: str) -> str:
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"drop database if exists {name} with (force)")
        cur.execute(f"create database {name}")
    conn.close()
    url = url_for_database(admin, name)
    with psycopg2.connect(url) as layout:
        ensure_layout(layout)
    return url


def _digests(url: str) -> tuple[str, str, list]:
    with psycopg2.connect(url) as conn:
        return (
            table_digest(conn, "raw.events"),
            table_digest(conn, "quarantine.events"),
            rows(conn, "select status, rows_in, rows_loaded from raw._load_log order by 1"),
        )


def _sync(url: str, landing: Path):
    conn = psycopg2.connect(url)
    try:
        return sync_source(
            conn, load_contracts()["events"], landing.as_uri(), up_to=DAY, pii_key=PII_KEY
        )
    finally:
        conn.close()


def _wait_for_copy(admin: str, loader: threading.Thread) -> int:
    """Rows the load's COPY has processed, once it has started."""
    watcher = psycopg2.connect(admin)
    watcher.autocommit = True  # a fresh statistics snapshot per query
    try:
        with watcher.cursor() as cur:
            deadline = time.monotonic() + 300
            while True:
                assert loader.is_alive(), f"the load ended before the restart: {OUTCOME}"
                assert time.monotonic() < deadline, "the COPY never started"
                cur.execute("select coalesce(max(tuples_processed), 0) from pg_stat_progress_copy")
                copied = cur.fetchone()[0]
                if copied:
                    return copied
                time.sleep(0.005)
    finally:
        watcher.close()


def test_restart_mid_load_fails_clearly_and_the_retry_equals_a_clean_load(cluster, tmp_path):
    pg_dir, port, admin = cluster
    write_partition(tmp_path, "events", DAY, many_events_csv(ROWS))
    clean_url = _database(admin, "restart_clean")
    _sync(clean_url, tmp_path)
    clean = _digests(clean_url)

    url = _database(admin, "restart_faulty")
    outcome = OUTCOME

    def load():
        try:
            outcome["results"] = _sync(url, tmp_path)
        except BaseException as exc:  # checked below
            outcome["error"] = exc

    loader = threading.Thread(target=load)
    loader.start()
    copied = _wait_for_copy(admin, loader)
    local_cluster.stop(pg_dir)  # fast shutdown: every session is terminated
    local_cluster.ensure_running(pg_dir, port=port)
    loader.join(timeout=120)
    assert not loader.is_alive()
    assert 0 < copied < ROWS
    error = outcome.get("error")
    assert error is not None, f"the load did not fail: {outcome.get('results')}"
    message = str(error)
    assert "events" in message and str(DAY) in message, message
    assert "connection" in message.lower() and "retry" in message.lower(), message
    with psycopg2.connect(url) as conn:
        assert rows(conn, "select count(*) from raw.events") == [(0,)]
        assert rows(conn, "select count(*) from raw._load_log where status = 'loaded'") == [(0,)]

    [retry] = _sync(url, tmp_path)  # the task's retry
    assert (retry.status, retry.rows_loaded) == ("loaded", ROWS)
    assert _digests(url) == clean
