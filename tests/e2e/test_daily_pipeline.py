"""The pipeline's DAG chain (aimass_ingest → aimass_marts → aimass_propensity), run through
Airflow on the demo simulated shop for one day, end to end."""

from __future__ import annotations

import json
import re
from pathlib import Path

import psycopg2
import pytest

DAY = "2026-09-28"  # the demo shop's last day: 90 days of history
CONF = '{"shop_profile": "demo"}'
CHAIN = ("aimass_ingest", "aimass_marts", "aimass_propensity")

pytestmark = pytest.mark.slow


def _counts(dsn: str) -> dict[str, int]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        out = {}
        for table in (
            "raw.orders",
            "raw.events",
            "marts.fct_user_features_daily",
            "ml.model_registry",
            "ml.propensity_scores",
            "marts.propensity_latest",
        ):
            cur.execute(f"select count(*) from {table}")
            out[table] = cur.fetchone()[0]
        return out


def _run_chain(env, run_dag) -> None:
    """Each DAG of the chain for DAY, in asset order (what the scheduler would start)."""
    for dag_id in CHAIN:
        proc = run_dag(env, dag_id, DAY, CONF if dag_id == "aimass_ingest" else None)
        assert proc.returncode == 0, f"{dag_id}:\n" + (proc.stdout + proc.stderr)[-6000:]


def _asset_events(env: dict) -> dict[str, list]:
    """asset name -> the `extra` of each of its events, oldest first (Airflow metadata DB)."""
    dsn = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].replace("postgresql+psycopg2", "postgresql")
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "select a.name, e.extra from asset_event as e join asset as a on a.id = e.asset_id "
            "order by e.id"
        )
        events: dict[str, list] = {}
        for name, extra in cur.fetchall():
            events.setdefault(name, []).append(
                extra if isinstance(extra, dict) else json.loads(extra)
            )
        return events


@pytest.fixture(scope="module")
def first_run(platform_env, run_dag):
    _run_chain(platform_env, run_dag)
    return _counts(platform_env["AIMASS_WAREHOUSE_URL"])


def test_each_dag_stamps_the_day_on_the_assets_it_updates(first_run, platform_env):
    events = _asset_events(platform_env)
    for name in (
        "raw.orders",
        "raw._load_log",
        "marts.fct_user_features_daily",
        "marts.fct_coupon_training_set",
        "ml.model_registry",
        "ml.propensity_scores",
    ):
        assert events.get(name), f"no asset event for {name}"
        assert events[name][-1] == {"ds": DAY}, name


def test_pipeline_writes_scores_for_every_active_user(first_run, platform_env):
    assert first_run["raw.orders"] > 0 and first_run["raw.events"] > 0
    assert first_run["ml.model_registry"] >= 1
    assert first_run["ml.propensity_scores"] > 0
    with psycopg2.connect(platform_env["AIMASS_WAREHOUSE_URL"]) as conn, conn.cursor() as cur:
        cur.execute(
            "select count(*), count(distinct user_id), min(probability), max(probability), "
            "min(score_date), max(score_date) from marts.propensity_latest"
        )
        n, users, lo, hi, first_day, last_day = cur.fetchone()
        cur.execute(
            "select count(distinct user_id) from marts.fct_user_features_daily "
            "where as_of_date = date %s + 1",
            (DAY,),
        )
        featured_users = cur.fetchone()[0]
    assert n == users == featured_users
    assert 0 <= lo < hi <= 1
    assert str(first_day) == str(last_day) == "2026-09-29"


def test_second_run_of_the_same_day_leaves_no_duplicates(first_run, platform_env, run_dag):
    _run_chain(platform_env, run_dag)
    again = _counts(platform_env["AIMASS_WAREHOUSE_URL"])
    assert again == first_run


def _champion(dsn: str) -> str:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("select model_version from ml.model_registry where status = 'champion'")
        return cur.fetchone()[0]


def test_model_admin_promotes_and_refuses_a_rollback_without_history(
    first_run, platform_env, run_dag
):
    dsn = platform_env["AIMASS_WAREHOUSE_URL"]
    champion = _champion(dsn)
    promote = run_dag(
        platform_env,
        "aimass_model_admin",
        DAY,
        f'{{"action": "promote", "model_version": "{champion}"}}',
    )
    assert promote.returncode == 0, (promote.stdout + promote.stderr)[-4000:]
    rollback = run_dag(platform_env, "aimass_model_admin", DAY, '{"action": "rollback"}')
    assert rollback.returncode != 0
    assert "there is no earlier champion to roll back to" in rollback.stdout + rollback.stderr
    assert _champion(dsn) == champion
    assert _counts(dsn)["marts.propensity_latest"] == first_run["marts.propensity_latest"]


def test_readme_queries_run_as_written(first_run, platform_env):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    blocks = re.findall(r"```sql\n(.*?)```", readme, flags=re.S)
    statements = [s for block in blocks for s in block.split(";") if s.strip(" \n-")]
    statements = [s for s in statements if re.sub(r"--[^\n]*", "", s).strip()]
    assert len(statements) >= 3
    with psycopg2.connect(platform_env["AIMASS_WAREHOUSE_URL"]) as conn, conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
            assert cur.fetchall(), f"no rows from:\n{statement}"


def test_bad_data_fails_the_gate_and_keeps_the_published_scores(first_run, platform_env, run_dag):
    dsn = platform_env["AIMASS_WAREHOUSE_URL"]
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("select max(scored_at), count(*) from ml.propensity_scores")
        scores_before = cur.fetchone()
        # a negative order amount slips into raw for the day (as a faulty loader might write it)
        cur.execute(
            """
            insert into raw.orders
            select 'planted-bad-order', user_id, order_ts, status, -50, discount_amount,
                   coupon_id, device_id, updated_at, 'planted', now(), 'planted', _ds
            from raw.orders where _ds = %s limit 1
            """,
            (DAY,),
        )
    load_log_events = len(_asset_events(platform_env)["raw._load_log"])
    try:
        proc = run_dag(platform_env, "aimass_ingest", DAY, CONF)
        output = proc.stdout + proc.stderr
        assert proc.returncode != 0
        assert "quality_gate_raw" in output and "total_amount" in output
        # no new raw._load_log event: the marts (and everything after them) are not started
        assert len(_asset_events(platform_env)["raw._load_log"]) == load_log_events
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute("select max(scored_at), count(*) from ml.propensity_scores")
            assert cur.fetchone() == scores_before
            cur.execute("select count(*) from marts.propensity_latest")
            assert cur.fetchone()[0] == first_run["marts.propensity_latest"]
    finally:
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute("delete from raw.orders where order_id = 'planted-bad-order'")


def test_coupon_uplift_on_the_demo_shop_beats_propensity_and_random_targeting(
    first_run, platform_env, run_dag
):
    """The coupon retraining DAG on the demo shop's randomized campaigns: on the held-out
    campaigns the uplift model's Qini beats targeting by purchase propensity and random
    targeting, it is promoted, and its report gives its Qini as a share of the oracle's."""
    proc = run_dag(platform_env, "aimass_coupon_retrain", DAY, '{"force": true}')
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    with psycopg2.connect(platform_env["AIMASS_WAREHOUSE_URL"]) as conn, conn.cursor() as cur:
        cur.execute(
            "select status, verdict, metrics, report_html from ml.model_registry "
            "where model_name = 'coupon_uplift' order by trained_at desc limit 1"
        )
        status, verdict, metrics, report = cur.fetchone()
    metrics = metrics if isinstance(metrics, dict) else json.loads(metrics)
    baselines = metrics["baselines"]
    assert len(metrics["campaigns"]) >= 10  # randomized campaigns on the demo shop
    assert metrics["qini"] > baselines["propensity"]["qini"], verdict
    assert metrics["qini"] > baselines["random"]["qini"], verdict
    assert status == "champion", verdict
    share = metrics["qini_vs_oracle"]
    assert 0 < share < 1
    assert f"The model's Qini is {share:.1%} of the simulator oracle's." in report
