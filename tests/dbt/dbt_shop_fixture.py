"""A small, deterministic shop in contract columns (clear-text PII, like the simulator's output),
with a few hand-placed rows on the time boundaries the feature and label marts must respect."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pandas as pd

START = date(2026, 7, 1)
DAYS = 12
EDGE_DAY = START + timedelta(days=4)  # as-of date A of the boundary users


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def boundary_orders(edge_day: date = EDGE_DAY, horizon_days: int = 7) -> list[dict]:
    """Orders of three users seen only here, each known from an anchor order the evening
    before A = `edge_day`: one at A 00:00 (in the label of A, not in the features of A), one in
    the last second of A's label window (A + H days - 1 s) and one at A + H days (outside)."""
    edge = midnight(edge_day)
    horizon = timedelta(days=horizon_days)
    cases = [
        ("edge_midnight", edge),
        ("edge_last_second", edge + horizon - timedelta(seconds=1)),
        ("edge_horizon", edge + horizon),
    ]
    rows = []
    for uid, ts in cases:
        for oid, order_ts in ((f"o-{uid}-anchor", edge - timedelta(hours=14)), (f"o-{uid}", ts)):
            rows.append(
                {
                    "order_id": oid,
                    "user_id": uid,
                    "order_ts": order_ts,
                    "status": "completed",
                    "total_amount": 20.0,
                    "discount_amount": 0.0,
                    "coupon_id": None,
                    "device_id": None,
                    "updated_at": order_ts,
                }
            )
    return rows


def build_shop(days: int = DAYS, seed: int = 11) -> dict[str, pd.DataFrame]:
    """Every source of the contract, `days` days from START; PII in clear text."""
    rng = np.random.default_rng(seed)
    first = midnight(START)
    n_users, n_items, n_merchants, n_suppliers = 24, 16, 4, 3
    categories = ["books", "garden", "toys", "beauty"]
    oses = ["iOS", "Android", "Windows", "macOS"]

    merchants = _frame(
        [
            {
                "merchant_id": f"m{m}",
                "name": f"Shop {m}",
                "shop_rating": 3.5 + 0.3 * m,
                "service_score": 4.0,
                "delivery_score": 4.1,
                "review_count": 10 * (m + 1),
                "opened_at": first - timedelta(days=400),
                "updated_at": first - timedelta(days=30),
            }
            for m in range(n_merchants)
        ],
        [
            "merchant_id",
            "name",
            "shop_rating",
            "service_score",
            "delivery_score",
            "review_count",
            "opened_at",
            "updated_at",
        ],
    )
    # merchant m0 improves its rating on day 5: a second version
    merchants = pd.concat(
        [
            merchants,
            merchants.iloc[[0]].assign(shop_rating=4.9, updated_at=first + timedelta(days=5)),
        ],
        ignore_index=True,
    )
    suppliers = _frame(
        [
            {
                "supplier_id": f"s{s}",
                "name": f"Supplier {s}",
                "description": "wholesale goods",
                "business_scope": "wholesale",
                "tags": "b2b,eco",
                "store_count": 2 + s,
                "contact_email": f"sales{s}@supplier.example.com",
                "updated_at": first - timedelta(days=60),
            }
            for s in range(n_suppliers)
        ],
        [
            "supplier_id",
            "name",
            "description",
            "business_scope",
            "tags",
            "store_count",
            "contact_email",
            "updated_at",
        ],
    )
    items = _frame(
        [
            {
                "item_id": f"i{i}",
                "merchant_id": f"m{i % n_merchants}",
                "supplier_id": f"s{i % n_suppliers}",
                "category": categories[i % len(categories)],
                "brand": f"Brand{i % 5}",
                "title": f"Item {i}",
                "price": round(5 + 7.5 * i, 2),
                "stock": 0 if i == 15 else 20 + i,
                "is_active": i != 14,
                "created_at": first - timedelta(days=90),
                "updated_at": first - timedelta(days=10),
            }
            for i in range(n_items)
        ],
        [
            "item_id",
            "merchant_id",
            "supplier_id",
            "category",
            "brand",
            "title",
            "price",
            "stock",
            "is_active",
            "created_at",
            "updated_at",
        ],
    )
    # item i1 changes price on day 4: views before see the old price, views after the new one
    items = pd.concat(
        [items, items.iloc[[1]].assign(price=99.0, updated_at=first + timedelta(days=4))],
        ignore_index=True,
    )
    signup_offsets = rng.integers(-200, days - 2, n_users)
    users = _frame(
        [
            {
                "user_id": f"u{u:02d}",
                "email": f"user{u}@mail.example.com",
                "phone": f"+49 151 {1000000 + u}",
                "signup_at": first + timedelta(days=int(signup_offsets[u]), hours=9),
                "country": ["DE", "FR", "GB"][u % 3],
                "city": "Berlin",
                "gender": "female" if u % 2 else "male",
                "birth_year": 1970 + u,
                "updated_at": first + timedelta(days=int(min(signup_offsets[u], 0)), hours=9),
            }
            for u in range(n_users)
        ],
        [
            "user_id",
            "email",
            "phone",
            "signup_at",
            "country",
            "city",
            "gender",
            "birth_year",
            "updated_at",
        ],
    )
    # u01 moves from FR to NL on day 3 (a second version of the user)
    users = pd.concat(
        [users, users.iloc[[1]].assign(country="NL", updated_at=first + timedelta(days=3))],
        ignore_index=True,
    )
    devices = _frame(
        [
            {
                "device_id": f"dev-{u:02d}-a",
                "user_id": f"u{u:02d}",
                "os": oses[u % len(oses)],
                "browser": "App",
                "app_version": "5.1",
                "model": "Phone",
                "screen_resolution": "1080x2400",
                "ip_address": f"10.0.{u}.7",
                "country": "DE",
                "city": "Berlin",
                "first_seen_at": users.loc[u, "signup_at"],
                "updated_at": users.loc[u, "signup_at"],
            }
            for u in range(n_users)
        ],
        [
            "device_id",
            "user_id",
            "os",
            "browser",
            "app_version",
            "model",
            "screen_resolution",
            "ip_address",
            "country",
            "city",
            "first_seen_at",
            "updated_at",
        ],
    )

    events, orders, order_items = [], [], []
    event_types = ["view", "view", "view", "search", "favorite", "like", "comment", "add_to_cart"]
    for day in range(days):
        day_start = first + timedelta(days=day)
        for u in range(n_users):
            signup = users.loc[u, "signup_at"]
            if signup >= day_start + timedelta(days=1) or rng.random() > 0.45:
                continue
            session = f"s-{u}-{day}"
            base = max(day_start + timedelta(hours=8), signup + timedelta(minutes=5))
            for k in range(int(rng.integers(1, 6))):
                ts = base + timedelta(minutes=7 * k + int(rng.integers(0, 5)))
                if ts >= day_start + timedelta(days=1):
                    break
                kind = event_types[int(rng.integers(0, len(event_types)))]
                item = f"i{int(rng.integers(0, n_items))}"
                events.append(
                    {
                        "event_id": f"e-{u}-{day}-{k}",
                        "event_ts": ts,
                        "user_id": f"u{u:02d}",
                        "event_type": kind,
                        "item_id": None if kind == "search" else item,
                        "merchant_id": None,
                        "search_query": "Garden  Hose" if kind == "search" else None,
                        "device_id": f"dev-{u:02d}-a",
                        "session_id": session,
                    }
                )
            if rng.random() < 0.3:
                ts = base + timedelta(minutes=45)
                oid = f"o-{u}-{day}"
                item = int(rng.integers(0, n_items))
                qty = int(rng.integers(1, 3))
                price = float(items.loc[item, "price"])
                coupon = f"c-{u}" if u % 7 == 0 and day == 8 else None
                orders.append(
                    {
                        "order_id": oid,
                        "user_id": f"u{u:02d}",
                        "order_ts": ts,
                        "status": "cancelled" if u % 9 == 4 else "completed",
                        "total_amount": round(qty * price, 2),
                        "discount_amount": 5.0 if coupon else 0.0,
                        "coupon_id": coupon,
                        "device_id": f"dev-{u:02d}-a",
                        "updated_at": ts,
                    }
                )
                order_items.append(
                    {
                        "order_id": oid,
                        "line_no": 1,
                        "order_ts": ts,
                        "item_id": f"i{item}",
                        "quantity": qty,
                        "unit_price": price,
                    }
                )

    orders.extend(boundary_orders())

    feedback = _frame(
        [
            {
                "feedback_id": f"f-{o['order_id']}",
                "feedback_ts": o["order_ts"] + timedelta(hours=30),
                "user_id": o["user_id"],
                "kind": "after_sales",
                "rating": 1 + (i % 5),
                "order_id": o["order_id"],
                "item_id": None,
                "review_text": "fine",
            }
            for i, o in enumerate(orders[::3])
            if o["order_ts"] + timedelta(hours=30) < first + timedelta(days=days)
        ],
        [
            "feedback_id",
            "feedback_ts",
            "user_id",
            "kind",
            "rating",
            "order_id",
            "item_id",
            "review_text",
        ],
    )
    ad_campaigns = _frame(
        [
            {
                "campaign_id": f"ad{c}",
                "name": f"Campaign {c}",
                "channel": ["search", "social"][c],
                "objective": "conversion",
                "start_date": START,
                "end_date": START + timedelta(days=days),
                "daily_budget": 50.0,
                "updated_at": first - timedelta(days=1),
            }
            for c in range(2)
        ],
        [
            "campaign_id",
            "name",
            "channel",
            "objective",
            "start_date",
            "end_date",
            "daily_budget",
            "updated_at",
        ],
    )
    ad_events = []
    for day in range(days):
        for u in range(0, n_users, 2):
            ts = first + timedelta(days=day, hours=7, minutes=u)
            ad_events.append(
                {
                    "ad_event_id": f"ae-{u}-{day}-imp",
                    "event_ts": ts,
                    "campaign_id": f"ad{u % 4 // 2}",
                    "user_id": f"u{u:02d}",
                    "event_type": "impression",
                    "item_id": f"i{u % n_items}",
                    "cost": 0.01,
                }
            )
            if (u + day) % 5 == 0:
                ad_events.append(
                    {
                        "ad_event_id": f"ae-{u}-{day}-clk",
                        "event_ts": ts + timedelta(seconds=20),
                        "campaign_id": f"ad{u % 4 // 2}",
                        "user_id": f"u{u:02d}",
                        "event_type": "click",
                        "item_id": f"i{u % n_items}",
                        "cost": 0.5,
                    }
                )
    coupon_campaigns = _frame(
        [
            {
                "coupon_campaign_id": "cc1",
                "name": "Summer coupons",
                "offer_date": START + timedelta(days=3),
                "coupon_values": "5,10",
                "horizon_days": 5,
                "updated_at": first - timedelta(days=1),
            }
        ],
        ["coupon_campaign_id", "name", "offer_date", "coupon_values", "horizon_days", "updated_at"],
    )
    assignments = _frame(
        [
            {
                "coupon_campaign_id": "cc1",
                "user_id": f"u{u:02d}",
                "assigned_at": first + timedelta(days=3, hours=1),
                "treatment": u % 2 == 0,
                "coupon_value": (5.0 if u % 4 == 0 else 10.0) if u % 2 == 0 else 0.0,
                "coupon_id": f"cpn-{u}" if u % 2 == 0 else None,
            }
            for u in range(n_users)
        ],
        ["coupon_campaign_id", "user_id", "assigned_at", "treatment", "coupon_value", "coupon_id"],
    )
    redemptions = _frame(
        [
            {
                "coupon_id": f"cpn-{u}",
                "redeemed_at": first + timedelta(days=4, hours=12),
                "user_id": f"u{u:02d}",
                "order_id": None,
            }
            for u in range(0, n_users, 6)
        ],
        ["coupon_id", "redeemed_at", "user_id", "order_id"],
    )
    return {
        "users": users,
        "items": items,
        "merchants": merchants,
        "suppliers": suppliers,
        "devices": devices,
        "events": _frame(events, list(events[0])),
        "orders": _frame(orders, list(orders[0])),
        "order_items": _frame(order_items, list(order_items[0])),
        "feedback": feedback,
        "ad_campaigns": ad_campaigns,
        "ad_events": _frame(ad_events, list(ad_events[0])),
        "coupon_campaigns": coupon_campaigns,
        "coupon_assignments": assignments,
        "coupon_redemptions": redemptions,
    }
