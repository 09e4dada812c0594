"""The one load path into `raw`: parse, validate, then one transaction per (source, day).

In that transaction (see `unit_tx`): `pg_advisory_xact_lock` on (source, day) so two loads
of one unit never interleave, delete the unit's rows from `raw.<source>` and
`quarantine.<source>`, binary-COPY the good rows, COPY the rejects, upsert the unit's row
in `raw._load_log`. A load that dies half-way (exception, SIGKILL) rolls back and leaves the
previous state; a failed load leaves only a `failed` row in the load log.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.compute as pc
from psycopg2 import sql
from psycopg2.extensions import TRANSACTION_STATUS_IDLE

from aimass.contracts import LOAD_COLUMNS, SourceContract
from aimass.ingest.errors import IngestError, TooManyBadRowsError, WarehouseConnectionLostError
from aimass.ingest.parse import parse_payload
from aimass.ingest.payload import Payload, unit_checksum
from aimass.ingest.pgbinary import encode_rows
from aimass.ingest.result import LoadResult
from aimass.ingest.unit_tx import (
    Closing,
    UnitTransaction,
    copy_csv,
    transaction,
    unit_lock_key,
    upsert_load_log,
)
from aimass.ingest.validate import (
    CHUNK_ROWS,
    QuarantineRow,
    RowValidator,
    ValidatedRows,
    day_window,
    top_reasons,
    validate_rows,
)

log = logging.getLogger(__name__)


def load_unit(
    conn,
    contract: SourceContract,
    payloads: Sequence[Payload],
    *,
    ds: date,
    pii_key: bytes,
    unit_uri: str,
    day_column: str | None = None,
    late_days: int | None = None,
    force: bool = True,
    checksum: str | None = None,
) -> LoadResult:
    """Load the files of one (source, ds) unit; rows get `_ds = ds`.

    `day_column` (default: the contract's partition column, none for snapshots) must lie in
    [ds - late_days, ds + 1 day). Without `force`, a unit whose checksum equals the last
    successful load of the same `unit_uri` is skipped. `checksum` (of the payloads) may be
    passed when the caller already computed it.
    """
    started, started_at = time.monotonic(), datetime.now(UTC)
    batch_id = str(uuid.uuid4())
    checksum = checksum or unit_checksum(payloads, pii_key)
    if day_column is None and not contract.is_snapshot:
        day_column = contract.partition
    late_days = contract.late_arrival_days if late_days is None else late_days
    tx = UnitTransaction(
        conn,
        contract,
        ds=ds,
        unit_uri=unit_uri,
        checksum=checksum,
        skip_unchanged=not force,
        raw_columns=raw_columns(contract),
    ).start()
    try:
        parts = [parse_payload(p, contract) for p in payloads]
        window = day_window(ds, late_days) if day_column else None
        validator = RowValidator(
            parts, contract, pii_key=pii_key, day_column=day_column, window=window
        )
        for message in validator.warnings:
            log.warning("%s %s: %s", contract.name, ds, message)
        if tx.wait_ready():
            return _skipped(contract, ds, unit_uri, checksum, started)
        loaded_at, rows_loaded = datetime.now(UTC), 0
        for chunk in validator.chunks():
            if validator.bad_fraction() > contract.max_bad_fraction:
                tx.abort()  # keep validating, for the error's numbers; write nothing
                continue
            tx.put(encode_chunk(contract, chunk.table, batch_id, loaded_at, ds))
            rows_loaded += chunk.table.num_rows
        check_bad_fraction(contract, validator, ds)
        return _finish(
            tx,
            contract,
            validator.rejects,
            ds=ds,
            unit_uri=unit_uri,
            batch_id=batch_id,
            rows_in=validator.rows_in,
            rows_loaded=rows_loaded,
            checksum=checksum,
            started=started,
            started_at=started_at,
            warnings=validator.warnings,
        )
    except BaseException as exc:
        tx.abort()
        if isinstance(exc, Exception):
            record_failure(
                conn, contract, ds, unit_uri, batch_id, checksum, started, started_at, exc
            )
        raise_if_connection_lost(conn, contract, ds, exc)
        raise


def load_history_unit(
    conn,
    contract: SourceContract,
    payloads: Sequence[Payload],
    *,
    pii_key: bytes,
    unit_uri: str,
    day_column: str | None = None,
    also_replace: Iterable[date] = (),
    checksum: str | None = None,
    skip_days: Iterable[date] = (),
) -> list[LoadResult]:
    """Load a multi-day export: each row's `_ds` is the UTC day of `day_column` (default:
    the partition column; snapshot sources: `incremental_column`); one transaction per day
    replaces that day. Days in `also_replace` without rows in the export are emptied. The
    rows of `skip_days` (days another unit owns, e.g. a daily partition) are left out and
    those days are not touched."""
    started, started_at = time.monotonic(), datetime.now(UTC)
    checksum = checksum or unit_checksum(payloads, pii_key)
    if day_column is None:
        day_column = contract.incremental_column if contract.is_snapshot else contract.partition
    if day_column is None:
        raise IngestError(
            f"source {contract.name!r} is a snapshot without `incremental_column`; a history "
            "export needs it to place rows on days. Set it in sources.yml."
        )
    try:
        parts = [parse_payload(p, contract) for p in payloads]
        rows = validate_rows(
            parts, contract, pii_key=pii_key, day_column=day_column, split_by_day=True
        )
        for message in rows.warnings:
            log.warning("%s history: %s", contract.name, message)
        check_bad_fraction(contract, rows, None)
    except Exception as exc:
        record_failure(
            conn,
            contract,
            started_at.date(),
            unit_uri,
            str(uuid.uuid4()),
            checksum,
            started,
            started_at,
            exc,
        )
        raise
    by_day: dict[date | None, list[QuarantineRow]] = {}
    for reject in rows.rejects:
        by_day.setdefault(reject.day, []).append(reject)
    skipped = set(skip_days)
    row_days = set(pc.unique(rows.days).to_pylist()) if len(rows.days) else set()
    days = sorted((row_days | {d for d in by_day if d is not None} | set(also_replace)) - skipped)
    left_out = sorted(skipped & row_days)
    if left_out:
        log.warning(
            "%s history: the rows of %d day(s) (%s to %s) are left out: those days have daily "
            "partitions, which are loaded instead",
            contract.name,
            len(left_out),
            left_out[0],
            left_out[-1],
        )
    results = []
    for day in days:
        good = rows.good.filter(pc.equal(rows.days, pa.scalar(day, pa.date32())))
        rejects = by_day.get(day, [])
        day_started, day_started_at = time.monotonic(), datetime.now(UTC)
        batch_id = str(uuid.uuid4())
        tx = UnitTransaction(
            conn,
            contract,
            ds=day,
            unit_uri=unit_uri,
            checksum=checksum,
            skip_unchanged=False,
            raw_columns=raw_columns(contract),
        ).start()
        try:
            tx.wait_ready()
            loaded_at = datetime.now(UTC)
            for lo in range(0, good.num_rows, CHUNK_ROWS):
                tx.put(encode_chunk(contract, good.slice(lo, CHUNK_ROWS), batch_id, loaded_at, day))
            results.append(
                _finish(
                    tx,
                    contract,
                    rejects,
                    ds=day,
                    unit_uri=unit_uri,
                    batch_id=batch_id,
                    rows_in=good.num_rows + len(rejects),
                    rows_loaded=good.num_rows,
                    checksum=checksum,
                    started=day_started,
                    started_at=day_started_at,
                    warnings=rows.warnings,
                )
            )
        except BaseException as exc:
            tx.abort()
            if isinstance(exc, Exception):
                record_failure(
                    conn,
                    contract,
                    day,
                    unit_uri,
                    batch_id,
                    checksum,
                    day_started,
                    day_started_at,
                    exc,
                )
            raise_if_connection_lost(conn, contract, day, exc)
            raise
    replace_undated_rejects(conn, contract, [p.uri for p in payloads], by_day.get(None, []))
    return results


def raise_if_connection_lost(conn, contract: SourceContract, ds, exc: BaseException) -> None:
    """Turn the error of a load whose warehouse connection broke into one clear error."""
    if not conn.closed or not isinstance(exc, Exception):
        return
    first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    raise WarehouseConnectionLostError(
        f"{contract.name} {ds}: the connection to the warehouse was lost during the load "
        f"({type(exc).__name__}: {first_line}). Nothing of this unit was committed; retry the "
        "task (or re-run the day) once PostgreSQL answers again."
    ) from exc


def raw_columns(contract: SourceContract) -> list[str]:
    return contract.column_names + list(LOAD_COLUMNS)


def encode_chunk(
    contract: SourceContract, table: pa.Table, batch_id: str, loaded_at: datetime, ds: date
) -> bytes:
    """Binary COPY rows of `raw.<source>` for a chunk of good rows."""
    uris = table.column("_source_uri")
    one_uri = table.num_rows and pc.all(pc.equal(uris, uris[0])).as_py()  # no hashing
    columns = [(c.pg_type, table.column(c.name)) for c in contract.columns]
    columns += [
        ("text", pa.scalar(batch_id)),
        ("timestamptz", pa.scalar(loaded_at, pa.timestamp("us", tz="UTC"))),
        ("text", pa.scalar(uris[0].as_py()) if one_uri else uris),
        ("date", pa.scalar(ds, pa.date32())),
    ]
    return encode_rows(columns, table.num_rows).to_pybytes()


def _finish(
    tx: UnitTransaction,
    contract,
    rejects,
    *,
    ds,
    unit_uri,
    batch_id,
    rows_in,
    rows_loaded,
    checksum,
    started,
    started_at,
    warnings,
) -> LoadResult:
    """End the COPY, write quarantine rows and the load log, commit."""
    message = "; ".join(warnings)
    top = top_reasons(rejects)
    log_row = dict(
        batch_id=batch_id,
        source=contract.name,
        ds=ds,
        source_uri=unit_uri,
        status="loaded",
        rows_in=rows_in,
        rows_loaded=rows_loaded,
        rows_rejected=len(rejects),
        checksum=checksum,
        started_at=started_at,
        duration_s=time.monotonic() - started,
        message=message,
    )
    tx.finish(Closing(quarantine_table(rejects, batch_id, ds), log_row))
    for reason, count in top:
        log.info("%s %s: quarantined %d rows: %s", contract.name, ds, count, reason)
    return LoadResult(
        contract.name,
        ds,
        batch_id,
        "loaded",
        rows_in=rows_in,
        rows_loaded=rows_loaded,
        rows_rejected=len(rejects),
        checksum=checksum,
        duration_s=time.monotonic() - started,
        top_reasons=top,
        source_uri=unit_uri,
        message=message,
        warnings=tuple(warnings),
    )


def _skipped(contract, ds, unit_uri, checksum, started) -> LoadResult:
    return LoadResult(
        contract.name,
        ds,
        None,
        "skipped",
        checksum=checksum,
        source_uri=unit_uri,
        duration_s=time.monotonic() - started,
        message="unchanged since the last load",
    )


def check_bad_fraction(
    contract: SourceContract, rows: ValidatedRows | RowValidator, ds: date | None
) -> None:
    """Raise `TooManyBadRowsError` when more than `max_bad_fraction` of the rows are bad."""
    fraction = rows.bad_fraction()
    if fraction <= contract.max_bad_fraction:
        return
    per_file = Counter(r.uri for r in rows.rejects)
    worst = [uri for uri, _ in per_file.most_common(3)]
    top = "; ".join(f"{reason} ({count})" for reason, count in rows.top_reasons[:3])
    bad = round(fraction * rows.rows_in)
    error = TooManyBadRowsError(
        f"{contract.name} {ds or 'history'}: {bad} of {rows.rows_in} rows "
        f"({fraction:.1%}) are bad, above max_bad_fraction {contract.max_bad_fraction:.1%}, "
        f"in {', '.join(worst)}. Top reasons: {top}. Nothing was loaded for this unit; fix "
        "the file and re-run, or raise max_bad_fraction in sources.yml if this is expected."
    )
    error.rows_in, error.rows_rejected, error.fraction = rows.rows_in, len(rows.rejects), fraction
    error.top_reasons = rows.top_reasons[:3]
    error.files = worst
    raise error


def record_failure(conn, contract, ds, unit_uri, batch_id, checksum, started, started_at, exc):
    """Write a `failed` load-log row after the load's transaction rolled back."""
    try:
        if conn.closed:
            return
        if conn.get_transaction_status() != TRANSACTION_STATUS_IDLE:
            conn.rollback()
        with transaction(conn) as cur:
            upsert_load_log(
                cur,
                batch_id=batch_id,
                source=contract.name,
                ds=ds,
                source_uri=unit_uri,
                status="failed",
                rows_in=getattr(exc, "rows_in", 0),
                rows_rejected=getattr(exc, "rows_rejected", 0),
                checksum=checksum,
                started_at=started_at,
                duration_s=time.monotonic() - started,
                message=f"{type(exc).__name__}: {exc}"[:4000],
            )
    except Exception as log_exc:  # the original error is what the caller needs to see
        log.warning("could not record the failed load of %s %s: %s", contract.name, ds, log_exc)


def quarantine_table(rejects: list[QuarantineRow], batch_id: str, ds: date | None) -> pa.Table:
    return pa.table(
        {
            "_batch_id": pa.repeat(batch_id, len(rejects)),
            "_ds": pa.array([ds if ds is not None else r.day for r in rejects], pa.date32()),
            "_source_uri": pa.array([r.uri for r in rejects], pa.string()),
            "_line_no": pa.array([r.line_no for r in rejects], pa.int64()),
            "_reason": pa.array([r.reason for r in rejects], pa.string()),
            "_raw_line": pa.array(
                [r.raw_line.replace("\x00", "\\x00") for r in rejects], pa.string()
            ),
        }
    )


def replace_undated_rejects(conn, contract, uris: list[str], rejects: list[QuarantineRow]) -> None:
    """History rows without a usable day: quarantined with `_ds` null, replaced per export."""
    table = sql.Identifier(contract.name)
    with transaction(conn) as cur:
        cur.execute("select pg_advisory_xact_lock(%s)", (unit_lock_key(contract.name, None),))
        cur.execute(
            sql.SQL("delete from quarantine.{} where _ds is null and _source_uri = any(%s)").format(
                table
            ),
            (uris,),
        )
        copy_csv(
            cur,
            sql.SQL("quarantine.{}").format(table),
            quarantine_table(rejects, str(uuid.uuid4()), None),
        )
