"""The hidden purchase model: how a user's traits and recent behaviour set each day's odds.

For user u on day t (log-odds; p = sigmoid):

    logit = base_logit (config) + b_u (segment + noise)
          + 1.5 * in_market_u,t                       hidden 2-state Markov "shopping mood"
          + 0.2 * log1p(order_ewm)    decay 0.96/day  frequency of recent orders
          + 0.25 * log1p(session_ewm) decay 0.75/day  engagement in recent days
          + 0.3 * log1p(cart_ewm)     decay 0.70/day  items added to the cart lately
          + 0.4 * exp(-(days_since_visit - 1) / 3)    recency of the last visit
          + 1.2 * ad_responsiveness * log1p(click_ewm (decay 0.6/day) + clicks today)
          + sum_c preference_uc * category_frequency_c
          + os offset (iOS > macOS > Android > Windows > Linux)
          - 0.5 * price_sensitivity
          + 0.8 * exp(-tenure_days / 7)               welcome period of new users
          + weekend_lift (Sat, Sun) + promo_lift * (0.5 + price_sensitivity) on promo days
          + coupon shift while a coupon of a running campaign is held (see `coupon_shift`)

    p = 1 - (1 - sigmoid(logit)) * (1 - pull), pull = a held coupon's pull (`coupon_pull`)

Coupons act by response type (`RESPONSE_BY_SEGMENT`): a persuadable is pulled to buy by the
coupon itself (a daily chance, more with a bigger coupon and with price sensitivity, about
+7 / +11 percentage points of purchase probability over a 4-day coupon of 5 / 10), whatever
their usual rhythm; a sleeping dog is put off (log-odds down, about -7 / -9 points); a sure
thing barely reacts; a lost cause not at all. Both effects are strongest on the offer day and
fade by `COUPON_FADE` per day, as coupon responses come soon after the coupon arrives.
Persuadables are price-sensitive (Beta(5, 2) against Beta(2, 4) for everyone else) and
mostly regular and occasional buyers; sleeping dogs are mostly established customers.

Browse sessions per day are Poisson with rate session_rate * engagement_u * exp(2.0 * mood
+ 0.2 * weekend + 0.4 * promo + 0.7 * min(clicks today, 3)). The shopping mood switches on
with the user's entry probability (segment-driven, doubled during the promotion) and off with
probability 0.15 per day, so it shows in the days before as a burst of visits.
Engagement is correlated with b_u. Everything except the mood, the traits and today's clicks
is observable from the user's history, so next-week purchases are predictable from
recency / frequency / engagement features.

The response type is hidden, but shows in behaviour: price-sensitive users view and buy the
cheaper items of a category (`catalog.CHEAP_LEAN`), save more items as favourites to wait for
a deal (`sessions.favorite_factor`), react more to the promotion and apply the coupons they
hold more often (`coupons.redeem_probability`); sleeping dogs click fewer ads and rate the
shop's recommendations and after-sales service lower (`feedback`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SEGMENTS = ("loyal", "regular", "occasional", "dormant")
SEGMENT_SHARES = (0.10, 0.25, 0.40, 0.25)
SEGMENT_LOGIT = (1.7, 0.9, 0.0, -1.3)
SEGMENT_LOG_ENGAGEMENT = (0.8, 0.35, 0.0, -0.9)
SEGMENT_MOOD_ENTRY = (0.07, 0.045, 0.03, 0.012)
MOOD_EXIT = 0.15

RESPONSE_TYPES = ("persuadable", "sure_thing", "lost_cause", "sleeping_dog")
# P(response type | segment); rows follow SEGMENTS, columns RESPONSE_TYPES.
# Sleeping dogs are mostly established customers put off by marketing pressure; persuadables
# are mostly regular and occasional buyers waiting for a deal.
RESPONSE_BY_SEGMENT = (
    (0.10, 0.55, 0.05, 0.30),
    (0.35, 0.25, 0.10, 0.30),
    (0.45, 0.05, 0.40, 0.10),
    (0.25, 0.00, 0.70, 0.05),
)
PERSUADABLE, SURE_THING, LOST_CAUSE, SLEEPING_DOG = range(4)

BETA_MOOD = 1.5
BETA_ORDERS = 0.2
BETA_SESSIONS = 0.25
BETA_CARTS = 0.3
BETA_RECENT_VISIT = 0.4
BETA_ADS = 1.2
BETA_PRICE = -0.5
BETA_NEW_USER = 0.8
SURE_THING_SHIFT = 0.05  # log-odds per 5 of coupon value
SLEEPING_DOG_SHIFT = -2.0  # log-odds on the offer day for a coupon of 5 (x sqrt(value / 5))
PERSUADABLE_PULL = 0.047  # pull on the offer day of a coupon of 5 at price sensitivity 1
COUPON_FADE = 0.6  # share of a coupon's effect left one day later (responses come early)
SESSION_MOOD = 2.0
SESSION_WEEKEND = 0.2
SESSION_PROMO = 0.4
SESSION_CLICK = 0.7

ORDER_DECAY = 0.96
SESSION_DECAY = 0.75
CART_DECAY = 0.7
CLICK_DECAY = 0.6
NEVER = -10_000.0


@dataclass
class UserState:
    """What the shop remembers about each user at the start of a day (arrays over users)."""

    in_market: np.ndarray
    last_visit_day: np.ndarray
    order_ewm: np.ndarray
    session_ewm: np.ndarray
    cart_ewm: np.ndarray
    click_ewm: np.ndarray

    @classmethod
    def initial(cls, mood_entry: np.ndarray, rng: np.random.Generator) -> UserState:
        n = len(mood_entry)
        stationary = mood_entry / (mood_entry + MOOD_EXIT)
        return cls(
            in_market=rng.random(n) < stationary,
            last_visit_day=np.full(n, NEVER),
            order_ewm=np.zeros(n),
            session_ewm=np.zeros(n),
            cart_ewm=np.zeros(n),
            click_ewm=np.zeros(n),
        )

    def end_day(self, day: int, sessions, orders, carts, clicks) -> None:
        """Fold one day's counts per user into the state."""
        self.last_visit_day = np.where(sessions > 0, float(day), self.last_visit_day)
        self.order_ewm = self.order_ewm * ORDER_DECAY + orders
        self.session_ewm = self.session_ewm * SESSION_DECAY + sessions
        self.cart_ewm = self.cart_ewm * CART_DECAY + carts
        self.click_ewm = self.click_ewm * CLICK_DECAY + clicks


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def step_mood(
    rng: np.random.Generator, in_market: np.ndarray, entry: np.ndarray, promo: bool
) -> np.ndarray:
    """Today's shopping mood given yesterday's."""
    u = rng.random(len(in_market))
    return np.where(in_market, u >= MOOD_EXIT, u < mood_entry(entry, promo))


def mood_entry(entry: np.ndarray, promo: bool) -> np.ndarray:
    """Today's chance to start shopping (the promotion doubles it)."""
    return entry * (2.0 if promo else 1.0)


def logit_core(traits, state: UserState, day: int, tenure_days: np.ndarray, base: float):
    """Log-odds from traits and history alone (no mood, calendar, clicks today or coupon)."""
    since_visit = day - state.last_visit_day
    return (
        base
        + traits.base_logit
        + BETA_ORDERS * np.log1p(state.order_ewm)
        + BETA_SESSIONS * np.log1p(state.session_ewm)
        + BETA_CARTS * np.log1p(state.cart_ewm)
        + BETA_RECENT_VISIT * np.exp(-(since_visit - 1.0) / 3.0)
        + traits.category_logit
        + traits.os_logit
        + BETA_PRICE * traits.price_sensitivity
        + BETA_NEW_USER * np.exp(-np.maximum(tenure_days, 0.0) / 7.0)
    )


def calendar_logit(weekend: bool, promo: bool, config, price_sensitivity: np.ndarray):
    """Weekend and promotion lift (price-sensitive users react more to the promotion)."""
    lift = config.weekend_lift if weekend else 0.0
    if promo:
        return lift + config.promo_lift * (0.5 + price_sensitivity)
    return lift + np.zeros_like(price_sensitivity)


def ad_logit(ad_responsiveness: np.ndarray, clicks: np.ndarray) -> np.ndarray:
    return BETA_ADS * ad_responsiveness * np.log1p(clicks)


def coupon_shift(response_type: np.ndarray, value: np.ndarray, price_sensitivity: np.ndarray):
    """Log-odds change while holding a coupon of `value` (0 = no coupon).

    Sure things barely react and lost causes not at all; sleeping dogs are put off (negative
    effect, stronger with a bigger coupon). Persuadables react through `coupon_pull`."""
    scale = np.asarray(value, dtype=float) / 5.0
    shift = np.select(
        [response_type == SURE_THING, response_type == SLEEPING_DOG],
        [SURE_THING_SHIFT * scale, SLEEPING_DOG_SHIFT * scale**0.5],
        default=0.0,
    )
    return np.where(scale > 0, shift, 0.0)


def coupon_fade(days_since_offer):
    """Share of a coupon's effect (pull and put-off) left `days_since_offer` after the offer:
    most people react to a coupon in the first days after it arrives."""
    return COUPON_FADE ** np.asarray(days_since_offer, dtype=float)


def coupon_pull(response_type: np.ndarray, value: np.ndarray, price_sensitivity: np.ndarray):
    """Daily chance that holding a coupon of `value` brings a persuadable to buy (0 for the
    other response types and without a coupon).

    The coupon works as a reason to come back and buy, whatever the user's usual rhythm:
    more with a bigger coupon and with price sensitivity. It adds to the daily purchase
    probability: p = 1 - (1 - sigmoid(logit)) * (1 - pull)."""
    scale = np.asarray(value, dtype=float) / 5.0
    pull = PERSUADABLE_PULL * np.maximum(scale, 0.0) ** 0.8 * np.asarray(price_sensitivity)
    return np.where((response_type == PERSUADABLE) & (scale > 0), pull, 0.0)


def session_rate(traits, in_market, weekend: bool, promo: bool, clicks, rate: float):
    """Expected browse sessions per user today."""
    log_rate = (
        SESSION_MOOD * in_market
        + (SESSION_WEEKEND if weekend else 0.0)
        + (SESSION_PROMO if promo else 0.0)
        + SESSION_CLICK * np.minimum(clicks, 3)
    )
    return rate * traits.engagement * np.exp(log_rate)


def horizon_purchase_prob(
    logit_by_day: np.ndarray,
    entry_by_day: np.ndarray,
    in_market_now: np.ndarray,
    pull_by_day: np.ndarray | None = None,
) -> np.ndarray:
    """P(at least one order over the horizon) with the shopping mood integrated out.

    `logit_by_day` (days x users) is the log-odds without the mood term, `entry_by_day`
    the mood's start probability and `pull_by_day` the coupon's daily pull (None = none);
    day 0's mood is known, later days follow the Markov chain (forward algorithm over the
    two moods)."""
    if pull_by_day is None:
        pull_by_day = np.zeros_like(logit_by_day)
    alive_out = np.where(in_market_now, 0.0, 1.0)  # P(no order yet, mood off)
    alive_in = np.where(in_market_now, 1.0, 0.0)  # P(no order yet, mood on)
    days = zip(logit_by_day, entry_by_day, pull_by_day, strict=True)
    for h, (logit, entry, pull) in enumerate(days):
        if h > 0:
            alive_out, alive_in = (
                alive_out * (1 - entry) + alive_in * MOOD_EXIT,
                alive_out * entry + alive_in * (1 - MOOD_EXIT),
            )
        alive_out = alive_out * (1 - sigmoid(logit)) * (1 - pull)
        alive_in = alive_in * (1 - sigmoid(logit + BETA_MOOD)) * (1 - pull)
    return 1.0 - (alive_out + alive_in)
