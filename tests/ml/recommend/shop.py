"""The simulated shop's behaviour, orders and catalogue as the marts the recommender reads.

The columns and their meaning follow the dbt marts (`dim_items.is_available`, UTC
`event_date`, `fct_orders.is_cancelled`, the latest `mart_user_segments`), built straight from
the simulator's tables so tests and benchmarks skip ingestion and dbt. The hidden truth goes to
`sim_truth.user_preferences` and `sim_truth.item_appeal` for the oracle.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from aimass.sim.config import load_shop_config
from aimass.sim.generate import Shop, simulate_shop

TABLES: dict[str, dict[str, str]] = {
    "marts.dim_items": {
        "item_id": "text primary key",
        "merchant_id": "text",
        "category": "text",
        "brand": "text",
        "title": "text",
        "price": "numeric",
        "price_band": "text",
        "stock": "integer",
        "is_active": "boolean",
        "is_available": "boolean",
        "created_at": "timestamptz",
    },
    "marts.fct_events": {
        "event_id": "text primary key",
        "event_ts": "timestamptz",
        "event_date": "date",
        "user_id": "text",
        "event_type": "text",
        "item_id": "text",
        "merchant_id": "text",
    },
    "marts.fct_orders": {
        "order_id": "text primary key",
        "user_id": "text",
        "order_ts": "timestamptz",
        "order_date": "date",
        "status": "text",
        "is_cancelled": "boolean",
    },
    "marts.fct_order_items": {
        "order_id": "text",
        "line_no": "integer",
        "order_ts": "timestamptz",
        "order_date": "date",
        "item_id": "text",
        "quantity": "integer",
        "unit_price": "numeric",
    },
    "marts.mart_user_segments": {
        "as_of_date": "date",
        "user_id": "text primary key",
        "segment": "text",
    },
    "sim_truth.user_preferences": {
        "user_id": "text",
        "category": "text",
        "weight": "double precision",
    },
    "sim_truth.item_appeal": {"item_id": "text primary key", "appeal": "double precision"},
}
PRICE_BANDS = ((10, "under 10"), (25, "10-25"), (50, "25-50"), (100, "50-100"), (250, "100-250"))


@dataclass
class ShopMarts:
    frames: dict[str, pd.DataFrame]
    start: date
    end: date  # the last simulated day

    @property
    def as_of(self) -> date:
        """The morning after the last simulated day."""
        return self.end + timedelta(days=1)


def price_band(price: pd.Series) -> pd.Series:
    out = pd.Series("250+", index=price.index, dtype=object)
    for upper, label in reversed(PRICE_BANDS):
        out[price < upper] = label
    return out


def _segments(orders: pd.DataFrame, users: pd.Series, as_of: date) -> pd.DataFrame:
    """A simple recency/frequency segment per user (the dbt mart's names)."""
    kept = orders[~orders["is_cancelled"]]
    last = kept.groupby("user_id")["order_date"].max()
    count = kept.groupby("user_id").size()
    recency = (pd.Timestamp(as_of) - pd.to_datetime(last)).dt.days
    segment = pd.Series("prospect", index=users.to_numpy(), dtype=object)
    buyers = recency.index
    segment[buyers] = np.where(
        (recency <= 14) & (count[buyers] >= 2),
        "champions",
        np.where(recency <= 30, "potential_loyalists", "hibernating"),
    )
    return pd.DataFrame({"as_of_date": as_of, "user_id": segment.index, "segment": segment.values})


def shop_marts(shop: Shop) -> ShopMarts:
    """The recommender's marts from a simulated shop."""
    t = shop.tables
    items = t["items"].copy()
    items["price_band"] = price_band(items["price"])
    items["is_available"] = items["is_active"].fillna(True) & (items["stock"].fillna(1) > 0)
    events = t["events"][
        ["event_id", "event_ts", "user_id", "event_type", "item_id", "merchant_id"]
    ].copy()
    events.insert(2, "event_date", events["event_ts"].dt.date)
    orders = t["orders"][["order_id", "user_id", "order_ts", "status"]].copy()
    orders.insert(3, "order_date", orders["order_ts"].dt.date)
    orders["is_cancelled"] = orders["status"].isin(["cancelled", "canceled"])
    lines = t["order_items"][
        ["order_id", "line_no", "order_ts", "item_id", "quantity", "unit_price"]
    ].copy()
    lines.insert(3, "order_date", lines["order_ts"].dt.date)
    end = shop.days[-1]
    frames = {
        "marts.dim_items": items[list(TABLES["marts.dim_items"])],
        "marts.fct_events": events,
        "marts.fct_orders": orders,
        "marts.fct_order_items": lines,
        "marts.mart_user_segments": _segments(
            orders, t["users"]["user_id"], end + timedelta(days=1)
        ),
        "sim_truth.user_preferences": shop.truth["user_preferences"],
        "sim_truth.item_appeal": shop.truth["item_appeal"],
    }
    return ShopMarts(frames=frames, start=shop.days[0], end=end)


def simulated_marts(profile: str = "tiny", until: date | None = None) -> ShopMarts:
    """Simulate a shop profile (up to `until`) and shape it as the marts."""
    return shop_marts(simulate_shop(load_shop_config(profile), until=until))


def copy_frame(cur, table: str, frame: pd.DataFrame, chunk_rows: int = 500_000) -> None:
    """COPY a frame in chunks (large shops stay within memory)."""
    columns = ", ".join(frame.columns)
    for start in range(0, len(frame), chunk_rows):
        buffer = io.StringIO()
        frame.iloc[start : start + chunk_rows].to_csv(
            buffer, index=False, header=False, na_rep="\\N"
        )
        buffer.seek(0)
        cur.copy_expert(
            f"copy {table} ({columns}) from stdin with (format csv, null '\\N')", buffer
        )


def load_shop_marts(conn, marts: ShopMarts, *, with_truth: bool = True) -> None:
    """(Re)create the marts (and the truth) and fill them with COPY."""
    with conn.cursor() as cur:
        for table, columns in TABLES.items():
            if table.startswith("sim_truth.") and not with_truth:
                continue
            cur.execute(f"create schema if not exists {table.split('.')[0]}")
            cur.execute(f"drop table if exists {table} cascade")
            body = ", ".join(f"{name} {kind}" for name, kind in columns.items())
            cur.execute(f"create table {table} ({body})")
            copy_frame(cur, table, marts.frames[table])
        cur.execute("create index on marts.fct_events (event_date)")
        cur.execute("create index on marts.fct_order_items (order_date)")
        cur.execute("analyze")
    conn.commit()
