"""Synthetic feature and label marts that follow the shared contract, from a small simulator.

Each user has a hidden base propensity, an engagement level that drifts day by day, and a
replenishment cycle; the daily purchase probability depends on all three and on recent cart
adds, so features built from past behaviour predict the label, non-linearly. The simulator's
daily probabilities go to `sim_truth.user_daily_purchase_prob` for the oracle.

Like the dbt marts, the feature and label marts hold only the as-of dates the models use: the
grid (every `spacing_days`-th day counted from 1970-01-01) and the latest as-of date (the day
after the last simulated day), listed in `marts.dim_as_of_dates`.
"""

from __future__ import annotations

import io
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

FEATURE_COLUMNS: dict[str, str] = {
    "user_id": "text",
    "as_of_date": "date",
    "tenure_days": "integer",
    "country": "text",
    "orders_7d": "integer",
    "orders_30d": "integer",
    "orders_90d": "integer",
    "revenue_7d": "numeric",
    "revenue_30d": "numeric",
    "revenue_90d": "numeric",
    "avg_order_value_90d": "numeric",
    "days_since_last_order": "integer",
    "days_since_last_event": "integer",
    "views_7d": "integer",
    "views_30d": "integer",
    "searches_7d": "integer",
    "searches_30d": "integer",
    "favorites_30d": "integer",
    "likes_30d": "integer",
    "comments_30d": "integer",
    "carts_7d": "integer",
    "carts_30d": "integer",
    "sessions_30d": "integer",
    "active_days_30d": "integer",
    "view_to_order_rate_90d": "numeric",
    "cart_to_order_rate_90d": "numeric",
    "top_category_90d": "text",
    "top_category_share_90d": "numeric",
    "distinct_categories_90d": "integer",
    "avg_item_price_viewed_30d": "numeric",
    "discount_share_90d": "numeric",
    "coupons_redeemed_90d": "integer",
    "ad_impressions_30d": "integer",
    "ad_clicks_30d": "integer",
    "ad_ctr_30d": "numeric",
    "device_os": "text",
    "is_mobile": "integer",
    "feedback_count_90d": "integer",
    "avg_rating_90d": "numeric",
    "avg_merchant_rating_90d": "numeric",
    "purchases_lifetime": "integer",
    "purchase_days_lifetime": "integer",
    "revenue_lifetime": "numeric",
    "days_since_first_purchase": "integer",
    "days_since_last_purchase": "integer",
    "avg_days_between_purchases": "numeric",
    "purchases_per_30d": "numeric",
}
AS_OF_DATE_COLUMNS: dict[str, str] = {
    "as_of_date": "date",
    "is_grid_date": "boolean",
    "is_latest": "boolean",
    "is_coupon_offer_date": "boolean",
    "users": "integer",
}
EPOCH = date(1970, 1, 1)
LABEL_COLUMNS: dict[str, str] = {
    "user_id": "text",
    "as_of_date": "date",
    "label_horizon_days": "integer",
    "purchased_in_horizon": "integer",
    "revenue_in_horizon": "numeric",
    "label_window_end": "date",
    "is_label_mature": "boolean",
}
TRUTH_COLUMNS: dict[str, str] = {
    "user_id": "text",
    "day": "date",
    "p_purchase": "double precision",
}
EVENT_FEATURES = (
    "days_since_last_event views_7d views_30d searches_7d searches_30d favorites_30d likes_30d "
    "comments_30d carts_7d carts_30d sessions_30d active_days_30d view_to_order_rate_90d "
    "cart_to_order_rate_90d top_category_90d top_category_share_90d distinct_categories_90d "
    "avg_item_price_viewed_30d coupons_redeemed_90d ad_impressions_30d ad_clicks_30d ad_ctr_30d "
    "device_os is_mobile feedback_count_90d avg_rating_90d avg_merchant_rating_90d country "
    "discount_share_90d"
).split()
ZERO_WHEN_ABSENT = {
    name for name, kind in FEATURE_COLUMNS.items() if kind == "integer" and name in EVENT_FEATURES
} - {"days_since_last_event", "distinct_categories_90d", "is_mobile"}
COUNTRIES = {"DE": 0.25, "FR": 0.0, "NL": -0.15, "NA": 0.35, "PL": -0.3}
CATEGORIES = ("shoes", "books", "toys", "home", "beauty", "sports")
DEVICES = ("ios", "android", "web")


@dataclass
class SyntheticMarts:
    features: pd.DataFrame
    labels: pd.DataFrame
    truth: pd.DataFrame
    start: date
    n_days: int
    horizon: int
    spacing_days: int = 3

    @property
    def as_of_dates(self) -> pd.DataFrame:
        """The rows of marts.dim_as_of_dates for these marts."""
        counts = self.features.groupby("as_of_date").size()
        days = sorted(counts.index)
        return pd.DataFrame(
            {
                "as_of_date": days,
                "is_grid_date": [is_grid_date(d, self.spacing_days) for d in days],
                "is_latest": [d == self.last_as_of for d in days],
                "is_coupon_offer_date": False,
                "users": [int(counts[d]) for d in days],
            }
        )

    @property
    def grid_dates(self) -> list[date]:
        frame = self.as_of_dates
        return list(frame.loc[frame["is_grid_date"], "as_of_date"])

    def grid_date_before(self, day: date) -> date:
        """The latest grid date on or before `day`."""
        return max(d for d in self.grid_dates if d <= day)

    @property
    def cutoff(self) -> date:
        """The day after the last loaded day: the latest cut-off with mature test labels."""
        return self.start + timedelta(days=self.n_days)

    @property
    def last_as_of(self) -> date:
        return self.start + timedelta(days=self.n_days)


def is_grid_date(day: date, spacing_days: int) -> bool:
    """The dbt grid: every `spacing_days`-th day counted from 1970-01-01."""
    return (day - EPOCH).days % spacing_days == 0


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _window(cumulative: np.ndarray, a: int, days: int) -> np.ndarray:
    """Sum over days [a - days, a) from a cumulative array with a leading zero column."""
    return cumulative[:, a] - cumulative[:, max(a - days, 0)]


def _cumulative(daily: np.ndarray) -> np.ndarray:
    return np.concatenate([np.zeros((daily.shape[0], 1)), np.cumsum(daily, axis=1)], axis=1)


def _last_day_before(active: np.ndarray) -> np.ndarray:
    """last[:, a] = the last day index < a with activity, or -1."""
    users, days = active.shape
    last = np.full((users, days + 1), -1, dtype=np.int64)
    for d in range(days):
        last[:, d + 1] = np.where(active[:, d], d, last[:, d])
    return last


def simulate(
    n_users: int = 600,
    n_days: int = 90,
    *,
    start: date = date(2024, 1, 1),
    horizon: int = 7,
    seed: int = 7,
    orders_only: bool = False,
    as_of_days: Collection[int] | None = None,
    spacing_days: int = 3,
) -> SyntheticMarts:
    """Simulate `n_days` of behaviour and build the marts for the grid dates and the latest
    as-of date, as the dbt marts hold them (or for the day offsets in `as_of_days`, 1..n_days,
    to keep large populations small)."""
    if as_of_days is None:
        as_of_days = {
            a
            for a in range(1, n_days + 1)
            if a == n_days or is_grid_date(start + timedelta(days=a), spacing_days)
        }
    rng = np.random.default_rng(seed)
    users = np.array([f"u{i:06d}" for i in range(n_users)])
    signup = rng.integers(-60, int(n_days * 0.4), n_users)
    base = rng.normal(-4.6, 0.6, n_users)
    cycle = rng.integers(7, 13, n_users)
    country = rng.choice(list(COUNTRIES), n_users)
    country_effect = np.array([COUNTRIES[c] for c in country])
    device = rng.choice(DEVICES, n_users)
    price_level = rng.lognormal(3.0, 0.4, n_users)
    favourite = rng.choice(CATEGORIES, n_users)

    shape = (n_users, n_days)
    orders, revenue, views, searches, carts = (np.zeros(shape) for _ in range(5))
    favorites, likes, comments, sessions = (np.zeros(shape) for _ in range(4))
    impressions, clicks, discounted, coupons = (np.zeros(shape) for _ in range(4))
    truth = np.zeros(shape)
    engagement = rng.normal(0, 0.5, n_users)
    last_order = np.full(n_users, -999)
    for d in range(n_days):
        alive = d >= signup
        engagement = 0.8 * engagement + rng.normal(0, 0.45, n_users)
        views[:, d] = rng.poisson(np.exp(0.3 + 0.9 * engagement + 0.3 * (base + 4.6)) * alive)
        carts[:, d] = rng.binomial(views[:, d].astype(int), 0.12)
        searches[:, d] = rng.poisson(0.3 * views[:, d])
        favorites[:, d] = rng.poisson(0.05 * views[:, d])
        likes[:, d] = rng.poisson(0.08 * views[:, d])
        comments[:, d] = rng.poisson(0.01 * views[:, d])
        sessions[:, d] = np.minimum(views[:, d], rng.poisson(1 + views[:, d] / 4))
        impressions[:, d] = rng.poisson(4 * alive)
        clicks[:, d] = rng.binomial(impressions[:, d].astype(int), _sigmoid(-3 + 0.8 * engagement))
        since = d - last_order
        cycle_boost = np.where(last_order > -999, 3.0 * np.exp(-(((since - cycle) / 2.0) ** 2)), 0)
        recent_cart = carts[:, max(d - 3, 0) : d].sum(axis=1) > 0
        logit = base + 0.9 * np.tanh(engagement) + cycle_boost + 0.8 * recent_cart + country_effect
        truth[:, d] = _sigmoid(logit) * alive
        bought = rng.random(n_users) < truth[:, d]
        orders[:, d] = bought
        revenue[:, d] = bought * np.round(rng.gamma(2.0, price_level / 2.0), 2)
        discounted[:, d] = bought & (rng.random(n_users) < 0.3)
        coupons[:, d] = discounted[:, d] * (rng.random(n_users) < 0.5)
        last_order = np.where(bought, d, last_order)

    cum = {
        name: _cumulative(values)
        for name, values in {
            "orders": orders,
            "revenue": revenue,
            "views": views,
            "searches": searches,
            "carts": carts,
            "favorites": favorites,
            "likes": likes,
            "comments": comments,
            "sessions": sessions,
            "active": (views > 0).astype(float),
            "impressions": impressions,
            "clicks": clicks,
            "discounted": discounted,
            "coupons": coupons,
            "feedback": orders * 0.6,
        }.items()
    }
    last_order_before = _last_day_before(orders > 0)
    last_event_before = _last_day_before(views > 0)
    first_order = np.where((orders > 0).any(axis=1), (orders > 0).argmax(axis=1), n_days + 1)
    # lifetime totals: the simulated shop has at most one order a day, and its data start at
    # `start`, so lifetime = since day 0

    feature_parts, label_parts = [], []
    for a in range(1, n_days + 1):
        if as_of_days is not None and a not in as_of_days:
            continue
        present = (first_order < a) if orders_only else (signup < a)
        idx = np.flatnonzero(present)
        if idx.size == 0:
            continue

        def win(name: str, days: int, idx=idx, a=a) -> np.ndarray:
            return _window(cum[name], a, days)[idx]

        orders_90, views_90, carts_90 = win("orders", 90), win("views", 90), win("carts", 90)
        orders_ever, revenue_ever = win("orders", a), win("revenue", a)
        first_o = first_order[idx]
        bought = first_o < a
        tenure = a - (first_o if orders_only else signup[idx])
        views_30 = win("views", 30)
        impressions_30, clicks_30 = win("impressions", 30), win("clicks", 30)
        last_o = last_order_before[idx, a]
        last_e = last_event_before[idx, a]
        with np.errstate(divide="ignore", invalid="ignore"):
            frame = pd.DataFrame(
                {
                    "user_id": users[idx],
                    "as_of_date": start + timedelta(days=a),
                    "tenure_days": tenure,
                    "country": country[idx],
                    "orders_7d": win("orders", 7),
                    "orders_30d": win("orders", 30),
                    "orders_90d": orders_90,
                    "revenue_7d": win("revenue", 7).round(2),
                    "revenue_30d": win("revenue", 30).round(2),
                    "revenue_90d": win("revenue", 90).round(2),
                    "avg_order_value_90d": np.where(
                        orders_90 > 0, (win("revenue", 90) / orders_90).round(2), np.nan
                    ),
                    "days_since_last_order": np.where(last_o >= 0, a - last_o, np.nan),
                    "days_since_last_event": np.where(last_e >= 0, a - last_e, np.nan),
                    "views_7d": win("views", 7),
                    "views_30d": views_30,
                    "searches_7d": win("searches", 7),
                    "searches_30d": win("searches", 30),
                    "favorites_30d": win("favorites", 30),
                    "likes_30d": win("likes", 30),
                    "comments_30d": win("comments", 30),
                    "carts_7d": win("carts", 7),
                    "carts_30d": win("carts", 30),
                    "sessions_30d": win("sessions", 30),
                    "active_days_30d": win("active", 30),
                    "view_to_order_rate_90d": np.where(
                        views_90 > 0, np.minimum(orders_90 / views_90, 1), np.nan
                    ),
                    "cart_to_order_rate_90d": np.where(
                        carts_90 > 0, np.minimum(orders_90 / carts_90, 1), np.nan
                    ),
                    "top_category_90d": np.where(views_90 > 0, favourite[idx], None),
                    "top_category_share_90d": np.where(
                        views_90 > 0, np.round(0.4 + 0.5 / np.sqrt(1 + views_90), 3), np.nan
                    ),
                    "distinct_categories_90d": np.minimum(
                        np.ceil(np.sqrt(views_90)), len(CATEGORIES)
                    ),
                    "avg_item_price_viewed_30d": np.where(
                        views_30 > 0, price_level[idx].round(2), np.nan
                    ),
                    "discount_share_90d": np.where(
                        orders_90 > 0, win("discounted", 90) / orders_90, np.nan
                    ),
                    "coupons_redeemed_90d": win("coupons", 90),
                    "ad_impressions_30d": impressions_30,
                    "ad_clicks_30d": clicks_30,
                    "ad_ctr_30d": np.where(impressions_30 > 0, clicks_30 / impressions_30, np.nan),
                    "device_os": device[idx],
                    "is_mobile": (device[idx] != "web").astype(int),
                    "feedback_count_90d": np.floor(win("feedback", 90)),
                    "avg_rating_90d": np.where(orders_90 > 0, 4.2, np.nan),
                    "avg_merchant_rating_90d": np.where(orders_90 > 0, 4.5, np.nan),
                    "purchases_lifetime": orders_ever,
                    "purchase_days_lifetime": orders_ever,
                    "revenue_lifetime": revenue_ever.round(2),
                    "days_since_first_purchase": np.where(bought, a - first_o, np.nan),
                    "days_since_last_purchase": np.where(last_o >= 0, a - last_o, np.nan),
                    "avg_days_between_purchases": np.where(
                        orders_ever >= 2, (last_o - first_o) / (orders_ever - 1), np.nan
                    ),
                    "purchases_per_30d": (orders_ever * 30 / np.maximum(tenure, 1)).round(4),
                }
            )
        if orders_only:
            for name in EVENT_FEATURES:
                frame[name] = 0 if name in ZERO_WHEN_ABSENT else None
        feature_parts.append(frame)
        end = min(a + horizon, n_days)
        label_orders = cum["orders"][idx, end] - cum["orders"][idx, a]
        label_parts.append(
            pd.DataFrame(
                {
                    "user_id": users[idx],
                    "as_of_date": start + timedelta(days=a),
                    "label_horizon_days": horizon,
                    "purchased_in_horizon": (label_orders > 0).astype(int),
                    "revenue_in_horizon": (cum["revenue"][idx, end] - cum["revenue"][idx, a]).round(
                        2
                    ),
                    "label_window_end": start + timedelta(days=a + horizon),
                    "is_label_mature": a + horizon <= n_days,
                }
            )
        )
    alive_days = np.argwhere(truth > 0)
    truth_frame = pd.DataFrame(
        {
            "user_id": users[alive_days[:, 0]],
            "day": [start + timedelta(days=int(d)) for d in alive_days[:, 1]],
            "p_purchase": truth[alive_days[:, 0], alive_days[:, 1]],
        }
    )
    return SyntheticMarts(
        features=pd.concat(feature_parts, ignore_index=True),
        labels=pd.concat(label_parts, ignore_index=True),
        truth=truth_frame,
        start=start,
        n_days=n_days,
        horizon=horizon,
        spacing_days=spacing_days,
    )


def _create_table(cur, qualified: str, columns: dict[str, str], key: str) -> None:
    body = ", ".join(f"{name} {kind}" for name, kind in columns.items())
    cur.execute(f"create table {qualified} ({body}, primary key ({key}))")


def copy_frame(cur, qualified: str, frame: pd.DataFrame) -> None:
    """COPY a DataFrame into an existing table (columns by name)."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep="\\N")
    buffer.seek(0)
    columns = ", ".join(frame.columns)
    cur.copy_expert(
        f"copy {qualified} ({columns}) from stdin with (format csv, null '\\N')", buffer
    )


def _integers(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    out = frame.copy()
    for name, kind in columns.items():
        if kind == "integer" and name in out.columns:
            out[name] = out[name].astype("Int64")
    return out


def load_marts(conn, marts: SyntheticMarts, *, with_truth: bool = True) -> None:
    """Create the contract marts (features, labels, their as-of dates) and the simulator truth,
    and fill them."""
    with conn.cursor() as cur:
        for schema in ("marts", "sim_truth"):
            cur.execute(f"create schema if not exists {schema}")
        _create_table(cur, "marts.fct_user_features_daily", FEATURE_COLUMNS, "user_id, as_of_date")
        _create_table(cur, "marts.fct_user_labels_daily", LABEL_COLUMNS, "user_id, as_of_date")
        _create_table(cur, "marts.dim_as_of_dates", AS_OF_DATE_COLUMNS, "as_of_date")
        copy_frame(cur, "marts.fct_user_features_daily", _integers(marts.features, FEATURE_COLUMNS))
        copy_frame(cur, "marts.fct_user_labels_daily", _integers(marts.labels, LABEL_COLUMNS))
        copy_frame(cur, "marts.dim_as_of_dates", marts.as_of_dates)
        if with_truth:
            _create_table(cur, "sim_truth.user_daily_purchase_prob", TRUTH_COLUMNS, "user_id, day")
            copy_frame(cur, "sim_truth.user_daily_purchase_prob", marts.truth)
    conn.commit()
