"""`aimass_history_import` through Airflow (`airflow dags test`, i.e. `dag.test()`): a history
from 2017, years before the DAGs' former start date (2026-07-01), is imported from the
configured landing area and ends with scores; an export with rows dated after today stops at
`inspect_export` having loaded nothing. Then `aimass_ingest` runs for a day of 2017 (it gets
task instances and loads the day) and fails for a day before any data, saying so."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg2
import pytest

from tests.history.export_fixture import NEXT_DAY, history_export, write_daily

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
SHORT_HISTORY = REPO_ROOT / "ml" / "conf" / "propensity_short_history.yml"
ORDERS_HEADER = (
    "order_id,user_id,order_ts,status,total_amount,discount_amount,coupon_id,device_id,updated_at"
)
OWN_EXPORTS = json.dumps({"use_simulated_shop": False})


def query(env: dict, statement: str, params=()) -> list[tuple]:
    with psycopg2.connect(env["AIMASS_WAREHOUSE_URL"]) as conn, conn.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchall()


def output(proc) -> str:
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def env(platform_env):
    return {**platform_env, "AIMASS_PROPENSITY_CONFIG": str(SHORT_HISTORY)}


@pytest.fixture(scope="module")
def landing(env) -> Path:
    """The configured landing area (AIMASS_LANDING_URI) of the platform."""
    return Path(env["AIMASS_HOME"]) / "landing"


@pytest.fixture(scope="module")
def shop(landing):
    """The tiny shop of 2017, its history written as an export into the landing area."""
    return history_export(landing)


@pytest.fixture(scope="module")
def refused(env, shop, landing, run_dag):
    """The import of an export with orders dated after today."""
    future = landing / "orders" / "history" / "part-0001.csv"
    future.write_text(f"{ORDERS_HEADER}\nx1,u1,2099-01-01T10:00:00Z,completed,9.5,,,,\n")
    try:
        return run_dag(env, "aimass_history_import", "2017-03-01")
    finally:
        future.unlink()


@pytest.fixture(scope="module")
def imported(env, refused, run_dag):
    return run_dag(env, "aimass_history_import", "2017-03-01")


def test_an_export_with_future_dates_stops_before_loading_anything(refused, env):
    assert refused.returncode != 0
    assert "rows of the history export have order_ts after today" in output(refused)
    assert "Nothing was loaded" in output(refused)
    assert query(env, "select count(*) from raw._load_log") == [(0,)]


def test_the_dag_imports_a_2017_history_and_scores_the_next_day(imported, env):
    assert imported.returncode == 0, output(imported)[-6000:]
    assert "Imported file://" in output(imported)
    ((rows, score_date),) = query(
        env, "select count(*), max(score_date) from marts.propensity_latest"
    )
    assert rows > 0 and str(score_date) == "2017-03-02"
    ((first, last),) = query(env, "select min(_ds), max(_ds) from raw.orders")
    assert (str(first), str(last)) == ("2017-01-21", "2017-03-01")


def test_a_daily_run_for_a_day_of_2017_runs_its_tasks_and_loads_the_day(
    imported, env, shop, landing, run_dag
):
    write_daily(landing, shop, NEXT_DAY)
    proc = run_dag(env, "aimass_ingest", NEXT_DAY.isoformat(), OWN_EXPORTS)
    assert proc.returncode == 0, output(proc)[-6000:]
    ((orders,),) = query(env, "select count(*) from raw.orders where _ds = %s", (NEXT_DAY,))
    assert orders == shop.landing["orders"].day(NEXT_DAY).num_rows
    assert query(env, "select count(*) from raw._load_log where status = 'missing'") == [(0,)]


def test_a_daily_run_before_any_data_fails_and_says_so(imported, env, run_dag):
    proc = run_dag(env, "aimass_ingest", "2016-06-01", OWN_EXPORTS)
    assert proc.returncode != 0
    text = output(proc)
    assert "source 'orders' has no data for 2016-06-01" in text
    assert "so 2016-06-01 is before any data" in text
