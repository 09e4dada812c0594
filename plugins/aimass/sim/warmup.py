"""Warm-up: the shop was open before the data starts, so users enter day 0 with a history.

The warm-up runs the same purchase and visit model for a few weeks before `start_date` but
only keeps per-user counts (no rows are produced), so day 0 starts from a settled state
instead of everyone looking brand new."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from aimass.sim import behaviour
from aimass.sim.ads import CHANNEL_SPECS
from aimass.sim.clock import DAY, epoch_seconds
from aimass.sim.daily import SECOND_ORDER_PROBABILITY, Simulation, purchase_probability
from aimass.sim.rng import day_rng
from aimass.sim.sessions import BROWSE_WEIGHTS, MOOD_BROWSE_WEIGHTS

WARM_UP_DAYS = 42


def warm_up(sim: Simulation, days: int = WARM_UP_DAYS) -> None:
    """Advance every user's state through `days` unrecorded days before day 0."""
    world, config, traits, state = sim.world, sim.world.config, sim.world.traits, sim.users
    n = len(world.users)
    cart_share = np.array(
        [
            BROWSE_WEIGHTS[-1] / BROWSE_WEIGHTS.sum(),
            MOOD_BROWSE_WEIGHTS[-1] / MOOD_BROWSE_WEIGHTS.sum(),
        ]
    )
    for day in range(-days, 0):
        rng = day_rng(config.seed, -day, "warm-up")
        day_date = config.start_date + timedelta(days=day)
        day_start = epoch_seconds(day_date)
        weekend = day_date.weekday() >= 5
        is_user = world.users.signup_s < day_start
        tenure = (day_start - world.users.signup_s) / DAY
        state.in_market = behaviour.step_mood(rng, state.in_market, traits.mood_entry, False)
        clicks = rng.poisson(_expected_clicks(sim, day)) * is_user
        core = behaviour.logit_core(traits, state, day, tenure, config.base_logit)
        p = purchase_probability(sim, day, core, clicks, weekend, False)
        orders = (rng.random(n) < p) * (1 + (rng.random(n) < SECOND_ORDER_PROBABILITY)) * is_user
        rate = behaviour.session_rate(
            traits, state.in_market, weekend, False, clicks, config.session_rate
        )
        browse = rng.poisson(rate) * is_user
        browse_events = browse + rng.poisson(browse * (traits.events_per_session - 1.0))
        lines = orders + rng.poisson(0.45 * orders)
        carts = (
            rng.binomial(
                browse_events + rng.poisson(2.0 * orders), cart_share[state.in_market.astype(int)]
            )
            + lines
        )
        state.end_day(day, sessions=browse + orders, orders=orders, carts=carts, clicks=clicks)


def _expected_clicks(sim: Simulation, day: int) -> np.ndarray:
    """Mean ad clicks per user on a warm-up day from the campaigns running then."""
    campaigns, traits = sim.world.ad_campaigns, sim.world.traits
    reach = np.clip(np.sqrt(traits.engagement), 0.2, 3.0)
    responsiveness = 0.2 + 1.6 * traits.ad_responsiveness
    expected = np.zeros(len(reach))
    for c in campaigns.active_on(day):
        ctr = CHANNEL_SPECS[campaigns.channel[c], 0]
        expected += campaigns.impression_rate[c] * reach * ctr * responsiveness
    return expected
