"""One simulated day, vectorised over users: moods, coupons, ads, purchase odds, sessions,
orders, feedback and entity changes, then the users' state moves on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from aimass.sim import behaviour, coupons, updates
from aimass.sim.ads import DayAds, simulate_ads
from aimass.sim.behaviour import UserState
from aimass.sim.catalog import ItemChooser
from aimass.sim.clock import DAY, epoch_seconds
from aimass.sim.coupons import CouponHolding
from aimass.sim.feedback import DayFeedback, simulate_feedback
from aimass.sim.rng import day_rng, static_rng
from aimass.sim.sessions import ADD_TO_CART, DaySessions, SessionInputs, simulate_sessions
from aimass.sim.updates import Changes, MutableState
from aimass.sim.world import World

SECOND_ORDER_PROBABILITY = 0.05


@dataclass(frozen=True)
class CouponOffer:
    """A campaign's randomized assignment and its true effect per (user, coupon value)."""

    campaign: int
    users: np.ndarray
    assigned_value: np.ndarray
    truth_users: np.ndarray
    truth_value: np.ndarray
    p_control: np.ndarray
    p_treated: np.ndarray


@dataclass(frozen=True)
class DayRecord:
    day: int
    purchase_users: np.ndarray
    purchase_prob: np.ndarray
    horizon_prob: np.ndarray
    sessions: DaySessions
    event_late: np.ndarray
    order_cancelled: np.ndarray
    order_discount: np.ndarray
    order_coupon_campaign: np.ndarray
    order_updated_s: np.ndarray
    ads: DayAds
    ad_late: np.ndarray
    feedback: DayFeedback
    offer: CouponOffer | None
    changes: dict[str, Changes]


@dataclass
class Simulation:
    """Everything that carries over from one day to the next."""

    world: World
    users: UserState
    entities: MutableState
    holding: CouponHolding
    chooser: ItemChooser
    secondary_device: np.ndarray

    @classmethod
    def start(cls, world: World) -> Simulation:
        n = len(world.users)
        items = world.items
        return cls(
            world=world,
            users=UserState.initial(
                world.traits.mood_entry, static_rng(world.config.seed, "initial_state")
            ),
            entities=world.initial_state(),
            holding=CouponHolding.empty(n),
            chooser=ItemChooser(items.category, items.price, items.appeal),
            secondary_device=np.full(n, -1),
        )


def is_promo(config, day: int) -> bool:
    return config.promo_start_day <= day < config.promo_start_day + config.promo_days


def simulate_day(sim: Simulation, day: int) -> DayRecord:
    world, config, traits = sim.world, sim.world.config, sim.world.traits
    seed = config.seed
    day_date = config.start_date + timedelta(days=day)
    day_start = epoch_seconds(day_date)
    weekend = day_date.weekday() >= 5
    promo = is_promo(config, day)

    changes = _morning_changes(sim, day, day_start)
    listed = world.items.created_s < day_start
    sim.chooser.refresh(listed, listed & sim.entities.item_active & (sim.entities.item_stock > 0))
    _update_secondary_devices(sim, day_start)
    active = np.flatnonzero(world.users.signup_s < day_start)
    tenure = (day_start - world.users.signup_s) / DAY

    state = sim.users
    state.in_market = behaviour.step_mood(
        day_rng(seed, day, "mood"), state.in_market, traits.mood_entry, promo
    )
    core = behaviour.logit_core(traits, state, day, tenure, config.base_logit)
    offer = _coupon_offer(sim, day, active, core)
    horizon = config.truth_horizon_days
    horizon_p = horizon_probability(
        sim, day, core, active, *held_coupon_effect(sim, day, active, horizon)
    )

    ads = simulate_ads(
        day_rng(seed, day, "ads"),
        world.ad_campaigns,
        day,
        day_start,
        active,
        traits.engagement,
        traits.ad_responsiveness,
        sim.chooser,
    )
    clicks = ads.clicks_per_user
    p = purchase_probability(sim, day, core, clicks, weekend, promo)[active]

    rng = day_rng(seed, day, "visits")
    buyers = active[rng.random(len(active)) < p]
    n_orders = 1 + (rng.random(len(buyers)) < SECOND_ORDER_PROBABILITY)
    rate = behaviour.session_rate(
        traits, state.in_market, weekend, promo, clicks, config.session_rate
    )[active]
    n_browse = rng.poisson(rate)
    sessions = simulate_sessions(
        day_rng(seed, day, "sessions"),
        SessionInputs(
            browse_users=np.repeat(active, n_browse),
            purchase_users=np.repeat(buyers, n_orders),
            in_market=state.in_market,
            events_per_session=traits.events_per_session,
            preference_cum=traits.preference_cum,
            price_sensitivity=traits.price_sensitivity,
            secondary_device=sim.secondary_device,
            item_price=sim.entities.item_price,
            chooser=sim.chooser,
            day_start_s=day_start,
            price_factor=1.0 - config.promo_discount if promo else 1.0,
        ),
    )
    record = _orders_and_after(sim, day, day_start, sessions, ads, offer, changes)
    record = DayRecord(purchase_users=active, purchase_prob=p, horizon_prob=horizon_p, **record)

    n = len(world.users)
    state.end_day(
        day,
        sessions=np.bincount(sessions.session_user, minlength=n),
        orders=np.bincount(sessions.order_user, minlength=n),
        carts=np.bincount(sessions.event_user[sessions.event_type == ADD_TO_CART], minlength=n),
        clicks=clicks,
    )
    return record


def purchase_probability(
    sim: Simulation, day: int, core, clicks, weekend: bool, promo: bool
) -> np.ndarray:
    """Today's purchase probability of every user: the log-odds model, plus the pull of a
    held coupon (see `aimass.sim.behaviour.coupon_pull`)."""
    traits = sim.world.traits
    pull = coupon_weight(sim, day) * behaviour.coupon_pull(
        traits.response_type, sim.holding.active_value(), traits.price_sensitivity
    )
    p = behaviour.sigmoid(purchase_logit(sim, day, core, clicks, weekend, promo))
    return 1.0 - (1.0 - p) * (1.0 - pull)


def purchase_logit(
    sim: Simulation, day: int, core, clicks, weekend: bool, promo: bool
) -> np.ndarray:
    """Today's purchase log-odds of every user (see `aimass.sim.behaviour`)."""
    traits, state = sim.world.traits, sim.users
    return (
        core
        + behaviour.BETA_MOOD * state.in_market
        + behaviour.calendar_logit(weekend, promo, sim.world.config, traits.price_sensitivity)
        + behaviour.ad_logit(traits.ad_responsiveness, state.click_ewm + clicks)
        + coupon_weight(sim, day)
        * behaviour.coupon_shift(
            traits.response_type, sim.holding.active_value(), traits.price_sensitivity
        )
    )


def coupon_weight(sim: Simulation, day: int) -> float:
    """How much of a held coupon's effect is left on `day` (0 when no campaign runs)."""
    campaigns = sim.world.coupon_campaigns
    running = campaigns.running_on(day)
    if running is None:
        return 0.0
    return float(behaviour.coupon_fade(day - campaigns.offer_day[running]))


def _morning_changes(sim: Simulation, day: int, day_start: int) -> dict[str, Changes]:
    world, seed, state = sim.world, sim.world.config.seed, sim.entities
    created_campaigns = updates.created(world.ad_campaigns.created_s, day, day_start)
    created_coupons = updates.created(
        np.asarray(world.coupon_campaigns.created_s, dtype=np.int64), day, day_start
    )
    return {
        "users": updates.user_changes(
            day_rng(seed, day, "users"),
            state,
            world.users.signup_s,
            world.users.country,
            day,
            day_start,
        ),
        "items": updates.item_changes(
            day_rng(seed, day, "items"), state, world.items.created_s, day, day_start
        ),
        "suppliers": updates.supplier_changes(
            day_rng(seed, day, "suppliers"), state, world.suppliers.created_s, day, day_start
        ),
        "devices": updates.device_changes(
            day_rng(seed, day, "devices"),
            state,
            world.devices.first_seen_s,
            world.devices.is_app,
            day,
            day_start,
        ),
        "ad_campaigns": created_campaigns,
        "coupon_campaigns": created_coupons,
    }


def _update_secondary_devices(sim: Simulation, day_start: int) -> None:
    """Each user's newest extra device seen before today (extra devices are time-ordered)."""
    devices = sim.world.devices
    n_users = len(sim.world.users)
    extra = np.arange(n_users, len(devices))
    seen = extra[devices.first_seen_s[extra] < day_start]
    np.maximum.at(sim.secondary_device, devices.user[seen], seen)


def _coupon_offer(sim: Simulation, day: int, active: np.ndarray, core: np.ndarray):
    """Expire the finished campaign; on an offer date randomize coupons and record the truth."""
    world, config, traits = sim.world, sim.world.config, sim.world.traits
    campaigns = world.coupon_campaigns
    if campaigns.running_on(day) is None:
        sim.holding.clear()
    k = campaigns.offered_on(day)
    if k is None:
        return None
    rng = day_rng(config.seed, day, "coupons")
    value = coupons.assign(rng, len(active), campaigns.coupon_values, config.coupon_treatment_share)
    sim.holding.clear()
    sim.holding.campaign[active] = k
    sim.holding.value[active] = value

    s = traits.price_sensitivity[active]
    horizon = campaigns.horizon_days
    no_coupon = np.zeros((horizon, len(active)))
    p_control = horizon_probability(sim, day, core, active, no_coupon, no_coupon)
    truth_value, p_treated = [], []
    fade = behaviour.coupon_fade(np.arange(horizon))[:, None]
    for v in campaigns.coupon_values:
        offered = np.full(len(active), v)
        shift = behaviour.coupon_shift(traits.response_type[active], offered, s)
        pull = behaviour.coupon_pull(traits.response_type[active], offered, s)
        p_treated.append(
            horizon_probability(sim, day, core, active, fade * shift[None, :], fade * pull[None, :])
        )
        truth_value.append(offered)
    n_values = len(campaigns.coupon_values)
    return CouponOffer(
        campaign=k,
        users=active,
        assigned_value=value,
        truth_users=np.tile(active, n_values),
        truth_value=np.concatenate(truth_value),
        p_control=np.tile(p_control, n_values),
        p_treated=np.concatenate(p_treated),
    )


def held_coupon_effect(sim: Simulation, day: int, users: np.ndarray, horizon: int):
    """(log-odds shift, daily pull), each (days x users), of the coupons users hold now while
    their campaign runs, faded by the days since its offer."""
    traits = sim.world.traits
    held = sim.holding.active_value()[users]
    kind, sensitivity = traits.response_type[users], traits.price_sensitivity[users]
    shift = behaviour.coupon_shift(kind, held, sensitivity)
    pull = behaviour.coupon_pull(kind, held, sensitivity)
    running = sim.world.coupon_campaigns.running_on(day)
    same_campaign = [
        sim.world.coupon_campaigns.running_on(day + h) == running for h in range(horizon)
    ]
    weight = np.array(
        [coupon_weight(sim, day + h) if same else 0.0 for h, same in enumerate(same_campaign)]
    )[:, None]
    return weight * shift[None, :], weight * pull[None, :]


def horizon_probability(sim: Simulation, day: int, core, users, shift, pull) -> np.ndarray:
    """True P(at least one order on days day..day+H-1) from the state at the start of `day`
    (H = len(shift)): history terms held as today, calendar per day, the mood integrated
    out, ad clicks at their remembered level, the coupon's `shift` (log-odds) and `pull`
    (daily probability), each days x users."""
    config, traits, state = sim.world.config, sim.world.traits, sim.users
    frozen = (core + behaviour.ad_logit(traits.ad_responsiveness, state.click_ewm))[users]
    s = traits.price_sensitivity[users]
    calendar, entry = [], []
    for h in range(len(shift)):
        d = config.start_date + timedelta(days=day + h)
        promo = is_promo(config, day + h)
        calendar.append(behaviour.calendar_logit(d.weekday() >= 5, promo, config, s))
        entry.append(behaviour.mood_entry(traits.mood_entry[users], promo))
    logit = frozen[None, :] + np.array(calendar).reshape(len(shift), len(users)) + shift
    return behaviour.horizon_purchase_prob(
        logit, np.array(entry).reshape(len(shift), len(users)), state.in_market[users], pull
    )


def _orders_and_after(sim, day, day_start, sessions: DaySessions, ads, offer, changes) -> dict:
    world, config = sim.world, sim.world.config
    rng = day_rng(config.seed, day, "orders")
    n_orders = len(sessions.order_ts)
    s = world.traits.price_sensitivity[sessions.order_user]
    cancelled = rng.random(n_orders) < config.cancel_rate * (0.7 + 0.6 * s)
    updated = np.minimum(sessions.order_ts + rng.integers(60, 7200, n_orders), day_start + DAY - 1)
    discount, coupon_campaign = coupons.redeem(
        rng,
        sim.holding,
        sessions.order_user,
        ~cancelled,
        sessions.order_gross,
        world.traits.price_sensitivity,
    )
    first_line = np.searchsorted(sessions.line_order, np.arange(n_orders))
    first_item = sessions.line_item[first_line] if n_orders else np.zeros(0, dtype=np.int64)
    feedback = simulate_feedback(
        day_rng(config.seed, day, "feedback"),
        sessions.order_ts,
        sessions.order_user,
        cancelled,
        first_item,
        world.item_quality,
        sessions.session_start_s,
        sessions.session_user,
        world.traits.engagement,
        world.traits.response_type == behaviour.SLEEPING_DOG,
    )
    line_merchant = world.items.merchant[sessions.line_item]
    orders_per_merchant = np.bincount(
        line_merchant[sessions.line_no == 1], minlength=len(world.merchants)
    )
    changes["merchants"] = updates.merchant_changes(
        day_rng(config.seed, day, "merchants"),
        sim.entities,
        world.merchants.quality,
        world.merchants.opened_s,
        orders_per_merchant,
        day,
        day_start,
    )
    late = day_rng(config.seed, day, "late")
    return {
        "day": day,
        "sessions": sessions,
        "event_late": late.random(len(sessions.event_ts)) < config.late_event_fraction,
        "order_cancelled": cancelled,
        "order_discount": discount,
        "order_coupon_campaign": coupon_campaign,
        "order_updated_s": updated,
        "ads": ads,
        "ad_late": late.random(len(ads.ts)) < config.late_event_fraction,
        "feedback": feedback,
        "offer": offer,
        "changes": changes,
    }
