"""Turn the day records into one Arrow table per source, shaped exactly like its contract.

Each table comes with the landing day of every row: event-time rows land on their own day
(late rows on the next), snapshot rows on the day they were created or updated (day 0 also
carries everything that existed before the start date)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from aimass.contracts import SourceContract, load_contracts
from aimass.sim import strings, vocab
from aimass.sim.ads import AD_EVENT_TYPES
from aimass.sim.campaigns import format_coupon_values
from aimass.sim.clock import APP_MAJOR, DAY, day_number, epoch_seconds
from aimass.sim.daily import DayRecord
from aimass.sim.feedback import FEEDBACK_KINDS, REVIEW_TEXTS
from aimass.sim.population import CITY_NAMES, COUNTRY_CODES
from aimass.sim.sessions import EVENT_TYPES, ORDER_STATUSES, SEARCH_QUERIES
from aimass.sim.updates import Changes
from aimass.sim.world import World

ARROW_TYPES = {
    "text": pa.string(),
    "integer": pa.int64(),
    "bigint": pa.int64(),
    "numeric": pa.float64(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
}


def contract_schema(contract: SourceContract) -> pa.Schema:
    """The Arrow schema of a source's rows (contract columns, in contract order)."""
    return pa.schema([(c.name, ARROW_TYPES[c.type]) for c in contract.columns])


def timestamps(seconds: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(seconds, dtype=np.int64) * 1_000_000, pa.timestamp("us", tz="UTC"))


def dates(seconds: np.ndarray) -> pa.Array:
    return pa.array((np.asarray(seconds, dtype=np.int64) // DAY).astype(np.int32), pa.date32())


class Assembler:
    """Builds `(table, landing_day)` per source from a world and its day records."""

    def __init__(self, world: World, records: list[DayRecord], contracts=None):
        self.world = world
        self.records = records
        self.contracts = contracts or load_contracts()
        self.start_s = epoch_seconds(world.config.start_date)
        self.end_s = self.start_s + len(records) * DAY
        self.day_numbers = np.array(
            [day_number(world.config.start_date + timedelta(days=r.day)) for r in records]
        )

    def build(self) -> dict[str, tuple[pa.Table, np.ndarray]]:
        builders: dict[str, Callable] = {
            "users": self.users,
            "items": self.items,
            "merchants": self.merchants,
            "suppliers": self.suppliers,
            "devices": self.devices,
            "events": self.events,
            "orders": self.orders,
            "order_items": self.order_items,
            "feedback": self.feedback,
            "ad_campaigns": self.ad_campaigns,
            "ad_events": self.ad_events,
            "coupon_campaigns": self.coupon_campaigns,
            "coupon_assignments": self.coupon_assignments,
            "coupon_redemptions": self.coupon_redemptions,
        }
        unknown = sorted(set(self.contracts) - set(builders))
        if unknown:
            raise ValueError(
                f"the simulator cannot produce sources {unknown}; remove them from the sources "
                "config or add a builder in aimass.sim.assemble."
            )
        return {name: builders[name]() for name in self.contracts}

    # -- helpers ---------------------------------------------------------------------------

    def _table(self, source: str, columns: dict, landing_day: np.ndarray):
        contract = self.contracts[source]
        if list(columns) != contract.column_names:
            raise ValueError(
                f"simulator columns for {source!r} {list(columns)} differ from the contract "
                f"{contract.column_names}; update aimass.sim.assemble to match sources.yml."
            )
        schema = contract_schema(contract)
        arrays = [
            pc.cast(a if isinstance(a, pa.Array | pa.ChunkedArray) else pa.array(a), f.type)
            for a, f in zip(columns.values(), schema, strict=True)
        ]
        return pa.Table.from_arrays(arrays, schema=schema), np.asarray(landing_day, dtype=np.int64)

    def _rows(self, get) -> tuple[np.ndarray, np.ndarray]:
        """Concatenate an array over days, with the day index of each row."""
        parts = [np.asarray(get(r)) for r in self.records]
        day = np.repeat([r.day for r in self.records], [len(p) for p in parts])
        return np.concatenate(parts) if parts else np.zeros(0), day.astype(np.int64)

    def _seq(self, get) -> np.ndarray:
        """1-based position of each row within its day."""
        return np.concatenate([np.arange(1, len(get(r)) + 1) for r in self.records])

    def _changes(self, source: str) -> tuple[Changes, np.ndarray]:
        parts = [r.changes[source] for r in self.records]
        day = np.repeat([r.day for r in self.records], [len(p.idx) for p in parts])
        return Changes.concat(parts), day

    def _order_ids(self, day: np.ndarray, order_index: np.ndarray) -> pa.Array:
        ids = strings.dated_ids("ord", self.day_numbers[day], np.maximum(order_index, 0) + 1, 7)
        return pc.if_else(pa.array(order_index >= 0), ids, pa.nulls(len(ids), pa.string()))

    # -- snapshot sources ------------------------------------------------------------------

    def users(self):
        ch, day = self._changes("users")
        u, i = self.world.users, ch.idx
        birth = u.birth_year[i]
        return self._table(
            "users",
            {
                "user_id": u.ids.take(pa.array(i)),
                "email": u.email.take(pa.array(i)),
                "phone": u.phone.take(pa.array(i)),
                "signup_at": timestamps(u.signup_s[i]),
                "country": strings.take(COUNTRY_CODES, u.country[i]),
                "city": strings.take(CITY_NAMES, ch.values["city"]),
                "gender": u.gender.take(pa.array(i)),
                "birth_year": pa.array(np.nan_to_num(birth).astype(np.int64), mask=np.isnan(birth)),
                "updated_at": timestamps(ch.updated_s),
            },
            day,
        )

    def items(self):
        ch, day = self._changes("items")
        it, i = self.world.items, ch.idx
        return self._table(
            "items",
            {
                "item_id": it.ids.take(pa.array(i)),
                "merchant_id": self.world.merchants.ids.take(pa.array(it.merchant[i])),
                "supplier_id": strings.take_or_null(self.world.suppliers.ids, it.supplier[i]),
                "category": strings.take(vocab.CATEGORY_NAMES, it.category[i]),
                "brand": it.brand.take(pa.array(i)),
                "title": it.title.take(pa.array(i)),
                "price": ch.values["price"],
                "stock": ch.values["stock"],
                "is_active": ch.values["is_active"],
                "created_at": timestamps(it.created_s[i]),
                "updated_at": timestamps(ch.updated_s),
            },
            day,
        )

    def merchants(self):
        ch, day = self._changes("merchants")
        m, i = self.world.merchants, ch.idx
        return self._table(
            "merchants",
            {
                "merchant_id": m.ids.take(pa.array(i)),
                "name": m.name.take(pa.array(i)),
                "shop_rating": ch.values["shop_rating"],
                "service_score": ch.values["service_score"],
                "delivery_score": ch.values["delivery_score"],
                "review_count": ch.values["review_count"],
                "opened_at": timestamps(m.opened_s[i]),
                "updated_at": timestamps(ch.updated_s),
            },
            day,
        )

    def suppliers(self):
        ch, day = self._changes("suppliers")
        s, i = self.world.suppliers, pa.array(ch.idx)
        return self._table(
            "suppliers",
            {
                "supplier_id": s.ids.take(i),
                "name": s.name.take(i),
                "description": s.description.take(i),
                "business_scope": s.business_scope.take(i),
                "tags": s.tags.take(i),
                "store_count": ch.values["store_count"],
                "contact_email": s.contact_email.take(i),
                "updated_at": timestamps(ch.updated_s),
            },
            day,
        )

    def devices(self):
        ch, day = self._changes("devices")
        d, i = self.world.devices, ch.idx
        owner = d.user[i]
        minor = ch.values["app_minor"]
        version = strings.concat(f"{APP_MAJOR}.", np.maximum(minor, 0), ".0")
        return self._table(
            "devices",
            {
                "device_id": d.ids.take(pa.array(i)),
                "user_id": self.world.users.ids.take(pa.array(owner)),
                "os": strings.take(vocab.OS_NAMES, d.os[i]),
                "browser": d.browser.take(pa.array(i)),
                "app_version": pc.if_else(
                    pa.array(minor >= 0), version, pa.nulls(len(i), pa.string())
                ),
                "model": d.model.take(pa.array(i)),
                "screen_resolution": d.resolution.take(pa.array(i)),
                "ip_address": d.ip.take(pa.array(i)),
                "country": strings.take(COUNTRY_CODES, self.world.users.country[owner]),
                "city": strings.take(CITY_NAMES, self.world.users.city[owner]),
                "first_seen_at": timestamps(d.first_seen_s[i]),
                "updated_at": timestamps(ch.updated_s),
            },
            day,
        )

    def ad_campaigns(self):
        ch, day = self._changes("ad_campaigns")
        c, i = self.world.ad_campaigns, ch.idx
        return self._table(
            "ad_campaigns",
            {
                "campaign_id": c.ids.take(pa.array(i)),
                "name": c.name.take(pa.array(i)),
                "channel": strings.take(list(vocab.AD_CHANNELS), c.channel[i]),
                "objective": c.objective.take(pa.array(i)),
                "start_date": dates(self.start_s + c.start_day[i] * DAY),
                "end_date": dates(self.start_s + c.end_day[i] * DAY),
                "daily_budget": c.daily_budget[i],
                "updated_at": timestamps(ch.updated_s),
            },
            day,
        )

    def coupon_campaigns(self):
        ch, day = self._changes("coupon_campaigns")
        c, i = self.world.coupon_campaigns, ch.idx
        offer_s = self.start_s + np.asarray(c.offer_day, dtype=np.int64)[i] * DAY
        return self._table(
            "coupon_campaigns",
            {
                "coupon_campaign_id": strings.take(c.ids, i),
                "name": strings.take(c.names, i),
                "offer_date": dates(offer_s),
                "coupon_values": strings.take(
                    [format_coupon_values(c.coupon_values)], np.zeros(len(i))
                ),
                "horizon_days": np.full(len(i), c.horizon_days),
                "updated_at": timestamps(ch.updated_s),
            },
            day,
        )

    # -- event-time sources ----------------------------------------------------------------

    def events(self):
        ts, day = self._rows(lambda r: r.sessions.event_ts)
        item, _ = self._rows(lambda r: r.sessions.event_item)
        late, _ = self._rows(lambda r: r.event_late)
        seq = self._seq(lambda r: r.sessions.event_ts)
        session, _ = self._rows(lambda r: r.sessions.event_session)
        merchant = np.where(item >= 0, self.world.items.merchant[np.maximum(item, 0)], -1)
        numbers = self.day_numbers[day]
        return self._table(
            "events",
            {
                "event_id": strings.dated_ids("evt", numbers, seq, 8),
                "event_ts": timestamps(ts),
                "user_id": self.world.users.ids.take(
                    pa.array(self._rows(lambda r: r.sessions.event_user)[0])
                ),
                "event_type": strings.take(
                    EVENT_TYPES, self._rows(lambda r: r.sessions.event_type)[0]
                ),
                "item_id": strings.take_or_null(self.world.items.ids, item),
                "merchant_id": strings.take_or_null(self.world.merchants.ids, merchant),
                "search_query": strings.take_or_null(
                    pa.array(SEARCH_QUERIES), self._rows(lambda r: r.sessions.event_query)[0]
                ),
                "device_id": self.world.devices.ids.take(
                    pa.array(self._rows(lambda r: r.sessions.event_device)[0])
                ),
                "session_id": strings.dated_ids("ses", numbers, session + 1, 7),
            },
            day + late,
        )

    def orders(self):
        ts, day = self._rows(lambda r: r.sessions.order_ts)
        user, _ = self._rows(lambda r: r.sessions.order_user)
        gross, _ = self._rows(lambda r: r.sessions.order_gross)
        discount, _ = self._rows(lambda r: r.order_discount)
        campaign, _ = self._rows(lambda r: r.order_coupon_campaign)
        cancelled, _ = self._rows(lambda r: r.order_cancelled)
        seq = self._seq(lambda r: r.sessions.order_ts)
        return self._table(
            "orders",
            {
                "order_id": self._order_ids(day, seq - 1),
                "user_id": self.world.users.ids.take(pa.array(user)),
                "order_ts": timestamps(ts),
                "status": strings.take(ORDER_STATUSES, cancelled.astype(np.int64)),
                "total_amount": np.round(gross - discount, 2),
                "discount_amount": discount,
                "coupon_id": self._coupon_ids(campaign, user),
                "device_id": self.world.devices.ids.take(
                    pa.array(self._rows(lambda r: r.sessions.order_device)[0])
                ),
                "updated_at": timestamps(self._rows(lambda r: r.order_updated_s)[0]),
            },
            day,
        )

    def order_items(self):
        order, day = self._rows(lambda r: r.sessions.line_order)
        order_ts, _ = self._rows(lambda r: r.sessions.order_ts[r.sessions.line_order])
        return self._table(
            "order_items",
            {
                "order_id": self._order_ids(day, order),
                "line_no": self._rows(lambda r: r.sessions.line_no)[0],
                "order_ts": timestamps(order_ts),
                "item_id": self.world.items.ids.take(
                    pa.array(self._rows(lambda r: r.sessions.line_item)[0])
                ),
                "quantity": self._rows(lambda r: r.sessions.line_quantity)[0],
                "unit_price": self._rows(lambda r: r.sessions.line_unit_price)[0],
            },
            day,
        )

    def feedback(self):
        ts, gen_day = self._rows(lambda r: r.feedback.ts)
        seq = self._seq(lambda r: r.feedback.ts)
        keep = np.flatnonzero(ts < self.end_s)
        fb = {
            name: self._rows(lambda r, name=name: getattr(r.feedback, name))[0][keep]
            for name in ("user", "kind", "rating", "order", "item", "text")
        }
        gen_day, ts = gen_day[keep], ts[keep]
        return self._table(
            "feedback",
            {
                "feedback_id": strings.dated_ids("fb", self.day_numbers[gen_day], seq[keep], 6),
                "feedback_ts": timestamps(ts),
                "user_id": self.world.users.ids.take(pa.array(fb["user"])),
                "kind": strings.take(FEEDBACK_KINDS, fb["kind"]),
                "rating": fb["rating"],
                "order_id": self._order_ids(gen_day, fb["order"]),
                "item_id": strings.take_or_null(self.world.items.ids, fb["item"]),
                "review_text": strings.take_or_null(pa.array(REVIEW_TEXTS), fb["text"]),
            },
            (ts - self.start_s) // DAY,
        )

    def ad_events(self):
        ts, day = self._rows(lambda r: r.ads.ts)
        late, _ = self._rows(lambda r: r.ad_late)
        seq = self._seq(lambda r: r.ads.ts)
        is_click, _ = self._rows(lambda r: r.ads.is_click)
        return self._table(
            "ad_events",
            {
                "ad_event_id": strings.dated_ids("ad", self.day_numbers[day], seq, 8),
                "event_ts": timestamps(ts),
                "campaign_id": self.world.ad_campaigns.ids.take(
                    pa.array(self._rows(lambda r: r.ads.campaign)[0].astype(np.int64))
                ),
                "user_id": self.world.users.ids.take(pa.array(self._rows(lambda r: r.ads.user)[0])),
                "event_type": strings.take(AD_EVENT_TYPES, is_click.astype(np.int64)),
                "item_id": strings.take_or_null(
                    self.world.items.ids, self._rows(lambda r: r.ads.item)[0]
                ),
                "cost": self._rows(lambda r: r.ads.cost)[0],
            },
            day + late,
        )

    def coupon_assignments(self):
        offers = [(r.day, r.offer) for r in self.records if r.offer is not None]
        day = np.concatenate([np.full(len(o.users), d) for d, o in offers] + [np.zeros(0, int)])
        user = np.concatenate([o.users for _, o in offers] + [np.zeros(0, int)])
        campaign = np.concatenate(
            [np.full(len(o.users), o.campaign) for _, o in offers] + [np.zeros(0, int)]
        )
        value = np.concatenate([o.assigned_value for _, o in offers] + [np.zeros(0)])
        ids = self.world.coupon_campaigns.ids
        return self._table(
            "coupon_assignments",
            {
                "coupon_campaign_id": strings.take(ids, campaign),
                "user_id": self.world.users.ids.take(pa.array(user)),
                "assigned_at": timestamps(self.start_s + day * DAY),
                "treatment": value > 0,
                "coupon_value": value,
                "coupon_id": self._coupon_ids(np.where(value > 0, campaign, -1), user),
            },
            day,
        )

    def coupon_redemptions(self):
        campaign, day = self._rows(lambda r: r.order_coupon_campaign)
        seq = self._seq(lambda r: r.order_coupon_campaign)
        used = np.flatnonzero(campaign >= 0)
        ts, _ = self._rows(lambda r: r.sessions.order_ts)
        user, _ = self._rows(lambda r: r.sessions.order_user)
        return self._table(
            "coupon_redemptions",
            {
                "coupon_id": self._coupon_ids(campaign[used], user[used]),
                "redeemed_at": timestamps(ts[used]),
                "user_id": self.world.users.ids.take(pa.array(user[used])),
                "order_id": self._order_ids(day[used], seq[used] - 1),
            },
            day[used],
        )

    def _coupon_ids(self, campaign: np.ndarray, user: np.ndarray) -> pa.Array:
        """`cpn-<campaign>-<user>` for rows holding a coupon (campaign >= 0), else null."""
        ids = strings.concat(
            "cpn",
            strings.take(self.world.coupon_campaigns.ids or ["none"], np.maximum(campaign, 0)),
            self.world.users.ids.take(pa.array(user)),
            sep="-",
        )
        return pc.if_else(pa.array(campaign >= 0), ids, pa.nulls(len(ids), pa.string()))
