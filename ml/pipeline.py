"""Entry points for the orchestrator and the CLI: train + register, and score + monitor.

Both take an open psycopg2 connection and return a JSON-serialisable summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from ml.bgnbd import BgnbdFit, fit_at
from ml.config import PropensityConfig, load_config
from ml.evaluate import evaluate_baselines, oracle_ratios, probability_metrics, verdict
from ml.features import (
    FeatureMismatchError,
    UserSample,
    first_data_day,
    label_horizon,
    label_status,
    labels_of,
    load_as_of_dates,
    load_training_frame,
    prepare_matrix,
    training_sample,
)
from ml.guards import check_frames, check_labels_mature
from ml.jsonsafe import jsonable
from ml.monitoring import (
    DriftBlockedError,
    drift_metrics,
    latest_failures,
    load_reference,
    realized_metrics,
    write_metrics,
)
from ml.registry import (
    RegisteredModel,
    baselines_not_beaten,
    decide_promotion,
    get_champion,
    promote,
    register,
)
from ml.report import build_report
from ml.score import resolve_model, score_propensity, scoring_frame
from ml.train import TrainingResult, split_by_window, train_model
from ml.windows import WINDOW_NAMES, TimeWindows, plan_windows

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


@dataclass
class Decision:
    promoted: bool
    status: str  # registry status before promotion: candidate or rejected
    reason: str
    verdict: str


def _scalars(metrics: dict | None) -> dict | None:
    if metrics is None:
        return None
    return {k: metrics.get(k) for k in SUMMARY_METRICS if k in metrics}


def recent_champion(
    conn, as_of: date, config: PropensityConfig, horizon_days: int
) -> tuple[RegisteredModel | None, str | None]:
    """(the champion, None) when it may stay without retraining: trained less than
    `retrain_after_days` before `as_of`, for the mart's label horizon, and its latest
    monitoring run recorded no fail; else (None, why it is retrained or None without one)."""
    champion = get_champion(conn, config.model_name, with_artifact=False)
    if champion is None:
        return None, None
    age = (as_of - champion.training_cutoff).days
    if not 0 <= age < config.retrain_after_days:
        return None, None
    if champion.label_horizon_days != horizon_days:
        return None, (
            f"champion {champion.model_version} predicts {champion.label_horizon_days} days, "
            f"the labels mart now has a {horizon_days}-day horizon"
        )
    failures = latest_failures(conn, config.model_name, champion.model_version)
    if failures:
        return None, (
            f"champion {champion.model_version}'s latest monitoring failed ({', '.join(failures)})"
        )
    return champion, None


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
        raise ValueError(
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
    conn.commit()  # end the read transaction: no locks held while training
    frames = split_by_window(frame, windows)
    check_frames(frames, config.guards)
    return TrainingData(windows, frames, horizon, sample)


def evaluate_champion(champion: RegisteredModel | None, test: pd.DataFrame) -> dict | None:
    """The champion's metrics on the candidate's test window, or why it could not be scored."""
    if champion is None:
        return None
    section: dict = {"model_version": champion.model_version, "metrics": None}
    try:
        probabilities = champion.load().predict(test)
    except FeatureMismatchError as exc:
        section["error"] = str(exc)
        return section
    section["metrics"] = probability_metrics(labels_of(test), probabilities)
    return section


def decide(
    model_metrics: dict, baselines: dict, champion: dict | None, config: PropensityConfig
) -> Decision:
    """Apply the promotion rule; a model that loses to a baseline is rejected outright."""
    available = {k: v for k, v in baselines.items() if v is not None}
    champion_metrics = champion["metrics"] if champion else None
    margin = config.promotion.baseline_margin
    z = config.promotion.baseline_noise_z
    promoted, reason = decide_promotion(
        model_metrics, champion_metrics, config.promotion.auc_margin, available, margin, noise_z=z
    )
    if champion and champion_metrics is None:
        reason += f" The champion could not score this window: {champion['error']}"
    failed = baselines_not_beaten(model_metrics, available, margin, noise_z=z)
    status = "candidate" if promoted or not failed else "rejected"
    return Decision(promoted, status, reason, verdict(model_metrics, available, margin, z))


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


def train_and_register(
    conn, *, as_of: date, config: PropensityConfig | None = None, force: bool = False
) -> dict:
    """Guard, train, evaluate against baselines and the champion, register, and promote when the
    rule allows it. `as_of` is the training cut-off: no data on or after it is used.

    A champion trained less than `retrain_after_days` before `as_of` is kept without training
    (status "skipped") unless `force` is true.
    """
    cfg = config or load_config()
    horizon = label_horizon(conn)
    recent, retrain_reason = (None, None) if force else recent_champion(conn, as_of, cfg, horizon)
    if recent is not None:
        return _skipped_summary(recent, as_of, cfg)
    data = load_training_data(conn, as_of, cfg)
    windows, frames = data.windows, data.frames
    bgnbd, bgnbd_unavailable = fit_bgnbd(frames, windows, data.horizon_days, cfg)

    result = train_model(frames, cfg, bgnbd)
    prepared = {name: result.model.prepare(frame) for name, frame in frames.items()}
    test = prepared["test"]
    probabilities = result.model.probabilities(prepare_matrix(test, result.model.spec))
    model_metrics = probability_metrics(labels_of(test), probabilities)
    baselines = evaluate_baselines(
        conn,
        prepared,
        result.model.spec,
        cfg,
        probabilities,
        horizon_days=data.horizon_days,
        bgnbd=bgnbd,
        bgnbd_unavailable=bgnbd_unavailable,
    )
    champion = evaluate_champion(get_champion(conn, cfg.model_name), frames["test"])
    decision = decide(model_metrics, baselines, champion, cfg)
    metrics = registry_metrics(result, data, model_metrics, baselines, champion)

    version = register(
        conn,
        model_name=cfg.model_name,
        artifact=result.model.to_artifact(),
        windows=windows.as_dict(),
        label_horizon_days=data.horizon_days,
        params={
            "lightgbm": result.params,
            "num_boost_round": cfg.lightgbm.num_boost_round,
            "early_stopping_rounds": cfg.lightgbm.early_stopping_rounds,
            "calibration": result.model.calibrator.to_dict(),
            "bgnbd": None if bgnbd is None else bgnbd.to_dict(),
            "bgnbd_as_feature": result.model.bgnbd is not None,
        },
        features=result.model.spec.to_dict(),
        metrics=metrics,
        status=decision.status,
        verdict=decision.verdict,
        decision_reason=decision.reason,
    )
    if decision.promoted:
        promote(conn, cfg.model_name, version, reason=decision.reason)
    build_report(conn, cfg.model_name, version)
    final = get_champion(conn, cfg.model_name, with_artifact=False)
    is_champion = final is not None and final.model_version == version
    return jsonable(
        {
            "model_name": cfg.model_name,
            "model_version": version,
            "status": "champion" if is_champion else decision.status,
            "promoted": decision.promoted,
            "decision_reason": decision.reason,
            "verdict": decision.verdict,
            "retrain_reason": retrain_reason,
            "horizon_days": data.horizon_days,
            "metrics": _scalars(model_metrics),
            "baselines": {k: _scalars(v) for k, v in baselines.items()},
            "bgnbd_unavailable": bgnbd_unavailable,
            "champion_on_same_window": (
                {
                    "model_version": champion["model_version"],
                    **(_scalars(champion["metrics"]) or {}),
                }
                if champion
                else None
            ),
            "oracle_ratios": metrics["oracle_ratios"],
            "windows": windows.as_dict(),
            "rows": metrics["rows"],
            "training_sample": metrics["training_sample"],
            "features": len(result.model.spec.features),
            "best_iteration": result.best_iteration,
        }
    )


def fit_bgnbd(
    frames: dict[str, pd.DataFrame], windows: TimeWindows, horizon: int, config: PropensityConfig
) -> tuple[BgnbdFit | None, str | None]:
    """BG/NBD fitted on the last training date (point in time: data before it), or why not."""
    return fit_at(frames["train"], windows.train[-1], horizon, config.bgnbd.min_customers)


def _skipped_summary(recent: RegisteredModel, as_of: date, config: PropensityConfig) -> dict:
    return jsonable(
        {
            "model_name": config.model_name,
            "model_version": recent.model_version,
            "status": "skipped",
            "promoted": False,
            "decision_reason": (
                f"Champion {recent.model_version} was trained with cut-off "
                f"{recent.training_cutoff}, less than retrain_after_days="
                f"{config.retrain_after_days} before {as_of}; it stays. Use force to retrain."
            ),
            "verdict": recent.verdict,
            "metrics": _scalars(recent.metrics.get("model")),
        }
    )


def score(conn, *, score_date: date, config: PropensityConfig | None = None) -> dict:
    """Score every user as of `score_date` with the champion, then record drift and realized
    performance and refresh the champion's report.

    Drift of the day is computed before the scores are written: with `drift.on_fail: block`
    a failing feature or score PSI records the monitoring rows and raises DriftBlockedError
    without publishing (the last published scores stay). Any fail makes the next training run
    retrain (see `recent_champion`)."""
    cfg = config or load_config()
    record = resolve_model(conn, cfg.model_name, None)
    model = record.load()
    frame = scoring_frame(conn, score_date)
    drift = drift_metrics(model, frame, score_date, cfg.drift, load_reference(conn, score_date))
    conn.commit()
    blocking = [f"{r['metric']} {r['value']:.3f}" for r in drift if r["status"] == "fail"]
    if blocking and cfg.drift.on_fail == "block":
        write_metrics(conn, record.model_name, record.model_version, drift)
        build_report(conn, cfg.model_name, record.model_version)
        raise DriftBlockedError(
            f"Drift check failed for {score_date} ({', '.join(blocking)}, fail at "
            f"psi_fail={cfg.drift.psi_fail} / score_psi_fail={cfg.drift.score_psi_fail}): the "
            f"scores of {score_date} were not published and the last published scores stay. "
            "The next training run retrains the model; see ml.model_monitoring and the "
            "report. Set drift.on_fail: retrain in the propensity config to publish anyway."
        )
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
