"""Lock waits are bounded: a load or a build that cannot get its lock within
AIMASS_LOCK_TIMEOUT_S fails, naming the session that holds it, and changes nothing."""

from __future__ import annotations

import time

import psycopg2
import pytest

from aimass.contracts import load_contracts
from aimass.ingest import Payload, load_unit
from aimass.ingest.unit_tx import unit_lock_key
from aimass.locks import LockTimeoutError, build_lock
from tests.ingest.helpers import DAY, PII_KEY, event_line, events_csv, rows

UNIT = "file:///landing/events/2024-03-02"


@pytest.fixture(autouse=True)
def short_timeout(monkeypatch):
    monkeypatch.setenv("AIMASS_LOCK_TIMEOUT_S", "1")


@pytest.fixture
def holder(warehouse_url):
    """A session named `nightly-report`, its transaction left open."""
    conn = psycopg2.connect(warehouse_url, application_name="nightly-report")
    yield conn
    conn.close()


def load_events(conn):
    payload = Payload(f"{UNIT}/part-0000.csv", "csv", events_csv([event_line(1)]))
    return load_unit(
        conn, load_contracts()["events"], [payload], ds=DAY, pii_key=PII_KEY, unit_uri=UNIT
    )


@pytest.mark.parametrize(
    "statement",
    ["lock table raw.events in access exclusive mode", "select pg_advisory_xact_lock(%s)"],
    ids=["table-lock", "same-day-load"],
)
def test_a_load_waits_at_most_the_lock_timeout_and_names_the_holder(warehouse, holder, statement):
    with holder.cursor() as cur:
        cur.execute(statement, (unit_lock_key("events", DAY),) if "%s" in statement else None)
        started = time.monotonic()
        with pytest.raises(LockTimeoutError) as caught:
            load_events(warehouse)
    assert time.monotonic() - started < 30
    message = str(caught.value)
    assert f"pid {holder.get_backend_pid()}" in message and "'nightly-report'" in message
    assert "load of events 2024-03-02: no lock within 1 s" in message
    holder.rollback()
    assert rows(warehouse, "select count(*) from raw.events") == [(0,)]
    assert rows(warehouse, "select status from raw._load_log") == [("failed",)]
    assert load_events(warehouse).rows_loaded == 1  # once the holder is done


def test_a_build_waits_at_most_the_lock_timeout_and_names_the_holder(warehouse_url):
    with build_lock(warehouse_url):
        with pytest.raises(LockTimeoutError, match=r"dbt build: no lock within 1 s.*pid \d+"):
            with build_lock(warehouse_url):
                pass
