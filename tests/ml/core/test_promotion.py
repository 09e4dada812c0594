"""The one promotion rule: beat every compared baseline (within the noise allowance), then stay
within the margin of the champion on the same window."""

from __future__ import annotations

from ml.core.promotion import Rule, baselines_not_beaten, decide

AUC = Rule("roc_auc", "AUC", margin=0.005)
BASELINES = {"rfm": {"roc_auc": 0.70}, "logistic_regression": {"roc_auc": 0.72}}


def test_a_first_model_is_promoted_only_when_it_beats_every_baseline():
    decision = decide({"roc_auc": 0.75}, BASELINES, None, AUC)
    assert decision.promoted and decision.status == "candidate"
    assert decision.reason.startswith("Promoted: first champion")
    decision = decide({"roc_auc": 0.71}, BASELINES, None, AUC)
    assert not decision.promoted and decision.status == "rejected"
    assert "does not beat the baseline(s) logistic_regression 0.7200" in decision.reason


def test_the_oracle_and_unevaluated_baselines_are_no_obstacle():
    others = BASELINES | {"oracle": {"roc_auc": 0.90}, "bgnbd": None, "x": {"unavailable": "?"}}
    assert decide({"roc_auc": 0.75}, others, None, AUC).promoted


def test_a_challenger_is_compared_with_the_champion_within_the_margin():
    champion = {"model_version": "v1", "metrics": {"roc_auc": 0.760}}
    assert decide({"roc_auc": 0.770}, BASELINES, champion, AUC).promoted
    assert decide({"roc_auc": 0.756}, BASELINES, champion, AUC).promoted
    kept = decide({"roc_auc": 0.750}, BASELINES, champion, AUC)
    assert not kept.promoted and kept.status == "candidate"
    assert kept.reason.startswith("Kept as candidate") and "0.7600" in kept.reason
    # beating the champion is not enough when a baseline is not beaten
    weak_champion = {"model_version": "v1", "metrics": {"roc_auc": 0.60}}
    assert decide({"roc_auc": 0.715}, BASELINES, weak_champion, AUC).status == "rejected"


def test_a_champion_that_cannot_score_the_window_does_not_block_and_is_reported():
    broken = {"model_version": "v1", "metrics": None, "error": "feature x is missing"}
    decision = decide({"roc_auc": 0.75}, BASELINES, broken, AUC)
    assert decision.promoted
    assert "could not score this window: feature x is missing" in decision.reason


def test_the_noise_allowance_forgives_a_gap_within_its_standard_errors():
    noisy = Rule("roc_auc", "AUC", margin=0.005, noise_z=1.645)
    level = {"logistic_regression": {"roc_auc": 0.7808, "roc_auc_difference_se": 0.004}}
    assert decide({"roc_auc": 0.7784}, level, None, noisy).promoted
    assert (
        "is level with logistic_regression"
        in decide({"roc_auc": 0.7784}, level, None, noisy).reason
    )
    assert not decide({"roc_auc": 0.7784}, level, None, AUC).promoted
    behind = {"logistic_regression": {"roc_auc": 0.80, "roc_auc_difference_se": 0.004}}
    lost = decide({"roc_auc": 0.7784}, behind, None, noisy)
    assert lost.status == "rejected" and "by more than 1.645 standard errors" in lost.reason


def test_must_beat_and_the_baseline_margin_choose_what_counts():
    ndcg = Rule("ndcg@10", "ndcg@10", margin=0.005, baseline_margin=0.01, must_beat=("popularity",))
    baselines = {"popularity": {"ndcg@10": 0.30}, "item_knn": {"ndcg@10": 0.50}}
    assert baselines_not_beaten({"ndcg@10": 0.305}, baselines, ndcg) == ["popularity"]
    assert decide({"ndcg@10": 0.32}, baselines, None, ndcg).promoted  # item_knn does not count
