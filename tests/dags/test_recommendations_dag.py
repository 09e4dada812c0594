"""The recommendations DAG: its wiring, and one run through `airflow dags test`."""

from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest
from airflow.dag_processing.dagbag import DagBag

from aimass.orchestration import assets
from aimass.orchestration.pools import WAREHOUSE_POOL
from tests.ml.recommend.shop import load_shop_marts, simulated_marts

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dag():
    bag = DagBag(str(DAGS_DIR / "aimass_recommendations.py"))
    assert bag.import_errors == {}
    return bag.dags["aimass_recommendations"]


def test_runs_after_scoring_with_a_recompute_form(dag):
    assert [a.name for a in dag.timetable.asset_condition.objects] == [
        assets.PROPENSITY_SCORES.name
    ]
    assert {"day", "top_n", "segment", "campaign_category"} <= set(dag.params.keys())
    train, publish = dag.get_task("train_recommender"), dag.get_task("publish_recommendations")
    assert train.task_id in publish.upstream_task_ids
    assert train.pool == publish.pool == WAREHOUSE_POOL
    assert [o.name for o in publish.outlets] == [assets.USER_RECOMMENDATIONS.name]


@pytest.mark.slow
def test_dag_run_publishes_lists(platform_env, run_dag):
    """The tiny shop's marts go straight into the warehouse (no dbt); the DAG trains the
    recommender and publishes lists for the morning after the last day (segment and campaign
    recomputes are covered in tests/ml/recommend, without Airflow)."""
    marts = simulated_marts("tiny")
    dsn = platform_env["AIMASS_WAREHOUSE_URL"]
    with psycopg2.connect(dsn) as conn:
        load_shop_marts(conn, marts)
    day = marts.end.isoformat()
    proc = run_dag(platform_env, "aimass_recommendations", day)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "select min(score_date), count(distinct user_id), count(*), max(rank) "
            "from marts.recommendations_latest"
        )
        score_date, users, rows, top = cur.fetchone()
        cur.execute("select status from ml.model_registry where model_name = 'recommender'")
        statuses = [r[0] for r in cur.fetchall()]
    assert score_date == marts.as_of and users > 100 and top == 20 and rows == users * 20
    assert statuses == ["champion"]
