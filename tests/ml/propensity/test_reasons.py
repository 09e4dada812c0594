"""Reasons behind a score: the largest positive contributions, in a marketer's words."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.propensity.reasons import describe, top_reasons


def test_counts_money_and_flags_read_as_phrases():
    assert describe("orders_30d", 1.0) == "ordered 1 time in the last 30 days"
    assert describe("orders_30d", 3.0) == "ordered 3 times in the last 30 days"
    assert describe("revenue_30d", 1234.5) == "spent 1,234.50 in the last 30 days"
    assert describe("is_mobile", 1.0) == "shops on a mobile device"
    assert describe("is_mobile", 0.0) == "shops on a desktop"
    assert describe("days_since_last_order", 0.0) == "ordered yesterday"


def test_missing_values_and_unknown_features_still_read():
    assert describe("orders_30d", None) == "no orders in 30 days"
    assert describe("orders_30d", float("nan")) == "no orders in 30 days"
    assert describe("loyalty_tier", "gold") == "loyalty tier: gold"
    assert describe("loyalty_tier", None) == "loyalty tier unknown"


def test_top_reasons_take_the_largest_positive_contributions_in_order():
    features = ["orders_30d", "views_7d", "revenue_30d"]
    frame = pd.DataFrame(
        {"orders_30d": [2.0, 0.0], "views_7d": [5.0, 1.0], "revenue_30d": [10.0, None]}
    )
    contributions = np.array(
        [
            [0.2, 0.5, 0.1, -1.0],  # the last column is the base value
            [-0.3, 0.4, -0.1, -1.0],
        ]
    )
    reasons = top_reasons(contributions, frame, features, count=3)
    assert reasons[0] == [
        "viewed 5 items this week",
        "ordered 2 times in the last 30 days",
        "spent 10.00 in the last 30 days",
    ]
    assert reasons[1] == ["viewed 1 item this week", None, None]  # only one positive
