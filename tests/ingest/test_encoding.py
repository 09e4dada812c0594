"""Building blocks: CSV record splitting, typed parsing, binary COPY encoding."""

from __future__ import annotations

import io
import random
from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import psycopg2
import pyarrow as pa

from aimass.ingest.csv_records import field_counts, invalid_utf8, record_text, split_records
from aimass.ingest.pgbinary import HEADER, TRAILER, encode_rows
from aimass.ingest.values import parse_column


def test_records_follow_rfc4180_quoting_and_line_numbers():
    data = b'a,b,c\r\n1,"x,y",3\r\n\r\n"multi\nline",5,6\n7,8\n"q""uote",\xff,9'
    buf = np.frombuffer(data, dtype=np.uint8)
    records = split_records(buf)
    assert [record_text(data, records, i) for i in range(len(records))] == [
        "a,b,c",
        '1,"x,y",3',
        '"multi\nline",5,6',
        "7,8",
        '"q""uote",\\xff,9',
    ]
    assert records.line_no.tolist() == [1, 2, 4, 6, 7]
    assert field_counts(buf, records).tolist() == [3, 3, 3, 2, 3]
    assert invalid_utf8(data, records).tolist() == [False, False, False, False, True]


def test_parse_column_per_type():
    ts = parse_column(
        pa.array(
            [
                "2024-03-02 10:00:00",
                "2024-03-02T10:00:00.5+01:00",
                "2024-03-02",
                " 2024-03-02 10:00:00Z ",
                "03/02/2024",
                None,
            ]
        ),
        "timestamp",
    )
    assert ts.values.to_pylist()[:4] == [
        datetime(2024, 3, 2, 10, tzinfo=UTC),
        datetime(2024, 3, 2, 9, 0, 0, 500000, tzinfo=UTC),
        datetime(2024, 3, 2, tzinfo=UTC),
        datetime(2024, 3, 2, 10, tzinfo=UTC),
    ]
    assert ts.invalid.tolist() == [False, False, False, False, True, False]
    assert ts.present.tolist() == [True] * 5 + [False]
    ints = parse_column(pa.array(["7", "+3", "1985.0", "2.5", "2147483648", " "]), "integer")
    assert ints.values.to_pylist() == [7, 3, 1985, None, None, None]
    assert ints.invalid.tolist() == [False, False, False, True, True, False]
    flags = parse_column(pa.array(["true", "F", "yes", "0", "nope"]), "boolean")
    assert flags.values.to_pylist() == [True, False, True, False, None]


def test_binary_copy_round_trips_through_postgres(empty_db_url):
    rng = random.Random(7)
    numerics = [
        "0",
        "-0.0",
        "12.50",
        "1e3",
        "0.0001",
        "123456789012345678.9",
        "-99999.99999",
        ".5",
        "10000",
    ] + [f"{rng.uniform(-1e6, 1e6):.{rng.randint(0, 6)}f}" for _ in range(200)]
    n = len(numerics)
    stamps = [datetime(1990 + i % 40, 1 + i % 12, 1 + i % 28, i % 24, tzinfo=UTC) for i in range(n)]
    columns = [
        ("numeric", pa.array(numerics)),
        ("timestamptz", pa.array(stamps, pa.timestamp("us", tz="UTC"))),
        ("date", pa.array([s.date() for s in stamps], pa.date32())),
        ("integer", pa.array([i - 100 if i % 9 else None for i in range(n)], pa.int64())),
        ("bigint", pa.array([i * 10**12 for i in range(n)], pa.int64())),
        ("boolean", pa.array([i % 3 == 0 if i % 5 else None for i in range(n)])),
        ("text", pa.array([f'ü,"\n{i}' if i % 4 else None for i in range(n)])),
        ("date", pa.scalar(date(2024, 3, 2), pa.date32())),
    ]
    stream = HEADER + encode_rows(columns, n).to_pybytes() + TRAILER
    conn = psycopg2.connect(empty_db_url)
    try:
        with conn.cursor() as cur:
            cur.execute("set timezone to 'UTC'")
            cur.execute(
                "create table t (a numeric, b timestamptz, c date, d integer, e bigint,"
                " f boolean, g text, h date)"
            )
            cur.copy_expert("copy t from stdin with (format binary)", io.BytesIO(stream))
            cur.execute("select a::text, b, c, d, e, f, g, h from t")
            got = cur.fetchall()
    finally:
        conn.close()
    assert [Decimal(r[0]) for r in got] == [Decimal(v) for v in numerics]
    assert [r[0] for r in got][:4] == ["0", "0.0", "12.50", "1000"]
    assert [r[1] for r in got] == stamps
    assert [r[3] for r in got] == columns[3][1].to_pylist()
    assert [r[5] for r in got] == columns[5][1].to_pylist()
    assert [r[6] for r in got] == columns[6][1].to_pylist()
    assert {r[7] for r in got} == {date(2024, 3, 2)}
