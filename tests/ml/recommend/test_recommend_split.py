"""Time split without leakage: nothing on or after the as-of date reaches lists or training."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import numpy as np

from ml.recommend.interactions import load_interactions
from ml.recommend.pipeline import recommend
from ml.recommend.training import load_evaluation_data


def _event(cur, event_id: str, ts: datetime, user: str, item: str, kind: str = "view") -> None:
    cur.execute(
        "insert into marts.fct_events (event_id, event_ts, event_date, user_id, event_type, "
        "item_id) values (%s, %s, (%s at time zone 'UTC')::date, %s, %s, %s)",
        (event_id, ts, ts, user, kind, item),
    )


def test_interactions_stop_at_midnight_utc(shop_db, tiny_shop, recs_config):
    day = tiny_shop.end
    midnight = datetime.combine(day, time(0), tzinfo=UTC)
    with shop_db.cursor() as cur:
        _event(cur, "edge-before", midnight - timedelta(seconds=1), "edge_user", "i000001")
        _event(cur, "edge-at", midnight, "edge_user", "i000002", "add_to_cart")
    shop_db.commit()
    frame = load_interactions(shop_db, day - timedelta(days=3), day, recs_config)
    edge = frame[frame["user_id"] == "edge_user"]
    assert edge["item_id"].tolist() == ["i000001"]
    # an interaction 1 s before the cut-off has (almost) its full weight
    assert edge["weight"].iloc[0] > 0.99 * recs_config.event_weights["view"]


def test_evaluation_trains_before_the_test_window(shop_db, tiny_shop, recs_config):
    data = load_evaluation_data(shop_db, tiny_shop.as_of, recs_config)
    horizon = recs_config.evaluation.horizon_days
    assert data.split == tiny_shop.as_of - timedelta(days=horizon)
    with shop_db.cursor() as cur:
        cur.execute(
            "select max(event_date) from marts.fct_events where event_date < %s", (data.split,)
        )
        last_train_day = cur.fetchone()[0]
    assert data.ctx.as_of == data.split and last_train_day < data.split
    # every test interaction lies in [split, as_of); the training matrix has only earlier ones
    assert (data.test["last_date"] >= data.split).all()
    assert (data.test["last_date"] < tiny_shop.as_of).all()
    with shop_db.cursor() as cur:
        cur.execute(
            "select count(distinct (user_id, item_id)) from marts.fct_events "
            "where event_date < %s and event_date >= %s and item_id is not null "
            "and event_type not in ('search', 'order', 'payment')",
            (data.split, data.start),
        )
        train_pairs_events = cur.fetchone()[0]
    assert 0 < data.ctx.history.weights.nnz >= train_pairs_events * 0.99
    assert set(data.users) <= set(data.test["user_id"])


def test_future_events_do_not_change_the_lists(shop_db, tiny_shop, recs_config):
    from ml.recommend.pipeline import train_and_register

    train_and_register(shop_db, as_of=tiny_shop.as_of, config=recs_config)
    before = recommend(shop_db, score_date=tiny_shop.end, config=recs_config, publish=False)
    user = before["lists"]["user_id"].iloc[0]
    future = datetime.combine(tiny_shop.end, time(6), tzinfo=UTC)
    with shop_db.cursor() as cur:
        for n, item in enumerate(("i000003", "i000004", "i000005")):
            for k in range(20):
                _event(
                    cur, f"future-{n}-{k}", future + timedelta(minutes=k), user, item, "add_to_cart"
                )
    shop_db.commit()
    after = recommend(shop_db, score_date=tiny_shop.end, config=recs_config, publish=False)
    assert after["lists"].equals(before["lists"])
    # ...while the next day's lists do see them
    later = recommend(shop_db, score_date=tiny_shop.as_of, config=recs_config, publish=False)
    mine = later["lists"][later["lists"]["user_id"] == user]
    old = before["lists"][before["lists"]["user_id"] == user]
    assert not np.array_equal(mine["item_id"].to_numpy(), old["item_id"].to_numpy())
