"""Bad input gets a clear message or the documented fallback, never a crash or an empty
table over a good one."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ml.recommend.pipeline import recommend, train_and_register


def _count(conn, where: str = "true") -> int:
    with conn.cursor() as cur:
        cur.execute(f"select count(*) from ml.user_recommendations where {where}")
        return cur.fetchone()[0]


def test_no_champion_is_a_clear_error(shop_db, tiny_shop, recs_config):
    with pytest.raises(ValueError, match="No champion for recommender: train one first"):
        recommend(shop_db, score_date=tiny_shop.as_of, config=recs_config)


def test_no_interactions_keeps_the_published_lists(published, tiny_shop, recs_config):
    conn, _, summary = published
    before = _count(conn)
    empty_day = tiny_shop.start - timedelta(days=200)
    with pytest.raises(ValueError, match="No interactions in the 90 days before"):
        recommend(conn, score_date=empty_day, config=recs_config)
    assert _count(conn) == before == summary["rows"]


def test_training_without_enough_history_is_refused(shop_db, tiny_shop, recs_config):
    with pytest.raises(ValueError, match="interactions in .*needs at least"):
        train_and_register(shop_db, as_of=tiny_shop.start + timedelta(days=1), config=recs_config)


@pytest.mark.parametrize("top_n", [0, -3])
def test_top_n_must_be_positive(published, tiny_shop, recs_config, top_n):
    conn, _, _ = published
    with pytest.raises(ValueError, match="top_n must be a positive number"):
        recommend(conn, score_date=tiny_shop.as_of, config=recs_config, top_n=top_n)


def test_unknown_user_gets_the_popular_fallback(published, tiny_shop, recs_config):
    conn, _, _ = published
    out = recommend(
        conn,
        score_date=tiny_shop.as_of,
        config=recs_config,
        user_ids=["nobody-knows-me"],
        top_n=5,
        publish=False,
    )
    lists = out["lists"]
    assert out["users_without_history"] == 1
    assert lists["rank"].tolist() == [1, 2, 3, 4, 5]
    assert lists["reason"].str.startswith("popular in ").all()


def test_segment_recompute_keeps_the_other_users(published, tiny_shop, recs_config):
    conn, _, summary = published
    with conn.cursor() as cur:
        cur.execute(
            "select segment, count(*) from marts.mart_user_segments group by 1 order by 2 desc"
        )
        segment = next(name for name, _ in cur.fetchall() if name != "prospect")
    others_before = _count(conn, "scope = 'all'")
    out = recommend(conn, score_date=tiny_shop.as_of, config=recs_config, segment=segment, top_n=5)
    assert 0 < out["users"] < summary["users"]
    assert _count(conn, f"scope = 'segment:{segment}'") == out["rows"]
    assert _count(conn, f"scope = 'segment:{segment}' and rank > 5") == 0
    assert _count(conn, "scope = 'all'") == others_before - out["users"] * recs_config.top_n
    with conn.cursor() as cur:
        cur.execute("select count(distinct user_id) from marts.recommendations_latest")
        assert cur.fetchone()[0] == summary["users_with_lists"]
    with pytest.raises(ValueError, match="known segments"):
        recommend(conn, score_date=tiny_shop.as_of, config=recs_config, segment="nonesuch")
