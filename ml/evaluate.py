"""Metrics of a probability score against 0/1 labels, and the verdict against baselines."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata, spearmanr
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
    roc_curve,
)

from ml.baselines import (
    fit_logistic_regression,
    logistic_regression_scores,
    oracle_probabilities,
    rfm_scores,
)
from ml.bgnbd import BgnbdFit, expected_purchases, expected_revenue
from ml.config import PropensityConfig
from ml.features import REVENUE_COLUMN, FeatureSpec, labels_of

TOP_FRACTIONS = (0.1, 0.2)
CURVE_POINTS = 101
BASELINE_LABELS = {
    "bgnbd": "BG/NBD",
    "rfm": "RFM rule",
    "logistic_regression": "logistic regression",
    "oracle": "simulator oracle",
}


def assign_deciles(scores: np.ndarray) -> np.ndarray:
    """Decile 1-10 per row, 10 = highest scores; ties broken by row order (deterministic)."""
    scores = np.asarray(scores, dtype="float64")
    n = len(scores)
    order = np.argsort(-scores, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    return (10 - (rank * 10) // max(n, 1)).astype(np.int64)


def top_share(y: np.ndarray, scores: np.ndarray, fraction: float) -> tuple[float, float]:
    """(lift, capture) of the top `fraction` of rows by score."""
    y = np.asarray(y)
    n_top = max(1, int(round(len(y) * fraction)))
    top = np.argsort(-np.asarray(scores, dtype="float64"), kind="stable")[:n_top]
    base_rate = y.mean()
    top_rate = y[top].mean()
    lift = float(top_rate / base_rate) if base_rate > 0 else float("nan")
    capture = float(y[top].sum() / y.sum()) if y.sum() > 0 else float("nan")
    return lift, capture


def decile_table(y: np.ndarray, scores: np.ndarray) -> list[dict]:
    """Users, purchasers, purchase rate and mean score per decile (10 = highest)."""
    deciles = assign_deciles(scores)
    rows = []
    for d in range(10, 0, -1):
        mask = deciles == d
        if not mask.any():
            continue
        rows.append(
            {
                "decile": d,
                "users": int(mask.sum()),
                "purchasers": int(y[mask].sum()),
                "purchase_rate": float(y[mask].mean()),
                "mean_score": float(np.mean(scores[mask])),
            }
        )
    return rows


def calibration_curve(y: np.ndarray, probabilities: np.ndarray, bins: int = 10) -> list[dict]:
    """Mean predicted vs observed rate in equal-count bins of the predicted probability."""
    order = np.argsort(probabilities, kind="stable")
    rows = []
    for i, idx in enumerate(np.array_split(order, bins)):
        if len(idx) == 0:
            continue
        rows.append(
            {
                "bin": i + 1,
                "count": int(len(idx)),
                "mean_predicted": float(np.mean(probabilities[idx])),
                "observed_rate": float(np.mean(y[idx])),
            }
        )
    return rows


def roc_points(y: np.ndarray, scores: np.ndarray) -> dict:
    """The ROC curve, thinned to at most CURVE_POINTS points (for charts)."""
    fpr, tpr, _ = roc_curve(y, scores)
    if len(fpr) > CURVE_POINTS:
        keep = np.unique(np.linspace(0, len(fpr) - 1, CURVE_POINTS).round().astype(int))
        fpr, tpr = fpr[keep], tpr[keep]
    return {"fpr": [round(float(v), 5) for v in fpr], "tpr": [round(float(v), 5) for v in tpr]}


def gains_points(y: np.ndarray, scores: np.ndarray, steps: int = 20) -> dict:
    """Share of purchasers captured in the top x% of users, x = 0, 5, ..., 100."""
    order = np.argsort(-np.asarray(scores, dtype="float64"), kind="stable")
    cumulative = np.concatenate([[0], np.cumsum(y[order])]) / max(y.sum(), 1)
    xs = np.linspace(0, 1, steps + 1)
    idx = (xs * len(y)).round().astype(int)
    return {"share": xs.round(4).tolist(), "captured": cumulative[idx].round(5).tolist()}


def ranking_metrics(y: np.ndarray, scores: np.ndarray) -> dict:
    """Metrics that depend only on the ordering of `scores` (any real-valued score)."""
    y = np.asarray(y, dtype=np.int64)
    scores = np.asarray(scores, dtype="float64")
    if len(np.unique(y)) < 2:
        raise ValueError("The evaluation window needs both purchasers and non-purchasers.")
    out: dict = {
        "rows": int(len(y)),
        "positives": int(y.sum()),
        "base_rate": float(y.mean()),
        "roc_auc": float(roc_auc_score(y, scores)),
        "pr_auc": float(average_precision_score(y, scores)),
    }
    for fraction in TOP_FRACTIONS:
        lift, capture = top_share(y, scores, fraction)
        pct = int(fraction * 100)
        out[f"lift_top{pct}"] = lift
        out[f"capture_top{pct}"] = capture
    out["deciles"] = decile_table(y, scores)
    out["roc_curve"] = roc_points(y, scores)
    out["gains_curve"] = gains_points(y, scores)
    return out


def auc_difference_se(y: np.ndarray, scores_a: np.ndarray, scores_b: np.ndarray) -> float:
    """Standard error of AUC(a) - AUC(b) for two scores of the same rows (DeLong, DeLong and
    Clarke-Pearson 1988, in the midrank form of Sun and Xu 2014): how far apart two models' AUCs
    on one test window can be by chance alone."""
    y = np.asarray(y).astype(bool)
    m, n = int(y.sum()), int((~y).sum())
    if m < 2 or n < 2:
        raise ValueError("The AUC difference needs at least two purchasers and two non-purchasers.")
    pos_components, neg_components = [], []
    for scores in (scores_a, scores_b):
        scores = np.asarray(scores, dtype="float64")
        ranks = rankdata(scores)
        # share of negatives each positive outranks, and of positives each negative is below
        pos_components.append((ranks[y] - rankdata(scores[y])) / n)
        neg_components.append(1.0 - (ranks[~y] - rankdata(scores[~y])) / m)
    s = np.cov(pos_components) / m + np.cov(neg_components) / n
    return float(np.sqrt(max(s[0, 0] + s[1, 1] - 2 * s[0, 1], 0.0)))


def resolution(scores: np.ndarray) -> dict:
    """How finely a score tells users apart: distinct values, the share of rows in the largest
    group of equal scores, and how many of the nine decile boundaries fall inside such a group
    (there the decile is decided by row order, not by the score)."""
    scores = np.asarray(scores, dtype="float64")
    _, counts = np.unique(scores, return_counts=True)
    ordered = np.sort(scores)[::-1]
    n = len(ordered)
    cuts = [(n * k) // 10 for k in range(1, 10)]
    tied = sum(1 for c in cuts if 0 < c < n and ordered[c - 1] == ordered[c])
    return {
        "distinct_scores": int(len(counts)),
        "largest_tie_share": float(counts.max() / n) if n else 0.0,
        "tied_decile_boundaries": int(tied),
    }


def probability_metrics(y: np.ndarray, probabilities: np.ndarray) -> dict:
    """Ranking metrics plus log loss, Brier score, the calibration curve, calibration in the
    large (mean predicted minus observed rate) and the score's resolution."""
    p = np.clip(np.asarray(probabilities, dtype="float64"), 1e-7, 1 - 1e-7)
    out = ranking_metrics(y, p)
    out["log_loss"] = float(log_loss(y, p, labels=[0, 1]))
    out["brier"] = float(brier_score_loss(y, p))
    out["mean_predicted"] = float(p.mean())
    out["calibration_in_the_large"] = float(p.mean() - np.mean(y))
    out["calibration_curve"] = calibration_curve(np.asarray(y), p)
    out.update(resolution(np.asarray(probabilities, dtype="float64")))
    return out


def oracle_ratios(model_auc: float, oracle_auc: float) -> dict:
    """Model AUC as a share of the oracle AUC, raw and above chance (0.5)."""
    out = {"auc_ratio_to_oracle": model_auc / oracle_auc if oracle_auc > 0 else float("nan")}
    headroom = oracle_auc - 0.5
    out["auc_lift_ratio_to_oracle"] = (model_auc - 0.5) / headroom if headroom > 0 else float("nan")
    return out


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def verdict(
    model_metrics: dict, baselines: dict[str, dict], margin: float = 0.0, noise_z: float = 0.0
) -> str:
    """One plain sentence on how the model compares with each baseline on the test window; with
    `noise_z` > 0, a baseline ahead by less than that many standard errors of the difference is
    on par, not a loss."""
    auc = model_metrics["roc_auc"]
    beaten, on_par, not_beaten = [], [], []
    for name, metrics in baselines.items():
        if name == "oracle" or metrics.get("roc_auc") is None:
            continue
        label = BASELINE_LABELS.get(name, name)
        diff = auc - metrics["roc_auc"]
        text = f"{label} (AUC {metrics['roc_auc']:.3f})"
        noise = noise_z * metrics.get("roc_auc_difference_se", 0.0)
        if diff > margin:
            beaten.append(text)
        elif diff > margin - noise:
            on_par.append(text)
        else:
            not_beaten.append(text)
    oracle = baselines.get("oracle")
    oracle_text = ""
    if oracle and oracle.get("roc_auc"):
        oracle_text = (
            f" It reaches {auc / oracle['roc_auc']:.0%} of the simulator oracle's AUC "
            f"({oracle['roc_auc']:.3f})."
        )
    if not_beaten:
        return (
            f"The model (AUC {auc:.3f}) does NOT beat the {_and(not_beaten)} on the test "
            "window; do not use it for targeting. Check the feature marts for missing sources, "
            "train on more history, or keep the current champion." + oracle_text
        )
    if on_par:
        beats = f" and beats the {_and(beaten)}" if beaten else ""
        return (
            f"The model (AUC {auc:.3f}) is level with the {_and(on_par)} on the test window "
            f"(the difference is within its noise){beats}." + oracle_text
        )
    if not beaten:
        return f"The model has AUC {auc:.3f}; no baseline was available to compare." + oracle_text
    beats = f"The model (AUC {auc:.3f}) beats the {_and(beaten)} on the test window."
    return beats + oracle_text


def bgnbd_metrics(fit: BgnbdFit, test) -> tuple[dict, np.ndarray]:
    """The BG/NBD baseline on the test window: ranking metrics of its expected purchases in
    the horizon, its parameters, and (with Gamma-Gamma and the labels' revenue) the expected
    against the observed revenue in the horizon."""
    y = labels_of(test)
    expected = expected_purchases(fit, test)
    metrics = ranking_metrics(y, expected)
    metrics["mean_expected_purchases"] = float(expected.mean())
    metrics["fit"] = fit.to_dict() | {"seconds": fit.seconds}
    revenue = expected_revenue(fit, test)
    if revenue is not None and REVENUE_COLUMN in test.columns:
        observed = test[REVENUE_COLUMN].astype("float64").fillna(0).to_numpy()
        metrics["spend"] = {
            "expected_revenue": float(revenue.sum()),
            "observed_revenue": float(observed.sum()),
            "spearman": float(spearmanr(revenue, observed).statistic),
        }
    return metrics, expected


def evaluate_baselines(
    conn,
    frames: dict,
    spec: FeatureSpec,
    config: PropensityConfig,
    model_probabilities: np.ndarray | None = None,
    *,
    horizon_days: int,
    bgnbd: BgnbdFit | None = None,
    bgnbd_unavailable: str | None = None,
) -> dict[str, dict | None]:
    """Metrics of BG/NBD, the RFM rule, the logistic regression and (when the simulator's truth
    is in the warehouse) the oracle, all on the test window; None for an unavailable baseline
    (BG/NBD: `{"unavailable": why}`). `frames` are prepared by the model (its derived columns
    added). Given the model's test-window probabilities, every baseline but the oracle also
    carries `roc_auc_difference_se`, the standard error of the model's AUC minus theirs."""
    test = frames["test"]
    y = labels_of(test)
    out: dict[str, dict | None] = {}

    def compared(metrics: dict, scores: np.ndarray) -> dict:
        if model_probabilities is not None:
            metrics["roc_auc_difference_se"] = auc_difference_se(y, model_probabilities, scores)
        return metrics

    if bgnbd is not None:
        metrics, expected = bgnbd_metrics(bgnbd, test)
        out["bgnbd"] = compared(metrics, expected)
    else:
        out["bgnbd"] = {"unavailable": bgnbd_unavailable or "not fitted"}
    rfm = rfm_scores(test)
    out["rfm"] = None if rfm is None else compared(ranking_metrics(y, rfm), rfm)
    pipeline = fit_logistic_regression(
        frames["train"],
        spec,
        max_rows=config.baselines.logistic_regression_max_rows,
        c=config.baselines.logistic_regression_c,
    )
    lr = logistic_regression_scores(pipeline, test, spec)
    out["logistic_regression"] = compared(probability_metrics(y, lr), lr)
    oracle = oracle_probabilities(conn, test, horizon_days)
    out["oracle"] = None if oracle is None else probability_metrics(y, oracle)
    return out
