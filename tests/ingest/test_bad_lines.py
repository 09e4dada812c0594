"""One bad CSV line costs one line: a line that breaks quoting is quarantined with its text
and line number, and the rest of the file loads."""

from __future__ import annotations

import dataclasses

from aimass.ingest import Payload, load_unit
from tests.ingest.helpers import DAY, PII_KEY, rows

HEADER = "item_id,merchant_id,supplier_id,category,brand,title,price,stock,is_active,created_at,updated_at"
TS = "2024-03-01 00:00:00Z"


def item(i: int, title: str = "Lamp") -> str:
    return f"i{i},m1,s1,home,acme,{title},9.5,3,true,{TS},{TS}"


def load_items(conn, contract, lines: list[str]):
    data = ("\n".join([HEADER, *lines]) + "\n").encode()
    return load_unit(
        conn,
        contract,
        [Payload("file:///landing/items/2024-03-02/part-0000.csv", "csv", data)],
        ds=DAY,
        pii_key=PII_KEY,
        unit_uri="file:///landing/items/2024-03-02",
    )


def quarantined(conn) -> list[tuple]:
    return rows(conn, "select _line_no, _reason, _raw_line from quarantine.items order by 1")


def test_a_stray_quote_and_a_broken_line_cost_one_line_each(warehouse, contracts):
    lines = [item(i) for i in range(100)]
    lines[10] = item(10, 'Monitor 24" wide')  # a quote inside a field: plain text
    lines[40] = item(40, '"Deluxe" edition')  # text after a closing quote
    lines[70] = item(70, '"never closed')  # a quoted field that never ends
    result = load_items(warehouse, contracts["items"], lines)
    assert (result.status, result.rows_in, result.rows_loaded, result.rows_rejected) == (
        "loaded",
        100,
        98,
        2,
    )
    assert rows(warehouse, "select title from raw.items where item_id = 'i10'") == [
        ('Monitor 24" wide',)
    ]
    reason = "broken CSV quoting (a stray or unbalanced quote)"
    assert quarantined(warehouse) == [(42, reason, lines[40]), (72, reason, lines[70])]
    assert "2 line(s) break CSV quoting (line 42, 72)" in result.message


def test_quoted_newlines_still_load_beside_a_broken_line(warehouse, contracts):
    lines = [item(1, '"two\nlines"'), item(2, '"oops'), item(3), "i4,m1,short"]
    lenient = dataclasses.replace(contracts["items"], max_bad_fraction=0.9)
    result = load_items(warehouse, lenient, lines)
    assert result.rows_loaded == 2
    assert rows(warehouse, "select item_id, title from raw.items order by 1") == [
        ("i1", "two\nlines"),
        ("i3", "Lamp"),
    ]
    assert [(n, r.split(":")[0]) for n, r, _ in quarantined(warehouse)] == [
        (4, "broken CSV quoting (a stray or unbalanced quote)"),
        (6, "wrong column count"),
    ]


def test_a_cr_only_file_with_a_stray_quote_loads_its_good_lines(warehouse, contracts):
    lines = [item(i) for i in range(30)]
    lines[5] = item(5, '"bad"x')
    data = ("\r".join([HEADER, *lines]) + "\r").encode()
    result = load_unit(
        warehouse,
        contracts["items"],
        [Payload("mem://cr.csv", "csv", data)],
        ds=DAY,
        pii_key=PII_KEY,
        unit_uri="mem://cr",
    )
    assert (result.rows_loaded, result.rows_rejected) == (29, 1)
    assert quarantined(warehouse)[0][0] == 7
