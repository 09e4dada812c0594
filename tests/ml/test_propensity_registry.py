"""The registry lifecycle: promotion rule in both directions, champion comparison on the same
window, forced promotion, rollback, artifact integrity."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ml.config import load_config
from ml.pipeline import train_and_register
from ml.registry import (
    decide_promotion,
    get_champion,
    get_model,
    list_models,
    promote,
    rollback,
)

BASELINES = {"rfm": {"roc_auc": 0.70}, "logistic_regression": {"roc_auc": 0.72}}


def test_first_model_is_promoted_only_when_it_beats_every_baseline():
    promoted, reason = decide_promotion({"roc_auc": 0.75}, None, 0.005, BASELINES)
    assert promoted and reason.startswith("Promoted: first champion")
    promoted, reason = decide_promotion({"roc_auc": 0.71}, None, 0.005, BASELINES)
    assert not promoted
    assert "does not beat the baseline(s) logistic_regression 0.7200" in reason
    # the oracle is a ceiling, not a baseline to beat
    with_oracle = BASELINES | {"oracle": {"roc_auc": 0.90}}
    assert decide_promotion({"roc_auc": 0.75}, None, 0.005, with_oracle)[0]


def test_challenger_is_compared_with_the_champion_within_the_margin():
    champion = {"roc_auc": 0.760}
    assert decide_promotion({"roc_auc": 0.770}, champion, 0.005, BASELINES)[0]
    assert decide_promotion({"roc_auc": 0.756}, champion, 0.005, BASELINES)[0]
    promoted, reason = decide_promotion({"roc_auc": 0.750}, champion, 0.005, BASELINES)
    assert not promoted
    assert reason.startswith("Kept as candidate") and "0.7600" in reason
    # beating the champion is not enough when a baseline is not beaten
    assert not decide_promotion({"roc_auc": 0.715}, {"roc_auc": 0.60}, 0.005, BASELINES)[0]


def test_champion_is_re_evaluated_on_the_challengers_window(marts_db, marts, config):
    first = train_and_register(marts_db, as_of=marts.cutoff - timedelta(days=1), config=config)
    assert first["status"] == "champion", first
    assert "beats" in first["verdict"]
    strict = load_config(promotion={"auc_margin": -0.5})  # must gain 0.5 AUC: impossible
    challenger = train_and_register(marts_db, as_of=marts.cutoff, config=strict, force=True)
    assert challenger["status"] == "candidate"
    assert challenger["decision_reason"].startswith("Kept as candidate")
    same_window = challenger["champion_on_same_window"]
    assert same_window["model_version"] == first["model_version"]
    # same test rows: same purchase rate, different scores
    assert same_window["base_rate"] == challenger["metrics"]["base_rate"]
    assert same_window["base_rate"] != first["metrics"]["base_rate"]
    assert get_champion(marts_db, "propensity").model_version == first["model_version"]
    assert [m.status for m in list_models(marts_db, "propensity")] == ["candidate", "champion"]


def test_weak_champion_is_replaced_and_rollback_restores_it(marts_db, marts):
    weak_config = load_config(  # one stump, held to beating every baseline outright
        lightgbm={"num_boost_round": 1, "params": {"num_leaves": 2}},
        bgnbd={"as_feature": False},
        promotion={"baseline_noise_z": 0},
    )
    weak = train_and_register(marts_db, as_of=marts.cutoff - timedelta(days=1), config=weak_config)
    assert weak["status"] == "rejected", weak
    assert "does NOT beat" in weak["verdict"]
    with pytest.raises(ValueError, match="was rejected"):
        promote(marts_db, "propensity", weak["model_version"])
    promote(marts_db, "propensity", weak["model_version"], force=True)

    good = train_and_register(marts_db, as_of=marts.cutoff, config=load_config(), force=True)
    assert good["status"] == "champion", good
    assert good["champion_on_same_window"]["model_version"] == weak["model_version"]
    assert good["metrics"]["roc_auc"] > good["champion_on_same_window"]["roc_auc"]
    assert get_model(marts_db, "propensity", weak["model_version"]).status == "retired"

    assert rollback(marts_db, "propensity") == weak["model_version"]
    assert get_champion(marts_db, "propensity").model_version == weak["model_version"]
    rolled_back = get_model(marts_db, "propensity", good["model_version"])
    assert rolled_back.status == "rejected"
    assert rolled_back.decision_reason == f"rolled back to {weak['model_version']}"
    with pytest.raises(ValueError, match="no earlier champion"):
        rollback(marts_db, "propensity")


def test_corrupt_artifact_is_refused(champion_db):
    conn, summary = champion_db
    record = get_model(conn, "propensity", summary["model_version"])
    record.artifact = record.artifact[:-1] + bytes([record.artifact[-1] ^ 1])
    with pytest.raises(ValueError, match="is corrupt"):
        record.load()
    with pytest.raises(ValueError, match="known versions"):
        get_model(conn, "propensity", "19990101-deadbeef")


def test_a_rejected_version_re_evaluated_under_a_looser_rule_becomes_champion(
    marts_db, marts, config
):
    out_of_reach = load_config(promotion={"baseline_margin": 0.5})  # must beat baselines by 0.5
    rejected = train_and_register(marts_db, as_of=marts.cutoff, config=out_of_reach)
    assert rejected["status"] == "rejected", rejected
    again = train_and_register(marts_db, as_of=marts.cutoff, config=config, force=True)
    assert again["model_version"] == rejected["model_version"]
    assert again["status"] == "champion", again
    assert get_champion(marts_db, "propensity").model_version == again["model_version"]
