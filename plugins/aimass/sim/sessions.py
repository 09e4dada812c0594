"""One day of sessions: browse sessions and purchase sessions, their events, orders and lines.

A browse session is a run of views, searches, favorites, likes, comments and add-to-carts.
A purchase session is a short browse run followed by view + add_to_cart for each order line,
then `order` and `payment`. Item events pick items by the user's category preferences times
item appeal; searches draw query text from the chosen category's vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aimass.sim import vocab
from aimass.sim.catalog import ItemChooser, choose_category
from aimass.sim.clock import DAY, seconds_of_day

EVENT_TYPES = ("view", "search", "favorite", "like", "comment", "add_to_cart", "order", "payment")
VIEW, SEARCH, FAVORITE, LIKE, COMMENT, ADD_TO_CART, ORDER, PAYMENT = range(len(EVENT_TYPES))
BROWSE_WEIGHTS = np.array([0.62, 0.14, 0.06, 0.07, 0.02, 0.09])
MOOD_BROWSE_WEIGHTS = np.array([0.58, 0.14, 0.06, 0.05, 0.02, 0.22])
# Price watchers save items to wait for a deal: the favourite share of browse events scales
# with price sensitivity (taken from the views, so the cart share stays as above).
FAVORITE_BASE, FAVORITE_PRICE_WATCH = 0.15, 2.5
SEARCH_QUERIES = [
    modifier + product
    for category in vocab.CATEGORY_NAMES
    for product in vocab.PRODUCTS[category]
    for modifier in vocab.SEARCH_MODIFIERS
]
QUERIES_PER_CATEGORY = len(SEARCH_QUERIES) // len(vocab.CATEGORY_NAMES)
ORDER_STATUSES = ("completed", "cancelled")


@dataclass(frozen=True)
class DaySessions:
    """Everything that happened in sessions on one day (row arrays, sorted by time)."""

    session_user: np.ndarray
    session_start_s: np.ndarray
    session_device: np.ndarray
    event_ts: np.ndarray
    event_user: np.ndarray
    event_type: np.ndarray
    event_item: np.ndarray
    event_query: np.ndarray
    event_device: np.ndarray
    event_session: np.ndarray
    order_ts: np.ndarray
    order_user: np.ndarray
    order_device: np.ndarray
    order_gross: np.ndarray
    line_order: np.ndarray
    line_no: np.ndarray
    line_item: np.ndarray
    line_quantity: np.ndarray
    line_unit_price: np.ndarray


@dataclass(frozen=True)
class SessionInputs:
    """Who shows up today and what the shop looks like."""

    browse_users: np.ndarray
    purchase_users: np.ndarray
    in_market: np.ndarray
    events_per_session: np.ndarray
    preference_cum: np.ndarray
    price_sensitivity: np.ndarray
    secondary_device: np.ndarray
    item_price: np.ndarray
    chooser: ItemChooser
    day_start_s: int
    price_factor: float


def simulate_sessions(rng: np.random.Generator, inp: SessionInputs) -> DaySessions:
    users = np.concatenate([inp.browse_users, inp.purchase_users])
    purchase = np.arange(len(users)) >= len(inp.browse_users)
    n_sessions = len(users)
    browse_len = np.where(
        purchase,
        rng.poisson(2.0, n_sessions),
        1 + rng.poisson(inp.events_per_session[users] - 1.0),
    )
    lines = np.where(purchase, 1 + np.minimum(rng.poisson(0.45, n_sessions), 4), 0)
    n_events = browse_len + np.where(purchase, 2 * lines + 2, 0)
    device = _session_device(rng, users, inp.secondary_device)

    event_session = np.repeat(np.arange(n_sessions), n_events)
    first_event = np.cumsum(n_events) - n_events
    position = np.arange(len(event_session)) - first_event[event_session]
    event_user = users[event_session]
    in_browse = position < browse_len[event_session]

    line_session = np.repeat(np.arange(n_sessions), lines)
    line_no = np.arange(len(line_session)) - np.repeat(np.cumsum(lines) - lines, lines) + 1
    line_user = users[line_session]
    line_item = _pick_items(rng, inp, line_user)
    line_quantity = (
        1 + (rng.random(len(line_session)) < 0.15) + (rng.random(len(line_session)) < 0.05)
    )
    line_unit_price = np.round(inp.item_price[line_item] * inp.price_factor, 2)

    step = position - browse_len[event_session]
    n_lines = lines[event_session]
    structured_type = np.where(
        step < 2 * n_lines,
        np.where(step % 2 == 0, VIEW, ADD_TO_CART),
        np.where(step == 2 * n_lines, ORDER, PAYMENT),
    )
    browse_type = _browse_types(rng, inp.in_market[event_user], inp.price_sensitivity[event_user])
    event_type = np.where(in_browse, browse_type, structured_type)
    line_of_event = (np.cumsum(lines) - lines)[event_session] + np.maximum(step, 0) // 2
    structured_item = np.full(len(step), -1)
    if len(line_item):
        picked = line_item[np.clip(line_of_event, 0, len(line_item) - 1)]
        structured_item = np.where(step < 2 * n_lines, picked, -1)
    browse_item, query = _browse_targets(rng, inp, event_user, browse_type)
    event_item = np.where(in_browse, browse_item, structured_item)
    event_query = np.where(in_browse, query, -1)

    gap = np.where(position == 0, 0, 5 + rng.exponential(40.0, len(position)).astype(np.int64))
    offset = np.cumsum(gap)
    offset = offset - np.repeat(offset[first_event], n_events)
    duration = offset[first_event + n_events - 1]
    start = np.clip(seconds_of_day(rng, n_sessions), 0, DAY - 1 - duration)
    event_ts = inp.day_start_s + start[event_session] + offset
    session_rank = _rank(start)

    is_order = event_type == ORDER
    order_session = event_session[is_order]
    order_ts = event_ts[is_order]
    gross = np.bincount(
        np.searchsorted(order_session, line_session),
        weights=line_quantity * line_unit_price,
        minlength=len(order_session),
    )
    by_time = np.argsort(order_ts, kind="stable")
    order_rank = _rank(order_ts)
    line_order = order_rank[np.searchsorted(order_session, line_session)]
    line_sort = np.lexsort((line_no, line_order))
    event_sort = np.argsort(event_ts, kind="stable")
    session_sort = np.argsort(start, kind="stable")
    return DaySessions(
        session_user=users[session_sort],
        session_start_s=inp.day_start_s + start[session_sort],
        session_device=device[session_sort],
        event_ts=event_ts[event_sort],
        event_user=event_user[event_sort],
        event_type=event_type[event_sort],
        event_item=event_item[event_sort],
        event_query=event_query[event_sort],
        event_device=device[event_session][event_sort],
        event_session=session_rank[event_session][event_sort],
        order_ts=order_ts[by_time],
        order_user=users[order_session][by_time],
        order_device=device[order_session][by_time],
        order_gross=np.round(gross[by_time], 2),
        line_order=line_order[line_sort],
        line_no=line_no[line_sort],
        line_item=line_item[line_sort],
        line_quantity=line_quantity[line_sort],
        line_unit_price=line_unit_price[line_sort],
    )


def _rank(values: np.ndarray) -> np.ndarray:
    """Position of each value in stable sorted order."""
    order = np.argsort(values, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank


def _session_device(rng, users: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """The user's primary device (index = user), or the newest extra device 30% of the time."""
    other = secondary[users]
    use_other = (other >= 0) & (rng.random(len(users)) < 0.3)
    return np.where(use_other, other, users)


def favorite_factor(price_sensitivity: np.ndarray) -> np.ndarray:
    """How many times the base favourite share a user saves (price watchers save more)."""
    return FAVORITE_BASE + FAVORITE_PRICE_WATCH * np.asarray(price_sensitivity) ** 2


def _browse_types(rng, in_market: np.ndarray, price_sensitivity: np.ndarray) -> np.ndarray:
    """Event type per browse event: the calm or in-the-mood mix, with the user's favourite
    share moved to or from the views."""
    weights = np.where(in_market[:, None], MOOD_BROWSE_WEIGHTS, BROWSE_WEIGHTS)
    weights = weights / weights.sum(axis=1, keepdims=True)
    favorite = weights[:, FAVORITE] * favorite_factor(price_sensitivity)
    weights[:, VIEW] += weights[:, FAVORITE] - favorite
    weights[:, FAVORITE] = favorite
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(in_market))
    return np.minimum((u[:, None] >= cum).sum(axis=1), ADD_TO_CART)


def _pick_items(rng, inp: SessionInputs, users: np.ndarray) -> np.ndarray:
    category = choose_category(inp.preference_cum, users, rng.random(len(users)))
    return inp.chooser.choose(category, rng.random(len(users)), inp.price_sensitivity[users])


def _browse_targets(rng, inp: SessionInputs, users: np.ndarray, types: np.ndarray):
    """Item per item event and query per search (-1 where not applicable)."""
    category = choose_category(inp.preference_cum, users, rng.random(len(users)))
    item = inp.chooser.choose(category, rng.random(len(users)), inp.price_sensitivity[users])
    modifier_cum = np.cumsum([0.5, 0.1, 0.15, 0.1, 0.1, 0.05])
    modifier = np.minimum(np.searchsorted(modifier_cum, rng.random(len(users)), side="right"), 5)
    product = rng.integers(0, len(vocab.PRODUCTS["books"]), len(users))
    query = category * QUERIES_PER_CATEGORY + product * len(vocab.SEARCH_MODIFIERS) + modifier
    is_search = types == SEARCH
    return np.where(is_search, -1, item), np.where(is_search, query, -1)
