"""Training is deterministic, explains its scores exactly, and copes with orders-only data."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from ml.config import SHORT_HISTORY_CONFIG, load_config, packaged_config_path
from ml.features import load_scoring_frame, load_training_frame
from ml.model import PropensityModel
from ml.pipeline import train_and_register
from ml.registry import get_model, list_models
from ml.score import score_propensity
from ml.train import split_by_window, train_model
from ml.windows import plan_windows
from tests.ml.factories import load_marts, simulate


def _frames(conn, cutoff, config):
    windows = plan_windows(cutoff, config)
    frame = load_training_frame(conn, windows.all_dates, config.label_horizon_days)
    return split_by_window(frame, windows)


@pytest.fixture(scope="module")
def frames(readonly_marts_db, marts, config):
    return _frames(readonly_marts_db, marts.cutoff, config)


@pytest.fixture(scope="module")
def scoring(readonly_marts_db, marts):
    return load_scoring_frame(readonly_marts_db, marts.cutoff)


@pytest.fixture(scope="module")
def model(frames, config):
    return train_model(frames, config).model


def test_same_data_and_config_give_the_same_model_and_scores(
    readonly_marts_db, marts, config, model, scoring
):
    reloaded = _frames(readonly_marts_db, marts.cutoff, config)
    again = train_model(reloaded, config).model
    assert again.model_string == model.model_string
    assert again.to_artifact() == model.to_artifact()
    np.testing.assert_array_equal(again.predict(scoring), model.predict(scoring))


def test_artifact_round_trip_scores_identically(model, scoring):
    restored = PropensityModel.from_artifact(model.to_artifact())
    np.testing.assert_array_equal(model.predict(scoring), restored.predict(scoring))
    assert restored.spec == model.spec


def test_shap_contributions_plus_base_value_equal_the_raw_score(model, scoring):
    matrix = model.matrix(scoring)
    contributions = model.contributions(matrix)
    assert contributions.shape == (len(matrix), len(model.spec.features) + 1)
    np.testing.assert_allclose(contributions.sum(axis=1), model.raw_scores(matrix), atol=1e-9)
    # the base value (last column) is the same for every user
    assert np.ptp(contributions[:, -1]) == 0


def test_calibration_keeps_the_ranking_and_stays_in_range(model, scoring, frames):
    matrix = model.matrix(scoring)
    raw, probabilities = model.raw_scores(matrix), model.probabilities(matrix)
    assert ((probabilities > 0) & (probabilities < 1)).all()
    order = np.argsort(raw, kind="stable")
    np.testing.assert_array_equal(order, np.argsort(probabilities, kind="stable"))
    isotonic = load_config(calibration={"method": "isotonic"})
    iso = train_model(frames, isotonic).model.probabilities(matrix)
    assert ((iso >= 0) & (iso <= 1)).all()
    assert np.all(np.diff(iso[order]) >= -1e-12)  # non-decreasing in the raw score


def test_orders_only_data_trains_and_scores(warehouse, orders_only_marts, config):
    load_marts(warehouse, orders_only_marts, with_truth=False)
    summary = train_and_register(warehouse, as_of=orders_only_marts.cutoff, config=config)
    record = get_model(warehouse, "propensity", summary["model_version"], with_artifact=False)
    used = set(record.features["features"])
    assert used <= {
        "tenure_days",
        "orders_7d",
        "orders_30d",
        "orders_90d",
        "revenue_7d",
        "revenue_30d",
        "revenue_90d",
        "avg_order_value_90d",
        "days_since_last_order",
    }
    assert "views_7d" in record.features["dropped"]
    assert record.metrics["baselines"]["oracle"] is None
    assert summary["metrics"]["roc_auc"] > 0.6
    if summary["status"] != "champion":  # orders-only may not beat the RFM rule; score anyway
        assert summary["status"] == "rejected"
    rows = score_propensity(
        warehouse, orders_only_marts.cutoff, model_version=summary["model_version"]
    )
    assert rows == int((orders_only_marts.features["as_of_date"] == orders_only_marts.cutoff).sum())


def test_pipeline_reruns_give_the_same_version(marts_db, marts, config):
    first = train_and_register(marts_db, as_of=marts.cutoff, config=config)
    forced = train_and_register(marts_db, as_of=marts.cutoff, config=config, force=True)
    assert forced["model_version"] == first["model_version"]
    assert forced["metrics"] == first["metrics"]
    assert forced["status"] == "champion"
    assert len(list_models(marts_db, "propensity")) == 1


def test_a_recent_champion_is_kept_without_training(marts_db, marts, config):
    first = train_and_register(marts_db, as_of=marts.cutoff - timedelta(days=2), config=config)
    kept = train_and_register(marts_db, as_of=marts.cutoff, config=config)
    assert kept["status"] == "skipped"
    assert kept["model_version"] == first["model_version"]
    assert "retrain_after_days=7" in kept["decision_reason"]
    every_day = load_config(retrain_after_days=0)
    retrained = train_and_register(marts_db, as_of=marts.cutoff, config=every_day)
    assert retrained["status"] != "skipped"
    assert retrained["model_version"] != first["model_version"]


def test_short_history_config_trains_where_the_defaults_refuse(warehouse):
    young = simulate(n_users=400, n_days=40, seed=5)
    load_marts(warehouse, young)
    with pytest.raises(ValueError, match="Not enough history"):
        train_and_register(warehouse, as_of=young.cutoff, config=load_config())
    short = load_config(packaged_config_path(SHORT_HISTORY_CONFIG))
    summary = train_and_register(warehouse, as_of=young.cutoff, config=short)
    assert summary["rows"]["train"] >= short.guards.min_train_rows
    assert summary["windows"]["test"]["end"] == str(young.cutoff - timedelta(days=7))
    assert summary["metrics"]["roc_auc"] > 0.6
