"""Meta-learners with LightGBM base models: the T-, X- and S-learner, each estimating, per user
and coupon value v, the change in the purchase probability a coupon of value v causes.

The coupon value enters the treated-outcome models as a numeric feature, so one model covers
every value (a per-value model would see only a fraction of the treated users).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd

from ml.features import FeatureSpec
from ml.uplift.derived import uplift_matrix

VALUE_FEATURE = "offered_coupon_value"


def with_value(matrix: pd.DataFrame, value: float | np.ndarray) -> pd.DataFrame:
    """The matrix plus the coupon value column (0 = no coupon)."""
    out = matrix.copy()
    out[VALUE_FEATURE] = np.broadcast_to(np.asarray(value, dtype="float64"), len(out)).copy()
    return out


def _params(base: dict, objective: str) -> dict:
    params = dict(base)
    params["objective"] = objective
    params.setdefault("verbosity", -1)
    params.pop("metric", None)
    return params


def fit_booster(
    x: pd.DataFrame, y: np.ndarray, params: dict, rounds: int, objective: str = "binary"
) -> lgb.Booster:
    """A LightGBM model on (x, y); same inputs give the same model."""
    data = lgb.Dataset(x, np.asarray(y, dtype="float64"), categorical_feature="auto")
    return lgb.train(_params(params, objective), data, num_boost_round=rounds)


def _predict(booster: lgb.Booster, x: pd.DataFrame) -> np.ndarray:
    return np.asarray(booster.predict(x), dtype="float64")


@dataclass
class Effects:
    """Per user (rows) and coupon value (columns): P(buy | coupon of that value), P(buy | no
    coupon) and their difference, the uplift."""

    values: tuple[float, ...]
    p_control: np.ndarray
    p_treated: np.ndarray
    uplift: np.ndarray

    def mean_uplift(self) -> np.ndarray:
        """The uplift averaged over the values: the effect of the randomized treatment."""
        return self.uplift.mean(axis=1)


@dataclass
class Learner:
    """A fitted meta-learner: named LightGBM boosters and how to combine them."""

    kind: str
    boosters: dict[str, lgb.Booster]
    treated_share: dict[float, float] = field(default_factory=dict)

    def effects(self, matrix: pd.DataFrame, values: tuple[float, ...]) -> Effects:
        if self.kind == "s_learner":
            p0 = _predict(self.boosters["outcome"], with_value(matrix, 0.0))
            p1 = np.column_stack(
                [_predict(self.boosters["outcome"], with_value(matrix, v)) for v in values]
            )
            return Effects(values, p0, p1, p1 - p0[:, None])
        p0 = _predict(self.boosters["control"], matrix)
        p1 = np.column_stack(
            [_predict(self.boosters["treated"], with_value(matrix, v)) for v in values]
        )
        if self.kind == "t_learner":
            return Effects(values, p0, p1, p1 - p0[:, None])
        columns = []
        for v in values:
            x_v = with_value(matrix, v)
            tau_treated = _predict(self.boosters["effect_treated"], x_v)
            tau_control = _predict(self.boosters["effect_control"], x_v)
            g = self.treated_share.get(float(v), 0.5)
            columns.append(g * tau_control + (1 - g) * tau_treated)
        return Effects(values, p0, p1, np.column_stack(columns))

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "boosters": {name: b.model_to_string() for name, b in sorted(self.boosters.items())},
            "treated_share": {str(k): v for k, v in sorted(self.treated_share.items())},
        }

    @classmethod
    def from_dict(cls, data: dict) -> Learner:
        return cls(
            kind=data["kind"],
            boosters={k: lgb.Booster(model_str=s) for k, s in data["boosters"].items()},
            treated_share={float(k): float(v) for k, v in data["treated_share"].items()},
        )


def fit_learner(
    kind: str,
    frame: pd.DataFrame,
    spec: FeatureSpec,
    *,
    treatment: np.ndarray,
    value: np.ndarray,
    outcome: np.ndarray,
    params: dict,
    rounds: int,
) -> Learner:
    """Fit the `kind` meta-learner (t_learner, x_learner, s_learner) on randomized rows."""
    matrix = uplift_matrix(frame, spec)
    treated = np.asarray(treatment) == 1
    value = np.where(treated, np.asarray(value, dtype="float64"), 0.0)
    y = np.asarray(outcome, dtype="float64")
    if kind == "s_learner":
        booster = fit_booster(with_value(matrix, value), y, params, rounds)
        return Learner(kind, {"outcome": booster})
    control = fit_booster(matrix[~treated], y[~treated], params, rounds)
    treated_model = fit_booster(
        with_value(matrix[treated], value[treated]), y[treated], params, rounds
    )
    boosters = {"control": control, "treated": treated_model}
    if kind == "t_learner":
        return Learner(kind, boosters)
    if kind != "x_learner":
        raise ValueError(f"Unknown learner {kind!r}; use t_learner, x_learner or s_learner.")
    # imputed effects: treated users against the control model, control users against the
    # treated model at every value they could have received
    x_treated = with_value(matrix[treated], value[treated])
    d_treated = y[treated] - _predict(control, matrix[treated])
    values = np.unique(value[treated])
    control_rows = matrix[~treated]
    x_control = pd.concat([with_value(control_rows, v) for v in values], ignore_index=True)
    d_control = _predict(treated_model, x_control) - np.tile(y[~treated], len(values))
    boosters["effect_treated"] = fit_booster(x_treated, d_treated, params, rounds, "regression")
    boosters["effect_control"] = fit_booster(x_control, d_control, params, rounds, "regression")
    n_control = int((~treated).sum())
    share = {}
    for v in values:
        n_v = int((value == v).sum())
        share[float(v)] = n_v / (n_v + n_control)  # P(coupon v | coupon v or control)
    return Learner(kind, boosters, share)
