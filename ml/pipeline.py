"""Entry points for the orchestrator and the CLI: train + register, and score + monitor.

Both take an open psycopg2 connection and return a JSON-serialisable summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from ml.config import PropensityConfig, load_config
from ml.evaluate import evaluate_baselines, oracle_ratios, probability_metrics, verdict
from ml.features import (
    FeatureMismatchError,
    check_label_horizon,
    first_feature_date,
    label_status,
    labels_of,
    load_training_frame,
)
from ml.guards import check_frames, check_history, check_labels_mature
from ml.jsonsafe import jsonable
from ml.monitoring import monitor_propensity
from ml.registry import (
    RegisteredModel,
    baselines_not_beaten,
    decide_promotion,
    get_champion,
    promote,
    register,
)
from ml.report import build_report
from ml.score import resolve_model, score_propensity
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


def recent_champion(conn, as_of: date, config: PropensityConfig) -> RegisteredModel | None:
    """The champion when it was trained less than `retrain_after_days` before `as_of`."""
    champion = get_champion(conn, config.model_name, with_artifact=False)
    if champion is None:
        return None
    age = (as_of - champion.training_cutoff).days
    return champion if 0 <= age < config.retrain_after_days else None


def load_training_data(
    conn, as_of: date, config: PropensityConfig
) -> tuple[TimeWindows, dict[str, pd.DataFrame]]:
    """Plan the windows, run every data guard, and load one frame per window."""
    windows = check_history(
        first_feature_date(conn),
        plan_windows(as_of, config),
        config.windows.min_history_days,
        config.windows.min_train_dates,
    )
    check_label_horizon(conn, windows.all_dates, config.label_horizon_days)
    check_labels_mature(label_status(conn, windows.all_dates), windows)
    frame = load_training_frame(conn, windows.all_dates, config.label_horizon_days)
    conn.commit()  # end the read transaction: no locks held while training
    frames = split_by_window(frame, windows)
    check_frames(frames, config.guards)
    return windows, frames


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


def headline_metrics(model_metrics: dict, ratios: dict | None) -> dict:
    """Top-level scalars of the registry's metrics (easy to query: metrics->>'auc')."""
    out = {k: model_metrics[k] for k in SUMMARY_METRICS}
    out["auc"] = model_metrics["roc_auc"]
    out["auc_vs_oracle"] = (ratios or {}).get("auc_ratio_to_oracle")
    return out


def registry_metrics(
    result: TrainingResult,
    frames: dict[str, pd.DataFrame],
    model_metrics: dict,
    baselines: dict,
    champion: dict | None,
) -> dict:
    """Everything the registry keeps about one version's evaluation."""
    oracle_auc = (baselines.get("oracle") or {}).get("roc_auc")
    ratios = oracle_ratios(model_metrics["roc_auc"], oracle_auc) if oracle_auc else None
    return {
        **headline_metrics(model_metrics, ratios),
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
    recent = None if force else recent_champion(conn, as_of, cfg)
    if recent is not None:
        return _skipped_summary(recent, as_of, cfg)
    windows, frames = load_training_data(conn, as_of, cfg)

    result = train_model(frames, cfg)
    test = frames["test"]
    probabilities = result.model.predict(test)
    model_metrics = probability_metrics(labels_of(test), probabilities)
    baselines = evaluate_baselines(conn, frames, result.model.spec, cfg, probabilities)
    champion = evaluate_champion(get_champion(conn, cfg.model_name), test)
    decision = decide(model_metrics, baselines, champion, cfg)
    metrics = registry_metrics(result, frames, model_metrics, baselines, champion)

    version = register(
        conn,
        model_name=cfg.model_name,
        artifact=result.model.to_artifact(),
        windows=windows.as_dict(),
        label_horizon_days=cfg.label_horizon_days,
        params={
            "lightgbm": result.params,
            "num_boost_round": cfg.lightgbm.num_boost_round,
            "early_stopping_rounds": cfg.lightgbm.early_stopping_rounds,
            "calibration": result.model.calibrator.to_dict(),
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
            "metrics": _scalars(model_metrics),
            "baselines": {k: _scalars(v) for k, v in baselines.items()},
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
            "features": len(result.model.spec.features),
            "best_iteration": result.best_iteration,
        }
    )


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
    performance and refresh the champion's report."""
    cfg = config or load_config()
    record = resolve_model(conn, cfg.model_name, None)
    rows = score_propensity(
        conn,
        score_date,
        model_name=cfg.model_name,
        model_version=record.model_version,
        batch_size=cfg.scoring.batch_size,
        refresh_view=True,
    )
    monitoring = monitor_propensity(conn, record, score_date, cfg.drift)
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
        }
    )
