"""Catch a file source up with its landing folder: every changed partition up to a day.

`sync_source` loads each daily partition `D <= up_to` whose checksum differs from the last
successful load of that partition in `raw._load_log` (so one call loads a months-long
backlog, and a re-run skips what did not change; `force=True` reloads everything). A
`history/` folder, if present, is loaded first (see `load_history`).

A day with a daily partition is always loaded from it: the history's rows of that day are left
out, whichever of the two changed last, so the result does not depend on the load order. The
day `up_to` counts as present when it has a daily partition or lies within the days the
history export covers; otherwise it is reported `missing` (or fails, per the contract).
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, date, datetime

from aimass.contracts import SourceContract
from aimass.ingest.errors import IngestError, MissingPartitionError
from aimass.ingest.landing import (
    HISTORY_FOLDER,
    list_partitions,
    partition_files,
    read_payloads,
    source_folder,
)
from aimass.ingest.load import load_history_unit, load_unit
from aimass.ingest.payload import unit_checksum
from aimass.ingest.result import LoadResult
from aimass.ingest.unit_tx import transaction, upsert_load_log

log = logging.getLogger(__name__)


def sync_source(
    conn,
    contract: SourceContract,
    landing_uri: str,
    *,
    up_to: date,
    pii_key: bytes,
    force: bool = False,
    check_missing: bool = True,
) -> list[LoadResult]:
    """Load every new or changed landing partition of `contract` up to `up_to`.

    Raises the first `IngestError` after the other partitions were tried (each failure is
    in `raw._load_log`, and the error's `results` lists every partition's outcome); raises
    `MissingPartitionError` when a required source has no landing folder, or when the day
    `up_to` has no data (no daily partition, not within the history export) and the contract
    says `fail`. `check_missing=False` skips that last check (a history import, whose last
    day is that of the whole export, not of each source).
    """
    folder = source_folder(landing_uri, contract)
    if not folder.exists():
        if contract.optional:
            log.info(
                "%s: no landing folder at %s; optional source, nothing to load",
                contract.name,
                folder,
            )
            return [
                LoadResult(
                    contract.name,
                    up_to,
                    None,
                    "absent",
                    source_uri=str(folder),
                    message=f"no landing folder at {folder}",
                )
            ]
        raise MissingPartitionError(
            f"source {contract.name!r} is required but has no landing folder at {folder}. "
            "Check the landing URI (AIMASS_LANDING_URI) and that the export ran."
        )
    results: list[LoadResult] = []
    every_partition = list_partitions(folder)
    files_of = {d: partition_files(p, contract.format) for d, p in every_partition.items()}
    daily_days = {d for d, files in files_of.items() if files}
    if (folder / HISTORY_FOLDER).exists():
        results += load_history(
            conn, contract, landing_uri, pii_key=pii_key, force=force, daily_days=daily_days
        )
    loaded = last_checksums(conn, contract.name)
    errors: list[IngestError] = []
    partitions = {d: p for d, p in every_partition.items() if d <= up_to}
    for day, path in partitions.items():
        if day not in daily_days:
            log.warning(
                "%s: partition %s has no part-*.%s files", contract.name, path, contract.format
            )
            continue
        files = files_of[day]
        started = time.monotonic()
        payloads = read_payloads(files, contract.format)
        checksum = unit_checksum(payloads, pii_key)
        if not force and loaded.get((day, str(path))) == checksum:
            results.append(
                LoadResult(
                    contract.name,
                    day,
                    None,
                    "skipped",
                    checksum=checksum,
                    source_uri=str(path),
                    duration_s=time.monotonic() - started,
                    message="unchanged since the last load",
                )
            )
            continue
        try:
            results.append(
                load_unit(
                    conn,
                    contract,
                    payloads,
                    ds=day,
                    pii_key=pii_key,
                    unit_uri=str(path),
                    force=force,
                    checksum=checksum,
                )
            )
        except IngestError as exc:
            log.error("%s %s failed: %s", contract.name, day, exc)
            errors.append(exc)
            results.append(
                LoadResult(
                    contract.name,
                    day,
                    None,
                    "failed",
                    checksum=checksum,
                    source_uri=str(path),
                    duration_s=time.monotonic() - started,
                    top_reasons=tuple(getattr(exc, "top_reasons", ())),
                    message=str(exc),
                )
            )
    history_span = None
    if check_missing and up_to not in daily_days:
        history_span = _history_span(conn, contract.name, str(folder / HISTORY_FOLDER))
    covered = up_to in daily_days or (
        history_span is not None and history_span[0] <= up_to <= history_span[1]
    )
    if check_missing and not covered:
        expected = folder / up_to.isoformat() / f"part-0000.{contract.format}"
        context = _what_is_there(up_to, daily_days, history_span)
        missing = _missing(conn, contract, up_to, expected, context)
        if missing is not None:
            results.append(missing)
        else:
            errors.append(
                MissingPartitionError(
                    f"source {contract.name!r} has no data for {up_to}: partition {up_to} is "
                    f"missing (expected files like {expected}){context}. Check that the "
                    f"export for {up_to} ran (or run a day the data covers), or set "
                    "on_missing_partition: warn in sources.yml if gaps are normal."
                )
            )
    if errors:
        first = errors[0]
        for other in errors[1:]:
            first.add_note(f"also failed: {other}")
        first.results = results  # what the other partitions did
        raise first
    return results


def load_history(
    conn,
    contract: SourceContract,
    landing_uri: str,
    *,
    pii_key: bytes,
    force: bool = False,
    daily_days: set[date] | None = None,
) -> list[LoadResult]:
    """Load `<landing>/<source>/history/*.<format>` (many days in one export).

    Each row's `_ds` is the UTC day of its partition column (snapshot sources: of
    `incremental_column`); each day is replaced in its own transaction, so a re-run gives
    the same rows. Unchanged exports are skipped unless `force`. The rows of `daily_days`
    (days that have a daily partition, which is loaded instead) are left out.
    """
    folder = source_folder(landing_uri, contract) / HISTORY_FOLDER
    files = partition_files(folder, contract.format, pattern="*")
    if not files:
        return []
    payloads = read_payloads(files, contract.format)
    checksum = unit_checksum(payloads, pii_key)
    if not force and _last_history_checksum(conn, contract.name, str(folder)) == checksum:
        return [
            LoadResult(
                contract.name,
                None,
                None,
                "skipped",
                checksum=checksum,
                source_uri=str(folder),
                message="history export unchanged",
            )
        ]
    return load_history_unit(
        conn,
        contract,
        payloads,
        pii_key=pii_key,
        unit_uri=str(folder),
        checksum=checksum,
        skip_days=daily_days or (),
    )


def last_checksums(conn, source: str) -> dict[tuple[date, str], str]:
    """Checksum of the last successful load per (ds, unit uri) of a source."""
    with transaction(conn) as cur:
        cur.execute(
            "select distinct on (ds, source_uri) ds, source_uri, checksum from raw._load_log "
            "where source = %s and status = 'loaded' order by ds, source_uri, finished_at desc",
            (source,),
        )
        return {(ds, uri): checksum for ds, uri, checksum in cur.fetchall()}


def _last_history_checksum(conn, source: str, uri: str) -> str | None:
    with transaction(conn) as cur:
        cur.execute(
            "select checksum from raw._load_log where source = %s and source_uri = %s "
            "and status = 'loaded' order by finished_at desc limit 1",
            (source, uri),
        )
        row = cur.fetchone()
        return row[0] if row else None


def _history_span(conn, source: str, uri: str) -> tuple[date, date] | None:
    """(first, last) day of the latest successful load of the history export at `uri`."""
    with transaction(conn) as cur:
        cur.execute(
            """select min(ds), max(ds) from raw._load_log
               where source = %(source)s and source_uri = %(uri)s and status = 'loaded'
                 and checksum = (
                     select checksum from raw._load_log
                     where source = %(source)s and source_uri = %(uri)s and status = 'loaded'
                     order by finished_at desc limit 1)""",
            {"source": source, "uri": uri},
        )
        first, last = cur.fetchone()
    return None if first is None else (first, last)


def _what_is_there(day: date, daily_days: set[date], history_span: tuple[date, date] | None) -> str:
    """Where the source's data lies, said against `day` (for a missing-day message)."""
    parts = []
    if history_span is not None:
        parts.append(f"the history export covers {history_span[0]} to {history_span[1]}")
    if daily_days:
        parts.append(f"daily partitions run from {min(daily_days)} to {max(daily_days)}")
    if not parts:
        return "; the source has no data loaded from this landing area yet"
    days = [history_span[0]] if history_span else []
    days += [min(daily_days)] if daily_days else []
    before = f", so {day} is before any data" if day < min(days) else ""
    return "; " + " and ".join(parts) + before


def _missing(
    conn, contract: SourceContract, day: date, expected, context: str = ""
) -> LoadResult | None:
    """A `missing` result (and load-log row) when the contract allows a gap, else None."""
    if contract.on_missing_partition == "fail":
        return None
    message = f"partition {day} is missing; expected files like {expected}{context}"
    log.warning("%s: %s", contract.name, message)
    batch_id = str(uuid.uuid4())
    with transaction(conn) as cur:
        upsert_load_log(
            cur,
            batch_id=batch_id,
            source=contract.name,
            ds=day,
            source_uri=str(expected.parent),
            status="missing",
            started_at=datetime.now(UTC),
            duration_s=0.0,
            message=message,
        )
    return LoadResult(
        contract.name, day, batch_id, "missing", source_uri=str(expected.parent), message=message
    )
