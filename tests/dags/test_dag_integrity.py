"""Every DAG imports cleanly and carries the defaults DESIGN.md asks of it."""

from __future__ import annotations

from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dagbag():
    return DagBag(str(DAGS_DIR))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert dagbag.dags, "no DAG found in dags/"


def test_one_dag_per_file(dagbag):
    files = [dag.fileloc for dag in dagbag.dags.values()]
    assert len(files) == len(set(files))


@pytest.mark.parametrize("dag_id", ["aimass_daily", "aimass_model_admin"])
def test_expected_dags_exist(dagbag, dag_id):
    assert dag_id in dagbag.dags


def test_dag_level_defaults(dagbag):
    for dag in dagbag.dags.values():
        assert dag.doc_md and len(dag.doc_md) > 100, f"{dag.dag_id}: doc_md missing"
        assert dag.catchup is False, f"{dag.dag_id}: catch-up must be an explicit backfill"
        assert dag.max_active_runs >= 1, f"{dag.dag_id}: max_active_runs"
        assert dag.dagrun_timeout is not None, f"{dag.dag_id}: dagrun_timeout"
        assert dag.tags, f"{dag.dag_id}: tags"


def test_task_level_defaults(dagbag):
    for dag in dagbag.dags.values():
        for t in dag.tasks:
            where = f"{dag.dag_id}.{t.task_id}"
            assert t.owner == "aimass", where
            assert t.retries >= 1, where
            assert t.retry_delay.total_seconds() > 0, where
            assert t.execution_timeout is not None, where
            assert t.on_failure_callback, f"{where}: failure callback"


def test_daily_pipeline_order(dagbag):
    dag = dagbag.dags["aimass_daily"]
    ingest = [t for t in dag.tasks if t.task_id.startswith("ingest_")]
    assert {"ingest_orders", "ingest_events", "ingest_users"} <= {t.task_id for t in ingest}
    gate = dag.get_task("quality_gate_features")
    assert "build_marts" in gate.upstream_task_ids
    assert "quality_gate_features" in dag.get_task("train_propensity").upstream_task_ids
    assert "train_propensity" in dag.get_task("score_propensity").upstream_task_ids
