"""Evaluation of uplift scores on a randomized window: true Qini, realized net value, arms, and
the metrics of each score."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.uplift.config import load_config
from ml.uplift.data import CONVERTED, REDEEMED, REVENUE, TREATMENT, VALUE
from ml.uplift.evaluation import (
    arm_probabilities,
    evaluate_scores,
    realized_net_value,
    true_qini,
)
from ml.uplift.learners import Effects


def _campaign(rows: int = 2000, seed: int = 5) -> tuple[pd.DataFrame, np.ndarray]:
    """A randomized campaign whose true effect grows with `x`."""
    rng = np.random.default_rng(seed)
    x = rng.random(rows)
    treated = rng.random(rows) < 0.5
    effect = 0.3 * x
    converted = rng.random(rows) < 0.1 + treated * effect
    frame = pd.DataFrame(
        {
            "user_id": [f"u{i:05d}" for i in range(rows)],
            TREATMENT: treated.astype(int),
            VALUE: np.where(treated, 5.0, 0.0),
            CONVERTED: converted.astype(int),
            REVENUE: converted * 40.0,
            REDEEMED: (converted & treated).astype(int),
        }
    )
    return frame, effect


def test_true_qini_is_one_for_the_oracle_and_near_zero_for_random():
    _, effect = _campaign()
    users = np.array([f"u{i:05d}" for i in range(len(effect))])
    assert true_qini(effect, effect, users) == 1.0
    random = np.random.default_rng(1).random(len(effect))
    assert abs(true_qini(random, effect, users)) < 0.1
    assert true_qini(-effect, effect, users) < -0.9


def test_realized_net_value_is_margin_on_revenue_minus_redeemed_coupons_and_sending():
    frame, _ = _campaign(rows=4)
    frame[REVENUE] = [100.0, 0.0, 50.0, 0.0]
    frame[TREATMENT] = [1, 1, 0, 0]
    frame[VALUE] = [5.0, 5.0, 0.0, 0.0]
    frame[REDEEMED] = [1, 0, 0, 0]
    config = load_config(
        economics={"margin": 0.5, "coupon_cost_per_unit": 1.0, "cost_per_coupon_sent": 0.1}
    )
    assert np.allclose(realized_net_value(frame, config), [50 - 5 - 0.1, -0.1, 25.0, 0.0])


def test_arm_probabilities_are_the_shares_of_each_value_and_control():
    frame = pd.DataFrame({TREATMENT: [0, 1, 1, 1], VALUE: [0.0, 5.0, 5.0, 10.0]})
    assert arm_probabilities(frame) == {0.0: 0.25, 5.0: 0.5, 10.0: 0.25}


def test_a_score_that_follows_the_true_effect_has_the_higher_qini():
    frame, effect = _campaign()
    config = load_config()
    rng = np.random.default_rng(2)
    scores = {"model": effect + rng.normal(0, 0.02, len(effect)), "random": rng.random(len(effect))}
    scores["missing"] = None
    oracle = Effects((5.0,), np.full(len(effect), 0.1), 0.1 + effect[:, None], effect[:, None])
    metrics = evaluate_scores(frame, scores, config, oracle)
    assert metrics["missing"] is None
    assert metrics["model"]["qini"] > metrics["random"]["qini"]
    assert metrics["model"]["qini_true"] > 0.8 > metrics["random"]["qini_true"]
