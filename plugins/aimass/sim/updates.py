"""Daily changes of the slowly changing entities (the rows of the daily snapshot exports).

Day 0's export carries every entity that existed before `start_date`; every day carries the
entities created that day and the ones updated that day (at most one row per entity and day;
updates start on day 1). Updates: item price/stock/listing changes, merchant ratings and review
counts after orders, supplier store counts, users moving city, app upgrades on devices."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aimass.sim.clock import DAY, app_minor_at
from aimass.sim.population import CITY_COUNT, CITY_OFFSET

ITEM_UPDATE_RATE = 0.01
SUPPLIER_UPDATE_RATE = 0.003
USER_MOVE_RATE = 0.0005
APP_UPGRADE_RATE = 0.06
MERCHANT_UPDATE_RATE = 0.5


@dataclass(frozen=True)
class Changes:
    """Rows of one entity type exported on one day: entity index, updated_at, and the values
    of the changing attributes at that moment."""

    idx: np.ndarray
    updated_s: np.ndarray
    values: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def concat(cls, parts: list[Changes]) -> Changes:
        keys = list(parts[0].values)
        return cls(
            idx=np.concatenate([p.idx for p in parts]),
            updated_s=np.concatenate([p.updated_s for p in parts]),
            values={k: np.concatenate([p.values[k] for p in parts]) for k in keys},
        )


@dataclass
class MutableState:
    """Current values of the changing attributes."""

    item_price: np.ndarray
    item_stock: np.ndarray
    item_active: np.ndarray
    merchant_rating: np.ndarray
    merchant_service: np.ndarray
    merchant_delivery: np.ndarray
    merchant_reviews: np.ndarray
    supplier_stores: np.ndarray
    user_city: np.ndarray
    device_app_minor: np.ndarray


def created(created_s: np.ndarray, day: int, day_start_s: int) -> Changes:
    """Entities created today (on day 0 also everything created before)."""
    lower = np.iinfo(np.int64).min if day == 0 else day_start_s
    idx = np.flatnonzero((created_s >= lower) & (created_s < day_start_s + DAY))
    return Changes(idx=idx, updated_s=created_s[idx])


def _existing(created_s, day: int, day_start_s: int, rng, rate: float) -> np.ndarray:
    if day == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero((created_s < day_start_s) & (rng.random(len(created_s)) < rate))


def item_changes(rng, state: MutableState, created_s, day: int, day_start_s: int) -> Changes:
    """Listings today, then repricing / restocking / (de)listing of ~1% of older items."""
    new = created(created_s, day, day_start_s)
    upd = _existing(created_s, day, day_start_s, rng, ITEM_UPDATE_RATE)
    k = len(upd)
    state.item_price[upd] = np.round(
        np.maximum(state.item_price[upd] * rng.uniform(0.9, 1.1, k), 0.99), 2
    )
    state.item_stock[upd] = np.where(rng.random(k) < 0.1, 0, rng.poisson(60, k))
    flip = rng.random(k) < 0.05
    state.item_active[upd] = np.where(flip, ~state.item_active[upd], state.item_active[upd])
    idx = np.concatenate([new.idx, upd])
    updated = np.concatenate([new.updated_s, day_start_s + rng.integers(0, 1800, k)])
    return Changes(
        idx,
        updated,
        {
            "price": state.item_price[idx].copy(),
            "stock": state.item_stock[idx].copy(),
            "is_active": state.item_active[idx].copy(),
        },
    )


def merchant_changes(
    rng, state: MutableState, quality, opened_s, orders_per_merchant, day: int, day_start_s: int
) -> Changes:
    """Merchants with orders today refresh their review count and scores in the evening."""
    new = created(opened_s, day, day_start_s)
    had_orders = orders_per_merchant > 0
    pick = (rng.random(len(quality)) < MERCHANT_UPDATE_RATE) & had_orders & (day > 0)
    upd = np.flatnonzero(pick & (opened_s < day_start_s))
    k = len(upd)
    state.merchant_reviews[upd] += rng.poisson(0.3 * orders_per_merchant[upd])
    target = 3 + 2 * quality[upd]
    state.merchant_rating[upd] = np.round(
        np.clip(
            state.merchant_rating[upd]
            + 0.05 * (target - state.merchant_rating[upd])
            + rng.normal(0, 0.02, k),
            1,
            5,
        ),
        2,
    )
    state.merchant_service[upd] = np.round(
        np.clip(state.merchant_service[upd] + rng.normal(0, 0.5, k), 0, 100), 1
    )
    state.merchant_delivery[upd] = np.round(
        np.clip(state.merchant_delivery[upd] + rng.normal(0, 0.5, k), 0, 100), 1
    )
    idx = np.concatenate([new.idx, upd])
    updated = np.concatenate([new.updated_s, day_start_s + 23 * 3600 + rng.integers(0, 3600, k)])
    return Changes(
        idx,
        updated,
        {
            "shop_rating": state.merchant_rating[idx].copy(),
            "service_score": state.merchant_service[idx].copy(),
            "delivery_score": state.merchant_delivery[idx].copy(),
            "review_count": state.merchant_reviews[idx].copy(),
        },
    )


def supplier_changes(rng, state: MutableState, created_s, day: int, day_start_s: int) -> Changes:
    new = created(created_s, day, day_start_s)
    upd = _existing(created_s, day, day_start_s, rng, SUPPLIER_UPDATE_RATE)
    state.supplier_stores[upd] = np.maximum(
        state.supplier_stores[upd] + rng.choice([-1, 1, 2], len(upd)), 1
    )
    idx = np.concatenate([new.idx, upd])
    updated = np.concatenate([new.updated_s, day_start_s + rng.integers(0, DAY, len(upd))])
    return Changes(idx, updated, {"store_count": state.supplier_stores[idx].copy()})


def user_changes(rng, state: MutableState, signup_s, country, day: int, day_start_s: int):
    """Signups today, and a few users moving to another city of their country."""
    new = created(signup_s, day, day_start_s)
    upd = _existing(signup_s, day, day_start_s, rng, USER_MOVE_RATE)
    c = country[upd]
    state.user_city[upd] = CITY_OFFSET[c] + (rng.random(len(upd)) * CITY_COUNT[c]).astype(int)
    idx = np.concatenate([new.idx, upd])
    updated = np.concatenate([new.updated_s, day_start_s + rng.integers(0, DAY, len(upd))])
    return Changes(idx, updated, {"city": state.user_city[idx].copy()})


def device_changes(rng, state: MutableState, first_seen_s, is_app, day: int, day_start_s: int):
    """Devices first seen today, and app devices upgrading to the newest release."""
    new = created(first_seen_s, day, day_start_s)
    latest = int(app_minor_at(day_start_s))
    outdated = is_app & (state.device_app_minor < latest)
    upd = _existing(first_seen_s, day, day_start_s, rng, APP_UPGRADE_RATE)
    upd = upd[outdated[upd]]
    state.device_app_minor[upd] = latest
    idx = np.concatenate([new.idx, upd])
    updated = np.concatenate([new.updated_s, day_start_s + rng.integers(0, DAY, len(upd))])
    return Changes(idx, updated, {"app_minor": state.device_app_minor[idx].copy()})
