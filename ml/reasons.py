"""Reasons behind a score in a marketer's words, from per-feature SHAP contributions."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pandas as pd

# feature -> (template, value format, text when the value is missing)
# formats: count, money, pct, rating, text, flag, decimal; `{s}` pluralises counts.
REASON_TEMPLATES: dict[str, tuple[str, str, str]] = {
    "tenure_days": ("customer for {v} day{s}", "count", "new customer"),
    "country": ("lives in {v}", "text", "country unknown"),
    "orders_7d": ("ordered {v} time{s} in the last 7 days", "count", "no orders this week"),
    "orders_30d": ("ordered {v} time{s} in the last 30 days", "count", "no orders in 30 days"),
    "orders_90d": ("ordered {v} time{s} in the last 90 days", "count", "no orders in 90 days"),
    "revenue_7d": ("spent {v} in the last 7 days", "money", "no spend this week"),
    "revenue_30d": ("spent {v} in the last 30 days", "money", "no spend in 30 days"),
    "revenue_90d": ("spent {v} in the last 90 days", "money", "no spend in 90 days"),
    "avg_order_value_90d": ("average order of {v} over 90 days", "money", "no recent orders"),
    "days_since_last_order": ("last ordered {v} day{s} ago", "count", "has not ordered yet"),
    "days_since_last_event": (
        "last active on the site {v} day{s} ago",
        "count",
        "no site activity yet",
    ),
    "views_7d": ("viewed {v} item{s} this week", "count", "no views this week"),
    "views_30d": ("viewed {v} item{s} in the last 30 days", "count", "no views in 30 days"),
    "searches_7d": ("searched {v} time{s} this week", "count", "no searches this week"),
    "searches_30d": ("searched {v} time{s} in the last 30 days", "count", "no searches in 30 days"),
    "favorites_30d": ("saved {v} favourite{s} in the last 30 days", "count", "no favourites"),
    "likes_30d": ("liked {v} item{s} in the last 30 days", "count", "no likes"),
    "comments_30d": ("commented {v} time{s} in the last 30 days", "count", "no comments"),
    "carts_7d": ("added {v} item{s} to the cart this week", "count", "empty cart this week"),
    "carts_30d": ("added {v} item{s} to the cart in the last 30 days", "count", "no cart adds"),
    "sessions_30d": ("had {v} session{s} in the last 30 days", "count", "no sessions"),
    "active_days_30d": ("active on {v} day{s} in the last 30 days", "count", "not active lately"),
    "view_to_order_rate_90d": ("orders {v} of the items they view", "pct", "no item views"),
    "cart_to_order_rate_90d": ("buys {v} of the items they put in the cart", "pct", "no cart adds"),
    "top_category_90d": ("shops mostly in {v}", "text", "no favourite category"),
    "top_category_share_90d": ("{v} of activity in one favourite category", "pct", "no category"),
    "distinct_categories_90d": ("browsed {v} categor{ies} in 90 days", "count", "no categories"),
    "avg_item_price_viewed_30d": ("looks at items around {v}", "money", "no item views"),
    "discount_share_90d": ("{v} of orders used a discount", "pct", "no discounted orders"),
    "coupons_redeemed_90d": ("redeemed {v} coupon{s} in 90 days", "count", "no coupons redeemed"),
    "ad_impressions_30d": ("saw {v} ad{s} in the last 30 days", "count", "saw no ads"),
    "ad_clicks_30d": ("clicked {v} ad{s} in the last 30 days", "count", "no ad clicks"),
    "ad_ctr_30d": ("clicks {v} of the ads shown", "pct", "saw no ads"),
    "device_os": ("uses {v}", "text", "device unknown"),
    "is_mobile": ("shops on a mobile device|shops on a desktop", "flag", "device unknown"),
    "feedback_count_90d": ("left {v} review{s} in 90 days", "count", "no reviews"),
    "avg_rating_90d": ("rates purchases {v} on average", "rating", "no ratings"),
    "avg_merchant_rating_90d": ("buys from merchants rated {v}", "rating", "no merchant ratings"),
    "purchases_lifetime": ("ordered {v} time{s} in all", "count", "has not ordered yet"),
    "purchase_days_lifetime": ("bought on {v} different day{s}", "count", "has not ordered yet"),
    "revenue_lifetime": ("spent {v} in all", "money", "has not spent yet"),
    "days_since_first_purchase": (
        "first ordered {v} day{s} ago",
        "count",
        "has not ordered yet",
    ),
    "days_since_last_purchase": ("last ordered {v} day{s} ago", "count", "has not ordered yet"),
    "avg_days_between_purchases": (
        "buys every {v} days on average",
        "decimal",
        "has bought on one day only",
    ),
    "purchases_per_30d": ("orders {v} times a month on average", "decimal", "no orders yet"),
    "bgnbd_expected_purchases": (
        "purchase history predicts {v} orders in the horizon",
        "decimal",
        "no purchase history",
    ),
}
SPECIAL_PHRASES = {
    ("ad_clicks_30d", 1): "clicked an ad recently",
    ("days_since_last_order", 0): "ordered yesterday",
    ("days_since_last_order", 1): "ordered yesterday",
    ("days_since_last_event", 0): "active on the site yesterday",
    ("days_since_last_event", 1): "active on the site yesterday",
    ("days_since_last_purchase", 0): "ordered yesterday",
    ("days_since_last_purchase", 1): "ordered yesterday",
}


def _format(value, kind: str) -> tuple[str, bool]:
    """(text, is_plural) of a value in the given format."""
    if kind == "count":
        n = int(round(float(value)))
        return f"{n:,}", n != 1
    if kind == "money":
        return f"{float(value):,.2f}", True
    if kind == "pct":
        return f"{float(value):.0%}", True
    if kind == "rating":
        return f"{float(value):.1f}/5", True
    if kind == "decimal":
        number = float(value)
        return (f"{number:.1f}" if number >= 1 else f"{number:.2f}"), True
    return str(value), True


@lru_cache(maxsize=65536)
def describe(feature: str, value) -> str:
    """A short phrase for `feature` having `value` (None for missing)."""
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    spec = REASON_TEMPLATES.get(feature)
    if spec is None:
        label = feature.replace("_", " ")
        return f"{label} unknown" if missing else f"{label}: {_format(value, 'text')[0]}"
    template, kind, missing_text = spec
    if missing:
        return missing_text
    if kind == "count":
        special = SPECIAL_PHRASES.get((feature, int(round(float(value)))))
        if special:
            return special
    if kind == "flag":
        yes, no = template.split("|")
        return yes if float(value) >= 0.5 else no
    text, plural = _format(value, kind)
    return template.format(v=text, s="s" if plural else "", ies="ies" if plural else "y")


def top_reasons(
    contributions: np.ndarray, frame: pd.DataFrame, features: list[str], count: int = 3
) -> list[list[str | None]]:
    """Per row, phrases for the `count` features with the largest positive contribution
    (fewer when fewer contributions are positive; the rest None).

    `contributions` is the LightGBM pred_contrib matrix (features in `features` order, base
    value last); `frame` holds the feature values of the same rows.
    """
    per_feature = contributions[:, : len(features)]
    order = np.argsort(-per_feature, axis=1, kind="stable")[:, :count]
    top_values = np.take_along_axis(per_feature, order, axis=1)
    values = {f: frame[f].astype(object).where(frame[f].notna(), None).tolist() for f in features}
    reasons: list[list[str | None]] = []
    for row in range(per_feature.shape[0]):
        picked: list[str | None] = []
        for k in range(order.shape[1]):
            if top_values[row, k] <= 0:
                break
            feature = features[order[row, k]]
            picked.append(describe(feature, values[feature][row]))
        picked.extend([None] * (count - len(picked)))
        reasons.append(picked)
    return reasons
