"""`build_plan.needed_overlap`: the load overlap a build needs comes from the load log and the
last recorded build, so the build after a bulk load (a history import) re-reads only what it
may not have seen; without a record it is the configured overlap."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aimass.build_plan import (
    database_now,
    estimate_reread,
    needed_overlap,
    plan_build,
    record_build,
)
from aimass.contracts import load_contracts
from aimass.ingest import sync_source
from tests.ingest.helpers import DAY, PII_KEY, event_line, events_csv, rows, write_partition

CONFIGURED = 15.0
SOURCES = ["events"]


@pytest.fixture
def contracts():
    return load_contracts()


@pytest.fixture
def landing(tmp_path):
    return tmp_path / "landing"


def _load_day(conn, contracts, landing, k: int) -> None:
    day = DAY + timedelta(days=k)
    lines = [event_line(100 * k + i, ts=f"{day} 0{i}:00:00Z") for i in range(5)]
    write_partition(landing, "events", day, events_csv(lines))
    sync_source(conn, contracts["events"], str(landing), up_to=day, pii_key=PII_KEY)


def _build(conn, full_refresh: bool = False) -> None:
    """What build_marts records around a (here: imagined) dbt build of everything in raw."""
    plan = plan_build(conn, SOURCES, full_refresh=full_refresh)
    record_build(conn, plan, SOURCES, run_date=DAY, requested_at=database_now(conn), seconds=1.0)


def _stage_everything(conn) -> None:
    """A staged copy of raw.events, as dbt's staging model holds it after a build."""
    with conn.cursor() as cur:
        cur.execute("create schema if not exists staging")
        cur.execute("drop table if exists staging.stg_events__events")
        cur.execute(
            "create table staging.stg_events__events as "
            "select event_id, _loaded_at as loaded_at from raw.events"
        )
    conn.commit()


def test_without_a_recorded_build_the_configured_overlap(warehouse, contracts, landing):
    _load_day(warehouse, contracts, landing, 0)
    minutes, why = needed_overlap(warehouse, SOURCES, CONFIGURED)
    assert (minutes, why) == (CONFIGURED, "no earlier build recorded in audit.dbt_builds")


def test_after_a_bulk_load_and_its_build_the_next_day_re_reads_only_itself(
    warehouse, contracts, landing
):
    for k in range(9):  # a history: every day loaded within a minute
        _load_day(warehouse, contracts, landing, k)
    _stage_everything(warehouse)
    everything = estimate_reread(warehouse, SOURCES)
    assert everything.share == 1.0  # the configured overlap would re-read the whole history
    _build(warehouse, full_refresh=True)
    _load_day(warehouse, contracts, landing, 9)
    minutes, why = needed_overlap(warehouse, SOURCES, CONFIGURED)
    assert minutes == 0.0, why
    plan = plan_build(warehouse, SOURCES)
    assert plan.full_refresh is False and plan.load_overlap_minutes == 0.0
    # the newest load the build held (the last history day) and the new day: 10 of 50 rows
    assert (plan.estimate.rows_to_reread, plan.estimate.rows_in_raw) == (10, 50)
    (builds,) = rows(warehouse, "select count(*), bool_and(full_refresh) from audit.dbt_builds")
    assert builds == (1, True)


def test_a_load_stamped_before_the_newest_load_held_widens_the_overlap(
    warehouse, contracts, landing
):
    _load_day(warehouse, contracts, landing, 0)
    _stage_everything(warehouse)
    _build(warehouse)
    _load_day(warehouse, contracts, landing, 1)
    with warehouse.cursor() as cur:  # a loader whose clock is 5 minutes behind
        cur.execute(
            "update raw.events set _loaded_at = "
            "(select newest_load_at from audit.dbt_builds) - interval '5 minutes' "
            "where _ds = %s",
            (DAY + timedelta(days=1),),
        )
    warehouse.commit()
    minutes, _ = needed_overlap(warehouse, SOURCES, CONFIGURED)
    assert 5.0 <= minutes <= 5.01
    with warehouse.cursor() as cur:  # 20 minutes behind: more than configured
        cur.execute("update raw.events set _loaded_at = _loaded_at - interval '15 minutes'")
    warehouse.commit()
    assert needed_overlap(warehouse, SOURCES, CONFIGURED)[0] == CONFIGURED


def test_a_build_the_log_does_not_record_falls_back_to_the_configured_overlap(
    warehouse, contracts, landing
):
    _load_day(warehouse, contracts, landing, 0)
    _build(warehouse)
    _load_day(warehouse, contracts, landing, 1)
    _stage_everything(warehouse)  # a dbt build outside build_marts staged the new day
    minutes, why = needed_overlap(warehouse, SOURCES, CONFIGURED)
    assert minutes == CONFIGURED
    assert "does not record" in why
