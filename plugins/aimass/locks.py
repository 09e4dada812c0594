"""The warehouse's build lock: a `dbt build` reads one unchanging state of `raw`.

A build holds the lock alone (a session advisory lock, released when its session ends, also
when the process dies); every transaction that writes `raw` or changes the warehouse layout
holds it shared. So a build waits for the loads in flight, loads that start during a build
wait for it, loads run beside each other, and two builds never overlap (two incremental
merges of the same rows at once would both insert them).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2

log = logging.getLogger(__name__)

BUILD_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"aimass.dbt_build").digest()[:8], "big", signed=True
)


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
