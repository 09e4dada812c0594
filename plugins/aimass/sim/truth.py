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

`write_truth` writes them incrementally when it can: every table carries a comment with the
`truth_fingerprint` of the shop it was written from and the last day written. When the stored
fingerprint is the shop's, the day-grained tables get only the days after the last stored
one, `coupon_effect` only the campaigns offered on those days, and the three snapshot tables
(users and items present at the end) are re-created; otherwise every table is re-created.
Either way the tables hold what a full write of the shop gives, row for row.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from psycopg2 import sql

from aimass.sim import behaviour, strings, vocab
from aimass.sim.clock import DAY, epoch_seconds
from aimass.sim.config import ShopConfig, canonical_json, shop_fingerprint

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
# Tables that only grow with the days simulated: table -> its day column (None: coupon_effect,
# whose rows belong to the day their campaign was offered). The others are snapshots.
GROWING_TABLES: dict[str, str | None] = {
    "user_daily_purchase_prob": "day",
    "user_horizon_purchase_prob": "as_of_date",
    "coupon_effect": None,
}
COPY_CHUNK_ROWS = 500_000
# Held by `write_truth` for its transaction: two writers in turn, the second sees the first's
# marker (at once, both would copy the same new days).
TRUTH_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"aimass.sim.truth").digest()[:8], "big", signed=True
)


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
            self._arrow[name] = (
                self._growing_rows(name, self._records)
                if name in GROWING_TABLES
                else getattr(self, f"_{name}")()
            )
        return self._arrow[name]

    def rows_from(self, name: str, first_day: int) -> pa.Table:
        """The rows of a growing table for days `first_day`, `first_day` + 1, ... (offsets
        from the start date); for `coupon_effect` the campaigns offered on those days."""
        if name not in GROWING_TABLES:
            raise KeyError(f"{name!r} is a snapshot table; growing: {sorted(GROWING_TABLES)}")
        if first_day <= 0:
            return self.arrow(name)
        if first_day >= len(self._records):  # no new day: the table's columns, no rows
            return self._growing_rows(name, self._records[-1:]).slice(0, 0)
        return self._growing_rows(name, self._records[first_day:])

    def _growing_rows(self, name: str, records) -> pa.Table:
        """A growing table's rows of the simulated days `records`."""
        if name == "coupon_effect":
            return self._coupon_effect(records)
        daily = self._user_daily_purchase_prob(records)
        if name == "user_daily_purchase_prob":
            return daily
        return self._user_horizon_purchase_prob(records, daily)

    def campaigns_from(self, first_day: int) -> list[str]:
        """Ids of the coupon campaigns offered on day `first_day` (offset) or later, simulated
        or not."""
        campaigns = self._world.coupon_campaigns
        return [
            c for c, day in zip(campaigns.ids, campaigns.offer_day, strict=True) if day >= first_day
        ]

    def num_rows(self, name: str) -> int:
        """Rows of a table, without building a growing one."""
        if name in ("user_daily_purchase_prob", "user_horizon_purchase_prob"):
            return sum(len(r.purchase_users) for r in self._records)
        if name == "coupon_effect":
            return sum(len(r.offer.truth_users) for r in self._records if r.offer is not None)
        return self.arrow(name).num_rows

    def _users_present(self) -> np.ndarray:
        return np.flatnonzero(self._world.users.signup_s < self._end_s)

    def _user_daily_purchase_prob(self, records) -> pa.Table:
        first_day = epoch_seconds(self._world.config.start_date) // DAY
        users = np.concatenate([r.purchase_users for r in records])
        days = np.repeat(
            [first_day + r.day for r in records],
            [len(r.purchase_users) for r in records],
        ).astype(np.int32)
        return pa.table(
            {
                "user_id": self._world.users.ids.take(pa.array(users)),
                "day": pa.array(days, pa.date32()),
                "p_purchase": np.concatenate([r.purchase_prob for r in records]),
            }
        )

    def _user_horizon_purchase_prob(self, records, daily: pa.Table) -> pa.Table:
        return pa.table(
            {
                "user_id": daily.column("user_id"),
                "as_of_date": daily.column("day"),
                "horizon_days": pa.array(
                    np.full(daily.num_rows, self._world.config.truth_horizon_days, dtype=np.int32)
                ),
                "p_purchase": np.concatenate([r.horizon_prob for r in records]),
            }
        )

    def _coupon_effect(self, records) -> pa.Table:
        offers = [r.offer for r in records if r.offer is not None]
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


def truth_fingerprint(config: ShopConfig) -> str:
    """sha256 (hex) of what the truth tables depend on: the shop's fingerprint (config and
    simulator code) and the tables' columns and keys."""
    doc = {
        "shop": shop_fingerprint(config),
        "tables": {name: [columns, list(key)] for name, (columns, key) in TRUTH_TABLES.items()},
    }
    return hashlib.sha256(canonical_json(doc).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TruthWrite:
    """What `write_truth` did. `rows`: rows per table now in `sim_truth` (what a full write
    gives); `written`: rows this call copied per table; `full`: every table was re-created
    (no usable earlier write), else only the new days and the snapshots were written."""

    rows: dict[str, int]
    written: dict[str, int]
    full: bool

    @property
    def kept(self) -> dict[str, int]:
        """Rows per table left as an earlier write stored them."""
        return {name: self.rows[name] - self.written[name] for name in self.rows}


def write_truth(shop, conn) -> TruthWrite:
    """Bring the `sim_truth` tables to `shop.truth` in one transaction (COPY); on error nothing
    changes.

    When the tables were written from the same `truth_fingerprint`, only the days after the
    last stored day (or, for a shorter shop, the removal of the days after its last) and the
    snapshot tables are written; otherwise every table is re-created. The result is the same
    either way."""
    fingerprint = truth_fingerprint(shop.config)
    last_day = shop.days[-1]
    written = {}
    try:
        with conn.cursor() as cur:
            cur.execute("select pg_advisory_xact_lock(%s)", (TRUTH_LOCK_KEY,))
            cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(SCHEMA)))
            stored = _stored_marker(cur)
            full = stored is None or stored["fingerprint"] != fingerprint
            first_new, shorter = 0, False
            if not full:
                stored_last = date.fromisoformat(stored["last_day"])
                shorter = last_day < stored_last
                kept_until = min(stored_last, last_day)
                first_new = max((kept_until - shop.config.start_date).days + 1, 0)
            for name, (columns, key) in TRUTH_TABLES.items():
                table = sql.Identifier(SCHEMA, name)
                if name in GROWING_TABLES and not full:
                    # The marker is committed with the rows, so rows after its last day
                    # exist only when this shop ends before it: only then is there anything
                    # to delete (the delete scans the whole table).
                    if shorter:
                        _delete_from(cur, shop, name, first_new)
                    rows = shop.truth.rows_from(name, first_new)
                    written[name] = _copy(cur, table, list(columns), rows)
                else:
                    _create(cur, table, columns)
                    written[name] = _copy(cur, table, list(columns), shop.truth.arrow(name))
                    _add_primary_key(cur, table, key)
            marker = canonical_json({"fingerprint": fingerprint, "last_day": last_day.isoformat()})
            for name in TRUTH_TABLES:
                cur.execute(
                    sql.SQL("comment on table {} is {}").format(
                        sql.Identifier(SCHEMA, name), sql.Literal(marker)
                    )
                )
        conn.commit()
    except Exception:
        conn.rollback()
        raise
    rows = {name: shop.truth.num_rows(name) for name in TRUTH_TABLES}
    return TruthWrite(rows=rows, written=written, full=full)


def _stored_marker(cur) -> dict | None:
    """The marker every truth table carries ({"fingerprint", "last_day"}), or None when a
    table is missing or the tables' comments are absent, unreadable or disagree."""
    cur.execute(
        "select c.relname, obj_description(c.oid, 'pg_class') from pg_class c "
        "join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = %s and c.relkind = 'r' and c.relname = any(%s)",
        (SCHEMA, list(TRUTH_TABLES)),
    )
    comments = dict(cur.fetchall())
    if set(comments) != set(TRUTH_TABLES) or len(set(comments.values())) != 1:
        return None
    try:
        marker = json.loads(comments.popitem()[1] or "")
        date.fromisoformat(marker["last_day"])
    except (ValueError, TypeError, KeyError):
        return None
    return marker if isinstance(marker.get("fingerprint"), str) else None


def _delete_from(cur, shop, name: str, first_new: int) -> None:
    """Remove a growing table's rows of days >= `first_new` (offset; for `coupon_effect` the
    campaigns offered on those days)."""
    table = sql.Identifier(SCHEMA, name)
    day_column = GROWING_TABLES[name]
    if day_column is not None:
        first_date = shop.config.start_date + timedelta(days=first_new)
        cur.execute(
            sql.SQL("delete from {} where {} >= %s").format(table, sql.Identifier(day_column)),
            (first_date,),
        )
        return
    ids = shop.truth.campaigns_from(first_new)
    if ids:
        cur.execute(
            sql.SQL("delete from {} where coupon_campaign_id = any(%s)").format(table), (ids,)
        )


def _create(cur, table: sql.Composed, columns: dict[str, str]) -> None:
    cur.execute(sql.SQL("drop table if exists {}").format(table))
    cur.execute(
        sql.SQL("create table {} ({})").format(
            table,
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in columns.items()
            ),
        )
    )


def _add_primary_key(cur, table: sql.Composed, key: tuple[str, ...]) -> None:
    cur.execute(
        sql.SQL("alter table {} add primary key ({})").format(
            table, sql.SQL(", ").join(map(sql.Identifier, key))
        )
    )


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
