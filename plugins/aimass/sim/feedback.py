"""Feedback: product reviews and after-sales ratings some days after an order, and ratings of
the shop's recommendations during sessions. Ratings follow the merchant's hidden quality;
users who dislike being marketed to (the coupon response type "sleeping dog") rate the
shop's recommendations and its after-sales service lower."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aimass.sim import vocab
from aimass.sim.clock import DAY

FEEDBACK_KINDS = ("review", "after_sales", "recommendation")
REVIEW, AFTER_SALES, RECOMMENDATION = range(3)
TEXTS_PER_RATING = len(vocab.REVIEW_TEXTS[1])
REVIEW_TEXTS = [text for rating in range(1, 6) for text in vocab.REVIEW_TEXTS[rating]]
AVERSE_RECOMMENDATION_PENALTY = 1.5  # stars off a recommendation rating
AVERSE_AFTER_SALES_PENALTY = 1.0  # stars off an after-sales rating


@dataclass(frozen=True)
class DayFeedback:
    """Feedback caused by one day's activity (timestamps may fall on later days)."""

    ts: np.ndarray
    user: np.ndarray
    kind: np.ndarray
    rating: np.ndarray
    order: np.ndarray
    item: np.ndarray
    text: np.ndarray


def simulate_feedback(
    rng: np.random.Generator,
    order_ts: np.ndarray,
    order_user: np.ndarray,
    order_cancelled: np.ndarray,
    order_first_item: np.ndarray,
    item_quality: np.ndarray,
    session_start_s: np.ndarray,
    session_user: np.ndarray,
    engagement: np.ndarray,
    marketing_averse: np.ndarray,
) -> DayFeedback:
    """`order` holds the index of the day's order, `text` an index into REVIEW_TEXTS (-1 none).
    `marketing_averse` flags (per user) those who rate recommendations and service lower."""
    n_orders = len(order_ts)
    quality = item_quality[order_first_item]
    reviewed = np.flatnonzero(~order_cancelled & (rng.random(n_orders) < 0.22))
    rated = np.flatnonzero(rng.random(n_orders) < np.where(order_cancelled, 0.3, 0.12))
    review_rating = _rating(rng, 1 + 4 * quality[reviewed], 0.9)
    after_rating = _rating(
        rng,
        1
        + 4 * quality[rated]
        - 1.5 * order_cancelled[rated]
        - AVERSE_AFTER_SALES_PENALTY * marketing_averse[order_user[rated]],
        0.8,
    )
    asked = np.flatnonzero(rng.random(len(session_user)) < 0.03)
    asked_user = session_user[asked]
    rec_rating = _rating(
        rng,
        2.6
        + 0.5 * np.log(engagement[asked_user] + 0.5)
        - AVERSE_RECOMMENDATION_PENALTY * marketing_averse[asked_user],
        0.9,
    )
    text_pick = rng.integers(0, TEXTS_PER_RATING, len(reviewed))
    ts = np.concatenate(
        [
            order_ts[reviewed] + rng.integers(DAY, 6 * DAY, len(reviewed)),
            order_ts[rated] + rng.integers(2 * DAY, 10 * DAY, len(rated)),
            session_start_s[asked] + rng.integers(30, 600, len(asked)),
        ]
    )
    return DayFeedback(
        ts=ts,
        user=np.concatenate([order_user[reviewed], order_user[rated], session_user[asked]]),
        kind=np.repeat(
            [REVIEW, AFTER_SALES, RECOMMENDATION], [len(reviewed), len(rated), len(asked)]
        ),
        rating=np.concatenate([review_rating, after_rating, rec_rating]),
        order=np.concatenate([reviewed, rated, np.full(len(asked), -1)]),
        item=np.concatenate([order_first_item[reviewed], np.full(len(rated) + len(asked), -1)]),
        text=np.concatenate(
            [
                (review_rating - 1) * TEXTS_PER_RATING + text_pick,
                np.full(len(rated) + len(asked), -1),
            ]
        ),
    )


def _rating(rng, mean: np.ndarray, sd: float) -> np.ndarray:
    return np.clip(np.rint(mean + rng.normal(0, sd, len(mean))), 1, 5).astype(np.int64)
