"""`run_source`: after its loads, the BRIN indexes of `raw.<source>` cover the new rows, so the
next run's watermark scan reads the newest pages, not the whole history."""

from __future__ import annotations

import json
from datetime import timedelta

from aimass.ingest import run_source
from aimass.settings import Settings
from tests.ingest.helpers import DAY, PII_KEY, many_events_csv, write_partition

DAYS = 3
EVENTS_PER_DAY = 15_000  # about 3 BRIN page ranges (128 pages) of raw.events per day


def _heap_blocks_read(conn, where: str) -> tuple[int, int]:
    """(heap blocks a bitmap scan of raw.events `where` reads, pages of raw.events)."""
    with conn.cursor() as cur:
        cur.execute("set local enable_seqscan = off")
        cur.execute(f"explain (analyze, format json) select count(*) from raw.events where {where}")
        plan = cur.fetchone()[0]
        cur.execute("select pg_relation_size('raw.events') / current_setting('block_size')::int")
        pages = cur.fetchone()[0]
    conn.rollback()

    def lossy(node: dict) -> int:
        own = node.get("Lossy Heap Blocks", 0) + node.get("Exact Heap Blocks", 0)
        return own + sum(lossy(child) for child in node.get("Plans", []))

    plan = plan if isinstance(plan, list) else json.loads(plan)
    return lossy(plan[0]["Plan"]), pages


def test_after_a_run_the_newest_load_is_found_without_reading_the_history(
    warehouse, contracts, landing
):
    for k in range(DAYS):
        day = DAY + timedelta(days=k)
        write_partition(landing, "events", day, many_events_csv(EVENTS_PER_DAY, day, f"d{k}-"))
    settings = Settings(
        home=None, warehouse_url=None, landing_uri=landing.as_uri(), pii_key=PII_KEY.decode()
    )
    results = run_source(warehouse, contracts["events"], DAY + timedelta(days=DAYS - 1), settings)
    assert [r.status for r in results] == ["loaded"] * DAYS

    read, pages = _heap_blocks_read(
        warehouse, "_loaded_at >= (select max(_loaded_at) from raw.events)"
    )
    assert pages > 3 * 128 * DAYS * 0.8  # the history spans several page ranges
    assert read < 0.6 * pages, (read, pages)
