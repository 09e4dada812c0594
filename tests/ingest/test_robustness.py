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
from aimass.testing import temporary_database
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
    errors = []

    def load_in_thread():
        conn = psycopg2.connect(warehouse_url)
        try:
            load_events(conn, data)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=load_in_thread) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for loader in loaders:
        _, stderr = loader.communicate(timeout=120)
        assert loader.returncode == 0, stderr.decode()
    assert errors == []
    assert rows(warehouse, "select count(*), count(distinct event_id) from raw.events") == [
        (5_000, 5_000)
    ]
    assert rows(warehouse, "select count(*) from raw._load_log where status = 'loaded'") == [(4,)]
    assert digests(warehouse) == clean_run_digests(data)
