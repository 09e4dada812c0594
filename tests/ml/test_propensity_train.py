"""Training is deterministic, explains its scores exactly, and copes with orders-only data."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from ml.bgnbd import FEATURE as BGNBD_FEATURE
from ml.config import SHORT_HISTORY_CONFIG, load_config, packaged_config_path
from ml.evaluate import probability_metrics
from ml.features import labels_of, load_scoring_frame
from ml.model import PropensityModel
from ml.pipeline import fit_bgnbd, load_training_data, train_and_register
from ml.registry import get_model, list_models
from ml.score import score_propensity
from ml.train import train_model
from tests.ml.factories import load_marts, simulate

LIFETIME_AND_ORDER_FEATURES = {
    "tenure_days",
    "orders_7d",
    "orders_30d",
    "orders_90d",
    "revenue_7d",
    "revenue_30d",
    "revenue_90d",
    "avg_order_value_90d",
    "days_since_last_order",
    "purchases_lifetime",
    "purchase_days_lifetime",
    "revenue_lifetime",
    "days_since_first_purchase",
    "days_since_last_purchase",
    "avg_days_between_purchases",
    "purchases_per_30d",
    BGNBD_FEATURE,
}


def _training(conn, cutoff, config):
    """The frames and BG/NBD fit train_and_register uses."""
    data = load_training_data(conn, cutoff, config)
    fit, why = fit_bgnbd(data.frames, data.windows, data.horizon_days, config)
    assert why is None, why
    return data.frames, fit


@pytest.fixture(scope="module")
def training(readonly_marts_db, marts, config):
    return _training(readonly_marts_db, marts.cutoff, config)


@pytest.fixture(scope="module")
def frames(training):
    return training[0]


@pytest.fixture(scope="module")
def scoring(readonly_marts_db, marts):
    return load_scoring_frame(readonly_marts_db, marts.cutoff)


@pytest.fixture(scope="module")
def model(training, config):
    return train_model(*training[:1], config, training[1]).model


def test_same_data_and_config_give_the_same_model_and_scores(
    readonly_marts_db, marts, config, model, scoring
):
    reloaded, fit = _training(readonly_marts_db, marts.cutoff, config)
    again = train_model(reloaded, config, fit).model
    assert again.model_string == model.model_string
    assert again.to_artifact() == model.to_artifact()
    np.testing.assert_array_equal(again.predict(scoring), model.predict(scoring))


def test_artifact_round_trip_scores_identically(model, scoring):
    restored = PropensityModel.from_artifact(model.to_artifact())
    np.testing.assert_array_equal(model.predict(scoring), restored.predict(scoring))
    assert restored.spec == model.spec
    assert restored.bgnbd == model.bgnbd is not None


def test_the_bgnbd_feature_is_the_training_time_transform_everywhere(model, frames, scoring):
    """Fitted on the last training date only, stored in the artifact, recomputed from each
    frame's own lifetime columns: the same user and date give the same value in every path."""
    assert BGNBD_FEATURE in model.spec.features
    assert model.bgnbd.fitted_on == max(frames["train"]["as_of_date"])
    restored = PropensityModel.from_artifact(model.to_artifact())
    np.testing.assert_array_equal(
        restored.matrix(scoring)[BGNBD_FEATURE], model.matrix(scoring)[BGNBD_FEATURE]
    )
    assert (model.matrix(scoring)[BGNBD_FEATURE] > 0).all()
    # a recent repeat buyer expects more purchases than a one-time buyer of long ago
    prepared = model.prepare(scoring).set_index("user_id")
    repeat = prepared[(prepared["purchase_days_lifetime"] >= 3)]
    lapsed = prepared[
        (prepared["purchase_days_lifetime"] == 1) & (prepared["days_since_last_purchase"] > 45)
    ]
    assert repeat[BGNBD_FEATURE].median() > 1.5 * lapsed[BGNBD_FEATURE].median()
    # a scoring frame without the lifetime columns cannot be scored
    with pytest.raises(ValueError, match="purchase_days_lifetime"):
        model.predict(scoring.drop(columns=["purchase_days_lifetime"]))


def test_shap_contributions_plus_base_value_equal_the_raw_score(model, scoring):
    matrix = model.matrix(scoring)
    contributions = model.contributions(matrix)
    assert contributions.shape == (len(matrix), len(model.spec.features) + 1)
    np.testing.assert_allclose(contributions.sum(axis=1), model.raw_scores(matrix), atol=1e-9)
    # the base value (last column) is the same for every user
    assert np.ptp(contributions[:, -1]) == 0


def test_platt_keeps_the_ranking_and_isotonic_is_monotone(training, scoring):
    frames, fit = training
    platt = train_model(frames, load_config(calibration={"method": "platt"}), fit).model
    matrix = platt.matrix(scoring)
    raw, probabilities = platt.raw_scores(matrix), platt.probabilities(matrix)
    assert ((probabilities > 0) & (probabilities < 1)).all()
    order = np.argsort(raw, kind="stable")
    np.testing.assert_array_equal(order, np.argsort(probabilities, kind="stable"))
    isotonic = load_config(calibration={"method": "isotonic"})
    iso = train_model(frames, isotonic, fit).model.probabilities(matrix)
    assert ((iso >= 0) & (iso <= 1)).all()
    assert np.all(np.diff(iso[order]) >= -1e-12)  # non-decreasing in the raw score


def test_platt_bgnbd_rises_with_the_raw_score_and_breaks_its_ties(model, scoring):
    assert model.calibrator.to_dict()["method"] == "platt_bgnbd"
    assert model.calibrator.slope > 0 and model.calibrator.bgnbd_slope >= 0.01
    matrix = model.matrix(scoring)
    raw, probabilities = model.raw_scores(matrix), model.probabilities(matrix)
    assert ((probabilities > 0) & (probabilities < 1)).all()
    # for a fixed BG/NBD expectation the probability rises with the raw score, and for a
    # fixed raw score with the expectation
    same = matrix.assign(**{BGNBD_FEATURE: 0.5})
    ordered = np.argsort(raw, kind="stable")
    assert np.all(np.diff(model.calibrator(raw, same)[ordered]) >= 0)
    more = matrix.assign(**{BGNBD_FEATURE: matrix[BGNBD_FEATURE] * 2})
    assert np.all(model.calibrator(raw, more) > probabilities)


def test_platt_bgnbd_orders_the_users_platt_leaves_tied(warehouse):
    """Orders-only data: many users share every tree leaf (no recent order, one lifetime
    purchase). Platt publishes them as one probability and their deciles fall by row order;
    platt_bgnbd orders them by purchase history, at no cost in AUC."""
    shop = simulate(n_users=2000, n_days=120, seed=11, orders_only=True)
    load_marts(warehouse, shop, with_truth=False)
    results = {}
    for method in ("platt", "platt_bgnbd"):
        config = load_config(calibration={"method": method})
        frames, fit = _training(warehouse, shop.cutoff, config)
        model = train_model(frames, config, fit).model
        probabilities = model.predict(frames["test"])
        results[method] = probability_metrics(labels_of(frames["test"]), probabilities)
    platt, ours = results["platt"], results["platt_bgnbd"]
    assert platt["largest_tie_share"] > 0.2 and platt["tied_decile_boundaries"] >= 5
    # what stays tied is users with the same purchase history to the day
    assert ours["largest_tie_share"] < 0.01 and ours["tied_decile_boundaries"] <= 3
    assert ours["distinct_scores"] > 4 * platt["distinct_scores"]
    assert ours["roc_auc"] >= platt["roc_auc"] - 0.002
    assert abs(ours["calibration_in_the_large"]) < 0.02


def test_orders_only_data_trains_and_scores(warehouse, orders_only_marts, config):
    load_marts(warehouse, orders_only_marts, with_truth=False)
    summary = train_and_register(warehouse, as_of=orders_only_marts.cutoff, config=config)
    record = get_model(warehouse, "propensity", summary["model_version"], with_artifact=False)
    used = set(record.features["features"])
    assert BGNBD_FEATURE in used and used <= LIFETIME_AND_ORDER_FEATURES
    assert "views_7d" in record.features["dropped"]
    assert record.metrics["baselines"]["oracle"] is None
    assert summary["metrics"]["roc_auc"] > 0.6
    if summary["status"] != "champion":  # orders-only may not beat the RFM rule; score anyway
        assert summary["status"] == "rejected"
    rows = score_propensity(
        warehouse, orders_only_marts.cutoff, model_version=summary["model_version"]
    )
    assert rows == int((orders_only_marts.features["as_of_date"] == orders_only_marts.cutoff).sum())


@pytest.mark.parametrize(
    ("horizon", "days", "purge"), [(7, 90, None), (30, 200, None), (90, 420, 30)]
)
def test_training_takes_the_horizon_from_the_labels_mart(warehouse, horizon, days, purge):
    """7, 30 and 90 days: the windows, the labels, the BG/NBD expectation and the registry all
    follow the horizon the mart was built with (a 90-day horizon with a 30-day purge: four
    90-day purges would need 14 months of data before the first training date)."""
    shop = simulate(n_users=300, n_days=days, seed=3, horizon=horizon)
    load_marts(warehouse, shop)
    config = load_config(
        windows={"purge_days": purge}, guards={"min_train_rows": 500, "min_eval_rows": 100}
    )
    summary = train_and_register(warehouse, as_of=shop.cutoff, config=config)
    assert summary["horizon_days"] == horizon
    windows = summary["windows"]
    assert windows["horizon_days"] == horizon
    assert windows["test"]["end"] == str(
        shop.grid_date_before(shop.cutoff - timedelta(days=horizon))
    )
    record = get_model(warehouse, "propensity", summary["model_version"])
    assert record.label_horizon_days == horizon
    assert record.load().bgnbd.horizon_days == horizon
    assert record.metrics["baselines"]["bgnbd"]["fit"]["horizon_days"] == horizon
    assert summary["metrics"]["roc_auc"] > 0.6
    assert summary["status"] in ("champion", "rejected")


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
    last_test = young.grid_date_before(young.cutoff - timedelta(days=7))
    assert summary["windows"]["test"]["end"] == str(last_test)
    assert summary["metrics"]["roc_auc"] > 0.6
