"""Bad landing files, loaded through the real sync path: each gives a clear reason or error, and
every input row is accounted for (in raw or in quarantine, and `raw._load_log` adds up)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from aimass.contracts import load_contracts
from aimass.ingest import SchemaDriftError, TooManyBadRowsError, sync_source
from tests.ingest.helpers import DAY, EVENT_COLUMNS, PII_KEY, event_line, rows, write_partition

ORDERS_HEADER = (
    "order_id,user_id,order_ts,status,total_amount,discount_amount,coupon_id,device_id,updated_at"
)


def order_line(i: int, amount: str = "20.00", ts: str = "2024-03-02 12:00:00+00:00") -> str:
    return f"o{i},u{i},{ts},completed,{amount},0,,dev-{i},{ts}"


def lenient(source: str):
    """The real contract, with single bad rows never failing the load."""
    return dataclasses.replace(load_contracts()[source], max_bad_fraction=0.9)


def csv(header: str, lines: list[str]) -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode()


def sync(conn, contract, landing):
    return sync_source(conn, contract, landing.as_uri(), up_to=DAY, pii_key=PII_KEY)


def accounting(conn, source: str) -> dict:
    """Rows in raw and quarantine for DAY, and what the load log says about them."""
    (raw,) = rows(conn, f"select count(*) from raw.{source} where _ds = %s", (DAY,))[0]
    (quarantined,) = rows(conn, f"select count(*) from quarantine.{source} where _ds = %s", (DAY,))[
        0
    ]
    log = rows(
        conn,
        "select status, rows_in, rows_loaded, rows_rejected, coalesce(message, '') "
        "from raw._load_log where source = %s and ds = %s order by finished_at desc limit 1",
        (source, DAY),
    )[0]
    return {"raw": raw, "quarantine": quarantined, "log": log}


def reasons(conn, source: str) -> list[str]:
    return [r[0] for r in rows(conn, f"select _reason from quarantine.{source} order by _line_no")]


def assert_accounted(conn, source: str, rows_in: int, rejected: int) -> dict:
    seen = accounting(conn, source)
    status, log_in, log_loaded, log_rejected, _ = seen["log"]
    assert status == "loaded"
    assert seen["raw"] + seen["quarantine"] == rows_in == log_in
    assert (log_loaded, log_rejected) == (seen["raw"], seen["quarantine"])
    assert seen["quarantine"] == rejected
    return seen


# (source, file name, file bytes, input rows, rejected rows, reason fragment)
QUARANTINE_CASES = {
    "malformed CSV line": (
        "events",
        "part-0000.csv",
        csv(EVENT_COLUMNS, [event_line(1), "e2,2024-03-02 10:00:00Z,u2", event_line(3)]),
        3,
        1,
        "column",
    ),
    "malformed JSON line": (
        "events",
        "part-0000.jsonl",
        (
            json.dumps(
                {
                    "event_id": "e1",
                    "event_ts": "2024-03-02T10:00:00Z",
                    "user_id": "u1",
                    "event_type": "view",
                }
            )
            + '\n{"event_id": "e2", "event_ts": \n'
            + json.dumps(
                {
                    "event_id": "e3",
                    "event_ts": "2024-03-02T11:00:00Z",
                    "user_id": "u3",
                    "event_type": "view",
                }
            )
            + "\n"
        ).encode(),
        3,
        1,
        "JSON",
    ),
    "wrong types": (
        "events",
        "part-0000.csv",
        csv(EVENT_COLUMNS, [event_line(1), event_line(2, ts="yesterday at noon")]),
        2,
        1,
        "event_ts",
    ),
    "negative amount": (
        "orders",
        "part-0000.csv",
        csv(ORDERS_HEADER, [order_line(1), order_line(2, amount="-5.00")]),
        2,
        1,
        "total_amount",
    ),
    "future timestamp": (
        "events",
        "part-0000.csv",
        csv(EVENT_COLUMNS, [event_line(1), event_line(2, ts="2024-03-04 00:00:00+00:00")]),
        2,
        1,
        "event_ts",
    ),
    "event later than the late-arrival window": (
        "events",
        "part-0000.csv",
        csv(
            EVENT_COLUMNS,
            [
                event_line(1),
                event_line(2, ts="2024-02-28 23:00:00+00:00"),  # 3 days late: loaded
                event_line(3, ts="2024-02-20 10:00:00+00:00"),  # 11 days late: quarantined
            ],
        ),
        3,
        1,
        "event_ts",
    ),
    "duplicate keys": (
        "events",
        "part-0000.csv",
        csv(EVENT_COLUMNS, [event_line(1), event_line(1, user_id="u-last"), event_line(2)]),
        3,
        1,
        "duplicate",
    ),
    "wrong encoding (Latin-1)": (
        "events",
        "part-0000.csv",
        csv(EVENT_COLUMNS, [event_line(1)])
        + event_line(2, search_query="caf\xe9").encode("latin-1")
        + b"\n",
        2,
        1,
        "UTF-8",
    ),
    "missing required value": (
        "events",
        "part-0000.csv",
        csv(EVENT_COLUMNS, [event_line(1), event_line(2, user_id="")]),
        2,
        1,
        "user_id",
    ),
}


@pytest.mark.parametrize("case", list(QUARANTINE_CASES))
def test_bad_rows_are_quarantined_with_a_reason_and_accounted_for(warehouse, tmp_path, case):
    source, name, data, rows_in, rejected, reason = QUARANTINE_CASES[case]
    write_partition(tmp_path, source, DAY, data, name=name)
    contract = lenient(source)
    if name.endswith(".jsonl"):
        contract = dataclasses.replace(contract, format="jsonl")
    [result] = sync(warehouse, contract, tmp_path)
    assert result.status == "loaded"
    assert_accounted(warehouse, source, rows_in, rejected)
    assert all(reason.lower() in r.lower() for r in reasons(warehouse, source)), reasons(
        warehouse, source
    )


def test_late_event_inside_the_window_is_loaded_on_the_day_it_arrived(warehouse, tmp_path):
    data = csv(EVENT_COLUMNS, [event_line(1, ts="2024-02-28 23:00:00+00:00")])
    write_partition(tmp_path, "events", DAY, data)
    sync(warehouse, lenient("events"), tmp_path)
    assert rows(warehouse, "select event_id, _ds from raw.events") == [("e1", DAY)]


def test_a_new_unexpected_column_is_dropped_with_a_warning_in_the_load_log(warehouse, tmp_path):
    lines = [event_line(i) + ",extra" for i in range(3)]
    write_partition(tmp_path, "events", DAY, csv(EVENT_COLUMNS + ",campaign_tag", lines))
    [result] = sync(warehouse, lenient("events"), tmp_path)
    seen = assert_accounted(warehouse, "events", 3, 0)
    assert "campaign_tag" in seen["log"][4]
    assert any("campaign_tag" in w for w in result.warnings)


def test_an_empty_day_loads_zero_rows_and_is_logged(warehouse, tmp_path):
    write_partition(tmp_path, "events", DAY, csv(EVENT_COLUMNS, []))
    [result] = sync(warehouse, lenient("events"), tmp_path)
    assert (result.status, result.rows_in) == ("loaded", 0)
    assert_accounted(warehouse, "events", 0, 0)


def test_a_huge_field_is_loaded_whole(warehouse, tmp_path):
    huge = "x" * 5_000_000
    data = csv(EVENT_COLUMNS, [event_line(1, search_query=huge), event_line(2)])
    write_partition(tmp_path, "events", DAY, data)
    sync(warehouse, lenient("events"), tmp_path)
    assert_accounted(warehouse, "events", 2, 0)
    assert rows(warehouse, "select max(length(search_query)) from raw.events") == [(5_000_000,)]


def test_missing_required_column_fails_clearly_and_loads_nothing(warehouse, tmp_path):
    header = EVENT_COLUMNS.replace("user_id,", "")
    lines = [event_line(i).replace(f",u{i % 7},", ",", 1) for i in range(3)]
    write_partition(tmp_path, "events", DAY, csv(header, lines))
    with pytest.raises(SchemaDriftError, match="user_id") as error:
        sync(warehouse, lenient("events"), tmp_path)
    assert "sources.yml" in str(error.value) or "export" in str(error.value)
    seen = accounting(warehouse, "events")
    assert (seen["raw"], seen["quarantine"]) == (0, 0)
    assert seen["log"][0] == "failed" and "user_id" in seen["log"][4]


def test_a_mostly_bad_file_fails_naming_file_and_reasons_and_loads_nothing(warehouse, tmp_path):
    lines = [event_line(1)] + [event_line(i, ts="not a time") for i in range(2, 12)]
    write_partition(tmp_path, "events", DAY, csv(EVENT_COLUMNS, lines))
    with pytest.raises(TooManyBadRowsError) as error:
        sync(warehouse, load_contracts()["events"], tmp_path)
    message = str(error.value)
    assert "10 of 11 rows" in message and "part-0000.csv" in message and "event_ts" in message
    seen = accounting(warehouse, "events")
    assert (seen["raw"], seen["quarantine"]) == (0, 0)
    assert seen["log"][:4] == ("failed", 11, 0, 10)
