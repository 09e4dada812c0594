"""Whether the next `dbt build` is a catch-up that a full refresh does faster.

An incremental model re-reads the raw rows loaded since the newest load it holds, minus
`load_overlap_minutes`. After a bulk load (the history of a new shop, a months-long backfill, a
first sync of a large export) that is most of `raw`, and deleting and re-inserting most of a
table costs several times a full build, which writes fresh tables and indexes them once. Both
give the same marts (`tests/dbt/test_incremental.py`), so a daily build becomes a full refresh
when the share of the raw rows it would re-read reaches `full_refresh_from_reread_share`.

The staged copy of each source (`staging.stg_<source>__*`, an incremental table with a
`loaded_at` column) stands for what the build already holds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg2 import sql

from aimass.transform import dbt_var

log = logging.getLogger(__name__)

STAGED_TABLES_SQL = """
select c.relname
from pg_class as c
join pg_namespace as n on n.oid = c.relnamespace
join pg_attribute as a on a.attrelid = c.oid and a.attname = 'loaded_at' and not a.attisdropped
where n.nspname = 'staging' and c.relkind = 'r'
"""


@dataclass(frozen=True)
class RereadEstimate:
    """Raw rows the next incremental build re-reads, out of the raw rows of the staged sources."""

    rows_to_reread: int
    rows_in_raw: int

    @property
    def share(self) -> float:
        return self.rows_to_reread / self.rows_in_raw if self.rows_in_raw else 0.0


def _staged_tables(cur, sources: list[str]) -> dict[str, list[str]]:
    """source -> its incremental staging tables (`staging.stg_<source>__*` with `loaded_at`)."""
    cur.execute(STAGED_TABLES_SQL)
    names = [name for (name,) in cur.fetchall()]
    return {source: [n for n in names if n.startswith(f"stg_{source}__")] for source in sources}


def _oldest_watermark(cur, tables: list[str]) -> datetime | None:
    """The oldest of the newest loads the `tables` hold; `None` when one of them is empty."""
    watermarks = []
    for name in tables:
        cur.execute(sql.SQL("select max(loaded_at) from staging.{}").format(sql.Identifier(name)))
        watermarks.append(cur.fetchone()[0])
    return None if None in watermarks else min(watermarks)


def estimate_reread(conn, sources: list[str]) -> RereadEstimate | None:
    """How much of `raw` an incremental build would re-read now; `None` before the first build
    (no source staged yet: dbt builds every table in full anyway)."""
    overlap = timedelta(minutes=float(dbt_var("load_overlap_minutes")))
    to_reread = in_raw = 0
    with conn.cursor() as cur:
        staged = {s: tables for s, tables in _staged_tables(cur, sources).items() if tables}
        for source, tables in staged.items():
            watermark = _oldest_watermark(cur, tables)
            cur.execute(
                sql.SQL(
                    "select count(*), count(*) filter (where _loaded_at >= %s::timestamptz) "
                    "from raw.{}"
                ).format(sql.Identifier(source)),
                (watermark - overlap if watermark else "-infinity",),
            )
            rows, newer = cur.fetchone()
            in_raw += rows
            to_reread += newer
    conn.rollback()
    return RereadEstimate(to_reread, in_raw) if staged else None


def catch_up_needs_full_refresh(conn, sources: list[str]) -> tuple[bool, RereadEstimate | None]:
    """(full refresh?, the estimate): a full refresh when the build would re-read at least
    `full_refresh_from_reread_share` of the raw rows."""
    estimate = estimate_reread(conn, sources)
    threshold = float(dbt_var("full_refresh_from_reread_share"))
    if estimate is None or estimate.share < threshold:
        return False, estimate
    log.info(
        "this build would re-read %d of %d raw rows (%.0f%%, at least %.0f%%): a catch-up after "
        "a bulk load, which a full refresh builds faster and to the same result",
        estimate.rows_to_reread,
        estimate.rows_in_raw,
        100 * estimate.share,
        100 * threshold,
    )
    return True, estimate
