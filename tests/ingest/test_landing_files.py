"""Every file of a day folder is accounted for: read in every supported format and
compression the contract allows, or the day fails with an error naming the file; markers and
hidden files are ignored; `raw._load_log` lists each file read. A file that cannot be read
fails its day only, with its name and the reason, never a bare reader error."""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
from datetime import timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aimass.ingest import IngestError, UnreadableFileError, sync_source
from tests.ingest.helpers import (
    DAY,
    EVENT_COLUMNS,
    PII_KEY,
    event_line,
    events_csv,
    rows,
    write_partition,
)

NEXT = DAY + timedelta(days=1)


def jsonl(ids: list[int]) -> bytes:
    names = EVENT_COLUMNS.split(",")
    records = [dict(zip(names, event_line(i).split(","), strict=True)) for i in ids]
    return ("\n".join(json.dumps(r) for r in records) + "\n").encode()


def parquet(ids: list[int]) -> bytes:
    names = EVENT_COLUMNS.split(",")
    values = [event_line(i).split(",") for i in ids]
    table = pa.table({n: [v[k] for v in values] for k, n in enumerate(names)})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def sync(conn, contract, landing, up_to=DAY):
    return sync_source(conn, contract, landing.as_uri(), up_to=up_to, pii_key=PII_KEY)


def loaded_ids(conn, day=DAY) -> list[str]:
    return [
        r[0]
        for r in rows(conn, "select event_id from raw.events where _ds = %s order by 1", (day,))
    ]


@pytest.fixture
def every_format(contracts):
    return dataclasses.replace(contracts["events"], formats=("csv", "jsonl", "parquet"))


def test_compressed_and_mixed_format_parts_all_load(warehouse, every_format, landing):
    write_partition(landing, "events", DAY, events_csv([event_line(1)]), "part-0000.csv")
    write_partition(
        landing, "events", DAY, gzip.compress(events_csv([event_line(2)])), "part-0001.csv.gz"
    )
    write_partition(landing, "events", DAY, jsonl([3]), "part-0002.jsonl")
    write_partition(landing, "events", DAY, gzip.compress(jsonl([4])), "part-0003.jsonl.gz")
    write_partition(landing, "events", DAY, parquet([5]), "part-0004.parquet")
    write_partition(landing, "events", DAY, b"", "_SUCCESS")
    write_partition(landing, "events", DAY, b"junk", ".part-0005.csv.crc")
    (result,) = sync(warehouse, every_format, landing)
    assert (result.status, result.rows_loaded) == ("loaded", 5)
    assert loaded_ids(warehouse) == ["e1", "e2", "e3", "e4", "e5"]
    (files,) = rows(warehouse, "select files from raw._load_log")[0]
    assert [f.rsplit("/", 1)[1] for f in files] == [
        "part-0000.csv", "part-0001.csv.gz", "part-0002.jsonl", "part-0003.jsonl.gz",
        "part-0004.parquet",
    ]  # fmt: skip


def test_a_csv_gz_export_of_a_required_source_is_loaded_not_missing(warehouse, contracts, landing):
    header = "order_id,user_id,order_ts,status,total_amount,discount_amount,coupon_id,device_id,updated_at"
    data = f"{header}\no1,u1,2024-03-02 10:00:00Z,paid,9.5,,,,\n".encode()
    write_partition(landing, "orders", DAY, gzip.compress(data), "orders-2024-03-02.csv.gz")
    (result,) = sync(warehouse, contracts["orders"], landing)
    assert (result.status, result.rows_loaded) == ("loaded", 1)


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("part-0001.jsonl", jsonl([9]), "a jsonl file, but source 'events' takes csv"),
        ("export.xlsx", b"PK\x03\x04", "not a data file the loader reads"),
        (
            "part-0001.csv",
            gzip.compress(events_csv([event_line(9)])),
            "gzip-compressed but its name",
        ),
        ("part-0001.csv.gz", b"\x1f\x8b\x08broken", "not a valid gzip file"),
    ],
    ids=["format-not-allowed", "unknown-type", "gzip-named-csv", "broken-gzip"],
)
def test_a_file_the_loader_will_not_read_fails_its_day_only(
    warehouse, contracts, landing, name, data, reason
):
    events = contracts["events"]
    write_partition(landing, "events", DAY, events_csv([event_line(1)]))
    write_partition(landing, "events", DAY, data, name)
    write_partition(landing, "events", NEXT, events_csv([event_line(2, ts=f"{NEXT} 10:00:00Z")]))
    with pytest.raises(UnreadableFileError) as caught:
        sync(warehouse, events, landing, up_to=NEXT)
    message = str(caught.value)
    assert f"{DAY}/{name}: " in message and reason in message
    assert [(r.ds, r.status) for r in caught.value.results] == [(DAY, "failed"), (NEXT, "loaded")]
    assert loaded_ids(warehouse) == [] and loaded_ids(warehouse, NEXT) == ["e2"]
    (status, files, logged) = rows(
        warehouse, "select status, files, message from raw._load_log where ds = %s", (DAY,)
    )[0]
    assert status == "failed" and reason in logged and len(files) == 2


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("part-0000.parquet", b"PAR1 not really", "not a readable Parquet file"),
        ("part-0000.csv", b"\xff\xfe" + "a,b\n".encode("utf-16-le"), "first line"),
    ],
    ids=["broken-parquet", "utf16"],
)
def test_unreadable_bytes_fail_with_the_file_name(
    warehouse, every_format, landing, name, data, reason
):
    write_partition(landing, "events", DAY, data, name)
    with pytest.raises(IngestError) as caught:
        sync(warehouse, every_format, landing)
    assert f"{DAY}/{name}: " in str(caught.value) and reason in str(caught.value)


def test_cr_only_line_ends_load(warehouse, contracts, landing):
    data = events_csv([event_line(1), event_line(2)]).replace(b"\n", b"\r")
    write_partition(landing, "events", DAY, data)
    (result,) = sync(warehouse, contracts["events"], landing)
    assert (result.status, result.rows_loaded, result.rows_rejected) == ("loaded", 2, 0)


def test_changing_the_format_later_keeps_loaded_days(warehouse, contracts, landing):
    csv_source = contracts["events"]
    write_partition(landing, "events", DAY, events_csv([event_line(1)]))
    sync(warehouse, csv_source, landing)
    jsonl_source = dataclasses.replace(csv_source, format="jsonl")
    write_partition(
        landing,
        "events",
        NEXT,
        jsonl([2]).replace(b"2024-03-02", str(NEXT).encode()),
        "part-0000.jsonl",
    )
    results = sync(warehouse, jsonl_source, landing, up_to=NEXT)
    assert [(r.ds, r.status) for r in results] == [(DAY, "skipped"), (NEXT, "loaded")]
    assert loaded_ids(warehouse) == ["e1"] and loaded_ids(warehouse, NEXT) == ["e2"]
