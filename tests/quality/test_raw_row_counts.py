"""The raw gate checks each day's row count against its load log and the recent days."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from aimass.contracts import load_contracts
from aimass.ingest import Payload, load_unit
from aimass.quality import DataQualityError, run_gate
from tests.ingest.helpers import PII_KEY, many_events_csv


def load_events(conn, day, n: int, **kwargs):
    uri = f"file:///landing/events/{day}"
    data = many_events_csv(n, day=day)
    contract = kwargs.pop("contract", load_contracts()["events"])
    return load_unit(
        conn, contract, [Payload(f"{uri}/part-0000.csv", "csv", data)], ds=day, pii_key=PII_KEY,
        unit_uri=uri, **kwargs,
    )  # fmt: skip


def row_count_failure(caught) -> tuple:
    (failed,) = caught.value.result.failed
    return failed.table, failed.expectation, failed.observed_value, failed.kwargs["min_value"]


def test_a_day_far_below_the_recent_days_fails(warehouse, warehouse_url, ds, docs_dir):
    for k in range(1, 8):
        load_events(warehouse, ds - timedelta(days=k), 200)
    load_events(warehouse, ds, 5)  # a first delivery: the loader has nothing to compare with
    with pytest.raises(DataQualityError) as caught:
        run_gate(warehouse_url, "raw", ds=ds, data_docs_dir=docs_dir)
    assert row_count_failure(caught) == (
        "raw.events",
        "expect_table_row_count_to_be_between",
        5,
        20,
    )
    assert any("median of 7 recent days is 200" in note for note in caught.value.result.notes)


def test_normal_days_pass(warehouse, warehouse_url, ds, docs_dir):
    for k in range(0, 8):
        load_events(warehouse, ds - timedelta(days=k), 150 + 10 * k)
    result = run_gate(warehouse_url, "raw", ds=ds, data_docs_dir=docs_dir)
    assert result.success


def test_a_day_emptied_outside_the_loader_fails(warehouse, warehouse_url, ds, docs_dir):
    load_events(warehouse, ds, 100)
    with warehouse.cursor() as cur:
        cur.execute("delete from raw.events where _ds = %s", (ds,))
    warehouse.commit()
    with pytest.raises(DataQualityError) as caught:
        run_gate(warehouse_url, "raw", ds=ds, data_docs_dir=docs_dir)
    assert row_count_failure(caught)[2:] == (0, 100)


def test_a_shrink_the_contract_allowed_is_checked_against_the_previous_delivery(
    warehouse, warehouse_url, ds, docs_dir
):
    lax = dataclasses.replace(load_contracts()["events"], max_shrink_fraction=1.0)
    load_events(warehouse, ds, 100)
    load_events(warehouse, ds, 10, contract=lax)  # the loader lets it through ...
    with pytest.raises(DataQualityError) as caught:  # ... the gate holds sources.yml's 50 %
        run_gate(warehouse_url, "raw", ds=ds, data_docs_dir=docs_dir)
    assert row_count_failure(caught)[2:] == (10, 50)


def test_a_shrink_the_run_allowed_passes(warehouse, warehouse_url, ds, docs_dir):
    load_events(warehouse, ds, 100)
    load_events(warehouse, ds, 10, allow_shrink=True)
    assert run_gate(warehouse_url, "raw", ds=ds, data_docs_dir=docs_dir).success
