"""Entry points for the orchestrator and the CLI: train + evaluate + register the coupon uplift
model, and plan a campaign's target list with the champion. Both take an open psycopg2
connection and return a JSON-serialisable summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from ml.core import lifecycle, registry
from ml.core.errors import NotEnoughDataError
from ml.core.frames import load_scoring_frame
from ml.core.jsonsafe import jsonable
from ml.core.lifecycle import Candidate, Evaluation, ModelSpec, champion_section
from ml.core.promotion import Rule
from ml.core.registry import RegisteredModel, get_model
from ml.core.tx import transaction
from ml.uplift.config import UpliftConfig, load_config
from ml.uplift.data import (
    SPLITS,
    TREATMENT,
    VALUE,
    CampaignSplit,
    check_campaigns,
    check_train_frame,
    coupon_values,
    load_training_set,
    split_campaigns,
    split_frames,
)
from ml.uplift.evaluation import (
    LEARNER_LABELS,
    FittedCandidates,
    baseline_scores,
    evaluate_scores,
    fit_candidates,
    oracle_effects,
    per_value_qini,
    policy_values,
)
from ml.uplift.model import UpliftModel
from ml.uplift.policy import CampaignRequest, plan_targets, validate_request
from ml.uplift.report import build_report
from ml.uplift.targets import campaign_id_for, export_csv, write_targets

SUMMARY_METRICS = ("qini", "qini_true", "auuc", "uplift_at_10", "uplift_at_30", "ate", "rows")


def _scalars(metrics: dict | None) -> dict | None:
    if metrics is None:
        return None
    return {k: metrics.get(k) for k in SUMMARY_METRICS if k in metrics}


def _known_values(frame: pd.DataFrame, values: tuple[float, ...]) -> pd.DataFrame:
    """Control users and users treated with a value the model knows."""
    keep = (frame[TREATMENT] == 0) | frame[VALUE].isin(values)
    return frame[keep.to_numpy()].reset_index(drop=True)


def load_model(record: RegisteredModel) -> UpliftModel:
    """The registered uplift model, after checking its artifact's sha256."""
    return UpliftModel.from_artifact(record.verified_artifact())


@dataclass
class UpliftData:
    frame: pd.DataFrame
    split: CampaignSplit
    frames: dict[str, pd.DataFrame]
    values: tuple[float, ...]
    validation: pd.DataFrame
    test: pd.DataFrame


def load(conn, as_of: date | None, config: UpliftConfig) -> UpliftData:
    """The campaigns whose outcome window ended before `as_of` (all completed ones without it),
    split into training, validation and test campaigns, after the data guards."""
    frame = load_training_set(conn, before=as_of)
    split = split_campaigns(frame, config)
    check_campaigns(frame, config)
    frames = split_frames(frame, split)
    check_train_frame(frames["train"], config)
    values = coupon_values(frames["train"])
    validation = _known_values(frames["validation"], values)
    return UpliftData(
        frame, split, frames, values, validation, _known_values(frames["test"], values)
    )


@dataclass
class UpliftFit:
    candidates: FittedCandidates
    chosen: str
    model: UpliftModel
    validation_qini: dict[str, float]


def fit(data: UpliftData, config: UpliftConfig) -> UpliftFit:
    """Fit every configured learner on the training campaigns, choose one by validation Qini,
    then fit every candidate (and the propensity baseline) again on the training and validation
    campaigns: those fits face the test."""
    candidates = fit_candidates(data.frames["train"], data.values, config)
    validation_qini = {}
    for kind, model in candidates.models.items():
        scores = {kind: model.effects(data.validation).mean_uplift()}
        validation_qini[kind] = evaluate_scores(data.validation, scores, config)[kind]["qini"]
    chosen = max(config.learners, key=lambda k: (validation_qini[k], -config.learners.index(k)))
    fitted = pd.concat([data.frames["train"], data.validation], ignore_index=True)
    candidates = fit_candidates(fitted, data.values, config)
    return UpliftFit(candidates, chosen, candidates.models[chosen], validation_qini)


def evaluate(
    conn,
    data: UpliftData,
    fitted: UpliftFit,
    champion: RegisteredModel | None,
    config: UpliftConfig,
) -> Evaluation:
    """The chosen learner, the other learners, the baselines (and the oracle) and the champion
    on the held-out test campaign(s)."""
    test, model, chosen = data.test, fitted.model, fitted.chosen
    effects = model.effects(test)
    oracle = oracle_effects(conn, test, data.values)
    learner_scores = {k: m.effects(test).mean_uplift() for k, m in fitted.candidates.models.items()}
    base_scores = baseline_scores(test, fitted.candidates, oracle, config)
    baselines = evaluate_scores(test, base_scores, config, oracle)
    learners = evaluate_scores(test, learner_scores, config, oracle)
    model_metrics = learners[chosen]
    policies = policy_values(test, model, effects, base_scores, oracle, config)
    if champion is not None:
        champion = get_model(conn, champion.model_name, champion.model_version)
    on_window = champion_section(
        champion,
        lambda record: evaluate_scores(
            test, {"champion": load_model(record).effects(test, data.values).mean_uplift()}, config
        )["champion"],
    )
    available = {k: v for k, v in baselines.items() if v is not None}
    oracle_qini = (available.get("oracle") or {}).get("qini")
    qini_vs_oracle = model_metrics["qini"] / oracle_qini if oracle_qini else None
    metrics = {
        "qini": model_metrics["qini"],
        "auuc": model_metrics["auuc"],
        "qini_vs_oracle": qini_vs_oracle,
        "qini_true": model_metrics.get("qini_true"),
        "learner": chosen,
        "model": model_metrics,
        "learners": {
            k: {**learners[k], "validation_qini": fitted.validation_qini[k]} for k in learners
        },
        "baselines": baselines,
        "champion": on_window,
        "policy_values": policies,
        "qini_by_value": per_value_qini(test, effects, oracle, config),
        **_fit_facts(data, model, config),
    }
    return Evaluation(
        model=model_metrics,
        baselines=available,
        champion=on_window,
        metrics=metrics,
        verdict=_verdict(chosen, model_metrics, available, qini_vs_oracle, policies),
        summary={
            "learner": chosen,
            "validation_qini": fitted.validation_qini,
            "metrics": _scalars(model_metrics),
            "learners": {k: _scalars(v) for k, v in learners.items()},
            "baselines": {k: _scalars(v) for k, v in baselines.items()},
            "qini_vs_oracle": qini_vs_oracle,
            "policy_values": policies,
            "campaigns": {name: list(data.split.campaigns(name)) for name in SPLITS},
            "rows": metrics["rows"],
        },
    )


def _fit_facts(data: UpliftData, model: UpliftModel, config: UpliftConfig) -> dict:
    """What the registry keeps about the data and the money behind a fit."""
    return {
        "coupon_values": list(data.values),
        "order_value": model.order_value,
        "redeem_share": {f"{k:g}": v for k, v in model.redeem_share.items()},
        "rows": {name: len(data.frames[name]) for name in SPLITS},
        "fitted_on": list(data.split.train + data.split.validation),
        "campaigns": _campaign_rows(data.frame, data.split),
        "economics": config.economics.__dict__,
    }


def candidate(data: UpliftData, fitted: UpliftFit, config: UpliftConfig) -> Candidate:
    return Candidate(
        artifact=fitted.model.to_artifact(),
        windows=data.split.as_windows(),
        label_horizon_days=int(data.frame["horizon_days"].max()),
        params={
            "learner": fitted.chosen,
            "candidates": list(config.learners),
            "lightgbm": config.lightgbm.params,
            "num_boost_round": config.lightgbm.num_boost_round,
        },
        features=fitted.model.spec.to_dict(),
    )


def model_spec(config: UpliftConfig | None = None) -> ModelSpec:
    """The coupon uplift model's part of the lifecycle."""
    cfg = config or load_config()
    p = cfg.promotion
    return ModelSpec(
        name=cfg.model_name,
        retrain_after_days=cfg.retrain_after_days,
        rule=Rule("qini", "Qini", p.qini_margin, p.baseline_margin),
        load=lambda conn, as_of, champion: load(conn, as_of, cfg),
        fit=lambda data: fit(data, cfg),
        evaluate=lambda conn, data, fitted, champion: evaluate(conn, data, fitted, champion, cfg),
        candidate=lambda data, fitted: candidate(data, fitted, cfg),
        report=build_report,
        headline=_scalars,
    )


def train_and_register(
    conn, *, as_of: date | None = None, config: UpliftConfig | None = None, force: bool = False
) -> dict:
    """Train, evaluate on the held-out campaign(s), register, and promote when the rule allows
    (`ml.core.lifecycle.train_and_register`). `as_of`: only campaigns whose outcome window ended
    before it (default: all completed campaigns; then a recent champion is not kept)."""
    return lifecycle.train_and_register(conn, model_spec(config), as_of, force)


def _campaign_rows(frame: pd.DataFrame, split) -> list[dict]:
    out = []
    for name in SPLITS:
        for cid in split.campaigns(name):
            part = frame[frame["coupon_campaign_id"] == cid]
            out.append(
                {
                    "split": name,
                    "campaign": cid,
                    "offer_date": split.offer_dates[cid],
                    "users": len(part),
                    "treated": int(part[TREATMENT].sum()),
                    "conversion_treated": float(
                        part.loc[part[TREATMENT] == 1, "converted_in_horizon"].mean()
                    ),
                    "conversion_control": float(
                        part.loc[part[TREATMENT] == 0, "converted_in_horizon"].mean()
                    ),
                }
            )
    return out


def _verdict(chosen, metrics, baselines, qini_vs_oracle, policies) -> str:
    label = LEARNER_LABELS.get(chosen, chosen)
    parts = [f"The {label} (chosen by validation Qini) has Qini {metrics['qini']:.3f}"]
    compared = [
        f"{name} {m['qini']:.3f}" for name, m in baselines.items() if name != "oracle" and m
    ]
    if compared:
        parts.append(f" against {', '.join(compared)} on the held-out campaigns")
    if qini_vs_oracle is not None:
        parts.append(
            f"; {qini_vs_oracle:.0%} of the simulator oracle's Qini "
            f"({baselines['oracle']['qini']:.3f})"
        )
    gain = (policies.get("model") or {}).get("gain_per_1000_users")
    if gain is not None and np.isfinite(gain):
        parts.append(f". Off-policy net gain of its targeting: {gain:.1f} per 1,000 users")
    return "".join(parts) + "."


def resolve_model(conn, config: UpliftConfig, model_version: str | None = None) -> RegisteredModel:
    """The given version or the champion; ValueError saying how to get one."""
    return registry.resolve_model(
        conn,
        config.model_name,
        model_version,
        how_to_train="the aimass_coupon_retrain DAG or python -m ml coupon-train",
    )


def plan_campaign(
    conn,
    request: CampaignRequest,
    *,
    config: UpliftConfig | None = None,
    model_version: str | None = None,
    export_path: str | Path | None = None,
) -> dict:
    """Choose the users and coupon values of a campaign with the champion (or `model_version`)
    within its budget; write `ml.coupon_targets` (replacing this campaign's rows) and, when
    `export_path` is given, the CSV of the selected users. Everything is checked before
    anything is written."""
    cfg = config or load_config()
    with transaction(conn):  # the read transaction ends here: no locks held while planning
        record = resolve_model(conn, cfg, model_version)
        model = load_model(record)
        validate_request(request, model.values)
        frame = load_scoring_frame(conn, request.campaign_date)
    if frame.empty:
        raise NotEnoughDataError(
            f"marts.fct_user_features_daily has no rows for as_of_date {request.campaign_date}: "
            "a campaign date needs the features of the day before loaded (run the daily "
            "pipeline through the day before), or pick a date that has features."
        )
    targets = plan_targets(model, frame, request, cfg.economics)
    campaign_id = campaign_id_for(request.name, request.campaign_date)
    plan = write_targets(
        conn,
        targets,
        request,
        campaign_id=campaign_id,
        model_name=cfg.model_name,
        model_version=record.model_version,
    )
    path = None
    if export_path is not None:
        path = export_csv(targets, request, campaign_id, Path(export_path))
    selected = targets[targets["selected"]]
    return jsonable(
        {
            **plan,
            "export_path": None if path is None else str(path),
            "coupons_by_value": {
                f"{v:g}": int(n)
                for v, n in selected["coupon_value"].value_counts().sort_index().items()
            },
        }
    )


def default_export_path(config: UpliftConfig, campaign_id: str, home: Path) -> Path:
    base = Path(config.targets.export_dir) if config.targets.export_dir else home / "exports"
    if not config.targets.export_dir:
        base = base / "coupon_targets"
    return base / f"{campaign_id}.csv"
