"""Benchmark: propensity training and scoring.

1. Training: the configured LightGBM (early stopping on the validation window) next to
   scikit-learn's HistGradientBoostingClassifier with matching settings, on the same prepared
   matrix from the simulated feature marts; fit time and test-window ROC AUC of each.
2. Scoring: throughput of `score_propensity` (read features from PostgreSQL, predict, SHAP
   reasons, COPY into ml.propensity_scores, refresh the view) for a large population, with the
   time of each step.

Run from the repository root (the synthetic marts come from tests/ml/factories.py):

    .venv/bin/python -m tests.benchmarks.bench_train_score [--train-users 20000] \\
        [--score-users 120000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date, timedelta

import numpy as np
import psycopg2
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from aimass.testing import temporary_database
from aimass.warehouse import ensure_layout
from ml.bgnbd import fit_at
from ml.config import load_config
from ml.features import labels_of, load_scoring_frame, load_training_frame, prepare_matrix
from ml.registry import promote, register
from ml.score import score_frame, score_propensity, write_scores
from ml.train import split_by_window, train_model
from ml.windows import plan_windows
from tests.benchmarks.common import peak_rss_mb
from tests.ml.factories import is_grid_date, load_marts, simulate

N_DAYS = 90
START = date(2024, 1, 1)
HORIZON = 7  # the factory's label horizon


CPU_SECONDS: list[float] = []


def _timed(fn, *args, **kwargs):
    """(result, wall seconds); the process CPU seconds are appended to CPU_SECONDS."""
    start, cpu = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    CPU_SECONDS.append(time.process_time() - cpu)
    return result, time.perf_counter() - start


def hist_gradient_boosting(frames, spec, config) -> HistGradientBoostingClassifier:
    """HistGradientBoosting with the LightGBM settings translated, validated on the same
    validation window (native categorical support via the pandas category dtype)."""
    params = config.lightgbm.params
    model = HistGradientBoostingClassifier(
        learning_rate=params["learning_rate"],
        max_iter=config.lightgbm.num_boost_round,
        max_leaf_nodes=params["num_leaves"],
        min_samples_leaf=params["min_data_in_leaf"],
        l2_regularization=params["lambda_l2"],
        max_features=params["feature_fraction"],
        categorical_features="from_dtype",
        early_stopping=True,
        scoring="roc_auc",
        n_iter_no_change=config.lightgbm.early_stopping_rounds,
        random_state=params["seed"],
    )
    model.fit(
        prepare_matrix(frames["train"], spec),
        labels_of(frames["train"]),
        X_val=prepare_matrix(frames["validation"], spec),
        y_val=labels_of(frames["validation"]),
    )
    return model


def bench_training(train_users: int) -> tuple[object, dict, dict]:
    config = load_config()
    cutoff = START + timedelta(days=N_DAYS)
    grid = [d for d in (START + timedelta(days=a) for a in range(1, N_DAYS)) if is_grid_date(d, 3)]
    windows = plan_windows(cutoff, grid, HORIZON, config.windows, first_data_day=START)
    offsets = {(d - START).days for d in windows.all_dates}
    marts = simulate(n_users=train_users, n_days=N_DAYS, start=START, seed=7, as_of_days=offsets)
    with temporary_database("aimass_bench") as url:
        conn = psycopg2.connect(url)
        try:
            ensure_layout(conn)
            _, load_s = _timed(load_marts, conn, marts)
            frame, read_s = _timed(load_training_frame, conn, windows.all_dates, HORIZON)
        finally:
            conn.close()
    frames = split_by_window(frame, windows)
    fit, _ = fit_at(frames["train"], windows.train[-1], HORIZON, config.bgnbd.min_customers)
    result, lgb_s = _timed(train_model, frames, config, fit)
    frames = {name: result.model.prepare(part) for name, part in frames.items()}
    lgb_cpu = CPU_SECONDS[-1]
    test_y = labels_of(frames["test"])
    lgb_auc = roc_auc_score(test_y, result.model.predict(frames["test"]))
    with threadpool_limits(config.lightgbm.params["num_threads"]):
        hgb, hgb_s = _timed(hist_gradient_boosting, frames, result.model.spec, config)
    hgb_cpu = CPU_SECONDS[-1]
    hgb_auc = roc_auc_score(
        test_y, hgb.predict_proba(prepare_matrix(frames["test"], result.model.spec))[:, 1]
    )
    numbers = {
        "train_users": train_users,
        "train_rows": len(frames["train"]),
        "validation_rows": len(frames["validation"]),
        "test_rows": len(frames["test"]),
        "features": len(result.model.spec.features),
        "mart_load_s": round(load_s, 2),
        "frame_read_s": round(read_s, 2),
        "lightgbm_fit_s": round(lgb_s, 2),
        "lightgbm_cpu_s": round(lgb_cpu, 2),
        "lightgbm_trees": result.best_iteration,
        "lightgbm_auc": round(float(lgb_auc), 4),
        "hist_gbm_fit_s": round(hgb_s, 2),
        "hist_gbm_cpu_s": round(hgb_cpu, 2),
        "hist_gbm_iterations": int(hgb.n_iter_),
        "hist_gbm_auc": round(float(hgb_auc), 4),
        "time_ratio_lightgbm_to_hist_gbm": round(lgb_s / hgb_s, 3),
        "auc_lightgbm_minus_hist_gbm": round(float(lgb_auc - hgb_auc), 4),
    }
    return result, {"windows": windows.as_dict(), "config": config}, numbers


def bench_scoring(result, meta: dict, score_users: int, repeat: int) -> dict:
    config = meta["config"]
    marts = simulate(n_users=score_users, n_days=N_DAYS, start=START, seed=3, as_of_days={N_DAYS})
    score_date = START + timedelta(days=N_DAYS)
    with temporary_database("aimass_bench") as url:
        conn = psycopg2.connect(url)
        try:
            ensure_layout(conn)
            load_marts(conn, marts, with_truth=False)
            version = register(
                conn,
                model_name="propensity",
                artifact=result.model.to_artifact(),
                windows=meta["windows"],
                label_horizon_days=HORIZON,
                params=result.params,
                features=result.model.spec.to_dict(),
                metrics={},
            )
            promote(conn, "propensity", version)
            frame, read_s = _timed(load_scoring_frame, conn, score_date)
            scores, predict_s = _timed(score_frame, result.model, frame, config.scoring.batch_size)
            predict_cpu = CPU_SECONDS[-1]
            _, write_s = _timed(
                write_scores,
                conn,
                scores,
                score_date=score_date,
                model_name="propensity",
                model_version=version,
                batch_size=config.scoring.batch_size,
                view_model_name="propensity",
            )
            runs = [_timed(score_propensity, conn, score_date) for _ in range(repeat)]
            rows, total_s = min(runs, key=lambda r: r[1])
            with conn.cursor() as cur:
                cur.execute("select count(*) from marts.propensity_latest")
                (count,) = cur.fetchone()
            assert count == len(frame) == rows, (count, len(frame), rows)
        finally:
            conn.close()
    return {
        "score_users": len(frame),
        "read_s": round(read_s, 2),
        "predict_and_reasons_s": round(predict_s, 2),
        "predict_cpu_s": round(predict_cpu, 2),
        "write_s": round(write_s, 2),
        "score_propensity_s": round(total_s, 2),
        "users_per_s": round(rows / total_s),
        "all_score_propensity_s": [round(s, 2) for _, s in runs],
    }


def run(train_users: int = 20_000, score_users: int = 120_000, repeat: int = 2) -> dict:
    """Training (LightGBM next to HistGradientBoosting) and scoring numbers."""
    np.seterr(all="ignore")
    result, meta, training = bench_training(train_users)
    scoring = bench_scoring(result, meta, score_users, repeat)
    return {"training": training, "scoring": scoring, "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-users", type=int, default=20_000)
    parser.add_argument("--score-users", type=int, default=120_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    print(json.dumps(run(args.train_users, args.score_users, args.repeat), indent=2))


if __name__ == "__main__":
    main()
