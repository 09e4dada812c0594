"""User x item interactions from the marts: weighted per event type, decayed in time.

One set-based query aggregates `marts.fct_events` (item events) and the order lines of
non-cancelled orders (`marts.fct_order_items` x `marts.fct_orders`, as `purchase`) to one row per
(user_id, item_id) for a half-open day range [start, end) of UTC days (`event_date`,
`order_date`): only events with ts < end 00:00 UTC are read (the leakage rule). The decayed
weight is sum(weight(type) * 0.5 ** (age / half_life)), age measured from `end` 00:00 UTC.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ml.recommend.config import EVENT_TYPES, RecommendConfig

# strongest interaction of a (user, item), for reasons: higher is stronger
STRENGTH = {"view": 1, "like": 2, "comment": 2, "favorite": 3, "add_to_cart": 4, "purchase": 5}
VERBS = {1: "viewed", 2: "liked", 3: "favorited", 4: "carted", 5: "bought"}

INTERACTIONS_SQL = """
with

weights as (
    select kind, weight, strength
    from unnest(%(kinds)s::text[], %(weights)s::float8[], %(strengths)s::int[])
        as w (kind, weight, strength)
),

item_events as (
    select user_id, item_id, event_type as kind, event_ts as ts, event_date as day
    from marts.fct_events
    where event_date >= %(start)s and event_date < %(end)s
        and item_id is not null
        and event_type = any(%(kinds)s::text[])
),

purchases as (
    select
        orders.user_id,
        lines.item_id,
        'purchase' as kind,
        lines.order_ts as ts,
        lines.order_date as day
    from marts.fct_order_items as lines
    inner join marts.fct_orders as orders on lines.order_id = orders.order_id
    where lines.order_date >= %(start)s and lines.order_date < %(end)s
        and not orders.is_cancelled
        and lines.item_id is not null
        and 'purchase' = any(%(kinds)s::text[])
),

interactions as (
    select * from item_events
    union all
    select * from purchases
),

weighted as (
    select
        interactions.user_id,
        interactions.item_id,
        interactions.kind,
        interactions.day,
        weights.strength,
        weights.weight * exp(
            extract(epoch from (interactions.ts - %(origin)s)) * %(decay_per_second)s
        ) as weight
    from interactions
    inner join weights on interactions.kind = weights.kind
)

select
    user_id,
    item_id,
    sum(weight) * %(decay_at_end)s as weight,
    max(strength) as strength,
    count(*) as events,
    max(day) as last_date,
    max(day) filter (where kind = 'purchase') as last_purchase_date
from weighted
group by user_id, item_id
"""

CATALOGUE_SQL = """
select item_id, merchant_id, category, brand, price_band, title, is_available, created_at
from marts.dim_items
order by item_id
"""


def load_interactions(
    conn, start: date, end: date, config: RecommendConfig, *, decay: bool = True
) -> pd.DataFrame:
    """One row per (user_id, item_id) interacted with in [start, end): decayed weight, strongest
    event type (`strength`, see STRENGTH), event count, last day and last purchase day."""
    kinds = [k for k in EVENT_TYPES if k in config.event_weights]
    # weight x 0.5 ** (age / half_life) = weight x exp(k x ts) x exp(-k x end), k = ln 2 / half
    # life in seconds, with ts counted from `start` so the exponent stays small
    rate = math.log(2) / (float(config.half_life_days) * 86400.0) if decay else 0.0
    origin = datetime.combine(start, time(0), tzinfo=UTC)
    span = (datetime.combine(end, time(0), tzinfo=UTC) - origin).total_seconds()
    params = {
        "start": start,
        "end": end,
        "kinds": kinds,
        "weights": [float(config.event_weights[k]) for k in kinds],
        "strengths": [STRENGTH[k] for k in kinds],
        "decay_per_second": rate,
        "decay_at_end": math.exp(-rate * span),
        "origin": origin,
    }
    with conn.cursor() as cur:
        cur.execute("set local work_mem = '256MB'")
        cur.execute(INTERACTIONS_SQL, params)
        rows = cur.fetchall()
    frame = pd.DataFrame(
        rows,
        columns=[
            "user_id",
            "item_id",
            "weight",
            "strength",
            "events",
            "last_date",
            "last_purchase_date",
        ],
    )
    frame["weight"] = frame["weight"].astype("float64")
    frame["strength"] = frame["strength"].astype("int64")
    return frame


def load_history(conn, as_of: date, config: RecommendConfig) -> pd.DataFrame:
    """The interactions the lists for `as_of` are built from: `history_days` before it."""
    return load_interactions(conn, as_of - timedelta(days=config.history_days), as_of, config)


def load_catalogue(conn) -> pd.DataFrame:
    """Every item of `marts.dim_items` with what the rules and cold start need."""
    with conn.cursor() as cur:
        cur.execute(CATALOGUE_SQL)
        rows = cur.fetchall()
    frame = pd.DataFrame(
        rows,
        columns=[
            "item_id",
            "merchant_id",
            "category",
            "brand",
            "price_band",
            "title",
            "is_available",
            "created_at",
        ],
    )
    frame["is_available"] = frame["is_available"].fillna(True).astype(bool)
    return frame


@dataclass
class InteractionMatrix:
    """Interactions as sparse users x items matrices over fixed id orders."""

    user_ids: np.ndarray
    item_ids: np.ndarray
    weights: sp.csr_matrix  # decayed weights
    strength: sp.csr_matrix  # strongest event type code
    last_purchase: pd.DataFrame  # user_id, item_id, last_purchase_date

    @cached_property
    def user_index(self) -> dict[str, int]:
        return {u: i for i, u in enumerate(self.user_ids)}

    def rows(self, user_ids) -> sp.csr_matrix:
        """Weight rows for `user_ids`, in that order (empty rows for users without any)."""
        return self._take(self.weights, user_ids)

    def strength_rows(self, user_ids) -> sp.csr_matrix:
        return self._take(self.strength, user_ids)

    def _take(self, matrix: sp.csr_matrix, user_ids) -> sp.csr_matrix:
        index = self.user_index
        positions = np.array([index.get(u, len(self.user_ids)) for u in user_ids], dtype=np.int64)
        padded = sp.vstack([matrix, sp.csr_matrix((1, matrix.shape[1]), dtype=matrix.dtype)])
        return sp.csr_matrix(padded.tocsr()[positions])


def build_matrix(interactions: pd.DataFrame, item_ids: np.ndarray) -> InteractionMatrix:
    """Users x items matrices over `item_ids` (interactions with other items are dropped)."""
    item_index = pd.Index(item_ids)
    frame = interactions[interactions["item_id"].isin(item_index)]
    user_ids = np.array(sorted(frame["user_id"].unique()), dtype=object)
    rows = pd.Index(user_ids).get_indexer(frame["user_id"])
    cols = item_index.get_indexer(frame["item_id"])
    shape = (len(user_ids), len(item_ids))
    weights = sp.csr_matrix(
        (frame["weight"].to_numpy(np.float32), (rows, cols)), shape=shape, dtype=np.float32
    )
    strength = sp.csr_matrix(
        (frame["strength"].to_numpy(np.int8), (rows, cols)), shape=shape, dtype=np.int8
    )
    bought = frame.loc[frame["last_purchase_date"].notna(), ["user_id", "item_id"]]
    bought = bought.assign(last_purchase_date=frame["last_purchase_date"].dropna())
    return InteractionMatrix(
        user_ids, np.asarray(item_ids, dtype=object), weights, strength, bought
    )
