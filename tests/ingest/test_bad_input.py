"""Bad input: every row ends in raw or quarantine with a reason; the load log adds up."""

from __future__ import annotations

import dataclasses
import io
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aimass.ingest import (
    IngestError,
    Payload,
    SchemaDriftError,
    TooManyBadRowsError,
    load_unit,
)
from tests.ingest.helpers import DAY, PII_KEY, event_line, events_csv, rows

ITEMS_HEADER = "order_id,line_no,order_ts,item_id,quantity,unit_price"
GOOD = "o1,1,2024-03-02 09:00:00+00:00,i1,2,9.99"


def order_items(lines: list[str], header: str = ITEMS_HEADER) -> Payload:
    data = ("\n".join([header, *lines]) + "\n").encode()
    return Payload("file:///landing/order_items/2024-03-02/part-0000.csv", "csv", data)


def load(conn, contract, payload, **kwargs):
    return load_unit(
        conn,
        contract,
        [payload],
        ds=DAY,
        pii_key=PII_KEY,
        unit_uri="file:///landing/order_items/2024-03-02",
        **kwargs,
    )


def quarantined(conn, source: str):
    return rows(
        conn, f"select _line_no, _reason, _raw_line, _ds from quarantine.{source} order by _line_no"
    )


@pytest.fixture
def lenient(contracts):
    """order_items with a high max_bad_fraction, so single bad rows never fail the load."""
    return dataclasses.replace(contracts["order_items"], max_bad_fraction=0.9)


def test_clean_rows_load_and_the_log_adds_up(warehouse, lenient):
    result = load(warehouse, lenient, order_items([GOOD, "o1,2,2024-03-02 09:00:00Z,i2,1,5"]))
    assert (result.status, result.rows_in, result.rows_loaded, result.rows_rejected) == (
        "loaded",
        2,
        2,
        0,
    )
    assert rows(
        warehouse,
        "select order_id, line_no, quantity, unit_price::text, _ds "
        "from raw.order_items order by line_no",
    ) == [("o1", 1, 2, "9.99", DAY), ("o1", 2, 1, "5", DAY)]
    assert rows(
        warehouse, "select status, rows_in, rows_loaded, rows_rejected, checksum from raw._load_log"
    ) == [("loaded", 2, 2, 0, result.checksum)]


def test_wrong_column_count_is_quarantined_with_its_line(warehouse, lenient):
    result = load(
        warehouse,
        lenient,
        order_items(
            [GOOD, "o2,1,2024-03-02 09:00:00Z,i1,2", "o3,1,2024-03-02 09:00:00Z,i1,2,1,extra"]
        ),
    )
    assert (result.rows_loaded, result.rows_rejected) == (1, 2)
    assert quarantined(warehouse, "order_items") == [
        (3, "wrong column count: expected 6, got 5", "o2,1,2024-03-02 09:00:00Z,i1,2", DAY),
        (4, "wrong column count: expected 6, got 7", "o3,1,2024-03-02 09:00:00Z,i1,2,1,extra", DAY),
    ]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("o2,one,2024-03-02 09:00:00Z,i1,2,9.99", "unparsable integer in line_no"),
        ("o2,1,2024-03-02 09:00:00Z,i1,2.5,9.99", "unparsable integer in quantity"),
        ("o2,1,2024-03-02 09:00:00Z,i1,2,abc", "unparsable numeric in unit_price"),
        ("o2,1,yesterday,i1,2,9.99", "unparsable timestamp in order_ts"),
        ("o2,1,2024-02-30 09:00:00Z,i1,2,9.99", "unparsable timestamp in order_ts"),
        ("o2,99999999999,2024-03-02 09:00:00Z,i1,2,9.99", "unparsable integer in line_no"),
        ("o2,1,2024-03-02 09:00:00Z,,2,9.99", "missing required field item_id"),
        (",1,2024-03-02 09:00:00Z,i1,2,9.99", "missing required field order_id"),
        ("o2,1,2024-03-02 09:00:00Z,i1,-1,9.99", "negative value in quantity"),
        ("o2,1,2024-03-02 09:00:00Z,i1,1,-0.5", "negative value in unit_price"),
    ],
)
def test_bad_values_are_quarantined_with_a_reason(warehouse, lenient, line, reason):
    result = load(warehouse, lenient, order_items([GOOD, line]))
    assert (result.rows_in, result.rows_loaded, result.rows_rejected) == (2, 1, 1)
    assert quarantined(warehouse, "order_items") == [(3, reason, line, DAY)]
    assert rows(warehouse, "select order_id from raw.order_items") == [("o1",)]


def test_boolean_and_date_values_are_checked(warehouse, contracts):
    assignments = dataclasses.replace(contracts["coupon_assignments"], max_bad_fraction=0.9)
    header = "coupon_campaign_id,user_id,assigned_at,treatment,coupon_value,coupon_id"
    data = (
        f"{header}\nc1,u1,2024-03-02 08:00:00Z,True,5,k1\n"
        "c1,u2,2024-03-02 08:00:00Z,maybe,5,k2\nc1,u3,2024-03-02 08:00:00Z,f,0,\n"
    ).encode()
    load_unit(
        warehouse,
        assignments,
        [Payload("mem://a.csv", "csv", data)],
        ds=DAY,
        pii_key=PII_KEY,
        unit_uri="mem://a",
    )
    assert rows(
        warehouse, "select user_id, treatment from raw.coupon_assignments order by user_id"
    ) == [("u1", True), ("u3", False)]
    assert [r[1] for r in quarantined(warehouse, "coupon_assignments")] == [
        "unparsable boolean in treatment"
    ]
    campaigns = dataclasses.replace(contracts["coupon_campaigns"], max_bad_fraction=0.9)
    header = "coupon_campaign_id,name,offer_date,coupon_values,horizon_days,updated_at"
    data = (
        f"{header}\nc1,A,2024-03-02,5|10,7,2024-03-01 00:00:00Z\n"
        "c2,B,2024-02-30,5,7,2024-03-01 00:00:00Z\n"
    ).encode()
    load_unit(
        warehouse,
        campaigns,
        [Payload("mem://c.csv", "csv", data)],
        ds=DAY,
        pii_key=PII_KEY,
        unit_uri="mem://c",
    )
    assert rows(warehouse, "select coupon_campaign_id, offer_date from raw.coupon_campaigns") == [
        ("c1", date(2024, 3, 2))
    ]
    assert [r[1] for r in quarantined(warehouse, "coupon_campaigns")] == [
        "unparsable date in offer_date"
    ]


def test_invalid_utf8_line_is_quarantined_readably(warehouse, lenient):
    data = (ITEMS_HEADER + "\n" + GOOD + "\n").encode() + b"o2,1,2024-03-02 09:00:00Z,i\xff,1,1\n"
    result = load(warehouse, lenient, Payload("mem://x.csv", "csv", data))
    assert (result.rows_loaded, result.rows_rejected) == (1, 1)
    assert quarantined(warehouse, "order_items") == [
        (3, "invalid UTF-8", "o2,1,2024-03-02 09:00:00Z,i\\xff,1,1", DAY)
    ]


def test_event_time_window_allows_three_days_of_late_events(warehouse, lenient):
    lines = [
        "o1,1,2024-02-28 00:00:00Z,i1,1,1",  # 3 days late: fine
        "o2,1,2024-02-27 23:59:59Z,i1,1,1",  # older: rejected
        "o3,1,2024-03-02 23:59:59Z,i1,1,1",  # end of the day: fine
        "o4,1,2024-03-03 00:00:00Z,i1,1,1",  # next day: rejected
    ]
    result = load(warehouse, lenient, order_items(lines))
    assert rows(warehouse, "select order_id from raw.order_items order by 1") == [("o1",), ("o3",)]
    reason = (
        "order_ts outside the load window [2024-02-28, 2024-03-03) "
        "(late_arrival_days in sources.yml)"
    )
    assert [(r[0], r[1]) for r in quarantined(warehouse, "order_items")] == [
        (3, reason),
        (5, reason),
    ]
    assert result.top_reasons == ((reason, 2),)


def test_late_arrival_days_is_a_contract_option(warehouse, lenient):
    strict = dataclasses.replace(lenient, late_arrival_days=0)
    load(warehouse, strict, order_items([GOOD, "o2,1,2024-03-01 23:00:00Z,i1,1,1"]))
    assert rows(warehouse, "select order_id from raw.order_items") == [("o1",)]
    assert quarantined(warehouse, "order_items")[0][1].startswith(
        "order_ts outside the load window [2024-03-02, 2024-03-03)"
    )


def test_duplicate_primary_keys_keep_the_last_row(warehouse, lenient):
    lines = [
        "o1,1,2024-03-02 09:00:00Z,i1,1,1.00",
        "o1,2,2024-03-02 09:00:00Z,i2,1,2.00",
        "o1,1,2024-03-02 09:05:00Z,i1,3,1.00",  # a later version of (o1, 1)
        "o1,01,2024-03-02 09:10:00Z,i1,4,1.00",  # the same key, written differently
    ]
    result = load(warehouse, lenient, order_items(lines))
    assert rows(
        warehouse, "select order_id, line_no, quantity from raw.order_items order by line_no"
    ) == [("o1", 1, 4), ("o1", 2, 1)]
    reason = "duplicate primary key in the partition (the last row wins)"
    assert [(r[0], r[1]) for r in quarantined(warehouse, "order_items")] == [
        (2, reason),
        (4, reason),
    ]
    assert (result.rows_in, result.rows_loaded, result.rows_rejected) == (4, 2, 2)


def test_a_row_with_several_problems_lists_them_all(warehouse, lenient):
    load(warehouse, lenient, order_items([GOOD, ",x,2024-03-02 09:00:00Z,i1,-3,1"]))
    assert quarantined(warehouse, "order_items")[0][1] == (
        "missing required field order_id; unparsable integer in line_no; negative value in quantity"
    )


def test_every_input_row_is_accounted_for(warehouse, lenient):
    lines = [
        GOOD,
        "o2,1",
        "o3,1,2024-03-02 09:00:00Z,i1,1,1",
        "o3,1,2024-03-02 09:00:00Z,i1,1,1",
        "o4,1,bad,i1,1,1",
        "",
        "o5,1,2024-03-02 09:00:00Z,i1,1,1",
    ]
    result = load(warehouse, lenient, order_items(lines))
    (raw_count,) = rows(warehouse, "select count(*) from raw.order_items")[0]
    (q_count,) = rows(warehouse, "select count(*) from quarantine.order_items")[0]
    log = rows(warehouse, "select rows_in, rows_loaded, rows_rejected from raw._load_log")
    assert result.rows_in == 6  # the blank line is not a row
    assert log == [(6, raw_count, q_count)] and raw_count + q_count == 6


def test_too_many_bad_rows_fails_and_keeps_the_previous_state(warehouse, contracts):
    contract = contracts["order_items"]  # max_bad_fraction 5%
    load(warehouse, contract, order_items([GOOD]))
    before = rows(warehouse, "select * from raw.order_items")
    bad = order_items([GOOD, "o2,x,bad,i1,1,1", "o3,1,bad,i1,1,1", "o4", "o5,1,bad,i1,-1,1"])
    with pytest.raises(TooManyBadRowsError) as caught:
        load(warehouse, contract, bad)
    message = str(caught.value)
    assert "part-0000.csv" in message and "80.0%" in message and "5.0%" in message
    assert "unparsable timestamp in order_ts" in message
    assert "wrong column count: expected 6, got 1" in message
    assert len(caught.value.top_reasons) == 3
    assert rows(warehouse, "select * from raw.order_items") == before
    assert rows(warehouse, "select count(*) from quarantine.order_items") == [(0,)]
    assert rows(
        warehouse,
        "select status, rows_in, rows_loaded, rows_rejected from raw._load_log order by started_at",
    ) == [("loaded", 1, 1, 0), ("failed", 5, 0, 4)]


def test_missing_required_column_is_schema_drift(warehouse, contracts):
    header = "order_id,line_no,item_id,quantity"
    with pytest.raises(SchemaDriftError, match=r"order_ts.*unit_price|unit_price.*order_ts"):
        load(warehouse, contracts["order_items"], order_items(["o1,1,i1,1"], header=header))
    assert rows(warehouse, "select status from raw._load_log") == [("failed",)]
    assert rows(warehouse, "select count(*) from raw.order_items") == [(0,)]


def test_a_column_whose_values_all_changed_type_is_schema_drift(warehouse, lenient):
    lines = [f"o{i},1,2024-03-02 09:00:00Z,i1,1,EUR {i}.50" for i in range(12)]
    with pytest.raises(SchemaDriftError, match="unit_price.*numeric"):
        load(warehouse, lenient, order_items(lines))


def test_parquet_type_change_is_schema_drift(warehouse, contracts):
    table = pa.table(
        {
            "order_id": ["o1"],
            "line_no": [1],
            "order_ts": ["2024-03-02T09:00:00Z"],
            "item_id": ["i1"],
            "quantity": [True],
            "unit_price": [1.5],
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    with pytest.raises(SchemaDriftError, match="quantity: bool"):
        load(
            warehouse,
            contracts["order_items"],
            Payload("mem://p.parquet", "parquet", sink.getvalue()),
        )


def test_unexpected_column_is_dropped_with_a_warning(warehouse, lenient, caplog):
    header = ITEMS_HEADER + ",gift_wrap"
    result = load(warehouse, lenient, order_items([GOOD + ",yes"], header=header))
    assert result.rows_loaded == 1
    assert "unexpected columns ['gift_wrap'] dropped" in result.message
    (message,) = rows(warehouse, "select message from raw._load_log")[0]
    assert "gift_wrap" in message
    assert any("gift_wrap" in r.getMessage() for r in caplog.records)


def test_pii_source_quarantine_never_holds_clear_text(warehouse, contracts):
    events = dataclasses.replace(contracts["events"], max_bad_fraction=0.9)
    lines = [
        event_line(1, device_id="clear-device-1"),
        event_line(2, ts="not-a-time", device_id="clear-device-2"),
        "e3,2024-03-02 10:00:00Z,u1,view,clear-device-3",
    ]
    load_unit(
        warehouse,
        events,
        [Payload("mem://e.csv", "csv", events_csv(lines))],
        ds=DAY,
        pii_key=PII_KEY,
        unit_uri="mem://e",
    )
    dump = rows(warehouse, "select string_agg(q::text, ' ') from quarantine.events q")[0][0]
    dump += rows(warehouse, "select string_agg(r::text, ' ') from raw.events r")[0][0]
    assert "clear-device" not in dump
    reasons = [r[1] for r in quarantined(warehouse, "events")]
    assert reasons == ["unparsable timestamp in event_ts", "wrong column count: expected 9, got 5"]
    withheld = quarantined(warehouse, "events")[1][2]
    assert withheld.startswith("[withheld:")


def test_errors_are_value_errors_that_say_what_to_do():
    for error in (SchemaDriftError, TooManyBadRowsError):
        assert issubclass(error, IngestError) and issubclass(error, ValueError)
