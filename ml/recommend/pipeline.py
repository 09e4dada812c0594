"""Entry points for the orchestrator and the CLI: train + register, and recommend + publish.

Both take an open psycopg2 connection and return a JSON-serialisable summary.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from ml.core import lifecycle
from ml.core.errors import NotEnoughDataError
from ml.core.jsonsafe import jsonable
from ml.core.lifecycle import Candidate, Evaluation, ModelSpec
from ml.core.promotion import Rule
from ml.core.registry import RegisteredModel
from ml.core.tx import transaction
from ml.recommend.baselines import load_oracle
from ml.recommend.config import RecommendConfig, load_config
from ml.recommend.interactions import load_catalogue, load_history
from ml.recommend.lists import ModelScorer, build_context, lists_frame
from ml.recommend.models import RecommenderModel
from ml.recommend.report import build_report, popularity_statement
from ml.recommend.rules import eligible_items
from ml.recommend.training import (
    EvaluationData,
    active_users,
    fit_model,
    load_evaluation_data,
)
from ml.recommend.training import evaluate as evaluate_window
from ml.recommend.write import write_lists

log = logging.getLogger(__name__)
HEADLINE = ("ndcg@10", "recall@20", "precision@10", "map@10", "coverage", "novelty")


def _headline(metrics: dict | None) -> dict | None:
    return None if metrics is None else {k: metrics.get(k) for k in HEADLINE if k in metrics}


def load_model(record: RegisteredModel) -> RecommenderModel:
    """The registered recommender, after checking its artifact's sha256."""
    return RecommenderModel.from_artifact(record.verified_artifact())


@dataclass
class RecommendData:
    as_of: date
    window: EvaluationData
    truth: pd.DataFrame | None
    history: pd.DataFrame
    catalogue: pd.DataFrame


def load(conn, as_of: date, config: RecommendConfig) -> RecommendData:
    """The evaluation window (the last `horizon_days` before `as_of`), the simulator's truth
    when there is one, and every interaction before `as_of` for the final fit."""
    window = load_evaluation_data(conn, as_of, config)
    return RecommendData(
        as_of,
        window,
        load_oracle(conn),
        load_history(conn, as_of, config),
        load_catalogue(conn),
    )


def fit(data: RecommendData, config: RecommendConfig) -> RecommenderModel:
    """The configured model fitted on all interactions before `as_of`."""
    return fit_model(build_context(data.catalogue, data.history, data.as_of), config.model)


def evaluate(
    data: RecommendData,
    champion: RegisteredModel | None,
    config: RecommendConfig,
) -> Evaluation:
    """The configured model, the baselines, the oracle and the champion's settings refitted on
    the evaluation window."""
    champion_params = (champion.params or {}).get("model") if champion else None
    metrics = evaluate_window(data.window, data.truth, config, champion_params)
    if metrics["champion"] is not None:
        metrics["champion"]["model_version"] = champion.model_version
    return Evaluation(
        model=metrics["model"],
        baselines=metrics["baselines"],
        champion=metrics["champion"],
        metrics={
            **{k: metrics["model"].get(k) for k in HEADLINE},
            "ndcg_at_10": metrics["model"].get("ndcg@10"),
            "primary_metric": config.evaluation.primary_metric,
            **metrics,
        },
        verdict=popularity_statement(metrics),
        summary={
            "metrics": _headline(metrics["model"]),
            "baselines": {k: _headline(v) for k, v in metrics["baselines"].items()},
            "window": metrics["window"],
        },
    )


def _windows(window: EvaluationData) -> dict:
    """Train and test windows (a recommender has no validation or calibration window)."""
    day = timedelta(days=1)
    train = {"start": window.start, "end": window.split - day, "dates": []}
    test = {"start": window.split, "end": window.end - day, "dates": [window.split]}
    return jsonable({"cutoff": window.end, "train": train, "test": test})


def candidate(data: RecommendData, model: RecommenderModel, config: RecommendConfig) -> Candidate:
    return Candidate(
        artifact=model.to_artifact(),
        windows=_windows(data.window),
        label_horizon_days=config.evaluation.horizon_days,
        params={
            "model": model.params,
            "event_weights": config.event_weights,
            "half_life_days": config.half_life_days,
            "history_days": config.history_days,
        },
        features={"items": len(model.item_ids), "algorithm": model.algorithm},
    )


def model_spec(config: RecommendConfig | None = None) -> ModelSpec:
    """The recommender's part of the lifecycle."""
    cfg = config or load_config()
    p = cfg.promotion
    key = cfg.evaluation.primary_metric
    return ModelSpec(
        name=cfg.model_name,
        retrain_after_days=cfg.retrain_after_days,
        rule=Rule(key, key, p.margin, p.baseline_margin, must_beat=p.must_beat),
        load=lambda conn, as_of, champion: load(conn, as_of, cfg),
        fit=lambda data: fit(data, cfg),
        evaluate=lambda conn, data, fitted, champion: evaluate(data, champion, cfg),
        candidate=lambda data, fitted: candidate(data, fitted, cfg),
        report=build_report,
        headline=_headline,
        load_model=load_model,
        publish=lambda conn, record, model, score_date, **options: publish_lists(
            conn, record, model, score_date, cfg, **options
        ),
        how_to_train="python -m ml recommend-train --as-of ...",
    )


def train_and_register(
    conn, *, as_of: date, config: RecommendConfig | None = None, force: bool = False
) -> dict:
    """Evaluate the configured model against the baselines (and the champion's settings) on the
    last `horizon_days` before `as_of`, fit it on all interactions before `as_of`, register it,
    and promote it when the rule allows (`ml.core.lifecycle.train_and_register`)."""
    return lifecycle.train_and_register(conn, model_spec(config), as_of, force)


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


def _read_inputs(
    conn, score_date: date, config: RecommendConfig, segment: str | None, user_ids: list | None
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """The history, the catalogue and the users to make lists for (one read transaction)."""
    with transaction(conn):  # no locks held while ranking
        history = load_history(conn, score_date, config)
        catalogue = load_catalogue(conn)
        _check_inputs(history, catalogue, score_date, config)
        if user_ids is not None:
            users = np.array(sorted(set(user_ids)), dtype=object)
        else:
            users = active_users(history, score_date, config.active_days)
            if segment:
                users = np.intersect1d(users, segment_users(conn, segment, score_date))
    return history, catalogue, users


def _check_inputs(
    history: pd.DataFrame, catalogue: pd.DataFrame, score_date: date, config: RecommendConfig
) -> None:
    if history.empty:
        raise NotEnoughDataError(
            f"No interactions in the {config.history_days} days before {score_date}: nothing to "
            "recommend from; the published lists stay as they are. Load data and run dbt first."
        )
    if catalogue.empty:
        raise NotEnoughDataError("marts.dim_items is empty: there is nothing to recommend.")


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
    return lifecycle.score(
        conn,
        model_spec(cfg),
        score_date,
        top_n=n,
        segment=segment,
        campaign_category=campaign_category,
        user_ids=user_ids,
        publish=publish,
    )


def publish_lists(
    conn,
    champion: RegisteredModel,
    model: RecommenderModel,
    score_date: date,
    config: RecommendConfig,
    *,
    top_n: int,
    segment: str | None,
    campaign_category: str | None,
    user_ids: list[str] | None,
    publish: bool,
) -> dict:
    """The lists of `score_date` with the rules applied, written to `ml.user_recommendations`
    (or `ml.campaign_recommendations`) unless `publish` is false (then they are returned)."""
    cfg, n = config, top_n
    history, catalogue, users = _read_inputs(conn, score_date, cfg, segment, user_ids)
    eligible = eligible_items(
        catalogue.sort_values("item_id").reset_index(drop=True),
        exclude_unavailable=cfg.rules.exclude_unavailable,
        category=campaign_category,
    )
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
        **_list_counts(lists, users, unknown, eligible),
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


def _list_counts(
    lists: pd.DataFrame, users: np.ndarray, unknown: list, eligible: np.ndarray
) -> dict:
    return {
        "users": int(len(users)),
        "users_with_lists": int(lists["user_id"].nunique()) if len(lists) else 0,
        "users_without_history": len(unknown),
        "rows": int(len(lists)),
        "distinct_items": int(lists["item_id"].nunique()) if len(lists) else 0,
        "coverage": (float(lists["item_id"].nunique() / eligible.sum()) if len(lists) else 0.0),
        "cold_start_rows": int(lists["reason"].str.startswith("popular in").sum()),
    }


def latest_lists(conn) -> pd.DataFrame:
    """`marts.recommendations_latest` as a frame (empty when nothing was published)."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass('marts.recommendations_latest') is not null")
        if not cur.fetchone()[0]:
            return pd.DataFrame()
        cur.execute("select * from marts.recommendations_latest order by user_id, rank")
        columns = [c.name for c in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=columns)
