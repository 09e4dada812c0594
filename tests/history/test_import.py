"""`python -m aimass.history`: a first export whose dates lie years before any DAG's former
start date (the tiny shop moved to 2017, orders' timestamps without a zone) is imported with one
command and ends with scores; a re-run duplicates nothing; the next daily run is an ordinary
incremental day with no false missing-partition warning."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg2
import pytest

from aimass.contracts import load_contracts
from aimass.testing import temporary_database
from tests.history.export_fixture import (
    HISTORY_DAYS,
    LAST_HISTORY_DAY,
    NEXT_DAY,
    history_export,
    write_daily,
)
from tests.ingest.helpers import table_digest

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
SHORT_HISTORY = REPO_ROOT / "ml" / "conf" / "propensity_short_history.yml"
RAW_TABLES = [f"raw.{name}" for name in load_contracts()] + ["quarantine.orders"]


def run_import(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aimass.history", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def query(url: str, statement: str, params=()) -> list[tuple]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchall()


def digests(url: str) -> dict[str, str]:
    with psycopg2.connect(url) as conn:
        return {table: table_digest(conn, table) for table in RAW_TABLES}


@pytest.fixture(scope="module")
def shop():
    """An export in a landing area, a fresh warehouse and home; the import run once."""
    with (
        temporary_database("aimass_hist") as url,
        tempfile.TemporaryDirectory(prefix="aimass-hist-") as home,
    ):
        landing = Path(home) / "landing"
        simulated = history_export(landing)
        orders = landing / "orders" / "history" / "part-0000.csv"
        orders.write_text(re.sub(r"(\d{2}:\d{2}:\d{2})Z", r"\1", orders.read_text()))
        env = {
            **os.environ,
            "AIMASS_HOME": home,
            "AIMASS_WAREHOUSE_URL": url,
            "AIMASS_LANDING_URI": landing.as_uri(),
            "AIMASS_PROPENSITY_CONFIG": str(SHORT_HISTORY),
        }
        first = run_import(env, "--landing", str(landing))
        yield {"url": url, "env": env, "landing": landing, "shop": simulated, "first": first}


def test_one_command_imports_the_export_and_scores_the_next_day(shop):
    first = shop["first"]
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "Traceback" not in first.stderr
    out = first.stdout
    assert f"2017-01-21 to {LAST_HISTORY_DAY} ({HISTORY_DAYS} days)" in out
    assert "one full dbt build" in out
    assert re.search(r"Scores: [\d,]+ users scored as of 2017-03-02", out), out[-2000:]
    url = shop["url"]
    ((rows, users, score_date),) = query(
        url,
        "select count(*), count(distinct user_id), max(score_date) from marts.propensity_latest",
    )
    assert rows == users > 0 and str(score_date) == "2017-03-02"
    ((champions,),) = query(url, "select count(*) from ml.model_registry where status = 'champion'")
    assert champions == 1
    ((builds, full),) = query(url, "select count(*), bool_and(full_refresh) from audit.dbt_builds")
    assert (builds, full) == (1, True)


def test_every_row_of_the_export_is_loaded_once_on_its_day(shop):
    url, simulated = shop["url"], shop["shop"]
    expected_orders = sum(
        simulated.landing["orders"].day(day).num_rows for day in simulated.days[:HISTORY_DAYS]
    )
    ((orders, first_day, last_day),) = query(
        url, "select count(*), min(_ds), max(_ds) from raw.orders"
    )
    assert orders == expected_orders
    assert (str(first_day), last_day) == ("2017-01-21", LAST_HISTORY_DAY)
    ((missing,),) = query(url, "select count(*) from raw._load_log where status <> 'loaded'")
    assert missing == 0


def test_timestamps_without_a_zone_are_read_as_utc_and_said_so(shop):
    assert "order_ts values in the history export have no zone offset" in shop["first"].stdout
    with (shop["landing"] / "orders" / "history" / "part-0000.csv").open() as fh:
        first_row = next(csv.DictReader(fh))
    order_id, order_ts = first_row["order_id"], first_row["order_ts"]
    assert "Z" not in order_ts and "+" not in order_ts
    ((stored,),) = query(
        shop["url"],
        "select to_char(order_ts at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') "
        "from raw.orders where order_id = %s",
        (order_id,),
    )
    assert stored == order_ts


def test_a_second_import_duplicates_nothing(shop):
    before = digests(shop["url"])
    again = run_import(shop["env"], "--landing", str(shop["landing"]), "--no-train")
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert "Propensity: not trained or scored (asked for: load and build only)." in again.stdout
    assert digests(shop["url"]) == before


def test_the_next_daily_run_is_an_incremental_day_without_missing_partitions(shop, monkeypatch):
    from aimass.orchestration import daily

    for name in ("AIMASS_HOME", "AIMASS_WAREHOUSE_URL", "AIMASS_LANDING_URI"):
        monkeypatch.setenv(name, shop["env"][name])
    write_daily(shop["landing"], shop["shop"], NEXT_DAY)
    url = shop["url"]
    loads = {source: daily.ingest_source(url, source, NEXT_DAY) for source in load_contracts()}
    assert all(result["missing"] == [] for result in loads.values())
    assert loads["orders"]["rows_loaded"] == shop["shop"].landing["orders"].day(NEXT_DAY).num_rows
    built = daily.build_marts(url, NEXT_DAY)
    assert built["full_refresh"] is False
    assert built["load_overlap_minutes"] == 0.0
    assert built["reread_share"] < 0.1  # the new day and the newest load of the history
    ((latest,),) = query(url, "select max(as_of_date) from marts.fct_user_features_daily")
    assert str(latest) == "2017-03-03"
    ((missing,),) = query(url, "select count(*) from raw._load_log where status = 'missing'")
    assert missing == 0
