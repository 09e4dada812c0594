"""A daily build is incremental while it re-reads a few new loads, and a full refresh when it
would re-read most of `raw` (a catch-up after a bulk load)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest

from aimass import transform
from aimass.build_plan import catch_up_needs_full_refresh, estimate_reread
from aimass.transform import run_dbt
from tests.dbt.dbt_harness import fresh_warehouse, scalar
from tests.dbt.dbt_raw_loader import load_raw, split_by_day
from tests.dbt.dbt_shop_fixture import DAYS, START, build_shop

pytestmark = pytest.mark.slow

DAY_LIST = [START + timedelta(days=d) for d in range(DAYS)]


def _morning_after(day) -> datetime:
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(
        hours=1
    )


@pytest.fixture(scope="module")
def daily_loads():
    """Daily deliveries but the last, each loaded the morning after its day, staged by dbt;
    the estimate taken before anything was staged."""
    with fresh_warehouse() as url:
        conn = psycopg2.connect(url)
        try:
            deliveries = list(split_by_day(build_shop(), DAY_LIST))
            for day, rows in deliveries[:-1]:
                load_raw(conn, rows, loaded_at=_morning_after(day), batch_id=f"day-{day}")
            before_staging = estimate_reread(conn, ["events", "orders"])
            run_dbt(["run", "--select", "staging"], url)
            yield {"conn": conn, "deliveries": deliveries, "before_staging": before_staging}
        finally:
            conn.close()


@pytest.fixture(scope="module")
def bulk_load():
    """The whole history loaded at once, as a new shop's first run does, then staged."""
    with fresh_warehouse() as url:
        conn = psycopg2.connect(url)
        try:
            load_raw(conn, build_shop(), batch_id="history")
            run_dbt(["run", "--select", "staging"], url)
            yield conn
        finally:
            conn.close()


def _batch_rows(conn, source: str, batches: list[str]) -> int:
    return scalar(conn, f"select count(*) from raw.{source} where _batch_id = any(%s)", (batches,))


def test_nothing_staged_yet_gives_no_estimate(daily_loads):
    assert daily_loads["before_staging"] is None


def test_a_daily_build_re_reads_only_the_newest_load(daily_loads):
    conn = daily_loads["conn"]
    newest = f"day-{DAY_LIST[-2]}"
    estimate = estimate_reread(conn, ["events"])
    assert estimate.rows_to_reread == _batch_rows(conn, "events", [newest]) > 0
    assert estimate.rows_in_raw == scalar(conn, "select count(*) from raw.events")
    assert catch_up_needs_full_refresh(conn, ["events", "orders"])[0] is False


def test_the_next_day_adds_its_load_to_what_is_re_read(daily_loads):
    conn = daily_loads["conn"]
    last_day, rows = daily_loads["deliveries"][-1]
    load_raw(conn, rows, loaded_at=_morning_after(last_day), batch_id="last-day")
    estimate = estimate_reread(conn, ["events"])
    expected = _batch_rows(conn, "events", [f"day-{DAY_LIST[-2]}", "last-day"])
    assert estimate.rows_to_reread == expected
    assert catch_up_needs_full_refresh(conn, ["events", "orders"])[0] is False


def test_a_longer_load_overlap_re_reads_more_loads(daily_loads, monkeypatch):
    """`AIMASS_DBT_VARS` sets the overlap the estimate uses, as it sets dbt's."""
    conn = daily_loads["conn"]
    monkeypatch.setenv(transform.VARS_ENV, json.dumps({"load_overlap_minutes": 24 * 60 + 1}))
    estimate = estimate_reread(conn, ["events"])
    newest_two = [f"day-{day}" for day in DAY_LIST[-3:-1]]
    assert estimate.rows_to_reread >= _batch_rows(conn, "events", newest_two)


def test_sources_without_a_staged_table_are_left_out(daily_loads):
    """`users` is staged as a view: it holds no watermark and costs no re-read."""
    assert estimate_reread(daily_loads["conn"], ["users"]) is None


def test_the_build_after_a_bulk_load_is_a_full_refresh(bulk_load):
    full_refresh, estimate = catch_up_needs_full_refresh(bulk_load, ["events", "orders"])
    assert full_refresh is True
    assert estimate.share == 1.0
    assert estimate.rows_in_raw == scalar(
        bulk_load, "select (select count(*) from raw.events) + (select count(*) from raw.orders)"
    )


def test_the_share_that_triggers_a_full_refresh_is_a_setting(bulk_load, monkeypatch):
    monkeypatch.setenv(transform.VARS_ENV, json.dumps({"full_refresh_from_reread_share": 1.01}))
    assert catch_up_needs_full_refresh(bulk_load, ["events"])[0] is False
