"""Drift (PSI) against the training population and realized performance of matured scores."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from ml.config import DriftConfig, load_config
from ml.drift import (
    categorical_profile,
    numeric_profile,
    population_stability_index,
    shares,
)
from ml.features import load_scoring_frame
from ml.monitoring import (
    DriftBlockedError,
    drift_metrics,
    latest_failures,
    load_monitoring,
    monitor_propensity,
    status_for,
)
from ml.pipeline import score, train_and_register
from ml.registry import get_champion, get_model
from ml.score import score_propensity


def test_psi_is_zero_for_the_same_population_and_large_for_a_shift():
    rng = np.random.default_rng(0)
    reference = rng.normal(0, 1, 20_000)
    profile = numeric_profile(np.append(reference, [np.nan] * 100), bins=10)
    assert sum(profile["shares"]) == pytest.approx(1.0)
    same = shares(np.append(reference, [np.nan] * 100), profile)
    assert population_stability_index(profile["shares"], same) == pytest.approx(0.0, abs=1e-12)
    shifted = shares(rng.normal(1.0, 1, 20_000), profile)
    assert population_stability_index(profile["shares"], shifted) > 0.25
    similar = shares(np.append(rng.normal(0, 1, 20_000), [np.nan] * 100), profile)
    assert population_stability_index(profile["shares"], similar) < 0.01


def test_categorical_profile_puts_unseen_levels_in_their_own_bin():
    profile = categorical_profile(pd.Series(["DE", "FR", "DE", None], dtype="str"))
    assert profile["levels"] == ["DE", "FR"]
    np.testing.assert_allclose(profile["shares"], [0.5, 0.25, 0.0, 0.25])
    np.testing.assert_allclose(
        shares(np.array(["PL", "DE"], dtype=object), profile), [0.5, 0, 0.5, 0]
    )


def test_status_thresholds():
    assert status_for(0.05, 0.1, 0.25) == "ok"
    assert status_for(0.1, 0.1, 0.25) == "warn"
    assert status_for(0.3, 0.1, 0.25) == "fail"
    assert status_for(None, 0.1, 0.25) == "ok"


def test_scoring_records_drift_and_realized_metrics(champion_db, marts, config):
    conn, summary = champion_db
    past = marts.grid_date_before(marts.cutoff - timedelta(days=20))  # 7-day labels matured
    score_propensity(conn, past)
    result = score(conn, score_date=marts.cutoff, config=config)
    assert result["model_version"] == summary["model_version"]
    assert result["rows"] == int((marts.features["as_of_date"] == marts.cutoff).sum())
    assert result["monitoring_status"] in ("ok", "warn", "fail")

    rows = load_monitoring(conn, "propensity", summary["model_version"])
    today = rows[rows["metric_date"] == marts.cutoff].set_index("metric")
    record = get_champion(conn, "propensity", with_artifact=False)
    for feature in record.features["features"]:
        assert f"psi:{feature}" in today.index
    assert {"psi_max", "score_psi", "score_mean"} <= set(today.index)
    assert set(rows["status"]) <= {"ok", "warn", "fail"}

    realized = rows[rows["metric_date"] == past].set_index("metric")
    assert 0.5 < realized.loc["realized_auc", "value"] < 1.0
    assert 0 <= realized.loc["realized_calibration_error", "value"] < 0.2

    # re-running replaces rows instead of duplicating them
    monitor_propensity(conn, get_champion(conn, "propensity"), marts.cutoff, DriftConfig())
    again = load_monitoring(conn, "propensity", summary["model_version"])
    assert len(again) == len(rows)


def test_features_that_move_by_construction_compare_with_the_previous_as_of_date(
    champion_db, marts, config
):
    conn, _ = champion_db
    model = get_champion(conn, "propensity").load()
    assert "tenure_days" in model.spec.features
    today = load_scoring_frame(conn, marts.cutoff)
    previous = marts.grid_date_before(marts.cutoff - timedelta(days=1))
    before = load_scoring_frame(conn, previous)
    # two months later every user is two months older: against training that is drift ...
    aged = today.assign(tenure_days=today["tenure_days"] + 60)
    aged_before = before.assign(tenure_days=before["tenure_days"] + 60)
    rows = drift_metrics(model, aged, marts.cutoff, config.drift, (previous, aged_before))
    tenure = next(r for r in rows if r["metric"] == "psi:tenure_days")
    assert tenure["details"]["psi_vs_training"] > config.drift.psi_fail
    # ... by construction: against the previous as-of date it is not
    assert tenure["status"] != "fail" and tenure["value"] < config.drift.psi_warn
    assert tenure["details"]["compared_with"] == f"as_of_date {previous}"
    # a real break in such a feature still fails
    broken = today.assign(tenure_days=0)
    rows = drift_metrics(model, broken, marts.cutoff, config.drift, (previous, before))
    assert next(r for r in rows if r["metric"] == "psi:tenure_days")["status"] == "fail"
    # without an earlier date it is recorded against training, without thresholds
    rows = drift_metrics(model, aged, marts.cutoff, config.drift, None)
    tenure = next(r for r in rows if r["metric"] == "psi:tenure_days")
    assert tenure["status"] == "ok" and tenure["fail_threshold"] is None
    # other features keep comparing with the training population
    orders = next(r for r in rows if r["metric"] == "psi:orders_30d")
    assert "details" not in orders or not orders["details"]


def _scores_of(conn, day) -> int:
    with conn.cursor() as cur:
        cur.execute("select to_regclass('ml.propensity_scores') is not null")
        if not cur.fetchone()[0]:
            return 0
        cur.execute("select count(*) from ml.propensity_scores where score_date = %s", (day,))
        return cur.fetchone()[0]


def test_a_drift_fail_blocks_publishing_when_asked_and_forces_the_next_retrain(marts_db, marts):
    first = train_and_register(marts_db, as_of=marts.cutoff, config=load_config())
    touchy = {"psi_warn": 0.0, "psi_fail": 1e-9, "score_psi_fail": 1e-9}
    block = load_config(drift=touchy | {"on_fail": "block"})
    with pytest.raises(DriftBlockedError, match=r"were not published.*next training run retrains"):
        score(marts_db, score_date=marts.cutoff, config=block)
    assert _scores_of(marts_db, marts.cutoff) == 0
    failures = latest_failures(marts_db, "propensity", first["model_version"])
    assert f"psi_max@{marts.cutoff}" in failures
    report = get_model(marts_db, "propensity", first["model_version"], with_artifact=False)
    assert "psi_max" in report.report_html

    # the default rule publishes and flags the retrain
    published = score(marts_db, score_date=marts.cutoff, config=load_config(drift=touchy))
    assert published["rows"] == _scores_of(marts_db, marts.cutoff) > 0
    assert published["retrain_at_next_training"] is True
    # the champion is a day old, yet its failed monitoring makes the next run retrain
    again = train_and_register(marts_db, as_of=marts.cutoff, config=load_config())
    assert again["status"] != "skipped"
    assert "latest monitoring failed" in again["retrain_reason"]
    # a clean monitoring run lets a recent champion stay
    lenient = load_config(drift={"psi_fail": 100.0, "score_psi_fail": 100.0})
    score(marts_db, score_date=marts.cutoff, config=lenient)
    champion = get_champion(marts_db, "propensity", with_artifact=False)
    assert latest_failures(marts_db, "propensity", champion.model_version) == []
    kept = train_and_register(marts_db, as_of=marts.cutoff, config=load_config())
    assert kept["status"] == "skipped"
