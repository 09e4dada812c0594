"""The demo runs the DAG chain in order in one process, hands each `--conf` key to the DAGs that
declare it, skips a DAG of the chain that is not in dags/ instead of failing, and stops at the
first DAG that fails, naming its failure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest

from aimass.demo import DEMO_CHAIN, main, plan

TINY_DAY = "2026-08-09"  # the tiny shop's last day
TINY_CONF = '{"shop_profile": "tiny"}'

PARAMS = {
    "aimass_ingest": {"use_simulated_shop", "shop_profile"},
    "aimass_marts": {"day", "full_refresh"},
    "aimass_propensity": {"day", "force_retrain"},
    "aimass_model_admin": {"action"},
}


def test_chain_starts_with_ingestion_and_follows_the_assets():
    assert DEMO_CHAIN[:3] == ("aimass_ingest", "aimass_marts", "aimass_propensity")


def test_the_coupon_campaign_is_planned_last_after_the_models_it_reads():
    assert DEMO_CHAIN[-1] == "aimass_coupon_campaign"
    assert DEMO_CHAIN.index("aimass_propensity") < DEMO_CHAIN.index("aimass_coupon_campaign")


def test_conf_keys_go_to_the_dags_that_declare_them():
    runs, missing = plan(
        {"shop_profile": "tiny", "force_retrain": True, "full_refresh": False},
        PARAMS,
        ("aimass_ingest", "aimass_marts", "aimass_propensity"),
    )
    assert missing == []
    assert runs == [
        ("aimass_ingest", {"shop_profile": "tiny"}),
        ("aimass_marts", {"full_refresh": False}),
        ("aimass_propensity", {"force_retrain": True}),
    ]


def test_a_dag_missing_from_the_folder_is_skipped_not_fatal():
    runs, missing = plan({}, PARAMS, ("aimass_ingest", "aimass_recommendations", "aimass_marts"))
    assert [dag_id for dag_id, _ in runs] == ["aimass_ingest", "aimass_marts"]
    assert missing == ["aimass_recommendations"]


def test_a_key_no_dag_of_the_chain_declares_is_refused():
    with pytest.raises(ValueError, match="shop_size"):
        plan({"shop_size": "tiny"}, PARAMS, ("aimass_ingest", "aimass_marts"))


def test_model_admin_parameters_do_not_leak_into_the_chain():
    with pytest.raises(ValueError, match="action"):
        plan({"action": "promote"}, PARAMS, ("aimass_ingest", "aimass_marts"))


def test_the_demo_runs_the_chain_in_one_process_and_stops_at_the_first_failing_dag(platform_env):
    """On the tiny shop, too short to train a propensity model: ingestion and the marts run,
    each with its own log; the propensity DAG fails, the demo names its failure and stops."""
    home = Path(platform_env["AIMASS_HOME"])
    demo = subprocess.run(
        [sys.executable, "-m", "aimass.demo", "--day", TINY_DAY, "--conf", TINY_CONF],
        env=platform_env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert demo.returncode == 1, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "aimass_ingest finished" in demo.stdout
    assert "aimass_marts finished" in demo.stdout
    assert "aimass_propensity failed" in demo.stderr
    assert "aimass failure: aimass_propensity.train_propensity" in demo.stderr
    assert "aimass_recommendations" not in demo.stdout
    logs = home / "logs"
    for dag_id in ("aimass_ingest", "aimass_marts", "aimass_propensity"):
        log = (logs / f"demo-{TINY_DAY}-{dag_id}.log").read_text()
        assert f"DagRun Finished: dag_id={dag_id}" in log
    with psycopg2.connect(platform_env["AIMASS_WAREHOUSE_URL"]) as conn, conn.cursor() as cur:
        cur.execute("select count(*) from marts.fct_user_features_daily")
        assert cur.fetchone()[0] > 0


def test_a_day_that_is_not_a_date_is_refused_before_anything_runs(capsys):
    with pytest.raises(SystemExit):
        main(["--day", "yesterday"])
    assert "--day" in capsys.readouterr().err
