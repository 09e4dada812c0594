"""Entry points for the orchestrator and the CLI: train + register, and score + monitor.

Both take an open psycopg2 connection and return a JSON-serialisable summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from ml.core import lifecycle
from ml.core.errors import NotEnoughDataError
from ml.core.frames import prepare_matrix
from ml.core.jsonsafe import jsonable
from ml.core.lifecycle import Candidate, Evaluation, ModelSpec, champion_section
from ml.core.promotion import Rule
from ml.core.registry import RegisteredModel, get_model
from ml.core.tx import transaction
from ml.propensity.bgnbd import BgnbdFit, fit_at
from ml.propensity.config import PropensityConfig, load_config
from ml.propensity.evaluate import evaluate_baselines, oracle_ratios, probability_metrics, verdict
from ml.propensity.features import (
    UserSample,
    first_data_day,
    label_horizon,
    label_status,
    labels_of,
    load_as_of_dates,
    load_training_frame,
    training_sample,
)
from ml.propensity.guards import check_frames, check_labels_mature
from ml.propensity.model import PropensityModel, load_model
from ml.propensity.monitoring import (
    DriftBlockedError,
    drift_metrics,
    latest_failures,
    load_reference,
    realized_metrics,
    write_metrics,
)
from ml.propensity.report import build_report
from ml.propensity.score import score_propensity, scoring_frame
from ml.propensity.train import TrainingResult, split_by_window, train_model
from ml.propensity.windows import WINDOW_NAMES, TimeWindows, plan_windows

SUMMARY_METRICS = (
    "roc_auc",
    "pr_auc",
    "log_loss",
    "brier",
    "lift_top10",
    "capture_top10",
    "lift_top20",
    "capture_top20",
    "base_rate",
    "mean_predicted",
    "calibration_in_the_large",
    "distinct_scores",
    "largest_tie_share",
)


def _scalars(metrics: dict | None) -> dict | None:
    if metrics is None:
        return None
    return {k: metrics.get(k) for k in SUMMARY_METRICS if k in metrics}


def stale(conn, champion: RegisteredModel) -> str | None:
    """Why a recent champion must still be retrained: it predicts another horizon than the
    labels mart's, or its latest monitoring run recorded a fail (None: it may stay)."""
    horizon = label_horizon(conn)
    if champion.label_horizon_days != horizon:
        return (
            f"champion {champion.model_version} predicts {champion.label_horizon_days} days, "
            f"the labels mart now has a {horizon}-day horizon"
        )
    failures = latest_failures(conn, champion.model_name, champion.model_version)
    if failures:
        return (
            f"champion {champion.model_version}'s latest monitoring failed ({', '.join(failures)})"
        )
    return None


@dataclass
class TrainingData:
    windows: TimeWindows
    frames: dict[str, pd.DataFrame]
    horizon_days: int
    sample: UserSample | None


def load_training_data(conn, as_of: date, config: PropensityConfig) -> TrainingData:
    """Read the horizon from the labels mart, plan the windows on the mart's grid dates, run
    every data guard, and load one frame per window (a sample of whole users for training
    when it would exceed `windows.max_train_rows`)."""
    horizon = label_horizon(conn)
    as_of_dates = load_as_of_dates(conn)
    if as_of_dates.empty:
        raise NotEnoughDataError(
            "marts.dim_as_of_dates is empty: load source data and run dbt build before training."
        )
    windows = plan_windows(
        as_of,
        as_of_dates.loc[as_of_dates["is_grid_date"].astype(bool), "as_of_date"],
        horizon,
        config.windows,
        first_data_day=first_data_day(as_of_dates),
        purge_days=config.purge_days(horizon),
    )
    check_labels_mature(label_status(conn, windows.all_dates), windows)
    w = config.windows
    sample = training_sample(as_of_dates, windows.train, w.max_train_rows, w.sample_seed)
    frame = load_training_frame(conn, windows.all_dates, horizon, sample)
    frames = split_by_window(frame, windows)
    check_frames(frames, config.guards)
    return TrainingData(windows, frames, horizon, sample)


def evaluate_champion(champion: RegisteredModel | None, test: pd.DataFrame) -> dict | None:
    """The champion's metrics on the candidate's test window, or why it could not be scored."""
    if champion is None:
        return None
    return champion_section(
        champion,
        lambda record: probability_metrics(labels_of(test), load_model(record).predict(test)),
    )


def headline_metrics(model_metrics: dict, ratios: dict | None, baselines: dict) -> dict:
    """Top-level scalars of the registry's metrics (easy to query: metrics->>'auc')."""
    out = {k: model_metrics[k] for k in SUMMARY_METRICS}
    out["auc"] = model_metrics["roc_auc"]
    out["auc_vs_oracle"] = (ratios or {}).get("auc_ratio_to_oracle")
    out["bgnbd_auc"] = (baselines.get("bgnbd") or {}).get("roc_auc")
    return out


def registry_metrics(
    result: TrainingResult,
    data: TrainingData,
    model_metrics: dict,
    baselines: dict,
    champion: dict | None,
) -> dict:
    """Everything the registry keeps about one version's evaluation."""
    frames = data.frames
    oracle_auc = (baselines.get("oracle") or {}).get("roc_auc")
    ratios = oracle_ratios(model_metrics["roc_auc"], oracle_auc) if oracle_auc else None
    return {
        **headline_metrics(model_metrics, ratios, baselines),
        "horizon_days": data.horizon_days,
        "training_sample": None if data.sample is None else data.sample.to_dict(),
        "model": model_metrics,
        "baselines": baselines,
        "champion": champion,
        "oracle_ratios": ratios,
        "validation_auc": result.validation_auc,
        "best_iteration": result.best_iteration,
        "feature_importance": result.model.feature_importance(),
        "rows": {name: len(frames[name]) for name in WINDOW_NAMES},
        "positives": {name: int(labels_of(frames[name]).sum()) for name in WINDOW_NAMES},
    }


def fit_bgnbd(
    frames: dict[str, pd.DataFrame], windows: TimeWindows, horizon: int, config: PropensityConfig
) -> tuple[BgnbdFit | None, str | None]:
    """BG/NBD fitted on the last training date (point in time: data before it), or why not."""
    return fit_at(frames["train"], windows.train[-1], horizon, config.bgnbd.min_customers)


def rule(config: PropensityConfig) -> Rule:
    """The promotion rule on AUC, with the noise allowance towards the baselines."""
    p = config.promotion
    return Rule("roc_auc", "AUC", p.auc_margin, p.baseline_margin, p.baseline_noise_z)


@dataclass
class Fitted:
    result: TrainingResult
    bgnbd: BgnbdFit | None
    bgnbd_unavailable: str | None
    prepared: dict[str, pd.DataFrame]
    probabilities: np.ndarray


def fit(data: TrainingData, config: PropensityConfig) -> Fitted:
    """BG/NBD on the last training date, then LightGBM and its calibration; the test window's
    calibrated probabilities."""
    bgnbd, unavailable = fit_bgnbd(data.frames, data.windows, data.horizon_days, config)
    result = train_model(data.frames, config, bgnbd)
    prepared = {name: result.model.prepare(frame) for name, frame in data.frames.items()}
    test = prepared["test"]
    probabilities = result.model.probabilities(prepare_matrix(test, result.model.spec))
    return Fitted(result, bgnbd, unavailable, prepared, probabilities)


def evaluate(
    conn,
    data: TrainingData,
    fitted: Fitted,
    champion: RegisteredModel | None,
    config: PropensityConfig,
) -> Evaluation:
    """The model, the baselines (and the oracle) and the champion on the test window."""
    model = fitted.result.model
    model_metrics = probability_metrics(labels_of(fitted.prepared["test"]), fitted.probabilities)
    baselines = evaluate_baselines(
        conn,
        fitted.prepared,
        model.spec,
        config,
        fitted.probabilities,
        horizon_days=data.horizon_days,
        bgnbd=fitted.bgnbd,
        bgnbd_unavailable=fitted.bgnbd_unavailable,
    )
    if champion is not None:
        champion = get_model(conn, champion.model_name, champion.model_version)
    on_window = evaluate_champion(champion, data.frames["test"])
    metrics = registry_metrics(fitted.result, data, model_metrics, baselines, on_window)
    available = {k: v for k, v in baselines.items() if v is not None}
    p = config.promotion
    return Evaluation(
        model=model_metrics,
        baselines=available,
        champion=on_window,
        metrics=metrics,
        verdict=verdict(model_metrics, available, p.baseline_margin, p.baseline_noise_z),
        summary={
            "horizon_days": data.horizon_days,
            "metrics": _scalars(model_metrics),
            "baselines": {k: _scalars(v) for k, v in baselines.items()},
            "bgnbd_unavailable": fitted.bgnbd_unavailable,
            "champion_on_same_window": (
                {
                    "model_version": on_window["model_version"],
                    **(_scalars(on_window["metrics"]) or {}),
                }
                if on_window
                else None
            ),
            "oracle_ratios": metrics["oracle_ratios"],
            "windows": data.windows.as_dict(),
            "rows": metrics["rows"],
            "training_sample": metrics["training_sample"],
            "features": len(model.spec.features),
            "best_iteration": fitted.result.best_iteration,
        },
    )


def candidate(data: TrainingData, fitted: Fitted, config: PropensityConfig) -> Candidate:
    result = fitted.result
    return Candidate(
        artifact=result.model.to_artifact(),
        windows=data.windows.as_dict(),
        label_horizon_days=data.horizon_days,
        params={
            "lightgbm": result.params,
            "num_boost_round": config.lightgbm.num_boost_round,
            "early_stopping_rounds": config.lightgbm.early_stopping_rounds,
            "calibration": result.model.calibrator.to_dict(),
            "bgnbd": None if fitted.bgnbd is None else fitted.bgnbd.to_dict(),
            "bgnbd_as_feature": result.model.bgnbd is not None,
        },
        features=result.model.spec.to_dict(),
    )


def model_spec(config: PropensityConfig | None = None) -> ModelSpec:
    """The propensity model's part of the lifecycle."""
    cfg = config or load_config()
    return ModelSpec(
        name=cfg.model_name,
        retrain_after_days=cfg.retrain_after_days,
        rule=rule(cfg),
        load=lambda conn, as_of, champion: load_training_data(conn, as_of, cfg),
        fit=lambda data: fit(data, cfg),
        evaluate=lambda conn, data, fitted, champion: evaluate(conn, data, fitted, champion, cfg),
        candidate=lambda data, fitted: candidate(data, fitted, cfg),
        report=build_report,
        headline=_scalars,
        stale=stale,
        load_model=load_model,
        publish=lambda conn, record, model, score_date: publish(
            conn, record, model, score_date, cfg
        ),
        how_to_train="python -m ml train --as-of ...",
    )


def train_and_register(
    conn, *, as_of: date, config: PropensityConfig | None = None, force: bool = False
) -> dict:
    """Guard, train, evaluate against baselines and the champion, register, and promote when the
    rule allows (`ml.core.lifecycle.train_and_register`). `as_of` is the training cut-off."""
    return lifecycle.train_and_register(conn, model_spec(config), as_of, force)


def score(conn, *, score_date: date, config: PropensityConfig | None = None) -> dict:
    """Score every user as of `score_date` with the champion, then record drift and realized
    performance and refresh the champion's report.

    Drift of the day is computed before the scores are written: with `drift.on_fail: block`
    a failing feature or score PSI records the monitoring rows and raises DriftBlockedError
    without publishing (the last published scores stay). Any fail makes the next training run
    retrain (see `stale`)."""
    return lifecycle.score(conn, model_spec(config), score_date)


def publish(
    conn,
    record: RegisteredModel,
    model: PropensityModel,
    score_date: date,
    config: PropensityConfig,
) -> dict:
    """Drift of the day, then (unless drift blocks) the scores of `score_date` into
    `ml.propensity_scores` and `marts.propensity_latest`, realized performance and the report."""
    cfg = config
    with transaction(conn):  # the read transaction ends here: no locks held while computing
        frame = scoring_frame(conn, score_date)
        drift = drift_metrics(model, frame, score_date, cfg.drift, load_reference(conn, score_date))
    blocking = [f"{r['metric']} {r['value']:.3f}" for r in drift if r["status"] == "fail"]
    if blocking and cfg.drift.on_fail == "block":
        with transaction(conn):
            write_metrics(conn, record.model_name, record.model_version, drift)
            build_report(conn, cfg.model_name, record.model_version)
        raise DriftBlockedError(
            f"Drift check failed for {score_date} ({', '.join(blocking)}, fail at "
            f"psi_fail={cfg.drift.psi_fail} / score_psi_fail={cfg.drift.score_psi_fail}): the "
            f"scores of {score_date} were not published and the last published scores stay. "
            "The next training run retrains the model; see ml.model_monitoring and the "
            "report. Set drift.on_fail: retrain in the propensity config to publish anyway."
        )
    with transaction(conn):
        rows = score_propensity(
            conn,
            score_date,
            model_name=cfg.model_name,
            batch_size=cfg.scoring.batch_size,
            refresh_view=True,
            record=record,
            frame=frame,
        )
        monitoring = drift + realized_metrics(conn, record, score_date, cfg.drift)
        write_metrics(conn, record.model_name, record.model_version, monitoring)
        build_report(conn, cfg.model_name, record.model_version)
    flagged: dict[str, list[str]] = {"warn": [], "fail": []}
    for row in monitoring:
        if row["status"] in flagged:
            flagged[row["status"]].append(f"{row['metric']}@{row['metric_date']}")
    worst = "fail" if flagged["fail"] else "warn" if flagged["warn"] else "ok"
    score_mean = next((r["value"] for r in monitoring if r["metric"] == "score_mean"), None)
    return jsonable(
        {
            "model_name": cfg.model_name,
            "model_version": record.model_version,
            "score_date": score_date,
            "rows": rows,
            "mean_probability": score_mean,
            "monitoring_status": worst,
            "monitoring_warn": flagged["warn"],
            "monitoring_fail": flagged["fail"],
            "retrain_at_next_training": bool(flagged["fail"]),
        }
    )
