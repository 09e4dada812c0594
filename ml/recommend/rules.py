"""The marketers' rules, applied to every list before it is published.

- never an unavailable item (inactive or out of stock, `marts.dim_items.is_available`);
- never an item the user bought within `recent_purchase_days` before the as-of date;
- at most `max_per_merchant` items of one merchant per list;
- optionally only items of one campaign category.

Scores are users x catalogue items; excluded items get -inf and are never selected.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import scipy.sparse as sp

EXCLUDED = -np.inf


class NoEligibleItemsError(ValueError):
    """The rules leave nothing to recommend (e.g. a category filter that matches no item)."""


def eligible_items(
    catalogue: pd.DataFrame, *, exclude_unavailable: bool, category: str | None
) -> np.ndarray:
    """Boolean mask over the catalogue rows; ValueError when nothing is left, saying why."""
    mask = np.ones(len(catalogue), dtype=bool)
    if exclude_unavailable:
        mask &= catalogue["is_available"].to_numpy(dtype=bool)
    if category is not None:
        categories = catalogue["category"].fillna("").str.lower()
        in_category = (categories == category.strip().lower()).to_numpy()
        if not in_category.any():
            known = sorted(catalogue["category"].dropna().unique())
            raise NoEligibleItemsError(
                f"The category filter {category!r} matches no item of marts.dim_items; "
                f"known categories: {known}. Fix campaign_category or leave it empty."
            )
        mask &= in_category
        if not mask.any():
            raise NoEligibleItemsError(
                f"Every item of category {category!r} is unavailable (inactive or out of "
                "stock); nothing can be recommended for this campaign today."
            )
    if not mask.any():
        raise NoEligibleItemsError(
            "No item of marts.dim_items is available (active and in stock); nothing to recommend."
        )
    return mask


def recent_purchases(
    last_purchase: pd.DataFrame,
    user_ids: np.ndarray,
    item_ids: np.ndarray,
    as_of: date,
    days: int,
) -> sp.csr_matrix:
    """Boolean users x items matrix: bought within `days` days before `as_of`."""
    shape = (len(user_ids), len(item_ids))
    if days <= 0 or last_purchase.empty:
        return sp.csr_matrix(shape, dtype=bool)
    since = as_of - timedelta(days=days)
    recent = last_purchase[pd.to_datetime(last_purchase["last_purchase_date"]).dt.date >= since]
    rows = pd.Index(user_ids).get_indexer(recent["user_id"])
    cols = pd.Index(item_ids).get_indexer(recent["item_id"])
    keep = (rows >= 0) & (cols >= 0)
    return sp.csr_matrix(
        (np.ones(keep.sum(), dtype=bool), (rows[keep], cols[keep])), shape=shape, dtype=bool
    )


def apply_exclusions(scores: np.ndarray, eligible: np.ndarray, bought: sp.csr_matrix) -> None:
    """Set the scores of excluded items to -inf, in place."""
    scores[:, ~eligible] = EXCLUDED
    coo = bought.tocoo()
    scores[coo.row, coo.col] = EXCLUDED


def top_with_merchant_cap(
    scores: np.ndarray,
    merchant_codes: np.ndarray,
    top_n: int,
    max_per_merchant: int,
    candidates: int,
) -> np.ndarray:
    """Column indices of each row's best `top_n` items, at most `max_per_merchant` per merchant,
    best first; -1 pads rows with fewer eligible items. Ties break on the lower item index, so the
    same scores always give the same lists."""
    n_users, n_items = scores.shape
    c = min(max(candidates, top_n), n_items)
    if c < n_items:
        part = np.argpartition(-scores, c - 1, axis=1)[:, :c]
    else:
        part = np.tile(np.arange(n_items), (n_users, 1))
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -part_scores), axis=1)
    cand = np.take_along_axis(part, order, axis=1)
    cand_scores = np.take_along_axis(part_scores, order, axis=1)
    valid = np.isfinite(cand_scores)
    # rank of each candidate among the earlier candidates of the same merchant
    merchants = merchant_codes[cand]
    grouped = np.argsort(merchants, axis=1, kind="stable")
    sorted_merchants = np.take_along_axis(merchants, grouped, axis=1)
    positions = np.arange(c)[None, :].repeat(n_users, axis=0)
    starts = np.where(
        np.concatenate(
            [np.ones((n_users, 1), bool), sorted_merchants[:, 1:] != sorted_merchants[:, :-1]],
            axis=1,
        ),
        positions,
        0,
    )
    starts = np.maximum.accumulate(starts, axis=1)
    rank_sorted = positions - starts
    rank = np.empty_like(rank_sorted)
    np.put_along_axis(rank, grouped, rank_sorted, axis=1)
    keep = valid & (rank < max_per_merchant)
    keep &= np.cumsum(keep, axis=1) <= top_n
    out = np.full((n_users, top_n), -1, dtype=np.int64)
    rows, cols = np.nonzero(keep)
    slot = np.cumsum(keep, axis=1)[rows, cols] - 1
    out[rows, slot] = cand[rows, cols]
    return out
