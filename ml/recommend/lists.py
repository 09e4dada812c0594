"""From scores to published lists: the scoring context, the model's scorer (with cold start),
the rules, the top-N selection and the reason of every recommended item.

Every method (model, baselines, oracle) goes through the same `rank` so they are compared on
equal terms.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ml.recommend.baselines import popularity
from ml.recommend.coldstart import cold_start_scores, content_neighbours
from ml.recommend.config import RecommendConfig
from ml.recommend.interactions import VERBS, InteractionMatrix, build_matrix
from ml.recommend.models import RecommenderModel
from ml.recommend.rules import apply_exclusions, recent_purchases, top_with_merchant_cap

REASON_HISTORY_ITEMS = 20  # a reason names one of the user's this many strongest items

Scorer = Callable[[np.ndarray, sp.csr_matrix], np.ndarray]


@dataclass
class Context:
    """What lists for one as-of date are made from: the catalogue (row i = column i of every
    score matrix) and the interactions before the as-of date."""

    as_of: date
    catalogue: pd.DataFrame
    history: InteractionMatrix
    pop: np.ndarray
    category_codes: np.ndarray
    n_categories: int
    merchant_codes: np.ndarray

    @property
    def item_ids(self) -> np.ndarray:
        return self.catalogue["item_id"].to_numpy(dtype=object)


def build_context(catalogue: pd.DataFrame, interactions: pd.DataFrame, as_of: date) -> Context:
    catalogue = catalogue.sort_values("item_id").reset_index(drop=True)
    history = build_matrix(interactions, catalogue["item_id"].to_numpy(dtype=object))
    category_codes, categories = pd.factorize(catalogue["category"].fillna(""), sort=True)
    merchant_codes, merchants = pd.factorize(catalogue["merchant_id"], sort=True)
    # items without a merchant are each their own group for the per-merchant cap
    missing = merchant_codes < 0
    merchant_codes[missing] = len(merchants) + np.arange(missing.sum())
    return Context(
        as_of=as_of,
        catalogue=catalogue,
        history=history,
        pop=popularity(history.weights),
        category_codes=category_codes,
        n_categories=max(len(categories), 1),
        merchant_codes=merchant_codes,
    )


class ModelScorer:
    """The model's scores over the catalogue: collaborative filtering for users with enough
    history, content neighbours for items the model has not seen, cold start for the rest."""

    def __init__(self, model: RecommenderModel, ctx: Context, config: RecommendConfig):
        self.model = model
        self.ctx = ctx
        self.config = config
        catalogue_index = pd.Index(ctx.item_ids)
        model_index = pd.Index(model.item_ids)
        self.model_pos = model_index.get_indexer(catalogue_index)  # catalogue -> model, or -1
        self.known = self.model_pos >= 0
        known_cols = np.flatnonzero(self.known)
        # catalogue rows -> model rows (the model's item order)
        self.to_model = sp.csr_matrix(
            (
                np.ones(len(known_cols), dtype=np.float32),
                (known_cols, self.model_pos[known_cols]),
            ),
            shape=(len(catalogue_index), len(model_index)),
        )
        self.neighbours = content_neighbours(
            ctx.catalogue, self.known, ctx.pop, config.cold_start.content_neighbours
        )

    def is_cold(self, rows: sp.csr_matrix) -> np.ndarray:
        distinct = np.diff(rows.indptr) if rows.nnz else np.zeros(rows.shape[0], dtype=int)
        return distinct < self.config.cold_start.min_items

    def __call__(self, user_ids: np.ndarray, rows: sp.csr_matrix) -> np.ndarray:
        scores = np.zeros(rows.shape, dtype=np.float32)
        cold = self.is_cold(rows)
        warm = np.flatnonzero(~cold)
        if len(warm):
            model_scores = self.model.score(rows[warm] @ self.to_model)
            known_cols = np.flatnonzero(self.known)
            part = np.zeros((len(warm), rows.shape[1]), dtype=np.float32)
            part[:, known_cols] = model_scores[:, self.model_pos[known_cols]]
            if self.neighbours.nnz:
                new = np.asarray(self.neighbours.getnnz(axis=1) > 0)
                part[:, new] = self.config.cold_start.new_item_weight * np.asarray(
                    (self.neighbours[new] @ part.T).T
                )
            scores[warm] = part
        if cold.any():
            scores[cold] = cold_start_scores(
                rows[cold], self.ctx.pop, self.ctx.category_codes, self.ctx.n_categories
            )
        return scores


def rank(
    ctx: Context,
    scorer: Scorer,
    user_ids: np.ndarray,
    *,
    top_n: int,
    eligible: np.ndarray,
    config: RecommendConfig,
) -> Iterator[tuple[np.ndarray, sp.csr_matrix, np.ndarray, np.ndarray]]:
    """(user_ids, history rows, item columns (users x top_n, -1 = none), scores) per batch,
    after the rules: `eligible` items only, no recent purchase, the per-merchant cap."""
    batch = config.write.batch_users
    for start in range(0, len(user_ids), batch):
        users = np.asarray(user_ids[start : start + batch], dtype=object)
        rows = ctx.history.rows(users)
        scores = np.nan_to_num(scorer(users, rows), nan=0.0, posinf=0.0, neginf=0.0)
        bought = recent_purchases(
            ctx.history.last_purchase,
            users,
            ctx.item_ids,
            ctx.as_of,
            config.rules.recent_purchase_days,
        )
        apply_exclusions(scores, eligible, bought)
        columns = top_with_merchant_cap(
            scores,
            ctx.merchant_codes,
            top_n,
            config.rules.max_per_merchant,
            config.model.candidates,
        )
        picked = np.take_along_axis(scores, np.maximum(columns, 0), axis=1)
        yield users, rows, columns, np.where(columns >= 0, picked, np.nan)


def reasons_for(
    ctx: Context, scorer: ModelScorer, users: np.ndarray, rows: sp.csr_matrix, columns: np.ndarray
) -> np.ndarray:
    """users x top_n reason texts: "<verb> <title>" naming the user's history item that
    contributes most to the recommended one (similarity x the user's weight of that item, among
    their REASON_HISTORY_ITEMS strongest), else "new in <category>" or "popular in <category>"."""
    titles = ctx.catalogue["title"].fillna(ctx.catalogue["item_id"]).to_numpy(dtype=str)
    categories = ctx.catalogue["category"].fillna("the shop").to_numpy(dtype=str)
    safe = np.maximum(columns, 0)
    known_rec = scorer.known[safe] & (columns >= 0)
    prefix = np.where(known_rec, "popular in ", "new in ")
    out = np.char.add(prefix, categories[safe]).astype(object)
    cold = scorer.is_cold(rows)
    out[cold] = np.char.add("popular in ", categories[safe[cold]]).astype(object)
    warm = np.flatnonzero(~cold)
    if len(warm) == 0:
        return out
    dense = rows[warm].toarray()
    dense[:, ~scorer.known] = 0.0
    m = min(REASON_HISTORY_ITEMS, dense.shape[1])
    hist = np.argpartition(-dense, m - 1, axis=1)[:, :m]
    weight = np.take_along_axis(dense, hist, axis=1)
    strength = np.take_along_axis(ctx.history.strength_rows(users[warm]).toarray(), hist, axis=1)
    sim = scorer.model.history_similarity(
        scorer.model_pos[safe[warm]], np.maximum(scorer.model_pos[hist], 0)
    )
    contribution = sim * weight[:, None, :]
    best = contribution.argmax(axis=2)
    best_value = np.take_along_axis(contribution, best[:, :, None], axis=2)[:, :, 0]
    ok = known_rec[warm] & (best_value > 0)
    b, r = np.nonzero(ok)
    source = hist[b, best[b, r]]
    verbs = np.array([VERBS.get(int(v), "viewed") for v in range(max(VERBS) + 1)])
    verb = verbs[np.clip(strength[b, best[b, r]], 0, max(VERBS))]
    out[warm[b], r] = np.char.add(np.char.add(verb, " "), titles[source])
    return out


def lists_frame(
    ctx: Context,
    scorer: ModelScorer,
    user_ids: np.ndarray,
    *,
    top_n: int,
    eligible: np.ndarray,
    config: RecommendConfig,
) -> pd.DataFrame:
    """user_id, rank (1 = best), item_id, score, reason: the published rows."""
    parts = []
    item_ids = ctx.item_ids
    for users, rows, columns, scores in rank(
        ctx, scorer, user_ids, top_n=top_n, eligible=eligible, config=config
    ):
        reasons = reasons_for(ctx, scorer, users, rows, columns)
        b, r = np.nonzero(columns >= 0)
        parts.append(
            pd.DataFrame(
                {
                    "user_id": users[b],
                    "rank": r + 1,
                    "item_id": item_ids[columns[b, r]],
                    "score": scores[b, r].astype(np.float64),
                    "reason": reasons[b, r],
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=["user_id", "rank", "item_id", "score", "reason"])
    return pd.concat(parts, ignore_index=True)
