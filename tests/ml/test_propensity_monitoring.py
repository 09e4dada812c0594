"""Drift (PSI) against the training population and realized performance of matured scores."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from ml.config import DriftConfig
from ml.drift import (
    categorical_profile,
    numeric_profile,
    population_stability_index,
    shares,
)
from ml.monitoring import load_monitoring, monitor_propensity, status_for
from ml.pipeline import score
from ml.registry import get_champion
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
