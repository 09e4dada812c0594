"""Randomized coupon campaigns on the synthetic marts of `tests.ml.factories`, with a hidden
coupon response per user (persuadable, sure thing, lost cause, sleeping dog, as in the
platform's simulator) that shows only partly in the features, and its truth in
`sim_truth.coupon_effect`. Seconds to build, so the uplift tests need no dbt run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from tests.ml.factories import FEATURE_COLUMNS, copy_frame, load_marts, simulate

VALUES = (5.0, 10.0)
HORIZON = 7


@dataclass
class CouponShop:
    marts: object
    training_set: pd.DataFrame
    truth: pd.DataFrame
    offer_dates: list[date]

    @property
    def plan_date(self) -> date:
        return self.marts.last_as_of


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def build(n_users: int = 4000, campaigns: int = 5, seed: int = 3) -> CouponShop:
    n_days = 14 + 7 * campaigns + 1
    offer_days = [14 + 7 * k for k in range(campaigns)]
    marts = simulate(n_users, n_days, seed=seed, as_of_days=set(offer_days) | {n_days})
    rng = np.random.default_rng(seed + 100)
    users = marts.features["user_id"].unique()
    # hidden response type, partly visible: cheap-item browsers are persuadable, heavy buyers
    # are sure things, ad clickers are put off (sleeping dogs)
    first = marts.features.drop_duplicates("user_id").set_index("user_id")
    price = first["avg_item_price_viewed_30d"].reindex(users).fillna(20).to_numpy()
    ctr = first["ad_ctr_30d"].reindex(users).fillna(0).to_numpy()
    z = (20 - price) / 6 + rng.normal(0, 0.7, len(users))
    u = rng.random(len(users))
    persuadable = u < _sigmoid(z)
    sleeping = ~persuadable & (rng.random(len(users)) < _sigmoid((ctr - 0.08) * 40) * 0.5)
    kind = np.where(persuadable, "persuadable", np.where(sleeping, "sleeping_dog", "lost_cause"))
    response = dict(zip(users, kind, strict=True))
    rows, truth = [], []
    for k, day in enumerate(offer_days):
        as_of = marts.start + timedelta(days=day)
        feats = marts.features[marts.features["as_of_date"] == as_of].reset_index(drop=True)
        n = len(feats)
        kinds = feats["user_id"].map(response).to_numpy()
        orders = feats["orders_90d"].fillna(0).to_numpy()
        p0 = _sigmoid(-2.3 + 0.6 * np.log1p(orders) + 0.2 * np.log1p(feats["views_7d"]))
        sure = orders >= 3
        arms = np.zeros(n)
        order = np.random.default_rng(seed + k).permutation(n)
        treated = order[: n // 2]
        arms[treated] = np.array(VALUES)[np.arange(len(treated)) % len(VALUES)]
        p1 = {}
        for v in VALUES:
            scale = v / 5
            shift = np.select(
                [kinds == "persuadable", kinds == "sleeping_dog"],
                [0.9 * scale**0.8, -0.8 * scale**0.5],
                default=0.0,
            )
            shift = np.where(sure & (kinds != "sleeping_dog"), 0.05 * scale, shift)
            p1[v] = _sigmoid(np.log(p0 / (1 - p0)) + shift)
            truth.append(
                pd.DataFrame(
                    {
                        "coupon_campaign_id": f"cc{k:03d}",
                        "user_id": feats["user_id"],
                        "coupon_value": v,
                        "p_purchase_control": p0,
                        "p_purchase_treated": p1[v],
                        "response_type": kinds,
                    }
                )
            )
        p = np.where(arms == 0, p0, np.where(arms == VALUES[0], p1[VALUES[0]], p1[VALUES[1]]))
        bought = rng.random(n) < p
        revenue = np.where(bought, np.round(rng.gamma(4, 15, n), 2), 0.0)
        redeemed = bought & (arms > 0) & (rng.random(n) < 0.9)
        part = feats.copy()
        part.insert(0, "coupon_campaign_id", f"cc{k:03d}")
        part = part.rename(columns={"as_of_date": "offer_date"})
        part["treatment"] = (arms > 0).astype(int)
        part["coupon_value"] = arms
        part["converted_in_horizon"] = bought.astype(int)
        part["revenue_in_horizon"] = revenue
        part["redeemed"] = redeemed.astype(int)
        part["horizon_days"] = HORIZON
        rows.append(part)
    return CouponShop(
        marts,
        pd.concat(rows, ignore_index=True),
        pd.concat(truth, ignore_index=True),
        [marts.start + timedelta(days=d) for d in offer_days],
    )


TRAINING_SET_TYPES = {
    "coupon_campaign_id": "text",
    "user_id": "text",
    "offer_date": "date",
    "treatment": "integer",
    "coupon_value": "numeric",
    **{k: v for k, v in FEATURE_COLUMNS.items() if k not in ("user_id", "as_of_date")},
    "converted_in_horizon": "integer",
    "revenue_in_horizon": "numeric",
    "redeemed": "integer",
    "horizon_days": "integer",
}


def load_coupon_shop(conn, shop: CouponShop, *, training_set: pd.DataFrame | None = None) -> None:
    """The feature marts, `marts.fct_coupon_training_set` and `sim_truth.coupon_effect`."""
    load_marts(conn, shop.marts)
    frame = shop.training_set if training_set is None else training_set
    frame = frame[list(TRAINING_SET_TYPES)].copy()
    for name, kind in TRAINING_SET_TYPES.items():
        if kind == "integer":
            frame[name] = frame[name].astype("Int64")
    with conn.cursor() as cur:
        body = ", ".join(f"{c} {t}" for c, t in TRAINING_SET_TYPES.items())
        cur.execute(f"create table marts.fct_coupon_training_set ({body})")
        copy_frame(cur, "marts.fct_coupon_training_set", frame)
        cur.execute(
            "create table sim_truth.coupon_effect (coupon_campaign_id text, user_id text, "
            "coupon_value numeric, p_purchase_control double precision, "
            "p_purchase_treated double precision, response_type text)"
        )
        copy_frame(cur, "sim_truth.coupon_effect", shop.truth)
    conn.commit()
