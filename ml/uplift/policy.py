"""From effects to a target list: the expected net value of each coupon value per user, and the
choice of users and values that maximizes it within a campaign's budget."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from ml.uplift.config import EconomicsConfig
from ml.uplift.learners import Effects
from ml.uplift.model import UpliftModel

MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class CampaignRequest:
    """A campaign to plan: its name, offer date, budget (coupons, money, or both) and the coupon
    values marketing allows."""

    name: str
    campaign_date: date
    coupon_values: tuple[float, ...]
    budget_coupons: int | None = None
    budget_amount: float | None = None
    extra: dict = field(default_factory=dict)


def validate_request(request: CampaignRequest, model_values: tuple[float, ...]) -> None:
    """Refuse a request that cannot be planned, naming the problem."""
    name = request.name
    if not isinstance(name, str) or not name.strip():
        raise ValueError("The campaign needs a name (campaign_name is empty).")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"The campaign name is longer than {MAX_NAME_LENGTH} characters.")
    if request.budget_coupons is None and request.budget_amount is None:
        raise ValueError(
            "The campaign has no budget: give budget_coupons (a number of coupons) or "
            "budget_amount (money, the face value of the coupons sent)."
        )
    if request.budget_coupons is not None:
        if isinstance(request.budget_coupons, bool) or int(request.budget_coupons) != (
            request.budget_coupons
        ):
            raise ValueError(
                f"budget_coupons must be a whole number, got {request.budget_coupons!r}."
            )
        if request.budget_coupons <= 0:
            raise ValueError(
                f"budget_coupons must be > 0, got {request.budget_coupons}: a campaign without "
                "coupons to send has nothing to plan."
            )
    if request.budget_amount is not None:
        amount = float(request.budget_amount)
        if not math.isfinite(amount) or amount <= 0:
            raise ValueError(
                f"budget_amount must be > 0, got {request.budget_amount}: a campaign without "
                "money to spend has nothing to plan."
            )
    if not request.coupon_values:
        raise ValueError("The campaign allows no coupon value: give at least one.")
    known = {float(v) for v in model_values}
    unknown = [v for v in request.coupon_values if float(v) not in known]
    if unknown:
        raise ValueError(
            f"Unknown coupon value(s) {sorted(float(v) for v in unknown)}: the model learned the "
            f"effect of {sorted(known)} only (the values of past randomized campaigns). Pick "
            "from those, or run a randomized campaign with the new value first."
        )


def net_values(
    model: UpliftModel, effects: Effects, economics: EconomicsConfig
) -> tuple[np.ndarray, np.ndarray]:
    """(expected net value, redemption probability) per user and value:
    uplift × revenue per conversion × margin − value × cost per unit × P(redeem) − sending cost."""
    order_value = economics.order_value or model.order_value
    redeem = model.redemption_probability(effects)
    values = np.asarray(effects.values, dtype="float64")
    net = (
        effects.uplift * order_value * economics.margin
        - values[None, :] * economics.coupon_cost_per_unit * redeem
        - economics.cost_per_coupon_sent
    )
    return net, redeem


def best_values(effects: Effects, net: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per user: index of the value with the highest expected net value among those with a
    positive predicted effect (ties: the smaller value), and whether any value qualifies."""
    allowed = effects.uplift > 0
    masked = np.where(allowed, net, -np.inf)
    best = np.argmax(masked, axis=1)  # first maximum = smallest value (values are ascending)
    eligible = allowed.any(axis=1) & (masked[np.arange(len(net)), best] > 0)
    fallback = np.argmax(net, axis=1)
    return np.where(allowed.any(axis=1), best, fallback), eligible


def select_within_budget(
    user_ids: np.ndarray,
    values: tuple[float, ...],
    net: np.ndarray,
    uplift: np.ndarray,
    *,
    budget_coupons: int | None,
    budget_amount: float | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Choose users and a value each to maximize the total expected net value, sending at most
    `budget_coupons` coupons and at most `budget_amount` in face value.

    Only options with a positive predicted effect and positive net value are considered. Greedy
    on the users' upper convex hull of (cost, net value) options (the classic multiple-choice
    knapsack heuristic): increments are taken by net value per unit of budget, each fits or is
    skipped, so the budget is never exceeded. Ties break on user_id: same inputs, same list.

    Returns (index of the chosen value or -1, selection order 1.. or 0) per user.
    """
    n, n_values = net.shape
    value_arr = np.asarray(values, dtype="float64")
    # a money budget prices a coupon at its face value; a count budget at one coupon
    money = budget_amount is not None
    cost = value_arr if money else np.ones(n_values)
    capacity_money = float(budget_amount) if money else math.inf
    capacity_count = int(budget_coupons) if budget_coupons is not None else n
    order_key = np.argsort(user_ids, kind="stable")
    rank_of_user = np.empty(n, dtype=np.int64)
    rank_of_user[order_key] = np.arange(n)

    increments = []  # (efficiency, user rank, step, user, from option, to option)
    for i in range(n):
        options = [
            (cost[j], net[i, j], j) for j in range(n_values) if uplift[i, j] > 0 and net[i, j] > 0
        ]
        if not options:
            continue
        hull = _upper_hull(options)
        prev_cost, prev_gain, prev = 0.0, 0.0, -1
        for step, (c, g, j) in enumerate(hull):
            increments.append(
                (-(g - prev_gain) / (c - prev_cost), rank_of_user[i], step, i, prev, j)
            )
            prev_cost, prev_gain, prev = c, g, j
    increments.sort()
    chosen = np.full(n, -1, dtype=np.int64)
    blocked = np.zeros(n, dtype=bool)
    order = np.zeros(n, dtype=np.int64)
    used_money, used_count, next_order = 0.0, 0, 1
    for _, _, _, i, prev, j in increments:
        if blocked[i] or chosen[i] != prev:
            continue
        extra_money = value_arr[j] - (value_arr[prev] if prev >= 0 else 0.0)
        extra_count = 0 if prev >= 0 else 1
        if used_money + extra_money > capacity_money + 1e-9 or (
            used_count + extra_count > capacity_count
        ):
            blocked[i] = True  # a later, larger step of this user cannot fit either
            continue
        used_money += extra_money
        used_count += extra_count
        chosen[i] = j
        if prev < 0:
            order[i] = next_order
            next_order += 1
    return chosen, order


def _upper_hull(options: list[tuple[float, float, int]]) -> list[tuple[float, float, int]]:
    """The options on the upper-left convex hull from (0, 0): increasing cost, increasing gain,
    decreasing gain per extra unit of cost (dominated options dropped)."""
    best_by_cost: dict[float, tuple[float, float, int]] = {}
    for c, g, j in options:
        if c not in best_by_cost or g > best_by_cost[c][1]:
            best_by_cost[c] = (c, g, j)
    hull: list[tuple[float, float, int]] = []
    for c, g, j in sorted(best_by_cost.values()):
        if hull and g <= hull[-1][1]:
            continue  # costs more, gains no more
        while hull:
            pc, pg = (hull[-2][0], hull[-2][1]) if len(hull) > 1 else (0.0, 0.0)
            lc, lg = hull[-1][0], hull[-1][1]
            if (lg - pg) / (lc - pc) <= (g - lg) / (c - lc):
                hull.pop()  # the middle option is below the line: never the best step
            else:
                break
        hull.append((c, g, j))
    return hull


def plan_targets(
    model: UpliftModel,
    frame: pd.DataFrame,
    request: CampaignRequest,
    economics: EconomicsConfig,
) -> pd.DataFrame:
    """One row per user of `frame`: the recommended value (best expected net value among the
    allowed ones), its predicted uplift, redemption probability and expected net value, whether
    the user is selected within the budget, and a rank (selected users first, in the order the
    budget was spent, then the rest by expected net value)."""
    values = tuple(sorted(float(v) for v in request.coupon_values))
    effects = model.effects(frame, values)
    net, redeem = net_values(model, effects, economics)
    users = frame["user_id"].to_numpy().astype(str)
    chosen, order = select_within_budget(
        users,
        values,
        net,
        effects.uplift,
        budget_coupons=request.budget_coupons,
        budget_amount=request.budget_amount,
    )
    best, _ = best_values(effects, net)
    pick = np.where(chosen >= 0, chosen, best)
    rows = np.arange(len(frame))
    out = pd.DataFrame(
        {
            "user_id": users,
            "coupon_value": np.asarray(values)[pick],
            "predicted_uplift": effects.uplift[rows, pick],
            "p_purchase_with_coupon": effects.p_treated[rows, pick],
            "p_purchase_without_coupon": effects.p_control,
            "p_redeem": redeem[rows, pick],
            "expected_net_value": net[rows, pick],
            "selected": chosen >= 0,
            "selection_order": order,
        }
    )
    # selected first in spending order, then by expected net value, ties by user_id
    out = out.sort_values(
        ["selected", "selection_order", "expected_net_value", "user_id"],
        ascending=[False, True, False, True],
        kind="stable",
    ).reset_index(drop=True)
    out.loc[~out["selected"], "selection_order"] = 0
    out.insert(1, "rank", np.arange(1, len(out) + 1))
    return out.drop(columns=["selection_order"])
