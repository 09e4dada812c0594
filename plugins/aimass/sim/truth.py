"""The simulator's hidden truth (`sim_truth.*`), for evaluating models, never as features.

- `user_daily_purchase_prob` (user_id, day): the true probability that the user places at
  least one order that day, given the simulator's state that day (traits, mood, history,
  calendar, that day's ad clicks and any held coupon).
- `user_horizon_purchase_prob` (user_id, as_of_date): the true probability of at least one
  order in [as_of_date, as_of_date + horizon_days) from the state at the start of as_of_date
  (the oracle for next-days propensity; computed like `coupon_effect`, with held coupons).
- `coupon_effect` (coupon_campaign_id, user_id, coupon_value): for every user in a campaign
  and every coupon value offered, the true probability of at least one order within the
  campaign horizon without (`p_purchase_control`) and with (`p_purchase_treated`) that
  coupon. It starts from the user's state on the offer date, integrates the shopping mood out
  exactly (forward algorithm) and keeps the rest of the history as on the offer date.
- `user_preferences` (user_id, category): the category weights behind item choice.
- `item_appeal` (item_id): item popularity; the oracle ranking for user u is
  weight(u, category of item) x appeal(item).
- `user_traits` (user_id): segment, coupon response type and the other hidden traits.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from datetime import timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from psycopg2 import sql

from aimass.sim import behaviour, strings, vocab
from aimass.sim.clock import DAY, epoch_seconds

SCHEMA = "sim_truth"
# table -> (columns with PostgreSQL types, primary key)
TRUTH_TABLES: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {
    "user_daily_purchase_prob": (
        {"user_id": "text", "day": "date", "p_purchase": "double precision"},
        ("user_id", "day"),
    ),
    "user_horizon_purchase_prob": (
        {
            "user_id": "text",
            "as_of_date": "date",
            "horizon_days": "integer",
            "p_purchase": "double precision",
        },
        ("user_id", "as_of_date"),
    ),
    "coupon_effect": (
        {
            "coupon_campaign_id": "text",
            "user_id": "text",
            "coupon_value": "numeric",
            "p_purchase_control": "double precision",
            "p_purchase_treated": "double precision",
            "response_type": "text",
        },
        ("coupon_campaign_id", "user_id", "coupon_value"),
    ),
    "user_preferences": (
        {"user_id": "text", "category": "text", "weight": "double precision"},
        ("user_id", "category"),
    ),
    "item_appeal": ({"item_id": "text", "appeal": "double precision"}, ("item_id",)),
    "user_traits": (
        {
            "user_id": "text",
            "segment": "text",
            "response_type": "text",
            "base_logit": "double precision",
            "engagement": "double precision",
            "price_sensitivity": "double precision",
            "ad_responsiveness": "double precision",
            "mood_entry_prob": "double precision",
            "preferred_os": "text",
            "favourite_categories": "text",
            "signup_at": "timestamptz",
        },
        ("user_id",),
    ),
}
COPY_CHUNK_ROWS = 500_000


class TruthFrames(Mapping):
    """Truth tables built on first access (the daily probabilities can be large)."""

    def __init__(self, world, records):
        self._world = world
        self._records = records
        end = world.config.start_date + timedelta(days=len(records))
        self._end_s = epoch_seconds(end)
        self._arrow: dict[str, pa.Table] = {}
        self._frames: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in TRUTH_TABLES:
            raise KeyError(f"no truth table {name!r}; known: {sorted(TRUTH_TABLES)}")
        if name not in self._frames:
            self._frames[name] = self.arrow(name).to_pandas()
        return self._frames[name]

    def __iter__(self) -> Iterator[str]:
        return iter(TRUTH_TABLES)

    def __len__(self) -> int:
        return len(TRUTH_TABLES)

    def arrow(self, name: str) -> pa.Table:
        if name not in self._arrow:
            self._arrow[name] = getattr(self, f"_{name}")()
        return self._arrow[name]

    def _users_present(self) -> np.ndarray:
        return np.flatnonzero(self._world.users.signup_s < self._end_s)

    def _user_daily_purchase_prob(self) -> pa.Table:
        first_day = epoch_seconds(self._world.config.start_date) // DAY
        users = np.concatenate([r.purchase_users for r in self._records])
        days = np.repeat(
            [first_day + r.day for r in self._records],
            [len(r.purchase_users) for r in self._records],
        ).astype(np.int32)
        return pa.table(
            {
                "user_id": self._world.users.ids.take(pa.array(users)),
                "day": pa.array(days, pa.date32()),
                "p_purchase": np.concatenate([r.purchase_prob for r in self._records]),
            }
        )

    def _user_horizon_purchase_prob(self) -> pa.Table:
        daily = self.arrow("user_daily_purchase_prob")
        return pa.table(
            {
                "user_id": daily.column("user_id"),
                "as_of_date": daily.column("day"),
                "horizon_days": pa.array(
                    np.full(daily.num_rows, self._world.config.truth_horizon_days, dtype=np.int32)
                ),
                "p_purchase": np.concatenate([r.horizon_prob for r in self._records]),
            }
        )

    def _coupon_effect(self) -> pa.Table:
        offers = [r.offer for r in self._records if r.offer is not None]
        campaign = np.concatenate([np.full(len(o.truth_users), o.campaign) for o in offers] + [[]])
        users = np.concatenate([o.truth_users for o in offers] + [[]]).astype(np.int64)
        response = self._world.traits.response_type[users]
        return pa.table(
            {
                "coupon_campaign_id": strings.take(
                    self._world.coupon_campaigns.ids or [""], campaign
                ),
                "user_id": self._world.users.ids.take(pa.array(users)),
                "coupon_value": np.concatenate([o.truth_value for o in offers] + [[]]),
                "p_purchase_control": np.concatenate([o.p_control for o in offers] + [[]]),
                "p_purchase_treated": np.concatenate([o.p_treated for o in offers] + [[]]),
                "response_type": strings.take(behaviour.RESPONSE_TYPES, response),
            }
        )

    def _user_preferences(self) -> pa.Table:
        users = self._users_present()
        n_cat = len(vocab.CATEGORY_NAMES)
        return pa.table(
            {
                "user_id": self._world.users.ids.take(pa.array(np.repeat(users, n_cat))),
                "category": strings.take(
                    vocab.CATEGORY_NAMES, np.tile(np.arange(n_cat), len(users))
                ),
                "weight": self._world.traits.preferences[users].ravel(),
            }
        )

    def _item_appeal(self) -> pa.Table:
        items = np.flatnonzero(self._world.items.created_s < self._end_s)
        return pa.table(
            {
                "item_id": self._world.items.ids.take(pa.array(items)),
                "appeal": self._world.items.appeal[items],
            }
        )

    def _user_traits(self) -> pa.Table:
        users = self._users_present()
        t = self._world.traits
        idx = pa.array(users)
        favourite = t.preferences[users] > 0.15 / len(vocab.CATEGORY_NAMES) + 1e-12
        names = [
            pc.if_else(pa.array(favourite[:, c]), name, pa.scalar(None, pa.string()))
            for c, name in enumerate(vocab.CATEGORY_NAMES)
        ]
        return pa.table(
            {
                "user_id": self._world.users.ids.take(idx),
                "segment": strings.take(behaviour.SEGMENTS, t.segment[users]),
                "response_type": strings.take(behaviour.RESPONSE_TYPES, t.response_type[users]),
                "base_logit": t.base_logit[users],
                "engagement": t.engagement[users],
                "price_sensitivity": t.price_sensitivity[users],
                "ad_responsiveness": t.ad_responsiveness[users],
                "mood_entry_prob": t.mood_entry[users],
                "preferred_os": strings.take(vocab.OS_NAMES, t.os[users]),
                "favourite_categories": pc.binary_join_element_wise(
                    *names, ",", null_handling="skip"
                ),
                "signup_at": pa.array(
                    self._world.users.signup_s[users] * 1_000_000, pa.timestamp("us", tz="UTC")
                ),
            }
        )


def write_truth(shop, conn) -> dict[str, int]:
    """(Re)create the `sim_truth` tables from `shop.truth` in one transaction (COPY).

    Returns rows per table. Previous contents are replaced; on error nothing changes."""
    counts = {}
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(SCHEMA)))
            for name, (columns, key) in TRUTH_TABLES.items():
                table = sql.Identifier(SCHEMA, name)
                cur.execute(sql.SQL("drop table if exists {}").format(table))
                cur.execute(
                    sql.SQL("create table {} ({})").format(
                        table,
                        sql.SQL(", ").join(
                            sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t))
                            for c, t in columns.items()
                        ),
                    )
                )
                counts[name] = _copy(cur, table, list(columns), shop.truth.arrow(name))
                cur.execute(
                    sql.SQL("alter table {} add primary key ({})").format(
                        table, sql.SQL(", ").join(map(sql.Identifier, key))
                    )
                )
        conn.commit()
    except Exception:
        conn.rollback()
        raise
    return counts


def _copy(cur, table: sql.Composed, columns: list[str], rows: pa.Table) -> int:
    statement = sql.SQL("copy {} ({}) from stdin with (format csv)").format(
        table, sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    rows = rows.select(columns)
    for offset in range(0, rows.num_rows, COPY_CHUNK_ROWS):
        buffer = io.BytesIO()
        pa_csv.write_csv(
            rows.slice(offset, COPY_CHUNK_ROWS),
            buffer,
            pa_csv.WriteOptions(include_header=False, quoting_style="needed"),
        )
        buffer.seek(0)
        cur.copy_expert(statement, buffer)
    return rows.num_rows
