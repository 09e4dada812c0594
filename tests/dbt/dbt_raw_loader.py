"""Put contract-shaped frames into `raw.<source>` the way the loader does: PII pseudonymised,
`_ds` = the UTC day of the partition column (snapshot sources: of `incremental_column`), one
batch id and load time per call. COPY through psycopg2."""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd

from aimass.contracts import SourceContract, load_contracts

PII_TEST_KEY = b"dbt-tests-pii-key"


def pseudonym(value: str) -> str:
    return hashlib.sha256(PII_TEST_KEY + str(value).encode()).hexdigest()


def partition_day(contract: SourceContract, frame: pd.DataFrame) -> pd.Series:
    """The UTC day each row belongs to."""
    column = contract.incremental_column if contract.is_snapshot else contract.partition
    values = frame[column]
    if contract.column(column).type == "date":
        return pd.to_datetime(values).dt.date
    return pd.to_datetime(values, utc=True).dt.date


def rows_for_days(
    tables: dict[str, pd.DataFrame], days: Iterable[date], *, first_partition: bool = False
) -> dict[str, pd.DataFrame]:
    """The rows of `days` per source; with `first_partition`, snapshot rows from before the
    first of those days too (a first delivery carries everything that existed before)."""
    contracts = load_contracts()
    wanted = set(days)
    first = min(wanted)
    out = {}
    for source, frame in tables.items():
        contract = contracts[source]
        day = partition_day(contract, frame)
        keep = day.isin(wanted)
        if first_partition and contract.is_snapshot:
            keep |= day < first
        out[source] = frame[keep.to_numpy()]
    return out


def split_by_day(
    tables: dict[str, pd.DataFrame], days: list[date]
) -> Iterator[tuple[date, dict[str, pd.DataFrame]]]:
    """(day, rows of that day per source) for each of `days` in order, as daily deliveries:
    the first day also carries the snapshot rows from before it."""
    contracts = load_contracts()
    grouped = {}
    for source, frame in tables.items():
        day = partition_day(contracts[source], frame)
        if contracts[source].is_snapshot:
            day = day.where(day >= days[0], days[0])
        grouped[source] = dict(tuple(frame.groupby(day.to_numpy())))
    for day in days:
        yield (
            day,
            {source: parts.get(day, tables[source].iloc[0:0]) for source, parts in grouped.items()},
        )


def load_daily(conn, tables: dict[str, pd.DataFrame], days: list[date]) -> None:
    """Load `days` one batch per day, each at 01:00 UTC of the next day (a daily pipeline)."""
    for day, rows in split_by_day(tables, days):
        load_raw(
            conn,
            rows,
            loaded_at=datetime.combine(day + timedelta(days=1), time(1), tzinfo=UTC),
            batch_id=f"daily-{day.isoformat()}",
        )


def load_raw(
    conn,
    tables: dict[str, pd.DataFrame],
    *,
    loaded_at: datetime | None = None,
    batch_id: str | None = None,
) -> dict[str, int]:
    """COPY every frame into its raw table; returns rows written per source."""
    contracts = load_contracts()
    loaded_at = loaded_at or datetime.now(UTC)
    batch_id = batch_id or f"test-{uuid.uuid4().hex[:8]}"
    written = {}
    with conn.cursor() as cur:
        for source, frame in tables.items():
            contract = contracts[source]
            if frame.empty:
                written[source] = 0
                continue
            out = frame[contract.column_names].copy()
            for column in contract.columns:
                if column.pii:
                    out[column.name] = out[column.name].map(
                        lambda v: None if v is None or pd.isna(v) else pseudonym(v)
                    )
            out["_batch_id"] = batch_id
            out["_loaded_at"] = loaded_at.isoformat()
            out["_source_uri"] = f"test://{source}"
            out["_ds"] = partition_day(contract, frame).astype(str).to_numpy()
            for column in contract.columns:
                if column.type in ("integer", "bigint"):
                    out[column.name] = pd.to_numeric(out[column.name]).astype("Int64")
                if column.type == "timestamp":
                    out[column.name] = pd.to_datetime(out[column.name], utc=True).map(
                        lambda v: None if pd.isna(v) else v.isoformat()
                    )
            buffer = io.StringIO()
            out.to_csv(buffer, index=False, header=False, na_rep="\\N")
            buffer.seek(0)
            columns = ", ".join(f'"{c}"' for c in out.columns)
            cur.copy_expert(
                f"copy raw.\"{source}\" ({columns}) from stdin with (format csv, null '\\N')",
                buffer,
            )
            written[source] = len(out)
    conn.commit()
    return written
