"""One day of advertising: impressions per running campaign, clicks, and their cost.

Impressions reach engaged users more often; the click-through rate is the channel's base rate
scaled by the user's ad responsiveness. Clicks feed back into the purchase model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aimass.sim import vocab
from aimass.sim.campaigns import CHANNELS, AdCampaigns
from aimass.sim.catalog import ItemChooser
from aimass.sim.clock import DAY, seconds_of_day

AD_EVENT_TYPES = ("impression", "click")
CHANNEL_SPECS = np.array([vocab.AD_CHANNELS[c] for c in CHANNELS])


@dataclass(frozen=True)
class DayAds:
    """Ad events of one day sorted by time, and clicks per user (all users)."""

    ts: np.ndarray
    campaign: np.ndarray
    user: np.ndarray
    is_click: np.ndarray
    item: np.ndarray
    cost: np.ndarray
    clicks_per_user: np.ndarray


def simulate_ads(
    rng: np.random.Generator,
    campaigns: AdCampaigns,
    day: int,
    day_start_s: int,
    active_users: np.ndarray,
    engagement: np.ndarray,
    ad_responsiveness: np.ndarray,
    chooser: ItemChooser,
) -> DayAds:
    running = campaigns.active_on(day)
    reach = np.clip(np.sqrt(engagement[active_users]), 0.2, 3.0)
    counts = [rng.poisson(campaigns.impression_rate[c] * reach) for c in running]
    user = np.concatenate([np.repeat(active_users, k) for k in counts] + [np.zeros(0, int)])
    campaign = np.repeat(running, [int(k.sum()) for k in counts]).astype(np.int64)
    n = len(user)
    spec = CHANNEL_SPECS[campaigns.channel[campaign]]
    ctr = spec[:, 0] * (0.2 + 1.6 * ad_responsiveness[user])
    clicked = rng.random(n) < ctr
    item = chooser.choose(campaigns.category[campaign], rng.random(n), np.zeros(n))
    seen_at = seconds_of_day(rng, n)
    impression_cost = np.round(spec[:, 1] / 1000 * rng.uniform(0.8, 1.2, n), 4)
    click_cost = np.round(spec[:, 2] * rng.uniform(0.7, 1.3, n), 2)
    click_at = np.minimum(seen_at + rng.integers(2, 60, n), DAY - 1)

    ts = day_start_s + np.concatenate([seen_at, click_at[clicked]])
    order = np.argsort(ts, kind="stable")
    return DayAds(
        ts=ts[order],
        campaign=np.concatenate([campaign, campaign[clicked]])[order],
        user=np.concatenate([user, user[clicked]])[order],
        is_click=np.concatenate([np.zeros(n, bool), np.ones(int(clicked.sum()), bool)])[order],
        item=np.concatenate([item, item[clicked]])[order],
        cost=np.concatenate([impression_cost, click_cost[clicked]])[order],
        clicks_per_user=np.bincount(user[clicked], minlength=len(engagement)),
    )
