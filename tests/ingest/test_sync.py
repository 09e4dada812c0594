"""`sync_source`: landing partitions through ObjectStoragePath, catch-up, skips, history."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import date, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aimass.ingest import MissingPartitionError, sync_source
from tests.ingest.helpers import (
    DAY,
    PII_KEY,
    event_line,
    events_csv,
    rows,
    table_digest,
    write_partition,
)


def test_catches_up_on_every_partition_then_skips_unchanged(warehouse, contracts, landing):
    events = contracts["events"]
    for k in range(3):
        day = DAY + timedelta(days=k)
        write_partition(
            landing,
            "events",
            day,
            events_csv([event_line(10 * k + i, ts=f"{day} 0{i}:00:00Z") for i in range(3)]),
        )
    results = sync_source(
        warehouse, events, landing.as_uri(), up_to=DAY + timedelta(days=2), pii_key=PII_KEY
    )
    assert [(r.ds, r.status, r.rows_loaded) for r in results] == [
        (DAY + timedelta(days=k), "loaded", 3) for k in range(3)
    ]
    assert rows(warehouse, "select _ds, count(*) from raw.events group by 1 order by 1") == [
        (DAY + timedelta(days=k), 3) for k in range(3)
    ]
    assert results[0].source_uri.startswith("file://")

    again = sync_source(
        warehouse, events, landing.as_uri(), up_to=DAY + timedelta(days=2), pii_key=PII_KEY
    )
    assert [r.status for r in again] == ["skipped"] * 3

    write_partition(
        landing,
        "events",
        DAY + timedelta(days=1),
        events_csv([event_line(99)]).replace(b"2024-03-02", b"2024-03-03"),
    )
    changed = sync_source(
        warehouse, events, str(landing), up_to=DAY + timedelta(days=2), pii_key=PII_KEY
    )
    # a plain local path is another unit uri than file://, so everything reloads once
    assert [r.status for r in changed] == ["loaded"] * 3
    assert [
        r.status
        for r in sync_source(
            warehouse, events, str(landing), up_to=DAY + timedelta(days=2), pii_key=PII_KEY
        )
    ] == ["skipped"] * 3
    assert rows(
        warehouse, "select event_id from raw.events where _ds = %s", (DAY + timedelta(days=1),)
    ) == [("e99",)]
    forced = sync_source(
        warehouse, events, str(landing), up_to=DAY + timedelta(days=2), pii_key=PII_KEY, force=True
    )
    assert [r.status for r in forced] == ["loaded"] * 3


def test_partitions_after_up_to_wait(warehouse, contracts, landing):
    write_partition(landing, "events", DAY, events_csv([event_line(1)]))
    write_partition(
        landing,
        "events",
        DAY + timedelta(days=1),
        events_csv([event_line(2, ts="2024-03-03 01:00:00Z")]),
    )
    results = sync_source(warehouse, contracts["events"], str(landing), up_to=DAY, pii_key=PII_KEY)
    assert [r.ds for r in results] == [DAY]


def test_two_loads_of_one_day_leave_identical_tables(warehouse, contracts, landing):
    events = dataclasses.replace(contracts["events"], max_bad_fraction=0.5)
    write_partition(
        landing,
        "events",
        DAY,
        events_csv([event_line(i) for i in range(20)] + ["broken,line", event_line(3)]),
    )
    sync_source(warehouse, events, str(landing), up_to=DAY, pii_key=PII_KEY)
    first = (table_digest(warehouse, "raw.events"), table_digest(warehouse, "quarantine.events"))
    sync_source(warehouse, events, str(landing), up_to=DAY, pii_key=PII_KEY, force=True)
    second = (table_digest(warehouse, "raw.events"), table_digest(warehouse, "quarantine.events"))
    assert first == second
    assert rows(warehouse, "select count(*), count(distinct event_id) from raw.events") == [
        (20, 20)
    ]
    assert rows(warehouse, "select count(*) from quarantine.events") == [(2,)]
    assert rows(warehouse, "select count(*) from raw._load_log where status = 'loaded'") == [(2,)]


def test_several_files_in_one_partition_form_one_unit(warehouse, contracts, landing):
    write_partition(landing, "events", DAY, events_csv([event_line(1), event_line(2)]))
    write_partition(
        landing, "events", DAY, events_csv([event_line(2, event_type="buy")]), name="part-0001.csv"
    )
    (result,) = sync_source(
        warehouse, contracts["events"], str(landing), up_to=DAY, pii_key=PII_KEY
    )
    assert (result.rows_in, result.rows_loaded, result.rows_rejected) == (3, 2, 1)
    assert rows(
        warehouse,
        "select event_id, event_type, _source_uri like '%%part-0001.csv' "
        "from raw.events order by 1",
    ) == [("e1", "view", False), ("e2", "buy", True)]


def test_jsonl_and_parquet_partitions(warehouse, contracts, landing):
    feedback = dataclasses.replace(contracts["feedback"], format="jsonl", max_bad_fraction=0.9)
    lines = [
        {
            "feedback_id": "f1",
            "feedback_ts": "2024-03-02T08:00:00Z",
            "user_id": "u1",
            "kind": "review",
            "rating": 5,
            "review_text": "great, thanks",
        },
        {
            "feedback_id": "f2",
            "feedback_ts": "2024-03-02T09:00:00Z",
            "user_id": "u2",
            "kind": "review",
            "rating": -1,
        },
    ]
    data = ("\n".join(json.dumps(r) for r in lines) + "\n{not json\n").encode()
    write_partition(landing, "feedback", DAY, data, name="part-0000.jsonl")
    (result,) = sync_source(warehouse, feedback, str(landing), up_to=DAY, pii_key=PII_KEY)
    assert (result.rows_loaded, result.rows_rejected) == (1, 2)
    assert rows(warehouse, "select feedback_id, rating, review_text from raw.feedback") == [
        ("f1", 5, "great, thanks")
    ]
    assert rows(warehouse, "select _line_no, _reason from quarantine.feedback order by 1") == [
        (2, "negative value in rating"),
        (3, "invalid JSON"),
    ]

    redemptions = dataclasses.replace(contracts["coupon_redemptions"], format="parquet")
    table = pa.table(
        {
            "coupon_id": ["k1", "k2"],
            "redeemed_at": pa.array(
                [1709366400_000000, 1709370000_000000], pa.timestamp("us", tz="UTC")
            ),
            "user_id": ["u1", "u2"],
            "order_id": ["o1", None],
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    write_partition(landing, "coupon_redemptions", DAY, sink.getvalue(), name="part-0000.parquet")
    (result,) = sync_source(warehouse, redemptions, str(landing), up_to=DAY, pii_key=PII_KEY)
    assert result.rows_loaded == 2
    assert rows(
        warehouse,
        "select coupon_id, redeemed_at::text, order_id from raw.coupon_redemptions order by 1",
    ) == [("k1", "2024-03-02 08:00:00+00", "o1"), ("k2", "2024-03-02 09:00:00+00", None)]


def test_missing_partition_warns_or_fails_per_contract(warehouse, contracts, landing):
    write_partition(landing, "events", DAY, events_csv([event_line(1)]))
    next_day = DAY + timedelta(days=1)
    results = sync_source(
        warehouse, contracts["events"], str(landing), up_to=next_day, pii_key=PII_KEY
    )
    assert [(r.ds, r.status) for r in results] == [(DAY, "loaded"), (next_day, "missing")]
    assert "2024-03-03/part-0000.csv" in results[1].message
    strict = dataclasses.replace(contracts["events"], on_missing_partition="fail")
    with pytest.raises(MissingPartitionError, match="2024-03-03/part-0000.csv"):
        sync_source(warehouse, strict, str(landing), up_to=next_day, pii_key=PII_KEY)


def test_absent_optional_source_and_missing_required_source(warehouse, contracts, landing):
    (result,) = sync_source(
        warehouse, contracts["feedback"], str(landing), up_to=DAY, pii_key=PII_KEY
    )
    assert result.status == "absent"
    with pytest.raises(MissingPartitionError, match="required.*orders"):
        sync_source(warehouse, contracts["orders"], str(landing), up_to=DAY, pii_key=PII_KEY)


def test_history_export_is_split_by_day_and_idempotent(warehouse, contracts, landing):
    events = dataclasses.replace(contracts["events"], max_bad_fraction=0.5)
    lines = [event_line(i, ts=f"2024-02-{10 + i % 5:02d} 12:00:00Z") for i in range(20)]
    lines += [event_line(99, ts="garbage")]
    write_partition(landing, "events", "history", events_csv(lines), name="events-2024-02.csv")
    results = sync_source(warehouse, events, str(landing), up_to=DAY, pii_key=PII_KEY)
    loaded = [r for r in results if r.status == "loaded"]
    assert [(r.ds, r.rows_loaded) for r in loaded] == [(date(2024, 2, 10 + k), 4) for k in range(5)]
    assert rows(warehouse, "select _ds, count(*) from raw.events group by 1 order by 1") == [
        (date(2024, 2, 10 + k), 4) for k in range(5)
    ]
    assert rows(warehouse, "select _ds, _reason from quarantine.events") == [
        (None, "unparsable timestamp in event_ts; no event_ts to place the row on a day")
    ]
    digest = (table_digest(warehouse, "raw.events"), table_digest(warehouse, "quarantine.events"))

    assert [
        r.status
        for r in sync_source(warehouse, events, str(landing), up_to=DAY, pii_key=PII_KEY)
        if r.ds != DAY
    ] == ["skipped"]
    sync_source(warehouse, events, str(landing), up_to=DAY, pii_key=PII_KEY, force=True)
    assert digest == (
        table_digest(warehouse, "raw.events"),
        table_digest(warehouse, "quarantine.events"),
    )


def test_snapshot_history_uses_the_incremental_column(warehouse, contracts, landing):
    header = "merchant_id,name,shop_rating,service_score,delivery_score,review_count,opened_at,updated_at"
    lines = [
        "m1,A,4.5,4,4,10,2020-01-01 00:00:00Z,2024-01-05 10:00:00Z",
        "m1,A,4.6,4,4,12,2020-01-01 00:00:00Z,2024-01-07 10:00:00Z",
        "m2,B,3.0,3,3,1,2021-01-01 00:00:00Z,2024-01-07 11:00:00Z",
    ]
    write_partition(
        landing,
        "merchants",
        "history",
        ("\n".join([header, *lines]) + "\n").encode(),
        name="all.csv",
    )
    sync_source(warehouse, contracts["merchants"], str(landing), up_to=DAY, pii_key=PII_KEY)
    assert rows(
        warehouse, "select merchant_id, review_count, _ds from raw.merchants order by 1, 3"
    ) == [("m1", 10, date(2024, 1, 5)), ("m1", 12, date(2024, 1, 7)), ("m2", 1, date(2024, 1, 7))]


def test_a_failing_partition_does_not_block_the_others(warehouse, contracts, landing):
    from aimass.ingest import TooManyBadRowsError

    write_partition(landing, "events", DAY, events_csv([event_line(1), "broken"]))
    write_partition(
        landing,
        "events",
        DAY + timedelta(days=1),
        events_csv([event_line(2, ts="2024-03-03 01:00:00Z")]),
    )
    with pytest.raises(TooManyBadRowsError) as caught:
        sync_source(
            warehouse,
            contracts["events"],
            str(landing),
            up_to=DAY + timedelta(days=1),
            pii_key=PII_KEY,
        )
    assert [(r.ds, r.status) for r in caught.value.results] == [
        (DAY, "failed"),
        (DAY + timedelta(days=1), "loaded"),
    ]
    assert rows(warehouse, "select event_id from raw.events") == [("e2",)]
    assert rows(warehouse, "select ds, status from raw._load_log order by ds") == [
        (DAY, "failed"),
        (DAY + timedelta(days=1), "loaded"),
    ]


ORDERS_HEADER = (
    "order_id,user_id,order_ts,status,total_amount,discount_amount,coupon_id,device_id,updated_at"
)


def _orders(*lines: str) -> bytes:
    return ("\n".join([ORDERS_HEADER, *lines]) + "\n").encode()


def _order(order_id: str, ts: str) -> str:
    return f"{order_id},u1,{ts},completed,12.50,,,,"


def test_a_day_the_history_export_covers_is_not_missing(warehouse, contracts, landing):
    """The day after a history load: no `missing` warning or load-log row for a day the history
    covered, also for a day inside it without rows, and also when the history is unchanged."""
    history = _orders(_order("o1", "2024-02-28T10:00:00Z"), _order("o2", "2024-03-02T10:00:00Z"))
    write_partition(landing, "orders", "history", history, name="orders.csv")
    for _ in range(2):  # a first load, then the export unchanged
        for day in (date(2024, 3, 2), date(2024, 2, 29)):
            results = sync_source(
                warehouse, contracts["orders"], str(landing), up_to=day, pii_key=PII_KEY
            )
            assert "missing" not in {r.status for r in results}
    assert rows(warehouse, "select count(*) from raw._load_log where status <> 'loaded'") == [(0,)]


def test_a_required_source_without_data_for_the_day_fails_saying_what_is_there(
    warehouse, contracts, landing
):
    history = _orders(_order("o1", "2024-02-28T10:00:00Z"), _order("o2", "2024-03-02T10:00:00Z"))
    write_partition(landing, "orders", "history", history, name="orders.csv")
    write_partition(
        landing, "orders", DAY + timedelta(days=1), _orders(_order("o3", "2024-03-03T09:00:00Z"))
    )
    with pytest.raises(MissingPartitionError) as late:
        sync_source(
            warehouse,
            contracts["orders"],
            str(landing),
            up_to=DAY + timedelta(days=3),
            pii_key=PII_KEY,
        )
    assert "has no data for 2024-03-05" in str(late.value)
    assert "the history export covers 2024-02-28 to 2024-03-02" in str(late.value)
    assert "daily partitions run from 2024-03-03 to 2024-03-03" in str(late.value)
    with pytest.raises(MissingPartitionError, match="so 2023-01-01 is before any data"):
        sync_source(
            warehouse, contracts["orders"], str(landing), up_to=date(2023, 1, 1), pii_key=PII_KEY
        )
    # what was there is loaded all the same, once
    assert rows(warehouse, "select order_id, _ds from raw.orders order by 1") == [
        ("o1", date(2024, 2, 28)),
        ("o2", date(2024, 3, 2)),
        ("o3", date(2024, 3, 3)),
    ]


def test_a_daily_partition_wins_over_the_history_rows_of_its_day(warehouse, contracts, landing):
    """Whichever changed last, a day with a daily partition holds that partition's rows."""
    orders = contracts["orders"]
    history = [_order("h1", "2024-03-01T10:00:00Z"), _order("h2", "2024-03-02T10:00:00Z")]
    write_partition(landing, "orders", "history", _orders(*history), name="orders.csv")
    write_partition(landing, "orders", DAY, _orders(_order("d2", "2024-03-02T11:00:00Z")))
    sync_source(warehouse, orders, str(landing), up_to=DAY, pii_key=PII_KEY)
    expected = [("d2", DAY), ("h1", date(2024, 3, 1))]
    assert rows(warehouse, "select order_id, _ds from raw.orders order by 1") == expected
    # the history export changes afterwards: its rows of DAY still do not replace the partition's
    history.append(_order("h3", "2024-03-02T12:00:00Z"))
    write_partition(landing, "orders", "history", _orders(*history), name="orders.csv")
    sync_source(warehouse, orders, str(landing), up_to=DAY, pii_key=PII_KEY)
    assert rows(warehouse, "select order_id, _ds from raw.orders order by 1") == expected
