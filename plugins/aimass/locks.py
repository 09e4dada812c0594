"""The warehouse's build lock: a `dbt build` reads one unchanging state of `raw`.

A build holds the lock alone (a session advisory lock, released when its session ends, also
when the process dies); every transaction that writes `raw` or changes the warehouse layout
holds it shared. So a build waits for the loads in flight, loads that start during a build
wait for it, loads run beside each other, and two builds never overlap (two incremental
merges of the same rows at once would both insert them).

Changes to the layout (schemas, tables, grants) also hold the layout lock alone: two
transactions granting on the same catalog row at once make PostgreSQL fail the second with
"tuple concurrently updated", as parallel runs of a backfill would.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2

log = logging.getLogger(__name__)


def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


BUILD_LOCK_KEY = _lock_key("aimass.dbt_build")
LAYOUT_LOCK_KEY = _lock_key("aimass.layout")


@contextmanager
def build_lock(warehouse_url: str) -> Iterator[None]:
    """Hold the build lock alone for the duration of the block."""
    conn = psycopg2.connect(warehouse_url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("select pg_try_advisory_lock(%s)", (BUILD_LOCK_KEY,))
            if not cur.fetchone()[0]:
                log.info(
                    "another dbt build or a load is running on this warehouse; "
                    "waiting for it to finish"
                )
                cur.execute("select pg_advisory_lock(%s)", (BUILD_LOCK_KEY,))
        yield
    finally:
        conn.close()


def share_build_lock(cur) -> None:
    """Hold the build lock shared until the cursor's transaction ends (waits for a build)."""
    cur.execute("select pg_advisory_xact_lock_shared(%s)", (BUILD_LOCK_KEY,))


def hold_layout_lock(cur) -> None:
    """Hold the layout lock alone until the cursor's transaction ends (waits for other changes)."""
    cur.execute("select pg_advisory_xact_lock(%s)", (LAYOUT_LOCK_KEY,))
