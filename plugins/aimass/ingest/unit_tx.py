"""The database side of one (source, day) load, run in a worker thread.

The worker opens the unit's transaction, takes `pg_advisory_xact_lock` on (source, day) and
the warehouse's build lock shared (`aimass.locks`: never while a dbt build reads raw),
deletes the unit's previous rows from `raw.<source>` and `quarantine.<source>` and then
COPYs (binary format) the chunks the loading thread hands it, so the server deletes and
inserts while the client parses, validates and encodes. Quarantine rows and the
`raw._load_log` row are written in the same transaction; anything that goes wrong rolls
all of it back.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from dataclasses import dataclass
from datetime import date

import pyarrow as pa
import pyarrow.csv as pa_csv
from psycopg2 import sql
from psycopg2.extensions import TRANSACTION_STATUS_IDLE

from aimass.contracts import SourceContract
from aimass.ingest.errors import ConnectionStateError
from aimass.ingest.pgbinary import HEADER, TRAILER
from aimass.locks import share_build_lock

_END = object()
_ABORT = object()
_QUEUE_CHUNKS = 4


class LoadAborted(Exception):
    """The loading thread gave up; the worker rolls the unit's transaction back."""


@dataclass
class Closing:
    """What the worker writes after the raw rows: quarantine rows and the load-log row."""

    quarantine: pa.Table
    log_row: dict


class UnitTransaction:
    """One unit's transaction in a worker thread; feed it with `put`, end with `finish`."""

    def __init__(
        self,
        conn,
        contract: SourceContract,
        *,
        ds: date,
        unit_uri: str,
        checksum: str,
        skip_unchanged: bool,
        raw_columns: list[str],
    ):
        check_idle(conn)
        self.conn, self.contract, self.ds = conn, contract, ds
        self.unit_uri, self.checksum, self.skip_unchanged = unit_uri, checksum, skip_unchanged
        self.raw_columns = raw_columns
        self.skipped = False
        self._ready = threading.Event()
        self._queue: queue.Queue = queue.Queue(maxsize=_QUEUE_CHUNKS)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"load-{contract.name}-{ds}")

    def start(self) -> UnitTransaction:
        self._thread.start()
        return self

    def wait_ready(self) -> bool:
        """Wait until the lock is held and old rows are deleted; True if the unit is skipped."""
        while not self._ready.wait(0.2):
            self._raise_if_dead()
        if self.skipped:  # the worker commits its (empty) transaction and ends
            self._thread.join()
        self._raise_if_failed()
        return self.skipped

    def put(self, chunk: bytes) -> None:
        """Hand one encoded chunk of rows to the COPY."""
        self._put(chunk)

    def finish(self, closing: Closing) -> None:
        """End the COPY, write quarantine and load log, commit; raise what went wrong."""
        self._put(_END)
        self._put(closing)
        self._thread.join()
        self._raise_if_failed()

    def abort(self) -> None:
        """Roll the unit back (safe to call at any point, also after a failure)."""
        if self._thread.is_alive():
            try:
                self._queue.put(_ABORT, timeout=1)
            except queue.Full:
                pass
            while self._thread.is_alive():
                try:  # make room so the worker sees the abort
                    self._queue.get_nowait()
                    self._queue.put_nowait(_ABORT)
                except (queue.Empty, queue.Full):
                    pass
                self._thread.join(0.1)

    def _put(self, item) -> None:
        while True:
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                self._raise_if_dead()

    def _raise_if_dead(self) -> None:
        if not self._thread.is_alive():
            self._raise_if_failed()
            raise LoadAborted("the load worker stopped unexpectedly")

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        try:
            with transaction(self.conn) as cur:
                self._load(cur)
        except LoadAborted:
            pass
        except BaseException as exc:  # handed to the loading thread
            self._error = exc
        finally:
            self._ready.set()

    def _load(self, cur) -> None:
        table = sql.Identifier(self.contract.name)
        cur.execute("set local timezone to 'UTC'")
        cur.execute(
            "select pg_advisory_xact_lock(%s)", (unit_lock_key(self.contract.name, self.ds),)
        )
        if (
            self.skip_unchanged
            and last_checksum(cur, self.contract.name, self.ds, self.unit_uri) == self.checksum
        ):
            self.skipped = True
            self._ready.set()
            return
        share_build_lock(cur)  # a running dbt build reads raw to the end first
        cur.execute(sql.SQL("delete from raw.{} where _ds = %s").format(table), (self.ds,))
        cur.execute(sql.SQL("delete from quarantine.{} where _ds = %s").format(table), (self.ds,))
        self._ready.set()
        columns = sql.SQL(", ").join(sql.Identifier(c) for c in self.raw_columns)
        copy = sql.SQL("copy raw.{} ({}) from stdin with (format binary)").format(table, columns)
        cur.copy_expert(copy.as_string(cur), _QueueReader(self._queue), 1 << 20)
        closing = self._queue.get()
        if closing is _ABORT:
            raise LoadAborted()
        copy_csv(cur, sql.SQL("quarantine.{}").format(table), closing.quarantine)
        upsert_load_log(cur, **closing.log_row)


class _QueueReader:
    """A file-like `read()` over the queue of encoded chunks, framed as one binary COPY."""

    def __init__(self, chunks: queue.Queue):
        self._chunks = chunks
        self._started = False
        self._done = False

    def read(self, size: int = -1) -> bytes:
        if self._done:
            return b""
        item = self._chunks.get()
        if item is _ABORT:
            raise LoadAborted("load aborted by the loading thread")
        prefix = b"" if self._started else HEADER
        self._started = True
        if item is _END:
            self._done = True
            return prefix + TRAILER
        return prefix + item


def check_idle(conn) -> None:
    if conn.closed:
        raise ConnectionStateError("the warehouse connection is closed; open a new one.")
    if conn.get_transaction_status() != TRANSACTION_STATUS_IDLE:
        raise ConnectionStateError(
            "the warehouse connection has an open transaction; commit or roll it back before "
            "loading (each load commits its own transaction)."
        )


class transaction:  # noqa: N801 - used like a function: `with transaction(conn) as cur`
    """A cursor in one transaction on `conn` (committed on success, rolled back on error)."""

    def __init__(self, conn):
        check_idle(conn)
        self.conn = conn

    def __enter__(self):
        self.autocommit = self.conn.autocommit
        self.conn.autocommit = False
        self.cur = self.conn.cursor()
        return self.cur

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.conn.commit()
            elif not self.conn.closed:
                self.conn.rollback()
        finally:
            self.cur.close()
            if not self.conn.closed:
                self.conn.autocommit = self.autocommit
        return False


def unit_lock_key(source: str, ds: date | None) -> int:
    """The advisory-lock key (signed 64-bit) of one (source, day) unit."""
    digest = hashlib.sha256(f"aimass.ingest:{source}:{ds}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def last_checksum(cur, source: str, ds: date, unit_uri: str) -> str | None:
    """Checksum of the last successful load of this unit (same day and same uri)."""
    cur.execute(
        "select checksum from raw._load_log where source = %s and ds = %s and source_uri = %s "
        "and status = 'loaded' order by finished_at desc limit 1",
        (source, ds, unit_uri),
    )
    row = cur.fetchone()
    return row[0] if row else None


def upsert_load_log(
    cur,
    *,
    batch_id,
    source,
    ds,
    source_uri,
    status,
    started_at,
    duration_s,
    rows_in=0,
    rows_loaded=0,
    rows_rejected=0,
    checksum=None,
    message="",
) -> None:
    cur.execute(
        """insert into raw._load_log (batch_id, source, ds, source_uri, status, rows_in,
               rows_loaded, rows_rejected, checksum, started_at, finished_at, duration_s, message)
           values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, clock_timestamp(), %s, %s)
           on conflict (batch_id) do update set status = excluded.status,
               rows_in = excluded.rows_in, rows_loaded = excluded.rows_loaded,
               rows_rejected = excluded.rows_rejected, checksum = excluded.checksum,
               finished_at = excluded.finished_at, duration_s = excluded.duration_s,
               message = excluded.message""",
        (
            batch_id,
            source,
            ds,
            source_uri,
            status,
            rows_in,
            rows_loaded,
            rows_rejected,
            checksum,
            started_at,
            duration_s,
            message or None,
        ),
    )


def copy_csv(cur, target: sql.Composable, rows: pa.Table) -> None:
    """COPY a (small) Arrow table into `target` through pyarrow's CSV writer."""
    if rows.num_rows == 0:
        return
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(rows, sink, pa_csv.WriteOptions(include_header=False))
    columns = sql.SQL(", ").join(sql.Identifier(name) for name in rows.column_names)
    statement = sql.SQL("copy {} ({}) from stdin with (format csv)").format(target, columns)
    cur.copy_expert(statement.as_string(cur), pa.BufferReader(sink.getvalue()), 1 << 20)
