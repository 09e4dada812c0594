"""Entry points for the orchestrator and the CLI: train + evaluate + register the coupon uplift
model, and plan a campaign's target list with the champion. Both take an open psycopg2
connection and return a JSON-serialisable summary."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from ml.features import load_scoring_frame
from ml.jsonsafe import jsonable
from ml.model import artifact_sha256
from ml.registry import (
    RegisteredModel,
    baselines_not_beaten,
    decide_promotion,
    get_champion,
    get_model,
    promote,
    register,
)
from ml.uplift.config import UpliftConfig, load_uplift_config
from ml.uplift.data import (
    SPLITS,
    TREATMENT,
    VALUE,
    check_campaigns,
    check_train_frame,
    coupon_values,
    load_training_set,
    split_campaigns,
    split_frames,
)
from ml.uplift.evaluation import (
    LEARNER_LABELS,
    baseline_scores,
    evaluate_scores,
    fit_candidates,
    oracle_effects,
    per_value_qini,
    policy_values,
)
from ml.uplift.model import UpliftModel
from ml.uplift.policy import CampaignRequest, plan_targets, validate_request
from ml.uplift.report import build_uplift_report
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


def recent_champion(conn, as_of: date, config: UpliftConfig) -> RegisteredModel | None:
    champion = get_champion(conn, config.model_name, with_artifact=False)
    if champion is None:
        return None
    age = (as_of - champion.training_cutoff).days
    return champion if 0 <= age < config.retrain_after_days else None


def load_uplift_model(record: RegisteredModel) -> UpliftModel:
    """The registered model, after checking its artifact against the stored sha256."""
    if record.artifact is None or artifact_sha256(record.artifact) != record.artifact_sha256:
        raise ValueError(
            f"Artifact of {record.model_name} {record.model_version} is missing or corrupt; "
            "retrain (python -m ml coupon-train) or restore the registry row."
        )
    return UpliftModel.from_artifact(record.artifact)


def train_and_register_uplift(
    conn,
    *,
    as_of: date | None = None,
    config: UpliftConfig | None = None,
    force: bool = False,
) -> dict:
    """Fit every configured learner on the training campaigns, choose one by validation Qini,
    fit it again on the training and validation campaigns, evaluate that fit on the held-out
    test campaign(s) against the baselines (and the champion), register it, and promote it
    when the rule allows. `as_of`: only campaigns whose outcome
    window ended before it (default: all completed campaigns)."""
    cfg = config or load_uplift_config()
    if as_of is not None and not force:
        recent = recent_champion(conn, as_of, cfg)
        if recent is not None:
            return jsonable(
                {
                    "model_name": cfg.model_name,
                    "model_version": recent.model_version,
                    "status": "skipped",
                    "promoted": False,
                    "decision_reason": (
                        f"Champion {recent.model_version} was trained with cut-off "
                        f"{recent.training_cutoff}, less than retrain_after_days="
                        f"{cfg.retrain_after_days} before {as_of}; it stays. Use force to "
                        "retrain."
                    ),
                }
            )
    frame = load_training_set(conn, before=as_of)
    conn.commit()  # no locks held while training
    split = split_campaigns(frame, cfg)
    check_campaigns(frame, cfg)
    frames = split_frames(frame, split)
    check_train_frame(frames["train"], cfg)
    values = coupon_values(frames["train"])
    validation = _known_values(frames["validation"], values)
    test = _known_values(frames["test"], values)

    candidates = fit_candidates(frames["train"], values, cfg)
    validation_qini = {}
    for kind, model in candidates.models.items():
        scores = {kind: model.effects(validation).mean_uplift()}
        validation_qini[kind] = evaluate_scores(validation, scores, cfg)[kind]["qini"]
    chosen = max(cfg.learners, key=lambda k: (validation_qini[k], -cfg.learners.index(k)))
    # the learner is chosen; every candidate (and the propensity baseline) is fitted again on
    # the training and validation campaigns, and those fits face the test
    fitted = pd.concat([frames["train"], validation], ignore_index=True)
    candidates = fit_candidates(fitted, values, cfg)
    model = candidates.models[chosen]

    effects = model.effects(test)
    oracle = oracle_effects(conn, test, values)
    conn.commit()
    learner_scores = {k: m.effects(test).mean_uplift() for k, m in candidates.models.items()}
    base_scores = baseline_scores(test, candidates, oracle, cfg)
    baselines = evaluate_scores(test, base_scores, cfg, oracle)
    learners = evaluate_scores(test, learner_scores, cfg, oracle)
    model_metrics = learners[chosen]
    policies = policy_values(test, model, effects, base_scores, oracle, cfg)
    by_value = per_value_qini(test, effects, oracle, cfg)
    champion = _champion_on(conn, test, values, cfg)

    available = {k: v for k, v in baselines.items() if v is not None}
    promoted, reason = decide_promotion(
        model_metrics,
        (champion or {}).get("metrics"),
        cfg.promotion.qini_margin,
        available,
        cfg.promotion.baseline_margin,
        metric="qini",
        metric_label="Qini",
    )
    if champion and champion.get("metrics") is None:
        reason += f" The champion could not score this window: {champion['error']}"
    failed = baselines_not_beaten(
        model_metrics, available, cfg.promotion.baseline_margin, metric="qini"
    )
    status = "candidate" if promoted or not failed else "rejected"
    oracle_qini = (available.get("oracle") or {}).get("qini")
    qini_vs_oracle = model_metrics["qini"] / oracle_qini if oracle_qini else None
    verdict = _verdict(chosen, model_metrics, available, qini_vs_oracle, policies)
    metrics = {
        "qini": model_metrics["qini"],
        "auuc": model_metrics["auuc"],
        "qini_vs_oracle": qini_vs_oracle,
        "qini_true": model_metrics.get("qini_true"),
        "learner": chosen,
        "model": model_metrics,
        "learners": {k: {**learners[k], "validation_qini": validation_qini[k]} for k in learners},
        "baselines": baselines,
        "champion": champion,
        "policy_values": policies,
        "qini_by_value": by_value,
        "coupon_values": list(values),
        "order_value": model.order_value,
        "redeem_share": {f"{k:g}": v for k, v in model.redeem_share.items()},
        "rows": {name: len(frames[name]) for name in SPLITS},
        "fitted_on": list(split.train + split.validation),
        "campaigns": _campaign_rows(frame, split),
        "economics": cfg.economics.__dict__,
    }
    version = register(
        conn,
        model_name=cfg.model_name,
        artifact=model.to_artifact(),
        windows=split.as_windows(),
        label_horizon_days=int(frame["horizon_days"].max()),
        params={
            "learner": chosen,
            "candidates": list(cfg.learners),
            "lightgbm": cfg.lightgbm.params,
            "num_boost_round": cfg.lightgbm.num_boost_round,
        },
        features=model.spec.to_dict(),
        metrics=metrics,
        status=status,
        verdict=verdict,
        decision_reason=reason,
    )
    if promoted:
        promote(conn, cfg.model_name, version, reason=reason)
    build_uplift_report(conn, cfg.model_name, version)
    final = get_champion(conn, cfg.model_name, with_artifact=False)
    is_champion = final is not None and final.model_version == version
    return jsonable(
        {
            "model_name": cfg.model_name,
            "model_version": version,
            "status": "champion" if is_champion else status,
            "promoted": promoted,
            "decision_reason": reason,
            "verdict": verdict,
            "learner": chosen,
            "validation_qini": validation_qini,
            "metrics": _scalars(model_metrics),
            "learners": {k: _scalars(v) for k, v in learners.items()},
            "baselines": {k: _scalars(v) for k, v in baselines.items()},
            "qini_vs_oracle": qini_vs_oracle,
            "policy_values": policies,
            "campaigns": {name: list(split.campaigns(name)) for name in SPLITS},
            "rows": metrics["rows"],
        }
    )


def _champion_on(conn, test, values, cfg) -> dict | None:
    record = get_champion(conn, cfg.model_name)
    if record is None:
        return None
    section: dict = {"model_version": record.model_version, "metrics": None}
    try:
        model = load_uplift_model(record)
        scores = {"champion": model.effects(test, values).mean_uplift()}
    except ValueError as exc:
        section["error"] = str(exc)
        return section
    section["metrics"] = evaluate_scores(test, scores, cfg)["champion"]
    return section


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


def resolve_uplift_model(
    conn, config: UpliftConfig, model_version: str | None = None
) -> RegisteredModel:
    """The given version or the champion; ValueError saying how to get one."""
    if model_version:
        return get_model(conn, config.model_name, model_version)
    champion = get_champion(conn, config.model_name)
    if champion is None:
        raise ValueError(
            f"No {config.model_name} champion to plan with: run the aimass_coupon_retrain DAG "
            "(or python -m ml coupon-train) first, or pass an explicit model version."
        )
    return champion


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
    cfg = config or load_uplift_config()
    record = resolve_uplift_model(conn, cfg, model_version)
    model = load_uplift_model(record)
    validate_request(request, model.values)
    frame = load_scoring_frame(conn, request.campaign_date)
    conn.commit()
    if frame.empty:
        raise ValueError(
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
