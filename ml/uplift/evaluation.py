"""Fit the candidate learners, choose one by validation Qini, and evaluate it on the held-out
test campaign next to the baselines: random targeting, targeting everyone, targeting by
purchase propensity (the usual mistake) and, on simulated data, the oracle (the true effect
from `sim_truth.coupon_effect`). Each also gets the off-policy (IPW) net value of its policy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.features import FeatureSpec, select_features
from ml.uplift.config import UpliftConfig
from ml.uplift.data import CONVERTED, REDEEMED, REVENUE, TREATMENT, VALUE, feature_frame
from ml.uplift.derived import uplift_matrix, with_derived_features
from ml.uplift.learners import Effects, fit_booster, fit_learner
from ml.uplift.metrics import ipw_policy_value, uplift_metrics
from ml.uplift.model import UpliftModel
from ml.uplift.policy import best_values, net_values

ORACLE_TABLE = "sim_truth.coupon_effect"
LEARNER_LABELS = {"t_learner": "T-learner", "x_learner": "X-learner", "s_learner": "S-learner"}
BASELINE_LABELS = {
    "random": "random targeting",
    "everyone": "target everyone",
    "propensity": "purchase propensity",
    "oracle": "simulator oracle",
}


@dataclass
class FittedCandidates:
    spec: FeatureSpec
    values: tuple[float, ...]
    models: dict[str, UpliftModel]
    propensity: object  # LightGBM booster: P(buy) ignoring the coupon


def order_value_of(train: pd.DataFrame) -> float:
    """Mean revenue in the horizon of the converting users of the training campaigns."""
    converted = train[train[CONVERTED] == 1]
    value = float(converted[REVENUE].mean()) if len(converted) else float("nan")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(
            "The training campaigns show no revenue from converting users, so a coupon's "
            "incremental revenue cannot be valued. Set economics.order_value in "
            "ml/conf/coupon_uplift.yml."
        )
    return value


def redeem_shares(train: pd.DataFrame, values: tuple[float, ...]) -> dict[float, float]:
    """Per value: the share of converting coupon holders who redeemed their coupon."""
    out = {}
    for v in values:
        buyers = train[(train[TREATMENT] == 1) & (train[VALUE] == v) & (train[CONVERTED] == 1)]
        out[float(v)] = float(buyers[REDEEMED].mean()) if len(buyers) else 1.0
    return out


def fit_candidates(train: pd.DataFrame, values: tuple[float, ...], config: UpliftConfig):
    """Every configured learner on the training campaigns, plus the propensity baseline."""
    spec = select_features(feature_frame(with_derived_features(train)))
    params, rounds = config.lightgbm.params, config.lightgbm.num_boost_round
    order_value = order_value_of(train)
    shares = redeem_shares(train, values)
    models = {}
    for kind in config.learners:
        learner = fit_learner(
            kind,
            train,
            spec,
            treatment=train[TREATMENT].to_numpy(),
            value=train[VALUE].to_numpy(),
            outcome=train[CONVERTED].to_numpy(),
            params=params,
            rounds=rounds,
        )
        models[kind] = UpliftModel(learner, spec, values, order_value, shares)
    propensity = fit_booster(
        uplift_matrix(train, spec), train[CONVERTED].to_numpy(), params, rounds
    )
    return FittedCandidates(spec, values, models, propensity)


def arm_probabilities(frame: pd.DataFrame) -> dict[float, float]:
    """The randomized arms of a campaign window and their shares (0 = control)."""
    received = np.where(frame[TREATMENT] == 1, frame[VALUE], 0.0)
    arms, counts = np.unique(received, return_counts=True)
    return {float(a): float(c) / len(received) for a, c in zip(arms, counts, strict=True)}


def realized_net_value(frame: pd.DataFrame, config: UpliftConfig) -> np.ndarray:
    """What each user of a campaign was worth: revenue × margin − redeemed value × cost per
    unit − the sending cost for coupon holders."""
    e = config.economics
    treated = frame[TREATMENT].to_numpy() == 1
    return (
        frame[REVENUE].to_numpy(dtype="float64") * e.margin
        - frame[REDEEMED].to_numpy()
        * frame[VALUE].to_numpy(dtype="float64")
        * e.coupon_cost_per_unit
        - treated * e.cost_per_coupon_sent
    )


def _top(scores: np.ndarray, count: int, user_ids: np.ndarray) -> np.ndarray:
    order = np.lexsort((user_ids, -scores))
    chosen = np.zeros(len(scores), dtype=bool)
    chosen[order[:count]] = True
    return chosen


def policy_values(
    frame: pd.DataFrame,
    model: UpliftModel,
    effects: Effects,
    scores: dict[str, np.ndarray | None],
    oracle: Effects | None,
    config: UpliftConfig,
) -> dict[str, dict]:
    """IPW net value per user of each policy on a randomized window, each reaching at most
    `evaluation.target_share` of the users, and its gain over sending no coupon."""
    arms = arm_probabilities(frame)
    net = realized_net_value(frame, config)
    received = np.where(frame[TREATMENT] == 1, frame[VALUE], 0.0)
    users = frame["user_id"].to_numpy().astype(str)
    count = int(round(config.evaluation.target_share * len(frame)))
    values = np.asarray(effects.values)
    default_value = _best_average_value(model, effects, config)

    def assigned(selected: np.ndarray, value_index: np.ndarray | int) -> np.ndarray:
        return np.where(selected, values[value_index], 0.0)

    policies: dict[str, np.ndarray] = {}
    predicted, _ = net_values(model, effects, config.economics)
    best, eligible = best_values(effects, predicted)
    top_net = predicted[np.arange(len(frame)), best]
    policies["model"] = assigned(
        _top(np.where(eligible, top_net, -np.inf), count, users) & eligible, best
    )
    rng = np.random.default_rng(config.evaluation.random_seed)
    policies["random"] = assigned(_top(rng.random(len(frame)), count, users), default_value)
    policies["everyone"] = assigned(np.ones(len(frame), dtype=bool), default_value)
    if scores.get("propensity") is not None:
        policies["propensity"] = assigned(_top(scores["propensity"], count, users), default_value)
    if oracle is not None:
        true_net, _ = net_values(model, oracle, config.economics)
        o_best, o_eligible = best_values(oracle, true_net)
        o_net = true_net[np.arange(len(frame)), o_best]
        policies["oracle"] = assigned(
            _top(np.where(o_eligible, o_net, -np.inf), count, users) & o_eligible, o_best
        )
    nothing = ipw_policy_value(np.zeros(len(frame)), received, net, arms)
    out = {}
    for name, policy in policies.items():
        value = ipw_policy_value(policy, received, net, arms)
        out[name] = {
            "coupons": int((policy > 0).sum()),
            "net_value_per_user": value,
            "gain_per_1000_users": (value - nothing) * 1000,
        }
    out["no_coupon"] = {"coupons": 0, "net_value_per_user": nothing, "gain_per_1000_users": 0.0}
    return out


def _best_average_value(model: UpliftModel, effects: Effects, config: UpliftConfig) -> int:
    """The value a value-blind policy sends: the one with the best mean predicted net value."""
    net, _ = net_values(model, effects, config.economics)
    return int(np.argmax(net.mean(axis=0)))


def oracle_effects(conn, frame: pd.DataFrame, values: tuple[float, ...]) -> Effects | None:
    """The simulator's true P(buy) with and without each coupon value for the users of the
    frame's campaigns; None without `sim_truth.coupon_effect` or when a user is missing."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass(%s) is not null", (ORACLE_TABLE,))
        if not cur.fetchone()[0]:
            return None
        cur.execute(
            "select coupon_campaign_id, user_id, coupon_value::float8, p_purchase_control, "
            "p_purchase_treated from sim_truth.coupon_effect "
            "where coupon_campaign_id = any(%s) and coupon_value = any(%s::numeric[])",
            (sorted(frame["coupon_campaign_id"].unique().tolist()), list(values)),
        )
        rows = cur.fetchall()
    truth = pd.DataFrame(rows, columns=["coupon_campaign_id", "user_id", VALUE, "p0", "p1"])
    if truth.empty:
        return None
    keys = frame[["coupon_campaign_id", "user_id"]]
    p0 = keys.merge(
        truth.drop_duplicates(["coupon_campaign_id", "user_id"])[
            ["coupon_campaign_id", "user_id", "p0"]
        ],
        how="left",
    )["p0"].to_numpy()
    p1 = np.column_stack(
        [
            keys.merge(
                truth[truth[VALUE] == v][["coupon_campaign_id", "user_id", "p1"]], how="left"
            )["p1"].to_numpy()
            for v in values
        ]
    )
    if np.isnan(p0).any() or np.isnan(p1).any():
        return None
    return Effects(values, p0, p1, p1 - p0[:, None])


def true_qini(score: np.ndarray, true_uplift: np.ndarray, user_ids: np.ndarray) -> float:
    """Qini of a ranking measured on the simulator's true effects instead of noisy outcomes:
    the area between its curve of cumulative true uplift and random targeting's, as a share
    of the oracle ranking's (1 = the oracle, 0 = random)."""
    true_uplift = np.asarray(true_uplift, dtype="float64")

    def area(ranking: np.ndarray) -> float:
        order = np.lexsort((user_ids, -np.asarray(ranking, dtype="float64")))
        return float(np.cumsum(true_uplift[order]).sum())

    n = len(true_uplift)
    random_area = true_uplift.sum() * (n + 1) / 2
    best = area(true_uplift) - random_area
    return (area(score) - random_area) / best if best > 0 else float("nan")


def evaluate_scores(
    frame: pd.DataFrame,
    scores: dict[str, np.ndarray | None],
    config: UpliftConfig,
    oracle: Effects | None = None,
) -> dict[str, dict | None]:
    """Uplift metrics of each score (higher = target first) on one randomized window; with
    the oracle also `qini_true`, the Qini on the true effects as a share of the oracle's."""
    y = frame[CONVERTED].to_numpy()
    t = frame[TREATMENT].to_numpy()
    users = frame["user_id"].to_numpy().astype(str)
    out: dict[str, dict | None] = {}
    for name, score in scores.items():
        if score is None:
            out[name] = None
            continue
        out[name] = uplift_metrics(
            y,
            score,
            t,
            k_values=config.evaluation.uplift_at_k,
            curve_points=config.evaluation.curve_points,
        )
        if oracle is not None:
            out[name]["qini_true"] = true_qini(score, oracle.mean_uplift(), users)
    return out


def per_value_qini(
    frame: pd.DataFrame, effects: Effects, oracle: Effects | None, config: UpliftConfig
) -> dict[str, dict]:
    """Qini of the value-specific uplift, on the control users and those who got that value."""
    out = {}
    for j, v in enumerate(effects.values):
        mask = (frame[TREATMENT].to_numpy() == 0) | (frame[VALUE].to_numpy() == v)
        part = frame[mask]
        scores = {"model": effects.uplift[mask, j]}
        if oracle is not None:
            scores["oracle"] = oracle.uplift[mask, j]
        metrics = evaluate_scores(part, scores, config)
        out[f"{v:g}"] = {k: m["qini"] for k, m in metrics.items() if m}
    return out


def baseline_scores(
    frame: pd.DataFrame,
    candidates: FittedCandidates,
    oracle: Effects | None,
    config: UpliftConfig,
) -> dict[str, np.ndarray | None]:
    """Scores of the baselines: a seeded random order, everyone alike (ties: a constant score),
    the propensity model's P(buy) and the oracle's true mean uplift."""
    rng = np.random.default_rng(config.evaluation.random_seed)
    propensity = np.asarray(
        candidates.propensity.predict(uplift_matrix(frame, candidates.spec)), dtype="float64"
    )
    return {
        "random": rng.random(len(frame)),
        "everyone": np.zeros(len(frame)),
        "propensity": propensity,
        "oracle": None if oracle is None else oracle.mean_uplift(),
    }
