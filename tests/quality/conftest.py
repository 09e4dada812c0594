"""Fixtures of the data-quality gate tests: small tables written into a fresh warehouse."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from psycopg2 import sql

COUNT_COLUMNS = (
    "orders_7d", "orders_30d", "orders_90d", "views_7d", "views_30d", "searches_7d",
    "searches_30d", "favorites_30d", "likes_30d", "comments_30d", "carts_7d", "carts_30d",
    "sessions_30d", "active_days_30d", "distinct_categories_90d", "coupons_redeemed_90d",
    "ad_impressions_30d", "ad_clicks_30d", "feedback_count_90d", "purchases_lifetime",
    "purchase_days_lifetime",
)  # fmt: skip
FEATURES_DDL = f"""
create table marts.fct_user_features_daily (
    user_id text, as_of_date date, tenure_days integer, country text,
    {", ".join(f"{c} integer" for c in COUNT_COLUMNS)},
    revenue_7d numeric, revenue_30d numeric, revenue_90d numeric,
    avg_order_value_90d numeric, days_since_last_order integer, days_since_last_event integer,
    view_to_order_rate_90d numeric, cart_to_order_rate_90d numeric,
    top_category_90d text, top_category_share_90d numeric,
    avg_item_price_viewed_30d numeric, discount_share_90d numeric, ad_ctr_30d numeric,
    device_os text, is_mobile integer,
    avg_rating_90d numeric, avg_merchant_rating_90d numeric,
    revenue_lifetime numeric, days_since_first_purchase integer, days_since_last_purchase integer,
    avg_days_between_purchases numeric, purchases_per_30d numeric
)
"""
FEATURES_ROWS = f"""
insert into marts.fct_user_features_daily
select
    'u' || g, %(as_of_date)s::date, g %% 400, 'DE',
    {", ".join("g %% 5" for _ in COUNT_COLUMNS)},
    g %% 7 * 10.5, g %% 11 * 10.5, g %% 13 * 10.5,
    case when g %% 3 = 0 then null else 25.0 end, case when g %% 3 = 0 then null else g %% 60 end,
    g %% 20,
    (g %% 10) / 10.0, (g %% 4) / 4.0, 'shoes', 0.5, 19.9, 0.1, 0.02,
    'ios', g %% 2, 4.2, 4.5,
    g %% 5 * 10.5, 40 + g %% 5, g %% 5, 10.0, (g %% 5) * 30.0 / greatest(g %% 400, 1)
from generate_series(1, %(users)s) as g
"""


class QualityTables:
    """Writes the tables the suites read, with clean rows that tests then spoil."""

    def __init__(self, conn):
        self.conn = conn

    def execute(self, statement, *params) -> None:
        with self.conn.cursor() as cur:
            cur.execute(statement, params or None)
        self.conn.commit()

    def features(self, rows_by_day: dict[date, int]) -> None:
        """`marts.fct_user_features_daily` with every contract column; users per as_of_date."""
        self.execute(FEATURES_DDL)
        for as_of_date, users in rows_by_day.items():
            with self.conn.cursor() as cur:
                cur.execute(FEATURES_ROWS, {"as_of_date": as_of_date, "users": users})
        self.conn.commit()

    def scores(self, score_date: date, users: int) -> None:
        """`ml.propensity_scores` with one clean score per user for `score_date`."""
        self.execute(
            """create table ml.propensity_scores (
                score_date date, user_id text, model_version text, probability double precision,
                decile integer, reason_1 text, reason_2 text, reason_3 text, scored_at timestamptz
            )"""
        )
        self.execute(
            """insert into ml.propensity_scores
            select %s, 'u' || g, 'v1', g::float / %s, 1 + (g - 1) * 10 / %s, 'r1', null, null,
                   now()
            from generate_series(1, %s) as g""",
            score_date, users, users, users,
        )  # fmt: skip

    def raw_orders(self, ds: date, n: int) -> None:
        """`n` clean orders `o1..on` on day `ds` in `raw.orders`."""
        self.execute(
            """insert into raw.orders (order_id, user_id, order_ts, status, total_amount,
                   discount_amount, _batch_id, _loaded_at, _source_uri, _ds)
            select 'o' || g, 'u' || (g %% 50), %s::timestamptz + interval '1 hour', 'paid',
                   20.0, 0, 'batch-1', now(), 'file:///landing/orders.csv', %s
            from generate_series(1, %s) as g""",
            ds, ds, n,
        )  # fmt: skip

    def drop(self, schema: str, table: str) -> None:
        self.execute(
            sql.SQL("drop table {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        )


@pytest.fixture
def tables(warehouse) -> QualityTables:
    return QualityTables(warehouse)


@pytest.fixture
def ds() -> date:
    """The validated day; for features and scores, the as-of / score date."""
    return date(2024, 3, 10)


@pytest.fixture
def docs_dir(tmp_path):
    return tmp_path / "gx" / "data_docs"


@pytest.fixture
def clean_features(tables, ds) -> QualityTables:
    """Features as of ds - 1 (200 users) and ds (210 users): ds is the expected latest."""
    tables.features({ds - timedelta(days=1): 200, ds: 210})
    return tables
