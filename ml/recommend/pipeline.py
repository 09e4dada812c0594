"""Entry points for the orchestrator and the CLI: train + register, and recommend + publish.

Both take an open psycopg2 connection and return a JSON-serialisable summary.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import numpy as np
import pandas as pd

from ml.jsonsafe import jsonable
from ml.model import artifact_sha256
from ml.recommend.config import RecommendConfig, load_config
from ml.recommend.interactions import load_catalogue, load_history
from ml.recommend.lists import ModelScorer, build_context, lists_frame
from ml.recommend.models import RecommenderModel
from ml.recommend.report import build_report, popularity_statement
from ml.recommend.rules import eligible_items
from ml.recommend.training import BASELINE_LABELS, active_users, evaluate, fit_model
from ml.recommend.write import write_lists
from ml.registry import RegisteredModel, get_champion, get_model, promote, register

log = logging.getLogger(__name__)
HEADLINE = ("ndcg@10", "recall@20", "precision@10", "map@10", "coverage", "novelty")


def _headline(metrics: dict | None) -> dict | None:
    return None if metrics is None else {k: metrics.get(k) for k in HEADLINE if k in metrics}


def load_model(record: RegisteredModel) -> RecommenderModel:
    """The registered model after checking its artifact against the stored sha256."""
    digest = artifact_sha256(record.artifact)
    if digest != record.artifact_sha256:
        raise ValueError(
            f"Artifact of {record.model_name} {record.model_version} is corrupt: sha256 {digest} "
            f"!= registered {record.artifact_sha256}. Retrain (python -m ml recommend-train)."
        )
    return RecommenderModel.from_artifact(record.artifact)


def decide(metrics: dict, config: RecommendConfig) -> tuple[bool, str, str]:
    """(promote, registry status, reason): the candidate must beat each baseline of
    `promotion.must_beat` on the primary metric by `baseline_margin` and be at most `margin`
    below the champion's settings refitted on the same window."""
    key = config.evaluation.primary_metric
    value = metrics["model"].get(key, 0.0)
    p = config.promotion
    lost = [
        f"{BASELINE_LABELS[name]} {m.get(key, 0.0):.4f}"
        for name, m in metrics["baselines"].items()
        if name in p.must_beat and value <= m.get(key, 0.0) + p.baseline_margin
    ]
    if lost:
        return False, "rejected", f"Rejected: {key} {value:.4f} does not beat {', '.join(lost)}."
    champion = metrics.get("champion")
    if champion is None:
        return (
            True,
            "candidate",
            f"Promoted: first champion; {key} {value:.4f} beats {', '.join(p.must_beat)}.",
        )
    best = champion["metrics"].get(key, 0.0)
    if value >= best - p.margin:
        return (
            True,
            "candidate",
            (
                f"Promoted: {key} {value:.4f} vs champion settings {best:.4f} on the same window "
                f"(margin {p.margin}); beats {', '.join(p.must_beat)}."
            ),
        )
    return (
        False,
        "candidate",
        (
            f"Kept as candidate: {key} {value:.4f} is more than {p.margin} below the champion "
            f"settings' {best:.4f} on the same window."
        ),
    )


def _windows(metrics: dict, as_of: date) -> dict:
    w = metrics["window"]
    train = {"start": w["train_start"], "end": w["split"] - timedelta(days=1), "dates": []}
    test = {"start": w["split"], "end": w["test_end"], "dates": [w["split"]]}
    # no validation or calibration window: the registry columns repeat the test window
    windows = {"cutoff": as_of, "train": train, "validation": test, "calibration": test}
    return jsonable({**windows, "test": test})


def train_and_register(
    conn, *, as_of: date, config: RecommendConfig | None = None, force: bool = False
) -> dict:
    """Evaluate the configured model against the baselines (and the champion's settings) on the
    last `horizon_days` before `as_of`, fit it on all interactions before `as_of`, register it,
    and promote it when the rule allows. A champion trained less than `retrain_after_days`
    before `as_of` is kept (status "skipped") unless `force`."""
    cfg = config or load_config()
    champion = get_champion(conn, cfg.model_name, with_artifact=False)
    if champion is not None and not force:
        age = (as_of - champion.training_cutoff).days
        if 0 <= age < cfg.retrain_after_days:
            return jsonable(
                {
                    "model_name": cfg.model_name,
                    "model_version": champion.model_version,
                    "status": "skipped",
                    "decision_reason": f"Champion {champion.model_version} was trained on data "
                    f"before {champion.training_cutoff}, less than retrain_after_days="
                    f"{cfg.retrain_after_days} before {as_of}; it stays.",
                }
            )
    champion_params = (champion.params or {}).get("model") if champion else None
    metrics = evaluate(conn, as_of, cfg, champion_params)
    if metrics["champion"] is not None:
        metrics["champion"]["model_version"] = champion.model_version
    history = load_history(conn, as_of, cfg)
    catalogue = load_catalogue(conn)
    conn.commit()
    model = fit_model(build_context(catalogue, history, as_of), cfg.model)
    promoted, status, reason = decide(metrics, cfg)
    artifact = model.to_artifact()
    version = register(
        conn,
        model_name=cfg.model_name,
        artifact=artifact,
        windows=_windows(metrics, as_of),
        label_horizon_days=cfg.evaluation.horizon_days,
        params={
            "model": model.params,
            "event_weights": cfg.event_weights,
            "half_life_days": cfg.half_life_days,
            "history_days": cfg.history_days,
        },
        features={"items": len(model.item_ids), "algorithm": model.algorithm},
        metrics={
            **{k: metrics["model"].get(k) for k in HEADLINE},
            "ndcg_at_10": metrics["model"].get("ndcg@10"),
            "primary_metric": cfg.evaluation.primary_metric,
            **metrics,
        },
        status=status,
        verdict=popularity_statement(metrics),
        decision_reason=reason,
    )
    if promoted:
        promote(conn, cfg.model_name, version, reason=reason)
    build_report(conn, cfg.model_name, version)
    final = get_champion(conn, cfg.model_name, with_artifact=False)
    return jsonable(
        {
            "model_name": cfg.model_name,
            "model_version": version,
            "status": "champion" if final and final.model_version == version else status,
            "promoted": promoted,
            "decision_reason": reason,
            "verdict": popularity_statement(metrics),
            "metrics": _headline(metrics["model"]),
            "baselines": {k: _headline(v) for k, v in metrics["baselines"].items()},
            "window": metrics["window"],
        }
    )


def segment_users(conn, segment: str, as_of: date) -> np.ndarray:
    """Users of `segment` in the latest `marts.mart_user_segments` on or before `as_of`."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass('marts.mart_user_segments') is not null")
        if not cur.fetchone()[0]:
            raise ValueError(
                "marts.mart_user_segments does not exist; run dbt (the daily pipeline) before "
                "recomputing a segment."
            )
        cur.execute(
            "select max(as_of_date) from marts.mart_user_segments where as_of_date <= %s",
            (as_of,),
        )
        day = cur.fetchone()[0]
        cur.execute(
            "select segment, array_agg(user_id order by user_id) from marts.mart_user_segments "
            "where as_of_date = %s group by segment",
            (day,),
        )
        segments = dict(cur.fetchall())
    if segment not in segments:
        raise ValueError(
            f"Segment {segment!r} has no users in marts.mart_user_segments as of {day}; "
            f"known segments: {sorted(segments) or 'none'}."
        )
    return np.array(segments[segment], dtype=object)


def recommend(
    conn,
    *,
    score_date: date,
    top_n: int | None = None,
    segment: str | None = None,
    campaign_category: str | None = None,
    user_ids: list[str] | None = None,
    config: RecommendConfig | None = None,
    publish: bool = True,
) -> dict:
    """Make the top-N lists of every active user (or of one segment, or of `user_ids`) as of
    `score_date` with the champion, apply the rules, and publish them (see
    `ml.recommend.write` for what a segment or campaign run replaces)."""
    cfg = config or load_config()
    n = cfg.top_n if top_n is None else int(top_n)
    if n <= 0:
        raise ValueError(f"top_n must be a positive number of items per user, got {top_n}.")
    champion = get_champion(conn, cfg.model_name, with_artifact=True)
    if champion is None:
        raise ValueError(
            f"No champion for {cfg.model_name}: train one first (python -m ml recommend-train "
            "--as-of ...); nothing was published."
        )
    model = load_model(get_model(conn, cfg.model_name, champion.model_version))
    history = load_history(conn, score_date, cfg)
    catalogue = load_catalogue(conn)
    if history.empty:
        raise ValueError(
            f"No interactions in the {cfg.history_days} days before {score_date}: nothing to "
            "recommend from; the published lists stay as they are. Load data and run dbt first."
        )
    if catalogue.empty:
        raise ValueError("marts.dim_items is empty: there is nothing to recommend.")
    eligible = eligible_items(
        catalogue.sort_values("item_id").reset_index(drop=True),
        exclude_unavailable=cfg.rules.exclude_unavailable,
        category=campaign_category,
    )
    if user_ids is not None:
        users = np.array(sorted(set(user_ids)), dtype=object)
    else:
        users = active_users(history, score_date, cfg.active_days)
        if segment:
            users = np.intersect1d(users, segment_users(conn, segment, score_date))
    conn.commit()
    if len(users) == 0:
        where = f" in segment {segment!r}" if segment else ""
        raise ValueError(
            f"No active users{where} (an interaction in the {cfg.active_days} days before "
            f"{score_date}); nothing was published."
        )
    ctx = build_context(catalogue, history, score_date)
    scorer = ModelScorer(model, ctx, cfg)
    lists = lists_frame(ctx, scorer, users, top_n=n, eligible=eligible, config=cfg)
    items = ctx.catalogue.set_index("item_id")
    lists["category"] = items["category"].reindex(lists["item_id"]).to_numpy()
    lists["merchant_id"] = items["merchant_id"].reindex(lists["item_id"]).to_numpy()
    known = set(ctx.history.user_ids)
    unknown = [u for u in users if u not in known]
    summary = {
        "model_name": cfg.model_name,
        "model_version": champion.model_version,
        "score_date": score_date,
        "top_n": n,
        "segment": segment,
        "campaign_category": campaign_category,
        "users": int(len(users)),
        "users_with_lists": int(lists["user_id"].nunique()) if len(lists) else 0,
        "users_without_history": len(unknown),
        "rows": int(len(lists)),
        "distinct_items": int(lists["item_id"].nunique()) if len(lists) else 0,
        "coverage": (float(lists["item_id"].nunique() / eligible.sum()) if len(lists) else 0.0),
        "cold_start_rows": int(lists["reason"].str.startswith("popular in").sum()),
    }
    if unknown:
        log.info("%d users have no history: they get popular items (cold start)", len(unknown))
    if publish:
        write_lists(
            conn,
            lists,
            score_date=score_date,
            model_name=cfg.model_name,
            model_version=champion.model_version,
            segment=segment,
            campaign_category=campaign_category,
        )
    else:
        summary["lists"] = lists
    return summary if not publish else jsonable(summary)


def latest_lists(conn) -> pd.DataFrame:
    """`marts.recommendations_latest` as a frame (empty when nothing was published)."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass('marts.recommendations_latest') is not null")
        if not cur.fetchone()[0]:
            return pd.DataFrame()
        cur.execute("select * from marts.recommendations_latest order by user_id, rank")
        columns = [c.name for c in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=columns)
