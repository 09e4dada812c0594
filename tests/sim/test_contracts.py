"""Every simulated table is shaped exactly like its source contract and hangs together."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

TYPE_CHECKS = {
    "text": pd.api.types.is_string_dtype,
    "integer": pd.api.types.is_integer_dtype,
    "bigint": pd.api.types.is_integer_dtype,
    "numeric": pd.api.types.is_float_dtype,
    "boolean": pd.api.types.is_bool_dtype,
    "timestamp": lambda s: isinstance(s.dtype, pd.DatetimeTZDtype) and str(s.dtype.tz) == "UTC",
    "date": lambda s: s.dropna().map(lambda v: type(v) is date).all(),
}


def test_every_source_is_produced_non_empty(tiny_shop, contracts):
    assert list(tiny_shop.tables) == list(contracts)
    assert all(len(frame) > 0 for frame in tiny_shop.tables.values())


@pytest.mark.parametrize(
    "source",
    [
        "users",
        "items",
        "merchants",
        "suppliers",
        "devices",
        "events",
        "orders",
        "order_items",
        "feedback",
        "ad_campaigns",
        "ad_events",
        "coupon_campaigns",
        "coupon_assignments",
        "coupon_redemptions",
    ],
)
def test_columns_types_keys_and_rules_match_the_contract(tiny_shop, contracts, source):
    frame, contract = tiny_shop.tables[source], contracts[source]
    assert list(frame.columns) == contract.column_names
    for column in contract.columns:
        values = frame[column.name]
        assert TYPE_CHECKS[column.type](values), f"{source}.{column.name}: {values.dtype}"
        if column.required:
            assert values.notna().all(), f"{source}.{column.name} has nulls"
        if column.min is not None:
            assert (values.dropna() >= column.min).all(), f"{source}.{column.name} < min"
    assert not frame.duplicated(list(contract.primary_key)).any()


def test_landing_partitions_have_unique_keys(tiny_shop, contracts):
    for name, contract in contracts.items():
        for day in tiny_shop.days:
            rows = tiny_shop.landing[name].day(day).select(list(contract.primary_key)).to_pandas()
            assert not rows.duplicated().any(), f"{name} {day}"


def _ids(frame, column):
    return set(frame[column].dropna())


def test_foreign_keys_are_consistent(tiny_shop):
    t = tiny_shop.tables
    users, items = _ids(t["users"], "user_id"), _ids(t["items"], "item_id")
    orders, devices = _ids(t["orders"], "order_id"), _ids(t["devices"], "device_id")
    for source in (
        "events",
        "orders",
        "feedback",
        "ad_events",
        "coupon_assignments",
        "coupon_redemptions",
        "devices",
    ):
        assert _ids(t[source], "user_id") <= users, source
    for source in ("events", "order_items", "feedback", "ad_events"):
        assert _ids(t[source], "item_id") <= items, source
    assert _ids(t["events"], "merchant_id") <= _ids(t["merchants"], "merchant_id")
    assert _ids(t["items"], "merchant_id") <= _ids(t["merchants"], "merchant_id")
    assert _ids(t["items"], "supplier_id") <= _ids(t["suppliers"], "supplier_id")
    assert _ids(t["events"], "device_id") | _ids(t["orders"], "device_id") <= devices
    assert _ids(t["order_items"], "order_id") == orders
    assert _ids(t["feedback"], "order_id") <= orders
    assert _ids(t["ad_events"], "campaign_id") <= _ids(t["ad_campaigns"], "campaign_id")
    assert _ids(t["coupon_assignments"], "coupon_campaign_id") <= _ids(
        t["coupon_campaigns"], "coupon_campaign_id"
    )
    coupons = _ids(t["coupon_assignments"], "coupon_id")
    assert _ids(t["coupon_redemptions"], "coupon_id") <= coupons
    assert _ids(t["coupon_redemptions"], "order_id") <= orders


def test_activity_happens_after_signup(tiny_shop):
    t = tiny_shop.tables
    signup = t["users"].set_index("user_id")["signup_at"]
    for source, ts in (("events", "event_ts"), ("orders", "order_ts"), ("ad_events", "event_ts")):
        rows = t[source]
        assert (rows[ts] > rows["user_id"].map(signup)).all(), source


def test_items_and_devices_exist_when_used(tiny_shop):
    t = tiny_shop.tables
    listed = t["items"].set_index("item_id")["created_at"]
    first_seen = t["devices"].set_index("device_id")["first_seen_at"]
    for source, ts in (
        ("events", "event_ts"),
        ("order_items", "order_ts"),
        ("ad_events", "event_ts"),
    ):
        rows = t[source].dropna(subset=["item_id"])
        assert (rows[ts] > rows["item_id"].map(listed)).all(), source
    for source, ts in (("events", "event_ts"), ("orders", "order_ts")):
        rows = t[source]
        assert (rows[ts] > rows["device_id"].map(first_seen)).all(), source


def test_orders_add_up(tiny_shop):
    t = tiny_shop.tables
    lines = t["order_items"].assign(amount=lambda x: x["quantity"] * x["unit_price"])
    gross = lines.groupby("order_id")["amount"].sum()
    orders = t["orders"].set_index("order_id")
    net = gross.reindex(orders.index) - orders["discount_amount"]
    assert np.allclose(net.astype(float), orders["total_amount"].astype(float), atol=0.011)
    assert set(orders["status"]) == {"completed", "cancelled"}
    assert (orders["updated_at"] >= orders["order_ts"]).all()
    assert (lines["order_ts"] == lines["order_id"].map(orders["order_ts"])).all()


def test_coupon_orders_match_their_redemptions(tiny_shop):
    t = tiny_shop.tables
    with_coupon = t["orders"].dropna(subset=["coupon_id"]).set_index("order_id")
    redemptions = t["coupon_redemptions"].set_index("order_id")
    assert len(with_coupon) > 0
    assert set(with_coupon.index) == set(redemptions.index)
    assert (with_coupon["coupon_id"] == redemptions.loc[with_coupon.index, "coupon_id"]).all()
    assert (with_coupon["discount_amount"] > 0).all()
    assert (with_coupon["status"] == "completed").all()


def test_every_event_type_and_catalogue_flags_occur(tiny_shop):
    t = tiny_shop.tables
    assert set(t["events"]["event_type"]) == {
        "view",
        "search",
        "favorite",
        "like",
        "comment",
        "add_to_cart",
        "order",
        "payment",
    }
    searches = t["events"][t["events"]["event_type"] == "search"]
    assert searches["search_query"].notna().all() and searches["item_id"].isna().all()
    assert set(t["ad_events"]["event_type"]) == {"impression", "click"}
    assert set(t["feedback"]["kind"]) == {"review", "after_sales", "recommendation"}
    assert t["feedback"].loc[t["feedback"]["kind"] == "review", "review_text"].notna().all()
    assert (~t["items"]["is_active"]).any() or (t["items"]["stock"] == 0).any()
    assert t["users"]["signup_at"].min() < pd.Timestamp(tiny_shop.days[0], tz="UTC")
    assert t["users"]["signup_at"].max() >= pd.Timestamp(tiny_shop.days[0], tz="UTC")


def test_pii_looks_real(tiny_shop):
    t = tiny_shop.tables
    assert t["users"]["email"].str.fullmatch(r"[a-z]+\.[a-z]+\d+@[a-z.]+").all()
    assert t["users"]["phone"].str.fullmatch(r"\+\d{1,2} \d{1,3} \d{7}").all()
    assert t["devices"]["ip_address"].str.fullmatch(r"(\d{1,3}\.){3}\d{1,3}").all()
    assert (
        t["devices"]["device_id"].str.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}").all()
    )
    assert t["suppliers"]["contact_email"].str.contains("@").all()
