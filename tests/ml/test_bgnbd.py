"""BG/NBD on the feature mart: the summaries read from the lifetime columns, the fit on the last
training date, and the baseline every propensity evaluation compares with and promotes by."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from ml import bgnbd
from ml.config import load_config
from ml.pipeline import decide, train_and_register
from ml.registry import get_model

A = date(2024, 3, 1)


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": ["never", "once", "repeat", "same_day_twice"],
            "as_of_date": [A] * 4,
            "tenure_days": [40, 30, 100, 10],
            "purchase_days_lifetime": [0, 1, 4, 1],
            "purchases_lifetime": [0, 1, 5, 2],
            "revenue_lifetime": [0.0, 20.0, 150.0, 30.0],
            "days_since_first_purchase": [np.nan, 12, 90, 5],
            "days_since_last_purchase": [np.nan, 12, 3, 5],
        }
    )


def test_summaries_follow_the_documented_conventions():
    x, t_x, T, bought = bgnbd.summaries(_frame())
    # no purchase: x = 0, t_x = 0, T = tenure; one purchase day: x = 0, T = days since it
    np.testing.assert_array_equal(x, [0, 0, 3, 0])
    np.testing.assert_array_equal(t_x, [0, 0, 87, 0])
    np.testing.assert_array_equal(T, [40, 12, 90, 5])
    np.testing.assert_array_equal(bought, [False, True, True, True])


def test_inconsistent_lifetime_columns_are_refused():
    broken = _frame().assign(days_since_last_purchase=[np.nan, 12, 95, 5])
    with pytest.raises(ValueError, match="1 rows have purchase days but no first/last purchase"):
        bgnbd.summaries(broken)
    with pytest.raises(ValueError, match=r"needs the feature mart columns \['tenure_days'\]"):
        bgnbd.summaries(_frame().drop(columns=["tenure_days"]))


def test_fit_needs_the_columns_and_enough_purchasers():
    fit, why = bgnbd.fit_at(_frame().drop(columns=["days_since_first_purchase"]), A, 7, 2)
    assert fit is None and "has no days_since_first_purchase" in why
    fit, why = bgnbd.fit_at(_frame(), A, 7, 100)
    assert fit is None and why == (
        "only 3 users had purchased before 2024-03-01, fewer than bgnbd.min_customers=100"
    )


def test_the_last_training_date_is_fitted_and_the_expectation_grows_with_the_horizon(marts):
    last = marts.grid_dates[20]
    fit, why = bgnbd.fit_at(marts.features, last, 7, 50)
    assert why is None and fit.fitted_on == last
    rows = marts.features[marts.features["as_of_date"] == last]
    assert fit.customers == int((rows["purchase_days_lifetime"] >= 1).sum())
    assert fit.spend is not None and fit.spend.q > 1
    assert bgnbd.BgnbdFit.from_dict(fit.to_dict()) == fit
    longer = bgnbd.BgnbdFit.from_dict(fit.to_dict() | {"horizon_days": 30})
    week, month = bgnbd.expected_purchases(fit, rows), bgnbd.expected_purchases(longer, rows)
    assert (month > week).all()
    revenue = bgnbd.expected_revenue(fit, rows)
    assert revenue is not None and (revenue > 0).all()


def _metrics(auc: float, se: float | None = None) -> dict:
    return {"roc_auc": auc} | ({} if se is None else {"roc_auc_difference_se": se})


def test_a_model_that_trails_bgnbd_beyond_the_noise_is_not_promoted():
    baselines = {
        "bgnbd": _metrics(0.84, 0.005),
        "rfm": _metrics(0.80, 0.01),
        "logistic_regression": _metrics(0.81, 0.01),
    }
    decision = decide(_metrics(0.82), baselines, None, load_config())
    assert not decision.promoted and decision.status == "rejected"
    assert "bgnbd 0.8400" in decision.reason
    assert "does NOT beat the BG/NBD (AUC 0.840)" in decision.verdict
    # within 1.645 standard errors it is level, and promoted
    level = baselines | {"bgnbd": _metrics(0.825, 0.005)}
    decision = decide(_metrics(0.82), level, None, load_config())
    assert decision.promoted and "level with the BG/NBD" in decision.verdict
    # a BG/NBD that could not be fitted is no obstacle
    missing = baselines | {"bgnbd": {"unavailable": "the feature mart has no tenure_days"}}
    assert decide(_metrics(0.82), missing, None, load_config()).promoted


def test_every_evaluation_scores_bgnbd_and_the_registry_and_report_show_it(champion_db):
    conn, summary = champion_db
    record = get_model(conn, "propensity", summary["model_version"], with_artifact=False)
    baseline = record.metrics["baselines"]["bgnbd"]
    assert 0.5 < baseline["roc_auc"] < record.metrics["model"]["roc_auc"]
    assert baseline["roc_auc_difference_se"] > 0
    assert record.metrics["bgnbd_auc"] == baseline["roc_auc"]
    fit = baseline["fit"]
    assert fit["fitted_on"] == record.windows["train"]["end"]
    assert fit["horizon_days"] == record.label_horizon_days == 7
    assert fit["seconds"] < 5
    assert baseline["spend"]["expected_revenue"] > 0
    assert record.params["bgnbd"]["params"] == fit["params"]
    assert "BG/NBD" in summary["verdict"]
    html = record.report_html
    for part in ("<h2>BG/NBD</h2>", "Gamma-Gamma", "Model against each baseline", "in SEs"):
        assert part in html, part
    assert "Mean predicted − purchase rate" in html and "Distinct scores" in html


def test_marts_without_lifetime_columns_train_without_bgnbd_and_say_why(warehouse, marts):
    from tests.ml.factories import load_marts

    load_marts(warehouse, marts)
    with warehouse.cursor() as cur:
        cur.execute("alter table marts.fct_user_features_daily drop column purchase_days_lifetime")
    warehouse.commit()
    summary = train_and_register(warehouse, as_of=marts.cutoff, config=load_config())
    assert "purchase_days_lifetime" in summary["bgnbd_unavailable"]
    record = get_model(warehouse, "propensity", summary["model_version"])
    assert record.load().bgnbd is None
    assert record.load().calibrator.to_dict()["method"] == "platt"
    assert "No BG/NBD baseline or feature for this version" in record.report_html
