"""`dbt build` of the whole project on a seeded raw layer (the simulator's tiny shop when the
simulator is installed, else the fixture shop), with the session time zone set away from UTC
so that every day boundary must come from the SQL itself. The as-of grid is one day apart here
(`as_of_spacing_days: 1`), so that every day boundary has its as-of date; tests/dbt/
test_as_of_dates.py checks the default, sparse grid."""

from __future__ import annotations

import json
from datetime import timedelta

import psycopg2
import pytest

from aimass.transform import run_dbt
from tests.dbt.dbt_harness import (
    clear_pii_values,
    fresh_warehouse,
    pii_findings,
    scalar,
    shop_with_boundaries,
)
from tests.dbt.dbt_raw_loader import load_raw
from tests.dbt.dbt_shop_fixture import EDGE_DAY

pytestmark = pytest.mark.slow

EVERY_DAY = {"as_of_spacing_days": 1}
# marts.fct_user_features_daily as promised to the ML code, in table order
FEATURE_COLUMNS = [
    ("user_id", "text"), ("as_of_date", "date"), ("tenure_days", "integer"),
    ("country", "text"), ("orders_7d", "integer"), ("orders_30d", "integer"),
    ("orders_90d", "integer"), ("revenue_7d", "numeric"), ("revenue_30d", "numeric"),
    ("revenue_90d", "numeric"), ("avg_order_value_90d", "numeric"),
    ("days_since_last_order", "integer"), ("days_since_last_event", "integer"),
    ("purchases_lifetime", "integer"), ("purchase_days_lifetime", "integer"),
    ("revenue_lifetime", "numeric"), ("days_since_first_purchase", "integer"),
    ("days_since_last_purchase", "integer"), ("avg_days_between_purchases", "numeric"),
    ("purchases_per_30d", "numeric"), ("views_7d", "integer"), ("views_30d", "integer"), ("searches_7d", "integer"),
    ("searches_30d", "integer"), ("favorites_30d", "integer"), ("likes_30d", "integer"),
    ("comments_30d", "integer"), ("carts_7d", "integer"), ("carts_30d", "integer"),
    ("sessions_30d", "integer"), ("active_days_30d", "integer"),
    ("view_to_order_rate_90d", "numeric"), ("cart_to_order_rate_90d", "numeric"),
    ("top_category_90d", "text"), ("top_category_share_90d", "numeric"),
    ("distinct_categories_90d", "integer"), ("avg_item_price_viewed_30d", "numeric"),
    ("discount_share_90d", "numeric"), ("coupons_redeemed_90d", "integer"),
    ("ad_impressions_30d", "integer"), ("ad_clicks_30d", "integer"), ("ad_ctr_30d", "numeric"),
    ("device_os", "text"), ("is_mobile", "integer"), ("feedback_count_90d", "integer"),
    ("avg_rating_90d", "numeric"), ("avg_merchant_rating_90d", "numeric"),
]  # fmt: skip
LABEL_COLUMNS = [
    ("user_id", "text"), ("as_of_date", "date"), ("label_horizon_days", "integer"),
    ("purchased_in_horizon", "integer"), ("revenue_in_horizon", "numeric"),
    ("label_window_end", "date"), ("is_label_mature", "boolean"),
]  # fmt: skip
PUBLIC_MARTS = {
    "dim_users", "dim_items", "dim_merchants", "dim_suppliers", "fct_orders", "fct_events",
    "fct_ad_events", "fct_user_features_daily", "fct_user_labels_daily", "dim_as_of_dates",
    "fct_coupon_training_set", "mart_item_popularity", "mart_trending_searches",
    "mart_user_activity", "mart_user_segments", "mart_merchant_scorecard",
    "mart_supplier_scorecard", "mart_ad_performance",
}  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A warehouse with the shop in raw and one full `dbt build` (session time zone +05:30)."""
    name, tables = shop_with_boundaries()
    target = tmp_path_factory.mktemp("dbt-target")
    with fresh_warehouse() as url, pytest.MonkeyPatch.context() as patch:
        patch.setenv("PGTZ", "Asia/Kolkata")
        conn = psycopg2.connect(url)
        try:
            load_raw(conn, tables)
        finally:
            conn.close()
        result = run_dbt(["build"], url, vars=EVERY_DAY, target_path=str(target))
        docs = run_dbt(["docs", "generate"], url, vars=EVERY_DAY, target_path=str(target))
        conn = psycopg2.connect(url)
        try:
            yield {
                "name": name,
                "tables": tables,
                "conn": conn,
                "result": result,
                "docs": docs,
                "target": target,
            }
        finally:
            conn.close()


def test_build_runs_every_model_unit_test_and_data_test(built):
    result = built["result"]
    by_kind: dict[str, list[str]] = {}
    for node in result.results:
        by_kind.setdefault(node["unique_id"].split(".")[0], []).append(node["status"])
    assert set(by_kind["model"]) == {"success"}, built["name"]
    assert set(by_kind["test"]) <= {"pass", "warn"}
    assert len(by_kind["unit_test"]) >= 5 and set(by_kind["unit_test"]) == {"pass"}
    assert len(by_kind["model"]) >= 40 and len(by_kind["test"]) >= 150


def test_models_land_in_the_schemas_design_names(built):
    conn = built["conn"]
    with conn.cursor() as cur:
        cur.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('staging', 'intermediate', 'marts')"
        )
        relations = cur.fetchall()
        cur.execute(
            "select schema_name from information_schema.schemata "
            "where schema_name like '%%\\_staging' or schema_name like '%%\\_marts'"
        )
        prefixed = cur.fetchall()
    marts = {t for s, t in relations if s == "marts"}
    assert PUBLIC_MARTS <= marts
    assert {t for s, t in relations if s == "staging"} >= {"stg_events__events", "stg_users__users"}
    assert all(t.startswith("int_") for s, t in relations if s == "intermediate")
    assert prefixed == []
    failures_kept = scalar(
        conn, "select count(*) from information_schema.tables where table_schema = 'audit'"
    )
    assert failures_kept >= 100  # store_failures: one table per data test


def test_feature_and_label_marts_have_the_contract_columns(built):
    with built["conn"].cursor() as cur:
        for table, expected in (
            ("fct_user_features_daily", FEATURE_COLUMNS),
            ("fct_user_labels_daily", LABEL_COLUMNS),
        ):
            cur.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'marts' and table_name = %s order by ordinal_position",
                (table,),
            )
            assert cur.fetchall() == expected, table


def test_a_one_day_grid_runs_from_first_day_plus_one_to_last_day_plus_one(built):
    conn = built["conn"]
    first_day, last_day = (
        scalar(conn, "select min(event_date) from marts.fct_events"),
        scalar(conn, "select max(order_date) from marts.fct_orders"),
    )
    last_day = max(last_day, scalar(conn, "select max(event_date) from marts.fct_events"))
    first_day = min(first_day, scalar(conn, "select min(order_date) from marts.fct_orders"))
    with conn.cursor() as cur:
        cur.execute(
            "select min(as_of_date), max(as_of_date), count(distinct as_of_date) "
            "from marts.fct_user_features_daily"
        )
        low, high, days = cur.fetchone()
        cur.execute(
            "select max(as_of_date) filter (where is_label_mature), "
            "bool_and(label_window_end = as_of_date + 7) from marts.fct_user_labels_daily"
        )
        last_mature, windows_ok = cur.fetchone()
    assert (low, high) == (first_day + timedelta(days=1), last_day + timedelta(days=1))
    assert days == (high - low).days + 1
    assert last_mature == last_day + timedelta(days=1) - timedelta(days=7)
    assert windows_ok


def test_an_order_at_midnight_is_in_the_label_of_that_day_not_in_its_features(built):
    conn = built["conn"]
    a, next_day = EDGE_DAY, EDGE_DAY + timedelta(days=1)
    with conn.cursor() as cur:
        cur.execute(
            "select as_of_date, orders_7d, days_since_last_order from marts.fct_user_features_daily "
            "where user_id = 'edge_midnight' and as_of_date in (%s, %s) order by as_of_date",
            (a, next_day),
        )
        # as of A only the anchor order of A - 1 is known; as of A + 1 the midnight order too
        assert cur.fetchall() == [(a, 1, 1), (next_day, 2, 1)]
        cur.execute(
            "select user_id, purchased_in_horizon from marts.fct_user_labels_daily "
            "where as_of_date = %s and user_id like 'edge\\_%%' order by user_id",
            (a,),
        )
        assert cur.fetchall() == [
            ("edge_horizon", 0),  # ordered at A + 7 days: outside [A, A + 7 days)
            ("edge_last_second", 1),  # ordered at A + 7 days - 1 s: the window's last second
            ("edge_midnight", 1),  # ordered at A 00:00
        ]
        cur.execute(
            "select purchased_in_horizon from marts.fct_user_labels_daily "
            "where as_of_date = %s and user_id = 'edge_horizon'",
            (next_day,),
        )
        assert cur.fetchone() == (1,)
        cur.execute(
            "select count(*) from marts.fct_user_features_daily "
            "where user_id like 'edge\\_%%' and as_of_date < %s",
            (a,),
        )
        assert cur.fetchone() == (0,)  # known from the anchor order on A - 1 only


def test_features_match_the_facts_they_summarise(built):
    """Spot-check the windows against the facts for every user on one as-of date."""
    conn = built["conn"]
    a = scalar(conn, "select max(as_of_date) - 3 from marts.fct_user_features_daily")
    mismatches = scalar(
        conn,
        """
        with facts as (
            select
                u.user_id,
                (select count(*) from marts.fct_orders o where o.user_id = u.user_id
                    and o.order_ts >= (%(a)s::timestamp - interval '30 days') at time zone 'UTC'
                    and o.order_ts < %(a)s::timestamp at time zone 'UTC') as orders_30d,
                (select count(*) from marts.fct_events e where e.user_id = u.user_id
                    and e.event_type = 'view'
                    and e.event_ts >= (%(a)s::timestamp - interval '7 days') at time zone 'UTC'
                    and e.event_ts < %(a)s::timestamp at time zone 'UTC') as views_7d,
                (select count(*) from marts.fct_ad_events e where e.user_id = u.user_id
                    and e.event_type = 'click'
                    and e.event_ts >= (%(a)s::timestamp - interval '30 days') at time zone 'UTC'
                    and e.event_ts < %(a)s::timestamp at time zone 'UTC') as ad_clicks_30d
            from marts.fct_user_features_daily u
            where u.as_of_date = %(a)s
        )
        select count(*)
        from facts
        join marts.fct_user_features_daily f
            on f.user_id = facts.user_id and f.as_of_date = %(a)s
        where (f.orders_30d, f.views_7d, f.ad_clicks_30d)
            <> (facts.orders_30d, facts.views_7d, facts.ad_clicks_30d)
        """,
        {"a": a},
    )
    assert mismatches == 0
    assert scalar(conn, "select sum(views_7d) from marts.fct_user_features_daily") > 0


def test_no_clear_text_pii_downstream_of_raw(built):
    conn = built["conn"]
    clear = clear_pii_values(built["tables"])
    assert len(clear) > 50
    assert pii_findings(conn, ("staging", "intermediate", "marts"), clear) == []
    # the pseudonyms are there instead
    hashes = scalar(
        conn,
        "select count(*) from marts.dim_users where email_hash ~ '^[0-9a-f]{64}$'",
    )
    assert hashes > 0


def test_pii_scan_finds_planted_clear_text(built):
    """The scan above can fail: a clear e-mail copied into a scratch table is found."""
    conn = built["conn"]
    clear = clear_pii_values(built["tables"])
    with conn.cursor() as cur:
        cur.execute("create schema pii_probe")
        cur.execute("create table pii_probe.leak (note text)")
        cur.execute(
            "insert into pii_probe.leak values (%s), ('+49 151 2345678'), ('10.1.2.3')",
            (next(v for v in clear if "@" in v),),
        )
    conn.commit()
    try:
        findings = pii_findings(conn, ("pii_probe",), clear)
    finally:
        with conn.cursor() as cur:
            cur.execute("drop schema pii_probe cascade")
        conn.commit()
    assert any("clear-text PII" in f for f in findings)
    assert any("phone number" in f for f in findings)
    assert any("IP address" in f for f in findings)


def test_docs_generate_writes_a_catalog_of_the_marts(built):
    catalog = json.loads((built["target"] / "catalog.json").read_text())
    documented = {node["metadata"]["name"] for node in catalog["nodes"].values()}
    assert PUBLIC_MARTS <= documented
    assert (built["target"] / "index.html").is_file()
