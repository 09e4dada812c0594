"""Uplift metrics from scikit-uplift (Qini coefficient, AUUC, uplift at k, the Qini curve) and
the inverse-propensity-weighted value of a targeting policy on a randomized campaign."""

from __future__ import annotations

import warnings

import numpy as np
from sklift.metrics import qini_auc_score, qini_curve, uplift_at_k, uplift_auc_score


def _quiet(fn, *args, **kwargs):
    # scikit-uplift 0.5.1 calls a scikit-learn helper deprecated in 1.8 (still present in 1.9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return fn(*args, **kwargs)


def qini_points(y, score, treatment, points: int = 51) -> dict:
    """The Qini curve (incremental conversions among the top x% by score, x from 0 to 100%),
    thinned to `points` points on a regular grid of the share of users targeted."""
    x, q = _quiet(qini_curve, np.asarray(y), np.asarray(score), np.asarray(treatment))
    n = len(y)
    grid = np.linspace(0, 1, points)
    share = np.asarray(x, dtype="float64") / max(n, 1)
    values = np.interp(grid, share, np.asarray(q, dtype="float64"))
    return {"share": grid.round(4).tolist(), "incremental": values.round(4).tolist()}


def uplift_metrics(
    y, score, treatment, *, k_values=(0.1, 0.3), curve_points: int = 51
) -> dict[str, object]:
    """Qini coefficient and AUUC (scikit-uplift's normalised areas: 0 = random, 1 = perfect),
    uplift (treated minus control conversion rate) in the top k, and the Qini curve."""
    y = np.asarray(y, dtype=np.int64)
    t = np.asarray(treatment, dtype=np.int64)
    s = np.asarray(score, dtype="float64")
    if len(np.unique(t)) < 2:
        raise ValueError("Uplift metrics need treated and control users in the same window.")
    out: dict[str, object] = {
        "rows": int(len(y)),
        "treated": int(t.sum()),
        "conversion_treated": float(y[t == 1].mean()),
        "conversion_control": float(y[t == 0].mean()),
        "qini": float(_quiet(qini_auc_score, y, s, t)),
        "auuc": float(_quiet(uplift_auc_score, y, s, t)),
    }
    out["ate"] = out["conversion_treated"] - out["conversion_control"]
    for k in k_values:
        out[f"uplift_at_{int(round(k * 100))}"] = float(
            _quiet(uplift_at_k, y, s, t, strategy="overall", k=k)
        )
    out["qini_curve"] = qini_points(y, s, t, curve_points)
    return out


def ipw_policy_value(
    assigned: np.ndarray,
    received: np.ndarray,
    net_value: np.ndarray,
    arm_probability: dict[float, float],
) -> float:
    """Mean net value per user if every user got `assigned` (coupon value, 0 = none),
    estimated from a randomized campaign where user i got `received[i]` with the known
    probability `arm_probability[value]`: the users whose received arm matches the policy,
    weighted by 1 / P(received arm) (self-normalised inverse propensity weighting)."""
    assigned = np.asarray(assigned, dtype="float64")
    received = np.asarray(received, dtype="float64")
    match = np.isclose(assigned, received)
    if not match.any():
        return float("nan")
    weight = np.where(match, 1.0 / np.array([arm_probability[float(v)] for v in received]), 0.0)
    return float(np.sum(weight * np.asarray(net_value, dtype="float64")) / np.sum(weight))
