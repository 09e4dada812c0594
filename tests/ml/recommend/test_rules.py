"""The marketers' rules hold on every published list."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from ml.recommend.pipeline import recommend
from ml.recommend.rules import NoEligibleItemsError, top_with_merchant_cap


def _published(conn, table: str = "ml.user_recommendations"):
    import pandas as pd

    with conn.cursor() as cur:
        cur.execute(f"select * from {table}")
        columns = [c.name for c in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=columns)


def test_lists_have_one_row_per_rank_and_no_repeats(published, recs_config):
    conn, _, summary = published
    lists = _published(conn)
    assert len(lists) == summary["rows"] > 0
    assert not lists.duplicated(["score_date", "user_id", "rank"]).any()
    assert not lists.duplicated(["score_date", "user_id", "item_id"]).any()
    ranks = lists.groupby("user_id")["rank"].agg(["min", "max", "count"])
    assert (ranks["min"] == 1).all() and (ranks["max"] == ranks["count"]).all()
    assert ranks["count"].max() == recs_config.top_n
    assert lists["reason"].str.len().min() > 0


def test_no_unavailable_item_is_recommended(published):
    conn, _, _ = published
    with conn.cursor() as cur:
        cur.execute("select count(*) from marts.dim_items where not is_available")
        assert cur.fetchone()[0] > 0, "the tiny shop should have unavailable items"
        cur.execute(
            "select count(*) from ml.user_recommendations as r "
            "join marts.dim_items as i using (item_id) where not i.is_available"
        )
        assert cur.fetchone()[0] == 0


def test_no_recent_purchase_is_recommended(published, tiny_shop, recs_config):
    conn, _, _ = published
    since = tiny_shop.as_of - timedelta(days=recs_config.rules.recent_purchase_days)
    with conn.cursor() as cur:
        cur.execute(
            "select count(*) from ml.user_recommendations as r "
            "join marts.fct_orders as o on o.user_id = r.user_id and not o.is_cancelled "
            "join marts.fct_order_items as l on l.order_id = o.order_id and l.item_id = r.item_id "
            "where l.order_date >= %s and l.order_date < r.score_date",
            (since,),
        )
        assert cur.fetchone()[0] == 0
        cur.execute(
            "select count(distinct o.user_id) from marts.fct_orders as o where order_date >= %s",
            (since,),
        )
        assert cur.fetchone()[0] > 0, "the rule must have had purchases to exclude"


def test_at_most_k_items_per_merchant(published, recs_config):
    conn, _, _ = published
    lists = _published(conn)
    per_merchant = lists.groupby(["user_id", "merchant_id"]).size()
    assert per_merchant.max() <= recs_config.rules.max_per_merchant


def test_campaign_category_filter(published, tiny_shop, recs_config):
    conn, _, _ = published
    general_before = _published(conn)
    category = general_before["category"].value_counts().index[0]
    summary = recommend(
        conn, score_date=tiny_shop.as_of, config=recs_config, campaign_category=category.upper()
    )
    campaign = _published(conn, "ml.campaign_recommendations")
    assert summary["rows"] == len(campaign) > 0
    assert (campaign["category"] == category).all()
    assert (campaign["campaign_category"] == category.upper()).all()
    general_after = _published(conn)
    assert general_after.drop(columns="created_at").equals(
        general_before.drop(columns="created_at")
    )


def test_a_filter_that_matches_nothing_is_refused(published, tiny_shop, recs_config):
    conn, _, _ = published
    before = _published(conn)
    with pytest.raises(NoEligibleItemsError, match="matches no item.*known categories"):
        recommend(conn, score_date=tiny_shop.as_of, config=recs_config, campaign_category="nope")
    assert len(_published(conn)) == len(before)


def test_merchant_cap_selection():
    scores = np.array([[9.0, 8.0, 7.0, 6.0, 5.0, -np.inf], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])
    merchants = np.array([0, 0, 0, 1, 1, 2])
    picked = top_with_merchant_cap(scores, merchants, top_n=4, max_per_merchant=2, candidates=6)
    assert picked[0].tolist() == [0, 1, 3, 4]  # item 2 is the 3rd of merchant 0; item 5 excluded
    assert picked[1].tolist() == [5, 4, 3, 2]
    few = top_with_merchant_cap(scores, merchants, top_n=6, max_per_merchant=1, candidates=6)
    assert few[0].tolist() == [0, 3, -1, -1, -1, -1]


# --- the rules on their own: tiny catalogues, no database ------------------------------------


def _catalogue():
    import pandas as pd

    return pd.DataFrame(
        {
            "item_id": ["i1", "i2", "i3", "i4"],
            "category": ["Shoes", "shoes", "Books", None],
            "is_available": [True, False, True, True],
        }
    )


def test_eligible_items_drop_unavailable_items_and_filter_a_category_case_blind():
    from ml.recommend.rules import eligible_items

    catalogue = _catalogue()
    assert eligible_items(catalogue, exclude_unavailable=True, category=None).tolist() == [
        True,
        False,
        True,
        True,
    ]
    shoes = eligible_items(catalogue, exclude_unavailable=False, category=" SHOES ")
    assert shoes.tolist() == [True, True, False, False]
    with pytest.raises(NoEligibleItemsError, match="matches no item"):
        eligible_items(catalogue, exclude_unavailable=True, category="toys")
    catalogue.loc[0, "is_available"] = False
    with pytest.raises(NoEligibleItemsError, match="is unavailable"):
        eligible_items(catalogue, exclude_unavailable=True, category="shoes")


def test_recent_purchases_and_exclusions_remove_what_was_just_bought():
    from datetime import date

    import pandas as pd

    from ml.recommend.rules import EXCLUDED, apply_exclusions, recent_purchases

    bought = pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u2", "ghost"],
            "item_id": ["i1", "i2", "i3", "i1"],
            "last_purchase_date": ["2026-09-20", "2026-06-01", "2026-09-27", "2026-09-27"],
        }
    )
    users, items = np.array(["u1", "u2"]), np.array(["i1", "i2", "i3"])
    recent = recent_purchases(bought, users, items, date(2026, 9, 28), days=30)
    assert recent.toarray().tolist() == [[True, False, False], [False, False, True]]
    assert recent_purchases(bought, users, items, date(2026, 9, 28), days=0).nnz == 0
    scores = np.ones((2, 3))
    apply_exclusions(scores, np.array([True, False, True]), recent)
    assert scores.tolist() == [[EXCLUDED, EXCLUDED, 1.0], [1.0, EXCLUDED, EXCLUDED]]


def test_the_merchant_cap_keeps_the_best_items_of_each_merchant_and_pads_with_minus_one():
    scores = np.array([[0.9, 0.8, 0.7, 0.6, -np.inf]])
    merchants = np.array([0, 0, 0, 1, 1])
    top = top_with_merchant_cap(scores, merchants, top_n=4, max_per_merchant=2, candidates=5)
    assert top.tolist() == [[0, 1, 3, -1]]  # a third item of merchant 0 and an excluded one: out
    tied = np.array([[0.5, 0.5, 0.5]])
    assert top_with_merchant_cap(tied, np.arange(3), 2, 2, 3).tolist() == [[0, 1]]
