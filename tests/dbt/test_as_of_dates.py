"""The feature and label marts hold only the planned as-of dates (the grid every
`as_of_spacing_days`, the scoring day, the coupon offer dates) for the users known before each;
the next day's scoring day replaces the previous one; the label horizon (7, 30, 90 days) is
one dbt var."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg2
import pytest

from aimass.transform import run_dbt
from tests.dbt.dbt_harness import fresh_warehouse, scalar
from tests.dbt.dbt_raw_loader import load_raw, split_by_day
from tests.dbt.dbt_shop_fixture import DAYS, START, build_shop

pytestmark = pytest.mark.slow

EPOCH = date(1970, 1, 1)


def _grid(first: date, last: date, spacing: int) -> set[date]:
    days = ((first + timedelta(days=n)) for n in range((last - first).days + 1))
    return {d for d in days if (d - EPOCH).days % spacing == 0}


def _as_of_dates(conn, relation: str) -> set[date]:
    with conn.cursor() as cur:
        cur.execute(f"select distinct as_of_date from {relation}")
        return {row[0] for row in cur.fetchall()}


@pytest.fixture(scope="module")
def two_days():
    """The shop loaded up to its second-to-last day and built (the default grid), then its
    last day loaded and built incrementally; the as-of dates after each build."""
    # 2026-07-01 .. 07-11: the scoring day before the last day, 07-11, is off the grid
    days = [START + timedelta(days=d) for d in range(DAYS - 1)]
    deliveries = list(split_by_day(build_shop(), days))
    with fresh_warehouse() as url:
        conn = psycopg2.connect(url)
        try:
            for day, rows in deliveries[:-1]:
                loaded_at = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)
                load_raw(conn, rows, loaded_at=loaded_at, batch_id=f"day-{day}")
            run_dbt(["build"], url)
            before = _as_of_dates(conn, "marts.fct_user_features_daily")
            day, rows = deliveries[-1]
            load_raw(conn, rows, batch_id=f"day-{day}")
            run_dbt(["build"], url)
            yield {"conn": conn, "url": url, "before": before, "days": days}
        finally:
            conn.close()


def test_features_hold_the_grid_the_scoring_day_and_the_offer_dates(two_days):
    conn, days = two_days["conn"], two_days["days"]
    latest = days[-1] + timedelta(days=1)
    offers = {days[0] + timedelta(days=3)}  # the fixture's one coupon campaign
    expected = _grid(days[0] + timedelta(days=1), latest, 3) | {latest} | offers
    assert _as_of_dates(conn, "marts.fct_user_features_daily") == expected
    assert _as_of_dates(conn, "marts.fct_user_labels_daily") == expected
    assert len(expected) < len(days) / 2  # a third of the days, plus two
    with conn.cursor() as cur:
        cur.execute(
            "select as_of_date, is_grid_date, is_latest, is_coupon_offer_date, users "
            "from marts.dim_as_of_dates order by as_of_date"
        )
        planned = cur.fetchall()
    assert {row[0] for row in planned} == expected
    assert [row[0] for row in planned if row[2]] == [latest]
    assert {row[0] for row in planned if row[3]} == offers
    assert {row[0] for row in planned if row[1]} == _grid(days[0], latest, 3)


def test_rows_per_date_are_the_users_known_before_it(two_days):
    conn = two_days["conn"]
    mismatched = scalar(
        conn,
        """
        select count(*) from marts.dim_as_of_dates d
        where d.users <> (select count(*) from marts.dim_users u
                          where u.known_since_date < d.as_of_date)
           or d.users <> (select count(*) from marts.fct_user_features_daily f
                          where f.as_of_date = d.as_of_date)
        """,
    )
    assert mismatched == 0
    assert scalar(conn, "select min(users) from marts.dim_as_of_dates") > 0


def test_the_next_day_replaces_the_scoring_day_off_the_grid(two_days):
    conn, days, before = two_days["conn"], two_days["days"], two_days["before"]
    previous_latest = days[-1]  # the scoring day of the build before the last day
    assert previous_latest in before
    assert (previous_latest - EPOCH).days % 3 != 0  # off the grid, not an offer date
    after = _as_of_dates(conn, "marts.fct_user_features_daily")
    assert previous_latest not in after
    assert after - before == {days[-1] + timedelta(days=1)} | (
        _grid(days[-1], days[-1] + timedelta(days=1), 3)
    )


@pytest.mark.parametrize("horizon", [30, 90])
def test_a_longer_label_horizon_is_one_var(two_days, horizon):
    """Labels built with H = 30 or 90 look at [A, A + H days) and match the orders."""
    conn, url = two_days["conn"], two_days["url"]
    run_dbt(
        ["build", "--select", "fct_user_labels_daily"], url, vars={"label_horizon_days": horizon}
    )
    with conn.cursor() as cur:
        cur.execute(
            "select bool_and(label_horizon_days = %s), bool_and(label_window_end = as_of_date + %s),"
            " bool_or(is_label_mature) from marts.fct_user_labels_daily",
            (horizon, horizon),
        )
        assert cur.fetchone() == (True, True, False)  # 12 days of data: none mature yet
        cur.execute(
            """
            select count(*) from marts.fct_user_labels_daily l
            where l.purchased_in_horizon <> (
                select (count(*) > 0)::int from marts.fct_orders o
                where o.user_id = l.user_id and not o.is_cancelled
                  and o.order_date >= l.as_of_date and o.order_date < l.as_of_date + %s)
            """,
            (horizon,),
        )
        assert cur.fetchone() == (0,)
    assert _as_of_dates(conn, "marts.fct_user_labels_daily") == _as_of_dates(
        conn, "marts.fct_user_features_daily"
    )
