"""The hidden truth lands in `sim_truth` with COPY: a full write, or only the new days when the
tables hold an earlier write of the same shop, with the same tables either way."""

import dataclasses

import psycopg2
import pytest

from aimass.sim import truth
from aimass.sim.generate import simulate_shop
from aimass.sim.truth import GROWING_TABLES, TRUTH_TABLES, truth_fingerprint, write_truth
from aimass.testing import run_concurrently


def _contents(conn) -> dict[str, list[tuple]]:
    """Every truth table's sorted rows, and the tables' columns, types and primary keys."""
    found = {}
    with conn.cursor() as cur:
        for name, (columns, _) in TRUTH_TABLES.items():
            select = ", ".join(f'"{c}"' for c in columns)
            cur.execute(f"select {select} from sim_truth.{name} order by {select}")
            found[name] = cur.fetchall()
        cur.execute(
            "select table_name, column_name, data_type, ordinal_position "
            "from information_schema.columns where table_schema = 'sim_truth' order by 1, 4"
        )
        found["columns"] = cur.fetchall()
        cur.execute(
            "select conrelid::regclass::text, pg_get_constraintdef(oid) from pg_constraint "
            "where connamespace = 'sim_truth'::regnamespace order by 1"
        )
        found["constraints"] = cur.fetchall()
    conn.rollback()
    return found


def _full_write(conn, shop) -> dict[str, list[tuple]]:
    """The tables a write of `shop` into an empty `sim_truth` gives."""
    with conn.cursor() as cur:
        cur.execute("drop schema sim_truth cascade")
    conn.commit()
    assert write_truth(shop, conn).full
    return _contents(conn)


def _markers(conn) -> set:
    with conn.cursor() as cur:
        cur.execute(
            "select obj_description(c.oid, 'pg_class') from pg_class c "
            "where c.relnamespace = 'sim_truth'::regnamespace and c.relkind = 'r'"
        )
        found = {m for (m,) in cur.fetchall()}
    conn.rollback()
    return found


def test_write_truth_into_a_fresh_warehouse(tiny_shop, warehouse):
    result = write_truth(tiny_shop, warehouse)
    counts = result.rows
    assert result.full and result.written == counts
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
    assert len(_markers(warehouse)) == 1
    assert truth_fingerprint(tiny_shop.config) in _markers(warehouse).pop()


def test_writing_the_same_shop_again_changes_nothing(tiny_shop, warehouse):
    first = write_truth(tiny_shop, warehouse)
    before = _contents(warehouse)
    second = write_truth(tiny_shop, warehouse)
    assert first.rows == second.rows
    assert not second.full
    assert {name: second.written[name] for name in GROWING_TABLES} == dict.fromkeys(
        GROWING_TABLES, 0
    )
    assert second.kept == {
        name: rows if name in GROWING_TABLES else 0 for name, rows in second.rows.items()
    }
    assert _contents(warehouse) == before
    with warehouse.cursor() as cur:
        cur.execute(
            "select p_purchase from sim_truth.user_daily_purchase_prob "
            "order by user_id, day limit 1"
        )
        stored = cur.fetchone()[0]
    frame = tiny_shop.truth["user_daily_purchase_prob"].sort_values(["user_id", "day"])
    assert stored == frame["p_purchase"].iloc[0]


@pytest.mark.parametrize("gap", [1, 6])
def test_truth_day_by_day_equals_a_full_write(tiny_shop, tiny_shop_until, warehouse, gap):
    """Truth up to D - gap, then up to D: only the new days (and, with gap 6, the campaign
    offered on D - 4) are copied, and the tables equal a full write up to D row for row."""
    earlier = tiny_shop_until(tiny_shop.days[-1 - gap])
    write_truth(earlier, warehouse)
    result = write_truth(tiny_shop, warehouse)
    assert not result.full
    for name in GROWING_TABLES:
        new_rows = len(tiny_shop.truth[name]) - len(earlier.truth[name])
        assert result.written[name] == new_rows, name
        assert result.kept[name] == len(earlier.truth[name]), name
    assert result.written["user_daily_purchase_prob"] > 0
    assert (result.written["coupon_effect"] > 0) == (gap == 6)
    assert result.rows == {name: len(tiny_shop.truth[name]) for name in TRUTH_TABLES}
    incremental = _contents(warehouse)
    assert incremental == _full_write(warehouse, tiny_shop)


def test_a_shorter_shop_after_a_longer_one_equals_its_full_write(
    tiny_shop, tiny_shop_until, warehouse
):
    """Re-running an earlier day removes the later days (and campaigns) again."""
    earlier = tiny_shop_until(tiny_shop.days[-7])
    write_truth(tiny_shop, warehouse)
    result = write_truth(earlier, warehouse)
    assert not result.full
    assert result.rows == {name: len(earlier.truth[name]) for name in TRUTH_TABLES}
    shortened = _contents(warehouse)
    assert shortened == _full_write(warehouse, earlier)


def test_another_config_recreates_every_table(tiny_config, tiny_shop, warehouse):
    other = simulate_shop(dataclasses.replace(tiny_config, seed=8))
    assert truth_fingerprint(other.config) != truth_fingerprint(tiny_shop.config)
    write_truth(tiny_shop, warehouse)
    result = write_truth(other, warehouse)
    assert result.full and result.written == result.rows
    replaced = _contents(warehouse)
    assert replaced == _full_write(warehouse, other)


@pytest.mark.parametrize(
    "damage",
    [
        "drop table sim_truth.item_appeal",
        "comment on table sim_truth.coupon_effect is null",
        "comment on table sim_truth.user_traits is 'not json'",
    ],
)
def test_a_missing_table_or_marker_recreates_every_table(
    tiny_shop, tiny_shop_until, warehouse, damage
):
    write_truth(tiny_shop_until(tiny_shop.days[-2]), warehouse)
    with warehouse.cursor() as cur:
        cur.execute(damage)
    warehouse.commit()
    result = write_truth(tiny_shop, warehouse)
    assert result.full and result.written == result.rows
    recreated = _contents(warehouse)
    assert recreated == _full_write(warehouse, tiny_shop)


def test_an_error_leaves_the_tables_as_they_were(
    tiny_shop, tiny_shop_until, warehouse, monkeypatch
):
    """The new days are copied, then a snapshot table fails: nothing of it is kept."""
    earlier = tiny_shop_until(tiny_shop.days[-7])
    write_truth(earlier, warehouse)
    before, markers = _contents(warehouse), _markers(warehouse)
    copy, calls = truth._copy, []

    def failing(cur, table, columns, rows):
        calls.append(columns)
        if len(calls) == 4:
            raise RuntimeError("connection lost")
        return copy(cur, table, columns, rows)

    monkeypatch.setattr(truth, "_copy", failing)
    with pytest.raises(RuntimeError, match="connection lost"):
        write_truth(tiny_shop, warehouse)
    assert _contents(warehouse) == before
    assert _markers(warehouse) == markers
    monkeypatch.setattr(truth, "_copy", copy)
    assert not write_truth(tiny_shop, warehouse).full
    assert _contents(warehouse) == _full_write(warehouse, tiny_shop)


def test_two_writers_at_once_take_turns(tiny_shop, tiny_shop_until, warehouse, warehouse_url):
    """Both runs of the same day succeed: the second waits and finds the days written."""
    write_truth(tiny_shop_until(tiny_shop.days[-3]), warehouse)
    results = []

    def run():
        conn = psycopg2.connect(warehouse_url)
        try:
            results.append(write_truth(tiny_shop, conn))
        finally:
            conn.close()

    assert run_concurrently(run) == []
    assert sorted(r.written["user_daily_purchase_prob"] > 0 for r in results) == [False, True]
    assert _contents(warehouse) == _full_write(warehouse, tiny_shop)
