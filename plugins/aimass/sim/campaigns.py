"""Marketing calendars: ad campaigns per channel and the randomized coupon campaigns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from aimass.sim import strings, vocab
from aimass.sim.catalog import N_CATEGORIES
from aimass.sim.clock import DAY, epoch_seconds
from aimass.sim.config import ShopConfig
from aimass.sim.rng import static_rng

CHANNELS = list(vocab.AD_CHANNELS)


@dataclass(frozen=True)
class AdCampaigns:
    """Campaigns run on days [start_day, end_day] (offsets from start_date, inclusive)."""

    ids: pa.Array
    name: pa.Array
    channel: np.ndarray
    objective: pa.Array
    start_day: np.ndarray
    end_day: np.ndarray
    category: np.ndarray
    impression_rate: np.ndarray
    daily_budget: np.ndarray
    created_s: np.ndarray

    def __len__(self) -> int:
        return len(self.channel)

    def active_on(self, day: int) -> np.ndarray:
        return np.flatnonzero((self.start_day <= day) & (day <= self.end_day))


@dataclass(frozen=True)
class CouponCampaigns:
    ids: list[str]
    names: list[str]
    offer_day: list[int]
    offer_date: list[date]
    coupon_values: tuple[float, ...]
    horizon_days: int
    created_s: list[int]

    def __len__(self) -> int:
        return len(self.ids)

    def offered_on(self, day: int) -> int | None:
        return self.offer_day.index(day) if day in self.offer_day else None

    def running_on(self, day: int) -> int | None:
        """The campaign whose horizon covers `day` (campaigns never overlap)."""
        for k, offer in enumerate(self.offer_day):
            if offer <= day < offer + self.horizon_days:
                return k
        return None


def make_ad_campaigns(config: ShopConfig) -> AdCampaigns:
    rng = static_rng(config.seed, "ad_campaigns")
    n = config.n_ad_campaigns
    channel = np.arange(n) % len(CHANNELS)
    start_day = rng.integers(-20, max(config.days - 14, -19), n)
    end_day = start_day + rng.integers(14, 46, n) - 1
    theme = strings.take(vocab.AD_THEMES, np.arange(n) % len(vocab.AD_THEMES))
    channel_names = strings.take([c.title() for c in CHANNELS], channel)
    rate = rng.uniform(0.04, 0.12, n)
    specs = np.array([vocab.AD_CHANNELS[c] for c in CHANNELS])[channel]
    expected_users = config.n_users * 0.9
    spend = rate * expected_users * (specs[:, 1] / 1000 + specs[:, 0] * 0.84 * specs[:, 2])
    created = epoch_seconds(config.start_date) + (start_day - 3) * DAY + rng.integers(0, DAY, n)
    return AdCampaigns(
        ids=strings.prefixed_ids("ac", np.arange(1, n + 1), 3),
        name=strings.concat(theme, channel_names, sep=" - "),
        channel=channel,
        objective=strings.take(vocab.AD_OBJECTIVES, rng.integers(0, len(vocab.AD_OBJECTIVES), n)),
        start_day=start_day,
        end_day=end_day,
        category=rng.integers(0, N_CATEGORIES, n),
        impression_rate=rate,
        daily_budget=np.round(spend * rng.uniform(1.0, 1.3, n), 2),
        created_s=created,
    )


def make_coupon_campaigns(config: ShopConfig) -> CouponCampaigns:
    offer_days = config.coupon_offer_days
    offer_dates = [config.start_date + timedelta(days=d) for d in offer_days]
    start = epoch_seconds(config.start_date)
    return CouponCampaigns(
        ids=[f"cc{k + 1:03d}" for k in range(len(offer_days))],
        names=[f"Coupon wave {k + 1} ({d.isoformat()})" for k, d in enumerate(offer_dates)],
        offer_day=offer_days,
        offer_date=offer_dates,
        coupon_values=config.coupon_values,
        horizon_days=config.coupon_horizon_days,
        created_s=[start + (d - 3) * DAY + 9 * 3600 for d in offer_days],
    )


def format_coupon_values(values: tuple[float, ...]) -> str:
    """`(5.0, 10.0)` -> `"5,10"`."""
    return ",".join(f"{v:g}" for v in values)
