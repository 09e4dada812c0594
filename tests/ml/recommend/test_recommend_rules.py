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
