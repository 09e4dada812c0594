"""The coupon DAGs: wiring, and a campaign planned through `airflow dags test` on a warehouse
with randomized campaigns and no champion yet (the plan trains one first)."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg2
import pytest
from airflow.dag_processing.dagbag import DagBag

from aimass.orchestration import assets
from aimass.orchestration.pools import WAREHOUSE_POOL
from tests.ml.uplift.factories import build, load_coupon_shop

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"
INJECTION = "x'; drop table ml.model_registry; --"
# logical dates of the runs (after the DAGs' start date); the campaign date is a param
RUN_DAY, OTHER_RUN_DAY = "2026-09-28", "2026-09-29"


@pytest.fixture(scope="module")
def dagbag():
    return DagBag(str(DAGS_DIR))


def test_coupon_dags_are_wired(dagbag):
    campaign = dagbag.dags["aimass_coupon_campaign"]
    retrain = dagbag.dags["aimass_coupon_retrain"]
    assert campaign.schedule is None or str(campaign.timetable.summary) in ("None", "")
    assert {
        "campaign_name",
        "campaign_date",
        "budget_coupons",
        "budget_amount",
        "coupon_values",
    } <= set(campaign.params.keys())
    plan = campaign.get_task("plan_campaign")
    assert "ensure_coupon_model" in plan.upstream_task_ids
    assert assets.COUPON_TARGETS in plan.outlets
    assert {t.pool for t in campaign.tasks} == {WAREHOUSE_POOL}
    assert "force" in retrain.params.keys()
    assert retrain.get_task("train_coupon_model").pool == WAREHOUSE_POOL
    assert campaign.doc_md and retrain.doc_md


@pytest.mark.slow
def test_campaign_dag_trains_a_champion_then_writes_an_exact_list(platform_env, run_dag, tmp_path):
    dsn = platform_env["AIMASS_WAREHOUSE_URL"]
    shop = build(n_users=1500, campaigns=4, seed=5)
    with psycopg2.connect(dsn) as conn:
        load_coupon_shop(conn, shop)
    config = tmp_path / "coupon.yml"
    config.write_text(
        "economics: {margin: 0.6}\nlearners: [s_learner]\nlightgbm: {num_boost_round: 80}\n"
        "campaigns: {validation_campaigns: 1, test_campaigns: 1}\n"
    )
    env = {**platform_env, "AIMASS_COUPON_UPLIFT_CONFIG": str(config)}
    conf = {
        "campaign_name": INJECTION,
        "campaign_date": str(shop.plan_date),
        "budget_coupons": 40,
        "coupon_values": [5, 10],
    }
    proc = run_dag(env, "aimass_coupon_campaign", RUN_DAY, json.dumps(conf))
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    bad = {"campaign_name": "bad", "budget_coupons": 0, "coupon_values": [5]}
    refused = run_dag(env, "aimass_coupon_campaign", OTHER_RUN_DAY, json.dumps(bad))
    output = refused.stdout + refused.stderr
    assert "budget_coupons must be > 0" in output, output[-4000:]
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("select count(*) from ml.model_registry where status = 'champion'")
        assert cur.fetchone()[0] == 1
        cur.execute(
            "select campaign_name, campaign_date, count(*) filter (where selected), count(*) "
            "from marts.coupon_targets_latest group by 1, 2"
        )
        rows = cur.fetchall()
    assert len(rows) == 1
    name, day, selected, candidates = rows[0]
    assert (name, day, selected) == (INJECTION, shop.plan_date, 40)
    assert candidates > selected
    exports = list((Path(platform_env["AIMASS_HOME"]) / "exports" / "coupon_targets").glob("*.csv"))
    assert len(exports) == 1
    assert len(exports[0].read_text().splitlines()) == 41
