"""Helpers for ingestion tests: landing files, event rows, table digests."""

from __future__ import annotations

from datetime import date
from pathlib import Path

PII_KEY = b"test-pii-key-0123456789abcdef"
OTHER_KEY = b"another-pii-key-9876543210fedcba"
DAY = date(2024, 3, 2)
EVENT_COLUMNS = (
    "event_id,event_ts,user_id,event_type,item_id,merchant_id,search_query,device_id,session_id"
)


def event_line(i: int, ts: str = "2024-03-02 10:00:00+00:00", **fields) -> str:
    """One CSV line of `events` (override any column by name)."""
    row = {
        "event_id": f"e{i}",
        "event_ts": ts,
        "user_id": f"u{i % 7}",
        "event_type": "view",
        "item_id": f"i{i % 11}",
        "merchant_id": "m1",
        "search_query": "",
        "device_id": f"dev-{i % 5}",
        "session_id": f"s{i % 3}",
    }
    row.update(fields)
    return ",".join(row[c] for c in EVENT_COLUMNS.split(","))


def events_csv(lines: list[str], header: str = EVENT_COLUMNS) -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode("utf-8")


def many_events_csv(n: int, day: date = DAY, prefix: str = "e") -> bytes:
    """`n` valid events of `day` as CSV bytes, built without a per-row Python loop."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pa_csv

    i = pa.array(np.arange(n)).cast(pa.string())
    seconds = pa.array((np.arange(n) * 86_399 // max(n, 1)).astype("int64"))
    start = pa.scalar(int(np.datetime64(day.isoformat(), "s").astype("int64")), pa.int64())
    stamps = pc.add(seconds, start).cast(pa.timestamp("s", tz="UTC"))
    table = pa.table(
        {
            "event_id": pc.binary_join_element_wise(prefix, i, ""),
            "event_ts": stamps,
            "user_id": pc.binary_join_element_wise("u", i, ""),
            "event_type": pa.repeat("view", n),
            "item_id": pa.repeat("i1", n),
            "merchant_id": pa.repeat("m1", n),
            "search_query": pa.nulls(n, pa.string()),
            "device_id": pc.binary_join_element_wise("dev-", i, ""),
            "session_id": pa.repeat("s1", n),
        }
    )
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(table, sink)
    return sink.getvalue().to_pybytes()


def write_partition(
    landing: Path, source: str, day: date | str, data: bytes, name: str = "part-0000.csv"
) -> Path:
    folder = landing / source / (day.isoformat() if isinstance(day, date) else day)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def rows(conn, query: str, params=()) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(query, params)
        result = cur.fetchall()
    conn.rollback()
    return result


def table_digest(conn, table: str, exclude=("_batch_id", "_loaded_at", "_quarantined_at")) -> str:
    """md5 over the sorted rows of a table, without per-run columns (batch id, load time)."""
    schema, name = table.split(".")
    columns = [
        c
        for (c,) in rows(
            conn,
            "select column_name from information_schema.columns where table_schema = %s "
            "and table_name = %s order by ordinal_position",
            (schema, name),
        )
        if c not in exclude
    ]
    select = ", ".join(f'"{c}"' for c in columns)
    (digest,) = rows(
        conn,
        f"select md5(coalesce(string_agg(r::text, '|' order by r::text), '')) "
        f"from (select {select} from {table}) r",
    )[0]
    return digest
