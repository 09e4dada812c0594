"""From effects to a target list: request checks, the best value per user, and the choice of
users within a coupon or money budget."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from ml.uplift.learners import Effects
from ml.uplift.policy import CampaignRequest, best_values, select_within_budget, validate_request

DAY = date(2026, 9, 29)


def _request(**changes) -> CampaignRequest:
    values = {"name": "autumn", "campaign_date": DAY, "coupon_values": (5.0,), "budget_coupons": 10}
    return CampaignRequest(**(values | changes))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": " "}, "needs a name"),
        ({"name": "x" * 201}, "longer than 200"),
        ({"budget_coupons": None}, "has no budget"),
        ({"budget_coupons": 2.5}, "whole number"),
        ({"budget_coupons": 0}, "must be > 0"),
        ({"budget_coupons": None, "budget_amount": float("nan")}, "budget_amount must be > 0"),
        ({"coupon_values": ()}, "allows no coupon value"),
        ({"coupon_values": (7.0,)}, r"Unknown coupon value\(s\) \[7.0\]"),
    ],
)
def test_a_request_that_cannot_be_planned_is_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        validate_request(_request(**changes), (5.0, 10.0))


def test_a_valid_request_passes():
    validate_request(_request(budget_amount=100.0), (5.0, 10.0))


def test_the_best_value_has_a_positive_effect_and_the_highest_net_value():
    uplift = np.array([[0.02, 0.05], [-0.01, 0.01], [-0.02, -0.01]])
    effects = Effects((5.0, 10.0), np.zeros(3), uplift, uplift)
    net = np.array([[1.0, 0.5], [2.0, 0.3], [0.4, 0.2]])
    best, eligible = best_values(effects, net)
    assert best.tolist()[:2] == [0, 1]  # user 1: value 5 has a negative effect, so 10
    assert eligible.tolist() == [True, True, False]


def test_a_coupon_budget_takes_the_users_with_the_most_net_value():
    users = np.array(["u3", "u1", "u2", "u4"])
    net = np.array([[3.0], [1.0], [2.0], [-1.0]])
    uplift = np.array([[0.1], [0.1], [0.1], [0.1]])
    chosen, order = select_within_budget(
        users, (5.0,), net, uplift, budget_coupons=2, budget_amount=None
    )
    assert chosen.tolist() == [0, -1, 0, -1]
    assert order.tolist() == [1, 0, 2, 0]


def test_a_money_budget_is_never_exceeded_and_upgrades_values_that_pay():
    users = np.array(["a", "b", "c"])
    values = (5.0, 10.0)
    net = np.array([[1.0, 3.0], [1.0, 1.1], [0.8, 0.9]])
    uplift = np.full((3, 2), 0.1)
    chosen, _ = select_within_budget(
        users, values, net, uplift, budget_coupons=None, budget_amount=20.0
    )
    spent = sum(values[j] for j in chosen if j >= 0)
    assert spent <= 20.0
    assert chosen[0] == 1  # the 10 coupon triples a's net value: worth the extra 5


def test_ties_break_on_user_id_so_the_same_inputs_give_the_same_list():
    users = np.array(["b", "a", "c"])
    net = np.ones((3, 1))
    uplift = np.full((3, 1), 0.1)
    chosen, order = select_within_budget(
        users, (5.0,), net, uplift, budget_coupons=1, budget_amount=None
    )
    assert chosen.tolist() == [-1, 0, -1] and order.tolist() == [0, 1, 0]
