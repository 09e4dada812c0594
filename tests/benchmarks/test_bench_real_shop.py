"""The real-shop stage's numbers: the comparison it reads from a registry entry, and the rows the
benchmark report renders from them (including a horizon whose model was not promoted)."""

from __future__ import annotations

import pytest

from tests.benchmarks import run_all
from tests.benchmarks.bench_real_shop import comparison


def registry_metrics(model_auc: float, rfm_auc: float, rfm_se: float | None) -> dict:
    model = {
        "roc_auc": model_auc,
        "pr_auc": 0.61,
        "rows": 4938,
        "positives": 2400,
        "base_rate": 0.486,
        "mean_predicted": 0.5,
    }
    return {
        "model": model,
        "baselines": {
            "rfm": {"roc_auc": rfm_auc, "pr_auc": 0.6, "roc_auc_difference_se": rfm_se},
            "logistic_regression": {
                "roc_auc": 0.85,
                "pr_auc": 0.62,
                "roc_auc_difference_se": 0.004,
            },
            "oracle": None,
        },
    }


def test_comparison_gives_each_baseline_its_margin_and_standard_error():
    out = comparison(registry_metrics(0.86, 0.84, 0.008))
    assert out["roc_auc"] == 0.86 and out["test_rows"] == 4938
    assert set(out["baselines"]) == {"rfm", "logistic_regression"}  # no oracle on a real shop
    rfm = out["baselines"]["rfm"]
    assert rfm["auc_margin"] == pytest.approx(0.02) and rfm["auc_margin_se"] == 0.008
    assert rfm["margin_in_se"] == pytest.approx(2.5)
    lr = out["baselines"]["logistic_regression"]
    assert lr["auc_margin"] == pytest.approx(0.01) and lr["margin_in_se"] == pytest.approx(2.5)
    assert (
        comparison(registry_metrics(0.86, 0.84, None))["baselines"]["rfm"]["margin_in_se"] is None
    )


def stage_numbers() -> dict:
    def horizon(h: int, scored: bool) -> dict:
        steps = {"prepare": 0.1, "load": 60.0, "gates": 8.0, "dbt_build": 70.0, "train": 12.0}
        if scored:
            steps["score"] = 3.0
        return {
            "import_through_scores_s": sum(steps.values()) - 0.1,
            "steps_s": steps,
            "status": "champion" if scored else "rejected",
            "published_scores": {"users": 2469} if scored else None,
            "propensity": comparison(registry_metrics(0.86, 0.84 if scored else 0.9, 0.008)),
        }

    return {
        "households": 2469,
        "rows": {"orders": 155848, "order_items": 1469307},
        "first_order_ts": "2017-01-01T11:53:26Z",
        "last_order_ts": "2018-01-01T04:01:20Z",
        "as_of": "2018-01-02",
        "adapter_s": 6.4,
        "target_s": 300,
        "horizons": {
            "7": horizon(7, True),
            "30": horizon(30, False),
            "90": {
                "import_through_scores_s": 90.0,
                "steps_s": {"load": 60.0, "dbt_build": 30.0, "train": 0.5},
                "status": "not_trained",
                "not_trained": "Training needs 400 days of data (365 days).",
                "published_scores": None,
            },
        },
    }


def test_report_rows_show_time_per_step_and_every_baseline_honestly():
    first, seven, thirty, ninety = run_all.real_shop_rows(stage_numbers())
    assert "2,469 households, 155,848 orders, 1,469,307 lines" in first[0]
    assert "7 days: **153 s** (load 60, dbt build 70, gates 8, train 12, score 3)" in first[1]
    assert "30 days: **150 s** (load 60, dbt build 70, gates 8, train 12, not scored)" in first[1]
    assert "AUC **0.860**" in seven[1] and seven[1].endswith("champion")
    assert "RFM rule AUC 0.840, PR AUC 0.600 (margin +0.020, SE 0.008: +2.5 SE)" in seven[2]
    assert "BG/NBD: not among this revision's baselines" in seven[2]
    assert thirty[1].endswith("rejected, not scored")
    assert "RFM rule AUC 0.900, PR AUC 0.600 (margin -0.040, SE 0.008: -5.0 SE)" in thirty[2]
    assert "90 days: **90 s** (load 60, dbt build 30, train 0, not scored)" in first[1]
    assert ninety[1:] == ("not trained", "Training needs 400 days of data (365 days).")
    assert "real shop propensity AUC (90d)" not in run_all.headline("real_shop", stage_numbers())


def test_the_stage_runs_once_and_stays_out_of_the_growth_table():
    plans = {name: run_all.stage_plan(size) for name, size in run_all.SIZES.items()}
    kwargs = {
        name: dict((s, k) for s, _, k, _ in plan)["real_shop"] for name, plan in plans.items()
    }
    assert kwargs["small"] == {"horizons": [7, 30]}
    assert all(k is None for name, k in kwargs.items() if name != "small")
    n = stage_numbers()
    entry = {"size": {"users": 1}, "stages": {"real_shop": {"ok": True, "numbers": n}}}
    report = {"sizes": {"small": entry, "medium": entry}}
    assert not any(
        "real shop" in line for line in run_all.growth_table(report, ["small", "medium"])
    )
