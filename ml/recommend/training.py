"""Fit the model and evaluate it next to the baselines on a later time window.

For as-of date A and horizon H, the evaluation trains on interactions before E = A - H and tests
on what users interacted with in [E, A). Evaluated users: those with an interaction in the
`active_days` before E (they would have had a list) and at least one in the test window. Lists of
every method go through the same rules (no recent purchase, per-merchant cap, items listed before
E); item availability is not applied, because `marts.dim_items` only knows today's stock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from ml.recommend.baselines import (
    Oracle,
    category_popularity_scores,
    load_oracle,
    normalised,
    popularity_scores,
)
from ml.recommend.config import ModelConfig, RecommendConfig
from ml.recommend.evaluate import coverage, hits_matrix, novelty, ranking_metrics, relevance_matrix
from ml.recommend.interactions import load_catalogue, load_interactions
from ml.recommend.lists import Context, ModelScorer, build_context, rank
from ml.recommend.models import RecommenderModel

BASELINE_LABELS = {
    "popularity": "global popularity",
    "category_popularity": "popularity in favourite category",
    "item_knn": "item-kNN",
    "oracle": "oracle (hidden preferences)",
}


@dataclass
class EvaluationData:
    ctx: Context
    test: pd.DataFrame
    users: np.ndarray
    eligible: np.ndarray
    start: date  # first day of the training interactions
    split: date  # E: first test day
    end: date  # A: first day after the test window


def fit_model(ctx: Context, config: ModelConfig) -> RecommenderModel:
    """Fit on the items that have at least one interaction (others are reached by content)."""
    weights = ctx.history.weights
    items = np.flatnonzero(weights.getnnz(axis=0) > 0)
    if len(items) < 2 or weights.shape[0] < 2:
        raise ValueError(
            f"Only {weights.shape[0]} users and {len(items)} items have interactions before "
            f"{ctx.as_of}: too little to fit a recommender. Load more history or pick a later "
            "as-of date."
        )
    return RecommenderModel.fit(weights[:, items], ctx.item_ids[items], config)


def active_users(interactions: pd.DataFrame, as_of: date, active_days: int) -> np.ndarray:
    """Users with an interaction in the `active_days` before `as_of`, sorted."""
    since = as_of - timedelta(days=active_days)
    last = pd.to_datetime(interactions["last_date"]).dt.date
    return np.array(sorted(interactions.loc[last >= since, "user_id"].unique()), dtype=object)


def load_evaluation_data(conn, as_of: date, config: RecommendConfig) -> EvaluationData:
    """Training interactions before E = as_of - horizon, the test window [E, as_of), and the
    evaluated users; ValueError when there is too little of either."""
    e = config.evaluation
    split = as_of - timedelta(days=e.horizon_days)
    start = split - timedelta(days=config.history_days)
    train = load_interactions(conn, start, split, config)
    test = load_interactions(conn, split, as_of, config, decay=False)
    catalogue = load_catalogue(conn)
    conn.commit()
    if len(train) < e.min_train_interactions:
        raise ValueError(
            f"Only {len(train)} user x item interactions in [{start}, {split}); the evaluation "
            f"needs at least {e.min_train_interactions} (evaluation.min_train_interactions). "
            "Load more history or pick a later as-of date."
        )
    ctx = build_context(catalogue, train, split)
    users = np.intersect1d(active_users(train, split, config.active_days), test["user_id"].unique())
    if len(users) > e.max_test_users:
        rng = np.random.default_rng(config.model.random_state)
        users = np.sort(rng.choice(users, e.max_test_users, replace=False))
    if len(users) < e.min_test_users:
        raise ValueError(
            f"Only {len(users)} active users interacted in the test window [{split}, {as_of}); "
            f"the evaluation needs at least {e.min_test_users} (evaluation.min_test_users)."
        )
    created = pd.to_datetime(ctx.catalogue["created_at"], utc=True)
    listed = (created.isna() | (created < pd.Timestamp(split, tz="UTC"))).to_numpy()
    return EvaluationData(ctx, test, users.astype(object), listed, start, split, as_of)


def method_metrics(data: EvaluationData, scorer, config: RecommendConfig) -> dict:
    """Ranking metrics, coverage and novelty of one method's lists on the test window."""
    ks = sorted(config.evaluation.k)
    depth = max(ks)
    columns = np.vstack(
        [
            cols
            for _, _, cols, _ in rank(
                data.ctx, scorer, data.users, top_n=depth, eligible=data.eligible, config=config
            )
        ]
    )
    relevant = relevance_matrix(data.test, data.users, data.ctx.item_ids)
    n_relevant = np.asarray(relevant.sum(axis=1)).ravel()
    metrics = ranking_metrics(hits_matrix(columns, relevant), n_relevant, ks)
    history = data.ctx.history.weights
    users_per_item = np.asarray((history > 0).sum(axis=0)).ravel()
    metrics["coverage"] = coverage(columns, int(data.eligible.sum()))
    metrics["novelty"] = novelty(columns, users_per_item, history.shape[0])
    return metrics


def knn_scorer(ctx: Context, config: RecommendConfig):
    """Plain item-kNN (no cold start), popularity breaking ties."""
    knn_config = ModelConfig(
        **{**config.model.__dict__, "algorithm": "item_knn"},
    )
    model = fit_model(ctx, knn_config)
    model_pos = pd.Index(model.item_ids).get_indexer(pd.Index(ctx.item_ids))
    known = np.flatnonzero(model_pos >= 0)
    tie = 1e-6 * normalised(ctx.pop).astype(np.float32)

    def score(users, rows):
        out = np.tile(tie, (rows.shape[0], 1))
        out[:, known] += model.score(rows[:, known])[:, model_pos[known]]
        return out

    return score


def evaluate(conn, as_of: date, config: RecommendConfig, champion_params: dict | None = None):
    """Metrics of the configured model, the baselines, the oracle (when `sim_truth` exists) and,
    if its settings differ, the champion's settings refitted on the same window."""
    data = load_evaluation_data(conn, as_of, config)
    ctx = data.ctx
    model = fit_model(ctx, config.model)
    results = {"model": method_metrics(data, ModelScorer(model, ctx, config), config)}
    baselines = {
        "popularity": lambda users, rows: popularity_scores(ctx.pop, len(users)),
        "category_popularity": lambda users, rows: category_popularity_scores(
            rows, ctx.pop, ctx.category_codes, ctx.n_categories
        ),
        "item_knn": knn_scorer(ctx, config),
    }
    truth = load_oracle(conn)
    conn.commit()
    if truth is not None:
        oracle = Oracle(truth, ctx.catalogue)
        baselines["oracle"] = lambda users, rows: oracle.scores(users)
    results["baselines"] = {
        name: method_metrics(data, scorer, config) for name, scorer in baselines.items()
    }
    champion = None
    if champion_params is not None:
        if champion_params == model.params:
            champion = {"same_settings": True, "metrics": results["model"]}
        else:
            fields = set(ModelConfig.__dataclass_fields__)
            champion_config = ModelConfig(
                **{k: v for k, v in champion_params.items() if k in fields}
            )
            champion_model = fit_model(ctx, champion_config)
            champion = {
                "same_settings": False,
                "metrics": method_metrics(data, ModelScorer(champion_model, ctx, config), config),
            }
    window = {
        "train_start": data.start,
        "split": data.split,
        "test_end": data.end - timedelta(days=1),
        "users": len(data.users),
        "train_interactions": int(ctx.history.weights.nnz),
        "train_users": int(ctx.history.weights.shape[0]),
        "test_interactions": int(len(data.test)),
        "catalogue_items": len(ctx.catalogue),
        "eligible_items": int(data.eligible.sum()),
    }
    return {**results, "champion": champion, "window": window, "params": model.params}
