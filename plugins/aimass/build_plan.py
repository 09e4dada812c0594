"""Whether the next `dbt build` is a catch-up that a full refresh does faster.

An incremental model re-reads the raw rows loaded since the newest load it holds, minus
`load_overlap_minutes`. After a bulk load (the history of a new shop, a months-long backfill, a
first sync of a large export) that is most of `raw`, and deleting and re-inserting most of a
table costs several times a full build, which writes fresh tables and indexes them once. Both
give the same marts (`tests/dbt/test_incremental.py`), so a daily build becomes a full refresh
when the share of the raw rows it would re-read reaches `full_refresh_from_reread_share`.

The staged copy of each source (`staging.stg_<source>__*`, an incremental table with a
`loaded_at` column) stands for what the build already holds.

**The load overlap a build needs.** `load_overlap_minutes` covers loads stamped (by their
machine's clock) before the newest load a build saw but committed after it. The load log says
which loads those can be: a load the build did not see committed after the build asked for
the build lock, and `raw._load_log.finished_at` is the database's clock. `record_build` keeps,
for every successful `build_marts`, when it asked for the lock and the newest load time in
`raw` after it (`audit.dbt_builds`); the next build then needs only the overlap that reaches
the oldest load committed since (`needed_overlap`), at most the configured one. So the first
daily build after a bulk load (a history import, whose own full build saw all of it) re-reads
the new day, not the whole history, however soon after the import it runs.
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from psycopg2 import sql

from aimass.transform import dbt_var

log = logging.getLogger(__name__)

BUILD_LOG_LOCK_KEY = "aimass.audit.dbt_builds"
BUILD_LOG_DDL = """
create schema if not exists audit;
create table if not exists audit.dbt_builds (
    build_id text primary key,
    run_date date,
    requested_at timestamptz not null,
    finished_at timestamptz not null default clock_timestamp(),
    full_refresh boolean not null,
    load_overlap_minutes double precision not null,
    newest_load_at timestamptz,
    rows_to_reread bigint,
    rows_in_raw bigint,
    seconds double precision not null
);
comment on table audit.dbt_builds is
    'One row per successful build_marts: requested_at is the database clock before the build '
    'asked for the build lock (every load committed after it may be unseen by the build), '
    'newest_load_at the newest raw._loaded_at after it (no model holds a newer load).';
"""

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


def estimate_reread(
    conn, sources: list[str], *, overlap_minutes: float | None = None
) -> RereadEstimate | None:
    """How much of `raw` an incremental build would re-read now (with `overlap_minutes`,
    default the configured `load_overlap_minutes`); `None` before the first build (no source
    staged yet: dbt builds every table in full anyway)."""
    if overlap_minutes is None:
        overlap_minutes = float(dbt_var("load_overlap_minutes"))
    overlap = timedelta(minutes=overlap_minutes)
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


def catch_up_needs_full_refresh(
    conn, sources: list[str], *, overlap_minutes: float | None = None
) -> tuple[bool, RereadEstimate | None]:
    """(full refresh?, the estimate): a full refresh when the build would re-read at least
    `full_refresh_from_reread_share` of the raw rows."""
    estimate = estimate_reread(conn, sources, overlap_minutes=overlap_minutes)
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


@dataclass(frozen=True)
class BuildPlan:
    """How the next `dbt build` runs: full refresh or not, and its `load_overlap_minutes`."""

    full_refresh: bool
    load_overlap_minutes: float
    estimate: RereadEstimate | None
    overlap_reason: str


def ensure_build_log(conn) -> None:
    """Create `audit.dbt_builds` if missing (safe when concurrent)."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass('audit.dbt_builds')")
        if cur.fetchone()[0] is None:
            cur.execute("select pg_advisory_xact_lock(hashtext(%s))", (BUILD_LOG_LOCK_KEY,))
            cur.execute(BUILD_LOG_DDL)
    conn.commit()


def _newest_loads(cur, sources: list[str], since: datetime) -> datetime | None:
    """The newest `_loaded_at` in the raw tables of `sources` from `since` on (a BRIN range
    scan: older pages are skipped), `None` when nothing was loaded since."""
    newest = None
    for source in sources:
        cur.execute("select to_regclass(%s)", (f"raw.{source}",))
        if cur.fetchone()[0] is None:
            continue
        cur.execute(
            sql.SQL("select max(_loaded_at) from raw.{} where _loaded_at >= %s").format(
                sql.Identifier(source)
            ),
            (since,),
        )
        value = cur.fetchone()[0]
        if value is not None and (newest is None or value > newest):
            newest = value
    return newest


def _newest_staged_load(cur, sources: list[str]) -> datetime | None:
    """The newest load any staged table of `sources` holds."""
    newest = None
    for tables in _staged_tables(cur, sources).values():
        for name in tables:
            cur.execute(
                sql.SQL("select max(loaded_at) from staging.{}").format(sql.Identifier(name))
            )
            value = cur.fetchone()[0]
            if value is not None and (newest is None or value > newest):
                newest = value
    return newest


def needed_overlap(conn, sources: list[str], configured: float) -> tuple[float, str]:
    """(minutes, why): the load overlap the next build needs, at most `configured`.

    From the last recorded build: the loads committed since it asked for the build lock
    (`raw._load_log.finished_at`, the database's clock) are the only ones it may not have
    seen; the overlap must reach back from the newest load it held (`newest_load_at`) to the
    oldest of theirs. With no recorded build, or when a staged table holds a newer load than
    the record allows (a build ran that `build_marts` did not record), the configured overlap.
    """
    ensure_build_log(conn)
    with conn.cursor() as cur:
        cur.execute(
            "select requested_at, newest_load_at from audit.dbt_builds "
            "order by finished_at desc limit 1"
        )
        last = cur.fetchone()
        if last is None:
            conn.rollback()
            return configured, "no earlier build recorded in audit.dbt_builds"
        requested_at, newest_held = last
        staged = _newest_staged_load(cur, sources)
        if newest_held is None or (staged is not None and staged > newest_held):
            conn.rollback()
            return configured, "a build that audit.dbt_builds does not record ran since"
        cur.execute(
            "select source, array_agg(batch_id) from raw._load_log where status = 'loaded' "
            "and rows_loaded > 0 and finished_at > %s and source = any(%s) group by source",
            (requested_at, sources),
        )
        unseen = dict(cur.fetchall())
        floor = newest_held - timedelta(minutes=configured)
        oldest = None
        for source, batches in unseen.items():
            cur.execute(
                sql.SQL(
                    "select min(_loaded_at) from raw.{} "
                    "where _loaded_at >= %s and _batch_id = any(%s)"
                ).format(sql.Identifier(source)),
                (floor, batches),
            )
            value = cur.fetchone()[0]
            if value is None:  # its rows lie before the floor (or were replaced since)
                conn.rollback()
                return configured, f"{source} has loads since the last build stamped long before"
            oldest = value if oldest is None else min(oldest, value)
    conn.rollback()
    if oldest is None or oldest >= newest_held:
        return 0.0, "every load since the last build is newer than the loads it held"
    minutes = math.ceil((newest_held - oldest).total_seconds() / 60 * 100) / 100
    if minutes >= configured:
        return configured, "a load since the last build is stamped before the loads it held"
    return minutes, "a load since the last build is stamped before the newest load it held"


def plan_build(conn, sources: list[str], *, full_refresh: bool = False) -> BuildPlan:
    """The next build: its load overlap (`needed_overlap`) and whether it is a full refresh
    (asked for, or a catch-up that would re-read at least `full_refresh_from_reread_share`)."""
    configured = float(dbt_var("load_overlap_minutes"))
    overlap, reason = needed_overlap(conn, sources, configured)
    if full_refresh:
        return BuildPlan(True, overlap, None, reason)
    catch_up, estimate = catch_up_needs_full_refresh(conn, sources, overlap_minutes=overlap)
    return BuildPlan(catch_up, overlap, estimate, reason)


def database_now(conn) -> datetime:
    """The database's clock (the clock `raw._load_log.finished_at` is written with)."""
    with conn.cursor() as cur:
        cur.execute("select clock_timestamp()")
        now = cur.fetchone()[0]
    conn.rollback()
    return now


def record_build(
    conn,
    plan: BuildPlan,
    sources: list[str],
    *,
    run_date: date | None,
    requested_at: datetime,
    seconds: float,
) -> str:
    """Record a successful build in `audit.dbt_builds`; returns its id. `requested_at` must be
    the database clock before the build asked for the build lock."""
    ensure_build_log(conn)
    configured = float(dbt_var("load_overlap_minutes"))
    build_id = str(uuid.uuid4())
    with conn.cursor() as cur:
        since = requested_at - timedelta(minutes=configured)
        # nothing loaded since `since`: every load lies before it, so `since` bounds them
        newest = _newest_loads(cur, sources, since) or since
        cur.execute(
            "insert into audit.dbt_builds (build_id, run_date, requested_at, full_refresh, "
            "load_overlap_minutes, newest_load_at, rows_to_reread, rows_in_raw, seconds) "
            "values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                build_id,
                run_date,
                requested_at,
                plan.full_refresh,
                plan.load_overlap_minutes,
                newest,
                plan.estimate.rows_to_reread if plan.estimate else None,
                plan.estimate.rows_in_raw if plan.estimate else None,
                seconds,
            ),
        )
    conn.commit()
    return build_id
