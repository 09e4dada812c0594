"""The warehouse's build lock: a `dbt build` reads one unchanging state of `raw`.

A build holds the lock alone (a session advisory lock, released when its session ends, also
when the process dies); every transaction that writes `raw` or changes the warehouse layout
holds it shared. So a build waits for the loads in flight, loads that start during a build
wait for it, loads run beside each other, and two builds never overlap (two incremental
merges of the same rows at once would both insert them).

Changes to the layout (schemas, tables, grants) also hold the layout lock alone: two
transactions granting on the same catalog row at once make PostgreSQL fail the second with
"tuple concurrently updated", as parallel runs of a backfill would.

No wait is unbounded: loads and builds wait at most `AIMASS_LOCK_TIMEOUT_S` seconds (default
900) for a lock, then fail with `LockTimeoutError`, which names the sessions holding it.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import psycopg2

log = logging.getLogger(__name__)


def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


BUILD_LOCK_KEY = _lock_key("aimass.dbt_build")
LAYOUT_LOCK_KEY = _lock_key("aimass.layout")
DEFAULT_LOCK_TIMEOUT_S = 900
# table lock modes that conflict with the RowExclusiveLock of a delete, COPY or insert
WRITE_BLOCKING_MODES = (
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
)


class LockTimeoutError(RuntimeError):
    """A lock was not granted within `AIMASS_LOCK_TIMEOUT_S`; nothing was changed. Transient:
    a retry succeeds once the holder is done."""


def lock_timeout_s() -> float:
    """The longest wait for a lock, in seconds (`AIMASS_LOCK_TIMEOUT_S`)."""
    return float(os.environ.get("AIMASS_LOCK_TIMEOUT_S") or DEFAULT_LOCK_TIMEOUT_S)


def set_lock_timeout(cur, *, local: bool = True) -> None:
    """Bound the lock waits of the cursor's transaction (or, `local=False`, its session)."""
    scope = "local " if local else ""
    cur.execute(f"set {scope}lock_timeout = %s", (f"{int(lock_timeout_s() * 1000)}ms",))


def lock_holders(
    cur, advisory_keys: Iterable[int] = (), relations: Iterable[str] = ()
) -> list[str]:
    """The other sessions holding one of the advisory locks alone, or a lock on one of the
    tables that blocks writes, each described by pid, user, application, state, how long
    and its query (shared holds, such as loads beside each other, block nobody)."""
    keys = list(advisory_keys)
    high, low = [(k >> 32) & 0xFFFFFFFF for k in keys], [k & 0xFFFFFFFF for k in keys]
    cur.execute(
        r"""select distinct a.pid, a.usename, a.application_name, a.state,
                  date_trunc('second', now() - coalesce(a.xact_start, a.backend_start)),
                  left(regexp_replace(a.query, '\s+', ' ', 'g'), 120)
           from pg_locks l join pg_stat_activity a on a.pid = l.pid
           where l.granted and l.pid <> pg_backend_pid()
             and l.database = (select oid from pg_database where datname = current_database())
             and ((l.locktype = 'advisory' and l.mode = 'ExclusiveLock'
                   and (l.classid::bigint, l.objid::bigint) in
                       (select * from unnest(%s::bigint[], %s::bigint[])))
               or (l.locktype = 'relation' and l.mode = any(%s)
                   and l.relation = any(array(select to_regclass(r) from unnest(%s::text[]) r))))
           order by a.pid""",
        (high, low, list(WRITE_BLOCKING_MODES), list(relations)),
    )
    return [
        f"pid {pid} (user {user}, application {app or '?'!r}, {state} for {held}: {query!r})"
        for pid, user, app, state, held, query in cur.fetchall()
    ]


def lock_timeout_error(what: str, holders: list[str]) -> LockTimeoutError:
    """The error for a wait that hit the lock timeout, naming who holds the lock."""
    who = "; ".join(holders) if holders else "a session that has since ended"
    return LockTimeoutError(
        f"{what}: no lock within {lock_timeout_s():g} s (AIMASS_LOCK_TIMEOUT_S); it is held by "
        f"{who}. Nothing was changed. Retry when that session is done, or end it (select "
        "pg_terminate_backend(<pid>)) if it is stuck."
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
                set_lock_timeout(cur, local=False)
                try:
                    cur.execute("select pg_advisory_lock(%s)", (BUILD_LOCK_KEY,))
                except psycopg2.errors.LockNotAvailable:
                    holders = lock_holders(cur, [BUILD_LOCK_KEY])
                    raise lock_timeout_error("dbt build", holders) from None
        yield
    finally:
        conn.close()


def share_build_lock(cur) -> None:
    """Hold the build lock shared until the cursor's transaction ends (waits for a build)."""
    cur.execute("select pg_advisory_xact_lock_shared(%s)", (BUILD_LOCK_KEY,))


def hold_layout_lock(cur) -> None:
    """Hold the layout lock alone until the cursor's transaction ends (waits for other changes)."""
    cur.execute("select pg_advisory_xact_lock(%s)", (LAYOUT_LOCK_KEY,))
