"""Randomized coupon campaigns: assignment on the offer date, holding, and redemption."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Deal seekers always apply a coupon they hold; the least price-sensitive often pay full price.
REDEEM_BASE, REDEEM_PRICE_SENSITIVITY = 0.5, 0.5


@dataclass
class CouponHolding:
    """The coupon each user holds in the running campaign (value 0 = none)."""

    campaign: np.ndarray
    value: np.ndarray
    used: np.ndarray

    @classmethod
    def empty(cls, n_users: int) -> CouponHolding:
        return cls(np.full(n_users, -1), np.zeros(n_users), np.zeros(n_users, bool))

    def clear(self) -> None:
        self.campaign[:] = -1
        self.value[:] = 0.0
        self.used[:] = False

    def active_value(self) -> np.ndarray:
        """Value of the coupon each user still holds unused (0 if none)."""
        return np.where(self.used, 0.0, self.value)


def assign(
    rng: np.random.Generator, n_users: int, values: tuple[float, ...], treatment_share: float
) -> np.ndarray:
    """Coupon value per eligible user: a random `treatment_share` gets a coupon, split evenly
    over `values`; the rest (control) get 0."""
    ranks = rng.permutation(n_users)
    n_treated = int(round(treatment_share * n_users))
    assigned = np.zeros(n_users)
    assigned[ranks[:n_treated]] = np.asarray(values, dtype=float)[
        np.arange(n_treated) % len(values)
    ]
    return assigned


def redeem_probability(price_sensitivity: np.ndarray) -> np.ndarray:
    """Chance that a coupon holder applies the coupon to an order."""
    return REDEEM_BASE + REDEEM_PRICE_SENSITIVITY * np.asarray(price_sensitivity)


def redeem(
    rng: np.random.Generator,
    holding: CouponHolding,
    order_user: np.ndarray,
    order_ok: np.ndarray,
    order_gross: np.ndarray,
    price_sensitivity: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Apply held coupons to the user's first successful order (orders sorted by time), with
    the user's `redeem_probability`; an unused coupon stays held.

    Returns (discount per order, campaign index of the coupon used or -1); marks coupons used."""
    discount = np.zeros(len(order_user))
    campaign = np.full(len(order_user), -1)
    candidate = np.flatnonzero(order_ok & (holding.active_value()[order_user] > 0))
    _, first = np.unique(order_user[candidate], return_index=True)
    chosen = candidate[first]
    users = order_user[chosen]
    chosen = chosen[rng.random(len(chosen)) < redeem_probability(price_sensitivity[users])]
    users = order_user[chosen]
    discount[chosen] = np.minimum(holding.value[users], order_gross[chosen])
    campaign[chosen] = holding.campaign[users]
    holding.used[users] = True
    return np.round(discount, 2), campaign
