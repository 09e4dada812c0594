"""A re-delivery never shrinks a loaded day silently: empty, header-only and much smaller
deliveries are refused (the day keeps its rows) unless the contract or the run allows it."""

from __future__ import annotations

import dataclasses

import pytest

from aimass.ingest import ShrinkingDeliveryError, sync_source
from tests.ingest.helpers import DAY, PII_KEY, rows, write_partition

ORDERS_HEADER = (
    "order_id,user_id,order_ts,status,total_amount,discount_amount,coupon_id,device_id,updated_at"
)


def orders_csv(n: int, prefix: str = "o") -> bytes:
    lines = [f"{prefix}{i},u{i % 9},2024-03-02 10:00:00Z,paid,20.5,,,," for i in range(n)]
    return ("\n".join([ORDERS_HEADER, *lines]) + "\n").encode()


def sync(conn, contract, landing, **kwargs):
    return sync_source(conn, contract, landing.as_uri(), up_to=DAY, pii_key=PII_KEY, **kwargs)


def day_rows(conn) -> int:
    return rows(conn, "select count(*) from raw.orders where _ds = %s", (DAY,))[0][0]


@pytest.fixture
def loaded(warehouse, contracts, landing):
    """`orders` of DAY loaded with 100 rows from the landing area."""
    write_partition(landing, "orders", DAY, orders_csv(100))
    sync(warehouse, contracts["orders"], landing)
    assert day_rows(warehouse) == 100
    return warehouse


@pytest.mark.parametrize(
    ("delivery", "what"),
    [
        (b"", "no rows (an empty or header-only delivery)"),
        (ORDERS_HEADER.encode() + b"\n", "no rows (an empty or header-only delivery)"),
        (orders_csv(40), "40 rows"),
    ],
    ids=["zero-byte", "header-only", "much-smaller"],
)
def test_a_shrinking_redelivery_is_refused_and_the_day_kept(
    loaded, contracts, landing, delivery, what
):
    write_partition(landing, "orders", DAY, delivery)
    with pytest.raises(ShrinkingDeliveryError) as caught:
        sync(loaded, contracts["orders"], landing)
    message = str(caught.value)
    assert f"has {what}" in message and "loaded with 100 rows" in message
    assert "orders/2024-03-02" in message and "allow_shrink" in message
    assert day_rows(loaded) == 100
    assert rows(loaded, "select status, rows_loaded from raw._load_log order by started_at") == [
        ("loaded", 100),
        ("failed", 0),
    ]


def test_a_smaller_redelivery_within_the_limit_replaces_the_day(loaded, contracts, landing):
    write_partition(landing, "orders", DAY, orders_csv(60, prefix="n"))
    (result,) = sync(loaded, contracts["orders"], landing)
    assert (result.status, result.rows_loaded) == ("loaded", 60)
    assert rows(loaded, "select count(*) from raw.orders where order_id like 'n%%'") == [(60,)]


def test_the_run_may_allow_a_shrink(loaded, contracts, landing):
    write_partition(landing, "orders", DAY, orders_csv(3))
    (result,) = sync(loaded, contracts["orders"], landing, allow_shrink=True)
    assert (result.status, result.rows_loaded) == ("loaded", 3)
    assert "allow_shrink: replaced the day's 100 rows with 3" in result.message
    assert day_rows(loaded) == 3


def test_the_contract_may_allow_any_shrink(loaded, contracts, landing):
    anything = dataclasses.replace(contracts["orders"], max_shrink_fraction=1.0)
    write_partition(landing, "orders", DAY, b"")
    (result,) = sync(loaded, anything, landing)
    assert (result.status, result.rows_loaded) == ("loaded", 0)
    assert day_rows(loaded) == 0


def test_a_first_delivery_may_be_empty(warehouse, contracts, landing):
    write_partition(landing, "orders", DAY, ORDERS_HEADER.encode() + b"\n")
    (result,) = sync(warehouse, contracts["orders"], landing)
    assert (result.status, result.rows_loaded) == ("loaded", 0)


def test_max_shrink_fraction_is_checked(tmp_path):
    from aimass.contracts import load_contracts

    config = tmp_path / "sources.yml"
    config.write_text(
        "sources:\n  s:\n    primary_key: [a]\n    max_shrink_fraction: 2\n"
        "    columns: {a: {type: text}}\n"
    )
    with pytest.raises(ValueError, match="max_shrink_fraction 2 is not a number from 0 to 1"):
        load_contracts(config)
