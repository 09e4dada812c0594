"""Ranking metrics of top-N lists against what users interacted with in the test window.

Per user (binary relevance: the item was interacted with in the test window):
precision@k = hits / k, recall@k = hits / |relevant|, NDCG@k = DCG / ideal DCG,
MAP@k = sum of precision at each hit / min(|relevant|, k); averaged over the evaluated users.
Coverage = distinct recommended items / eligible catalogue items; novelty = mean of
-log2(share of training users who interacted with the item) over recommended items.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp


def relevance_matrix(
    test: pd.DataFrame, user_ids: np.ndarray, item_ids: np.ndarray
) -> sp.csr_matrix:
    """Boolean users x items: interacted with in the test window."""
    rows = pd.Index(user_ids).get_indexer(test["user_id"])
    cols = pd.Index(item_ids).get_indexer(test["item_id"])
    keep = (rows >= 0) & (cols >= 0)
    return sp.csr_matrix(
        (np.ones(keep.sum(), dtype=bool), (rows[keep], cols[keep])),
        shape=(len(user_ids), len(item_ids)),
        dtype=bool,
    )


def hits_matrix(columns: np.ndarray, relevant: sp.csr_matrix) -> np.ndarray:
    """users x list positions: the item at that position is relevant."""
    safe = np.maximum(columns, 0)
    rows = np.arange(columns.shape[0])[:, None].repeat(columns.shape[1], axis=1)
    hits = np.asarray(relevant[rows.ravel(), safe.ravel()]).reshape(columns.shape)
    return hits.astype(bool) & (columns >= 0)


def ranking_metrics(hits: np.ndarray, n_relevant: np.ndarray, ks) -> dict[str, float]:
    """Mean precision/recall/NDCG/MAP at every k over users with at least one relevant item."""
    users = n_relevant > 0
    hits, n_relevant = hits[users], n_relevant[users]
    out: dict[str, float] = {"users": int(users.sum())}
    if not users.any():
        return out
    discounts = 1.0 / np.log2(np.arange(2, hits.shape[1] + 2))
    for k in ks:
        h = hits[:, :k].astype(np.float64)
        count = h.sum(axis=1)
        dcg = (h * discounts[: h.shape[1]]).sum(axis=1)
        ideal_n = np.minimum(n_relevant, k)
        ideal = np.cumsum(discounts[:k])[np.maximum(ideal_n, 1) - 1]
        precision_at = np.cumsum(h, axis=1) / np.arange(1, h.shape[1] + 1)
        out[f"precision@{k}"] = float((count / k).mean())
        out[f"recall@{k}"] = float((count / n_relevant).mean())
        out[f"ndcg@{k}"] = float((dcg / ideal).mean())
        out[f"map@{k}"] = float(((precision_at * h).sum(axis=1) / ideal_n).mean())
    return out


def coverage(columns: np.ndarray, n_eligible: int) -> float:
    picked = np.unique(columns[columns >= 0])
    return float(len(picked) / n_eligible) if n_eligible else 0.0


def novelty(columns: np.ndarray, users_per_item: np.ndarray, n_users: int) -> float:
    """Mean self-information of the recommended items (higher = less mainstream)."""
    picked = columns[columns >= 0]
    if len(picked) == 0 or n_users == 0:
        return 0.0
    share = np.maximum(users_per_item[picked], 1) / n_users
    return float((-np.log2(np.minimum(share, 1.0))).mean())


def beats(model: dict, baseline: dict, metric: str, margin: float = 0.0) -> bool:
    return model.get(metric, 0.0) > baseline.get(metric, 0.0) + margin
