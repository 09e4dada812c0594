"""The same data and seed give the same model and the same lists; a re-run replaces its day."""

from __future__ import annotations

from ml.recommend.interactions import load_catalogue, load_history
from ml.recommend.lists import build_context
from ml.recommend.pipeline import recommend
from ml.recommend.training import fit_model


def test_same_data_same_model_and_lists(published, tiny_shop, recs_config):
    conn, trained, _ = published
    history = load_history(conn, tiny_shop.as_of, recs_config)
    ctx = build_context(load_catalogue(conn), history, tiny_shop.as_of)
    first = fit_model(ctx, recs_config.model).to_artifact()
    second = fit_model(ctx, recs_config.model).to_artifact()
    assert first == second
    assert trained["model_version"].endswith(
        __import__("ml.model", fromlist=["artifact_sha256"]).artifact_sha256(first)[:8]
    )
    a = recommend(conn, score_date=tiny_shop.as_of, config=recs_config, publish=False)["lists"]
    b = recommend(conn, score_date=tiny_shop.as_of, config=recs_config, publish=False)["lists"]
    assert a.equals(b)


def test_rerun_replaces_exactly_its_day(published, tiny_shop, recs_config):
    conn, _, _ = published

    def snapshot():
        with conn.cursor() as cur:
            cur.execute(
                "select score_date, user_id, rank, item_id, score, reason "
                "from ml.user_recommendations order by 1, 2, 3"
            )
            return cur.fetchall()

    recommend(conn, score_date=tiny_shop.as_of, config=recs_config)
    first = snapshot()
    recommend(conn, score_date=tiny_shop.end, config=recs_config)  # another day
    recommend(conn, score_date=tiny_shop.as_of, config=recs_config)
    again = snapshot()
    assert [r for r in again if r[0] == tiny_shop.as_of] == first
    assert {r[0] for r in again} == {tiny_shop.end, tiny_shop.as_of}
    with conn.cursor() as cur:
        cur.execute("select min(score_date), max(score_date) from marts.recommendations_latest")
        assert cur.fetchone() == (tiny_shop.as_of, tiny_shop.as_of)
