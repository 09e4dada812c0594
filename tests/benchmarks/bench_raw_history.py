"""Benchmark: what a daily run reads of `raw` as the history grows, with and without its indexes.

Fills `raw.events` of a throw-away warehouse (the real layout: `ensure_layout`) with `days`
daily loads of `day_events` rows each, loaded in order as the nightly runs load them, each
followed by `summarize_raw_indexes` as `run_source` does after its loads, then times, best of `repeat`, the two ways a daily run filters the whole history:

1. the rows loaded since a watermark (dbt's staging models and the build plan read these);
2. the delete of one day's rows when a load replaces that day (rolled back).

Each is timed with the BRIN indexes the layout creates on `_loaded_at` and `_ds`, and in the same
run with index scans turned off for the query (the sequential scan the table had without them).

    .venv/bin/python -m tests.benchmarks.bench_raw_history [--days 90] [--day-events 127000]
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date, timedelta

import psycopg2

from aimass.contracts import load_contracts
from aimass.testing import temporary_database
from aimass.warehouse import ensure_layout, summarize_raw_indexes
from tests.benchmarks.common import peak_rss_mb

FIRST_DAY = date(2026, 7, 1)
FILL_SQL = """
insert into raw.events (
    event_id, event_ts, user_id, event_type, item_id, merchant_id, device_id, session_id,
    _batch_id, _loaded_at, _source_uri, _ds
)
select
    'e' || g,
    %(day)s::timestamptz + (g %% 86400) * interval '1 second',
    'u' || (g * 7919) %% %(users)s,
    (array['view', 'search', 'cart', 'favorite'])[1 + g %% 4],
    'i' || (g * 104729) %% 5000,
    'm' || g %% 300,
    'd' || g %% 50000,
    's' || g / 20,
    'day-' || %(day)s,
    %(day)s::timestamptz + interval '1 day 1 hour',
    'file:///landing/events/' || %(day)s || '/part-0000.csv',
    %(day)s::date
from generate_series(%(first)s::bigint, %(last)s::bigint) as g
"""
WATERMARK_SQL = "select count(*) from raw.events where _loaded_at >= %s"
DELETE_DAY_SQL = "delete from raw.events where _ds = %s"
NO_INDEX_SCANS = "set local enable_bitmapscan = off; set local enable_indexscan = off"


def best_of(conn, statement: str, params: tuple, repeat: int, *, use_indexes: bool) -> float:
    """Best seconds of `statement` over `repeat` runs, each in a transaction rolled back."""
    times = []
    for _ in range(repeat):
        with conn.cursor() as cur:
            if not use_indexes:
                cur.execute(NO_INDEX_SCANS)
            started = time.perf_counter()
            cur.execute(statement, params)
            times.append(time.perf_counter() - started)
        conn.rollback()
    return min(times)


def run(days: int = 90, day_events: int = 127_000, users: int = 100_000, repeat: int = 3) -> dict:
    """Seconds of the watermark count and the day delete on `days` x `day_events` raw rows."""
    with temporary_database("aimass_bench_raw") as url:
        conn = psycopg2.connect(url)
        try:
            ensure_layout(conn)
            events = load_contracts()["events"]
            started = time.perf_counter()
            for n in range(days):
                day = FIRST_DAY + timedelta(days=n)
                first = n * day_events + 1
                params = {
                    "day": day,
                    "users": users,
                    "first": first,
                    "last": first + day_events - 1,
                }
                with conn.cursor() as cur:
                    cur.execute(FILL_SQL, params)
                conn.commit()
                summarize_raw_indexes(conn, events)
            with conn.cursor() as cur:
                cur.execute("analyze raw.events")
                cur.execute("select pg_total_relation_size('raw.events')")
                table_bytes = cur.fetchone()[0]
            conn.commit()
            fill_s = time.perf_counter() - started
            last_day = FIRST_DAY + timedelta(days=days - 1)
            watermark = (last_day + timedelta(days=1),)
            timings = {
                f"{name}_{'brin' if use else 'seq_scan'}_s": round(
                    best_of(conn, statement, params, repeat, use_indexes=use), 4
                )
                for name, statement, params in (
                    ("watermark_count", WATERMARK_SQL, watermark),
                    ("delete_day", DELETE_DAY_SQL, (last_day,)),
                )
                for use in (True, False)
            }
        finally:
            conn.close()
    rows = days * day_events
    return {
        "days": days,
        "rows": rows,
        "table_mb": round(table_bytes / 2**20),
        "fill_s": round(fill_s, 1),
        **timings,
        "watermark_count_speedup": round(
            timings["watermark_count_seq_scan_s"] / timings["watermark_count_brin_s"], 1
        ),
        "delete_day_speedup": round(
            timings["delete_day_seq_scan_s"] / timings["delete_day_brin_s"], 1
        ),
        "repeat": repeat,
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--day-events", type=int, default=127_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(run(args.days, args.day_events, args.users, args.repeat), indent=2))


if __name__ == "__main__":
    main()
