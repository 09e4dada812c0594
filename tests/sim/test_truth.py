"""The hidden truth lands in `sim_truth` with COPY, replacing earlier contents."""

from aimass.sim.truth import TRUTH_TABLES, write_truth


def test_write_truth_into_a_fresh_warehouse(tiny_shop, warehouse):
    counts = write_truth(tiny_shop, warehouse)
    assert set(counts) == set(TRUTH_TABLES)
    assert counts == {name: len(tiny_shop.truth[name]) for name in TRUTH_TABLES}
    assert counts["user_traits"] == len(tiny_shop.tables["users"])
    assert counts["item_appeal"] == len(tiny_shop.tables["items"])
    with warehouse.cursor() as cur:
        for name, rows in counts.items():
            cur.execute(f"select count(*) from sim_truth.{name}")
            assert cur.fetchone()[0] == rows, name
        cur.execute(
            "select count(*) from sim_truth.coupon_effect "
            "where response_type = 'sleeping_dog' and p_purchase_treated >= p_purchase_control"
        )
        assert cur.fetchone()[0] == 0
        cur.execute(
            "select min(p_purchase), max(p_purchase) from sim_truth.user_daily_purchase_prob"
        )
        low, high = cur.fetchone()
        assert 0 < low < high < 1


def test_write_truth_replaces_previous_contents(tiny_shop, warehouse):
    first = write_truth(tiny_shop, warehouse)
    second = write_truth(tiny_shop, warehouse)
    assert first == second
    with warehouse.cursor() as cur:
        cur.execute("select count(*) from sim_truth.user_daily_purchase_prob")
        assert cur.fetchone()[0] == first["user_daily_purchase_prob"]
        cur.execute(
            "select p_purchase from sim_truth.user_daily_purchase_prob "
            "order by user_id, day limit 1"
        )
        stored = cur.fetchone()[0]
    frame = tiny_shop.truth["user_daily_purchase_prob"].sort_values(["user_id", "day"])
    assert stored == frame["p_purchase"].iloc[0]
