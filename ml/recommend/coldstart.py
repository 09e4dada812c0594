"""Cold start: lists for users with little history, and scores for items the model never saw.

- A user who touched fewer than `min_items` distinct items gets popular items of their affine
  categories: popularity x (their category shares, smoothed towards the shop's mix); a user with
  no history at all gets global popularity.
- An item the model has no factors or neighbours for (new, or never interacted with in the
  training window) scores `new_item_weight` x the mean score of its content neighbours: known
  items ranked by content similarity 3 x same category + 2 x same brand + 1 x same price band
  (ties: the more popular first).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ml.recommend.baselines import category_onehot, normalised

PRIOR_WEIGHT = 0.2  # share of the shop's category mix in a cold user's affinity


def cold_start_scores(
    rows: sp.csr_matrix, pop: np.ndarray, category_codes: np.ndarray, n_categories: int
) -> np.ndarray:
    """users x items: popularity within each user's smoothed category affinity."""
    onehot = category_onehot(category_codes, n_categories)
    counts = np.asarray(((rows > 0).astype(np.float32) @ onehot).todense())
    totals = counts.sum(axis=1, keepdims=True)
    shop_mix = np.asarray(onehot.T @ pop, dtype=np.float64).ravel()
    shop_mix = shop_mix / shop_mix.sum() if shop_mix.sum() > 0 else np.full(n_categories, 1.0)
    own = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    affinity = np.where(totals > 0, (1 - PRIOR_WEIGHT) * own + PRIOR_WEIGHT * shop_mix, shop_mix)
    return (affinity[:, category_codes] * normalised(pop)[None, :]).astype(np.float32)


def content_neighbours(
    catalogue: pd.DataFrame, known: np.ndarray, pop: np.ndarray, neighbours: int
) -> sp.csr_matrix:
    """unknown items x catalogue items: each unknown item's row averages its `neighbours` most
    similar known items (row weights sum to 1; rows of known items are empty)."""
    n = len(catalogue)
    unknown = np.flatnonzero(~known)
    known_idx = np.flatnonzero(known)
    if len(unknown) == 0 or len(known_idx) == 0:
        return sp.csr_matrix((n, n), dtype=np.float32)
    cat = catalogue["category"].fillna("").to_numpy()
    brand = catalogue["brand"].fillna("").to_numpy()
    band = catalogue["price_band"].fillna("").to_numpy()
    k = min(neighbours, len(known_idx))
    rows, cols = [], []
    tie = normalised(pop[known_idx]) * 0.5  # < 1: never outweighs a shared attribute
    for item in unknown:
        sim = (
            3.0 * (cat[known_idx] == cat[item])
            + 2.0 * (brand[known_idx] == brand[item])
            + 1.0 * (band[known_idx] == band[item])
            + tie
        )
        best = known_idx[np.argsort(-sim, kind="stable")[:k]]
        rows.extend([item] * k)
        cols.extend(best.tolist())
    data = np.full(len(rows), 1.0 / k, dtype=np.float32)
    return sp.csr_matrix((data, (rows, cols)), shape=(n, n), dtype=np.float32)
