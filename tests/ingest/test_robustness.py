"""Failures half-way and concurrent loads leave raw as if one clean load had run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg2
import pytest

from aimass.contracts import load_contracts
from aimass.ingest import Payload, load_unit
from aimass.locks import build_lock, share_build_lock
from aimass.testing import run_concurrently, temporary_database
from aimass.warehouse import ensure_layout
from tests.ingest.helpers import DAY, PII_KEY, many_events_csv, rows, table_digest

UNIT_URI = "file:///landing/events/2024-03-02"
FILE_URI = UNIT_URI + "/part-0000.csv"

LOADER_SCRIPT = f"""
import sys
from datetime import date
import psycopg2
from aimass.contracts import load_contracts
from aimass.ingest import Payload, load_unit
from aimass.locks import build_lock, share_build_lock
url, path, key = sys.argv[1], sys.argv[2], sys.argv[3].encode()
conn = psycopg2.connect(url)
payload = Payload({FILE_URI!r}, "csv", open(path, "rb").read())
load_unit(conn, load_contracts()["events"], [payload], ds=date(2024, 3, 2), pii_key=key,
          unit_uri={UNIT_URI!r})
"""


def load_events(conn, data: bytes):
    return load_unit(
        conn,
        load_contracts()["events"],
        [Payload(FILE_URI, "csv", data)],
        ds=DAY,
        pii_key=PII_KEY,
        unit_uri=UNIT_URI,
    )


def digests(conn) -> tuple[str, str]:
    return table_digest(conn, "raw.events"), table_digest(conn, "quarantine.events")


def clean_run_digests(data: bytes) -> tuple[str, str]:
    """What one load of `data` into an empty warehouse gives."""
    with temporary_database() as url:
        conn = psycopg2.connect(url)
        try:
            ensure_layout(conn)
            load_events(conn, data)
            return digests(conn)
        finally:
            conn.close()


def spawn_loader(url: str, path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", LOADER_SCRIPT, url, str(path), PII_KEY.decode()],
        stderr=subprocess.PIPE,
    )


def test_exception_during_copy_keeps_the_previous_state(warehouse):
    old, new = many_events_csv(100, prefix="old-"), many_events_csv(20_000)
    load_events(warehouse, old)
    before = digests(warehouse)
    with warehouse.cursor() as cur:  # the server refuses the very last row of the new file
        cur.execute(
            "alter table raw.events add constraint refuse_last check (event_id <> 'e19999')"
        )
    warehouse.commit()
    with pytest.raises(psycopg2.errors.CheckViolation):
        load_events(warehouse, new)
    assert digests(warehouse) == before
    assert rows(
        warehouse,
        "select status, coalesce(message, '') like '%%refuse_last%%' "
        "from raw._load_log "
        "order by started_at",
    ) == [("loaded", False), ("failed", True)]
    with warehouse.cursor() as cur:
        cur.execute("alter table raw.events drop constraint refuse_last")
    warehouse.commit()
    load_events(warehouse, new)
    assert digests(warehouse) == clean_run_digests(new)


def test_loader_killed_mid_copy_then_rerun_equals_one_clean_run(warehouse_url, warehouse, tmp_path):
    old, new = many_events_csv(100, prefix="old-"), many_events_csv(100_000)
    load_events(warehouse, old)
    before = digests(warehouse)
    path = tmp_path / "part-0000.csv"
    path.write_bytes(new)
    loader = spawn_loader(warehouse_url, path)
    watcher = psycopg2.connect(warehouse_url)
    watcher.autocommit = True
    try:
        deadline = time.monotonic() + 120
        copied = 0
        with watcher.cursor() as cur:
            while copied == 0:
                assert loader.poll() is None, "the loader ended before it was killed"
                assert time.monotonic() < deadline, "the COPY never started"
                cur.execute(
                    "select coalesce(max(tuples_processed), 0) from pg_stat_progress_copy"
                    " where datname = current_database()"
                )
                copied = cur.fetchone()[0]
                time.sleep(0.005)
            os.kill(loader.pid, signal.SIGKILL)
            loader.wait(timeout=30)
            assert loader.returncode == -signal.SIGKILL
            while True:  # the server notices the lost client and rolls back
                cur.execute(
                    "select count(*) from pg_stat_activity where datname = "
                    "current_database() and pid <> pg_backend_pid() and query ilike "
                    "'copy %%'"
                )
                if cur.fetchone()[0] == 0:
                    break
                time.sleep(0.05)
    finally:
        watcher.close()
        if loader.poll() is None:
            loader.kill()
    assert 0 < copied < 100_000
    assert digests(warehouse) == before
    assert rows(warehouse, "select count(*) from raw._load_log") == [(1,)]
    load_events(warehouse, new)
    assert digests(warehouse) == clean_run_digests(new)


def test_concurrent_loads_of_one_day_leave_no_duplicates(warehouse_url, warehouse, tmp_path):
    data = many_events_csv(5_000)
    path = tmp_path / "part-0000.csv"
    path.write_bytes(data)
    loaders = [spawn_loader(warehouse_url, path) for _ in range(2)]

    def load_in_thread():
        conn = psycopg2.connect(warehouse_url)
        try:
            load_events(conn, data)
        finally:
            conn.close()

    errors = run_concurrently(load_in_thread, timeout_s=600)
    for loader in loaders:
        _, stderr = loader.communicate(timeout=120)
        assert loader.returncode == 0, stderr.decode()
    assert errors == []
    assert rows(warehouse, "select count(*), count(distinct event_id) from raw.events") == [
        (5_000, 5_000)
    ]
    assert rows(warehouse, "select count(*) from raw._load_log where status = 'loaded'") == [(4,)]
    assert digests(warehouse) == clean_run_digests(data)


def _waiting_for_advisory_lock(url: str) -> int:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("select count(*) from pg_locks where locktype = 'advisory' and not granted")
        return cur.fetchone()[0]


def _wait_until(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not reached in {timeout} s"
        time.sleep(0.05)


def test_a_load_waits_for_a_running_dbt_build_and_a_build_for_a_load(warehouse_url, warehouse):
    """A dbt build reads one unchanging raw: loads queue behind it, and it behind them."""
    data = many_events_csv(2_000)
    loaded = threading.Event()

    def load() -> None:
        conn = psycopg2.connect(warehouse_url)
        try:
            load_events(conn, data)
            loaded.set()
        finally:
            conn.close()

    with build_lock(warehouse_url):
        loader = threading.Thread(target=load)
        loader.start()
        _wait_until(lambda: _waiting_for_advisory_lock(warehouse_url) == 1, "the load waits")
        assert not loaded.is_set() and rows(warehouse, "select count(*) from raw.events") == [(0,)]
    loader.join(timeout=60)
    assert loaded.is_set() and rows(warehouse, "select count(*) from raw.events") == [(2_000,)]

    # a load in flight (its transaction open, the lock held shared) holds a build back
    with warehouse.cursor() as cur:
        share_build_lock(cur)
        built = threading.Event()

        def build() -> None:
            with build_lock(warehouse_url):
                built.set()

        builder = threading.Thread(target=build)
        builder.start()
        _wait_until(lambda: _waiting_for_advisory_lock(warehouse_url) == 1, "the build waits")
        assert not built.is_set()
    warehouse.rollback()
    builder.join(timeout=60)
    assert built.is_set()
