"""Comparing the model with its baselines on one test window: the paired standard error of an
AUC difference, and a gap within it counted as level, not as a loss."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from ml.config import load_config
from ml.evaluate import auc_difference_se, verdict
from ml.pipeline import decide


def _window(rows: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels and two scores that share most of their signal, as two models of one shop do."""
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=rows)
    y = (signal + rng.normal(size=rows) > 0.8).astype(int)
    a = signal + rng.normal(scale=0.6, size=rows)
    b = signal + rng.normal(scale=0.7, size=rows)
    return y, a, b


def test_auc_difference_se_matches_a_paired_bootstrap():
    y, a, b = _window(3000)
    rng = np.random.default_rng(1)
    diffs = []
    for _ in range(400):
        i = rng.integers(0, len(y), len(y))
        diffs.append(roc_auc_score(y[i], a[i]) - roc_auc_score(y[i], b[i]))
    bootstrap_se = float(np.std(diffs))
    assert auc_difference_se(y, a, b) == pytest.approx(bootstrap_se, rel=0.2)


def test_auc_difference_se_is_zero_for_identical_scores_and_shrinks_with_rows():
    y, a, b = _window(2000)
    assert auc_difference_se(y, a, a) == pytest.approx(0.0, abs=1e-12)
    y_big, a_big, b_big = _window(20000)
    assert auc_difference_se(y_big, a_big, b_big) < auc_difference_se(y, a, b) / 2


def test_auc_difference_se_needs_both_classes():
    with pytest.raises(ValueError, match="at least two purchasers and two non-purchasers"):
        auc_difference_se(np.array([1, 0, 0, 0]), np.arange(4.0), np.arange(4.0))


def _metrics(auc: float, se: float | None = None) -> dict:
    return {"roc_auc": auc} | ({} if se is None else {"roc_auc_difference_se": se})


@pytest.mark.parametrize(
    ("lr_auc", "promoted", "status", "words"),
    [
        # 0.0024 behind, standard error 0.004: chance on this window, level with the baseline
        (0.7808, True, "candidate", "is level with the logistic regression"),
        # 0.0216 behind: more than 1.645 standard errors, a real loss
        (0.8000, False, "rejected", "does NOT beat the logistic regression"),
    ],
)
def test_first_model_level_with_a_baseline_is_promoted_and_a_clear_loss_is_not(
    lr_auc, promoted, status, words
):
    baselines = {"rfm": _metrics(0.70, 0.01), "logistic_regression": _metrics(lr_auc, 0.004)}
    decision = decide(_metrics(0.7784), baselines, None, load_config())
    assert (decision.promoted, decision.status) == (promoted, status), decision.reason
    assert words in decision.verdict
    if not promoted:
        assert "by more than 1.645 standard errors" in decision.reason


def test_without_the_noise_allowance_any_gap_to_a_baseline_loses():
    baselines = {"logistic_regression": _metrics(0.7808, 0.004)}
    strict = load_config(promotion__baseline_noise_z=0)
    decision = decide(_metrics(0.7784), baselines, None, strict)
    assert not decision.promoted and decision.status == "rejected"
    assert "does NOT beat" in verdict(_metrics(0.7784), baselines, 0.0, 0.0)
