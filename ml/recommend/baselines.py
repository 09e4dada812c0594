"""Scorers every list is compared with on the same window: global popularity, popularity in the
user's favourite category, and (on the simulated shop) the oracle from the hidden preferences.

A scorer returns users x catalogue-items scores; the rules and the top-N selection are shared
with the model (`ml.recommend.lists`). Item-kNN, the third baseline, is a `RecommenderModel`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp


def popularity(weights: sp.csr_matrix) -> np.ndarray:
    """Per item: the decayed interaction weight summed over users."""
    return np.asarray(weights.sum(axis=0), dtype=np.float64).ravel()


def normalised(values: np.ndarray) -> np.ndarray:
    top = values.max() if len(values) else 0.0
    return values / top if top > 0 else np.zeros_like(values, dtype=np.float64)


def category_onehot(category_codes: np.ndarray, n_categories: int) -> sp.csr_matrix:
    """items x categories indicator."""
    n = len(category_codes)
    return sp.csr_matrix(
        (np.ones(n, dtype=np.float32), (np.arange(n), category_codes)), shape=(n, n_categories)
    )


def popularity_scores(pop: np.ndarray, n_users: int) -> np.ndarray:
    """Every user gets the globally most popular items."""
    return np.tile(normalised(pop).astype(np.float32), (n_users, 1))


def category_popularity_scores(
    rows: sp.csr_matrix, pop: np.ndarray, category_codes: np.ndarray, n_categories: int
) -> np.ndarray:
    """Popular items of the user's favourite category (largest interaction weight) first, then
    the rest by global popularity; users without history get global popularity."""
    affinity = np.asarray((rows @ category_onehot(category_codes, n_categories)).todense())
    favourite = affinity.argmax(axis=1)
    has_history = affinity.max(axis=1) > 0
    base = normalised(pop).astype(np.float32)
    in_favourite = (category_codes[None, :] == favourite[:, None]) & has_history[:, None]
    return base[None, :] + in_favourite.astype(np.float32)


def load_oracle(conn) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """(user_preferences, item_appeal) from `sim_truth`, or None when there is no truth."""
    with conn.cursor() as cur:
        cur.execute(
            "select to_regclass('sim_truth.user_preferences') is not null "
            "and to_regclass('sim_truth.item_appeal') is not null"
        )
        if not cur.fetchone()[0]:
            return None
        cur.execute("select user_id, category, weight from sim_truth.user_preferences")
        prefs = pd.DataFrame(cur.fetchall(), columns=["user_id", "category", "weight"])
        cur.execute("select item_id, appeal from sim_truth.item_appeal")
        appeal = pd.DataFrame(cur.fetchall(), columns=["item_id", "appeal"])
    if prefs.empty or appeal.empty:
        return None
    return prefs, appeal


class Oracle:
    """weight(user, category of item) x appeal(item): how the simulator picks items."""

    def __init__(self, truth: tuple[pd.DataFrame, pd.DataFrame], catalogue: pd.DataFrame):
        prefs, appeal = truth
        self.categories = sorted(catalogue["category"].fillna("").unique())
        table = prefs.pivot_table(
            index="user_id", columns="category", values="weight", fill_value=0.0
        )
        self.weights = table.reindex(columns=self.categories, fill_value=0.0)
        codes = pd.Index(self.categories).get_indexer(catalogue["category"].fillna(""))
        self.item_codes = codes
        self.appeal = (
            appeal.set_index("item_id")["appeal"]
            .reindex(pd.Index(catalogue["item_id"]))
            .fillna(0.0)
            .to_numpy(np.float32)
        )

    def scores(self, user_ids: np.ndarray) -> np.ndarray:
        prefs = self.weights.reindex(index=pd.Index(user_ids), fill_value=0.0).to_numpy(np.float32)
        return prefs[:, self.item_codes] * self.appeal[None, :]
