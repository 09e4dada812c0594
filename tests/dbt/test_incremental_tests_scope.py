"""An incremental `dbt build` tests the days it rebuilt of the large day-grained models; a first
build, `dbt test` and `--full-refresh` test every row."""

from __future__ import annotations

from datetime import timedelta

import psycopg2
import pytest

from aimass.transform import DbtError, dbt_build, run_dbt
from tests.dbt.dbt_harness import fresh_warehouse
from tests.dbt.dbt_raw_loader import load_daily
from tests.dbt.dbt_shop_fixture import DAYS, START, build_shop

pytestmark = pytest.mark.slow

COUNTS_TEST = "fct_user_features_daily_counts_are_non_negative_and_nested"


@pytest.fixture(scope="module")
def built_with_a_bad_old_row():
    """A shop built day by day but its last day, then one feature row of the second as-of date
    set to a negative count, as a defect of an earlier run would have left it."""
    tables = build_shop()
    days = [START + timedelta(days=d) for d in range(DAYS)]
    with fresh_warehouse() as url:
        conn = psycopg2.connect(url)
        try:
            load_daily(conn, tables, days[:-1])
            dbt_build(url)
            with conn.cursor() as cur:
                cur.execute(
                    "update marts.fct_user_features_daily set orders_7d = -1 "
                    "where (user_id, as_of_date) = (select user_id, as_of_date "
                    "from marts.fct_user_features_daily where as_of_date = %s limit 1)",
                    (START + timedelta(days=2),),
                )
                assert cur.rowcount == 1
            conn.commit()
            load_daily(conn, tables, days[-1:])
            yield url
        finally:
            conn.close()


def test_the_daily_build_tests_the_rebuilt_days_and_dbt_test_every_row(built_with_a_bad_old_row):
    url = built_with_a_bad_old_row
    daily = dbt_build(url)
    passed = {r["unique_id"].split(".")[2] for r in daily.results if r["status"] == "pass"}
    assert COUNTS_TEST in passed  # the old day was not rebuilt, so not tested again

    with pytest.raises(DbtError) as failed:
        run_dbt(["test", "--select", "fct_user_features_daily"], url)
    assert [f["unique_id"].split(".")[2] for f in failed.value.failures] == [COUNTS_TEST]
