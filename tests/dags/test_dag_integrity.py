"""Every DAG in dags/ imports cleanly and carries the standards DESIGN.md asks of it; the asset
chain from ingestion to the scores is wired as documented.

The standards are checked over whatever DAGs the folder holds, so a DAG added later is held to
them without touching this file.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import Asset

from aimass.orchestration import assets
from aimass.orchestration.defaults import (
    DAILY_SCHEDULE,
    START_DATE,
    daily_timetable,
    on_failure,
)
from aimass.orchestration.pools import WAREHOUSE_POOL, pool_specs

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"
DEFAULT_POOL = "default_pool"
# Task ids of warehouse-heavy work (loads, dbt, training, scoring): they must take a slot of
# the warehouse pool so that no more than its size hit PostgreSQL at once.
WAREHOUSE_HEAVY = re.compile(r"^(ingest_|build_|train_|score_|rescore_)")


@pytest.fixture(scope="module")
def dagbag():
    return DagBag(str(DAGS_DIR))


def _scheduled_on(dag) -> list[Asset]:
    schedule = dag.schedule
    if isinstance(schedule, Asset):
        return [schedule]
    if isinstance(schedule, (list, tuple)):
        return [a for a in schedule if isinstance(a, Asset)]
    condition = getattr(dag.timetable, "asset_condition", None)
    return [a for a in getattr(condition, "objects", []) if isinstance(a, Asset)]


def _produced(dagbag) -> set[str]:
    return {
        outlet.name
        for dag in dagbag.dags.values()
        for t in dag.tasks
        for outlet in t.outlets
        if isinstance(outlet, Asset)
    }


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert dagbag.dags, "no DAG found in dags/"


def test_one_dag_per_file(dagbag):
    files = [dag.fileloc for dag in dagbag.dags.values()]
    assert len(files) == len(set(files))


@pytest.mark.parametrize(
    "dag_id",
    [
        "aimass_ingest",
        "aimass_marts",
        "aimass_propensity",
        "aimass_model_admin",
        "aimass_history_import",
    ],
)
def test_expected_dags_exist(dagbag, dag_id):
    assert dag_id in dagbag.dags


def test_dag_level_standards(dagbag):
    for dag in dagbag.dags.values():
        assert dag.doc_md and len(dag.doc_md) > 100, f"{dag.dag_id}: doc_md missing"
        assert dag.catchup is False, f"{dag.dag_id}: past days are an explicit backfill"
        assert 1 <= dag.max_active_runs <= 4, f"{dag.dag_id}: max_active_runs"
        assert dag.dagrun_timeout is not None, f"{dag.dag_id}: dagrun_timeout"
        assert dag.tags and "aimass" in dag.tags, f"{dag.dag_id}: tags"
        assert dag.owner == "aimass", f"{dag.dag_id}: owner"


def test_task_level_standards(dagbag):
    for dag in dagbag.dags.values():
        for t in dag.tasks:
            where = f"{dag.dag_id}.{t.task_id}"
            assert t.owner == "aimass", where
            assert t.retries >= 1, where
            assert t.retry_delay and t.retry_delay.total_seconds() > 0, where
            assert t.execution_timeout is not None, where
            assert t.execution_timeout <= dag.dagrun_timeout, f"{where}: timeout above the run's"
            callbacks = t.on_failure_callback
            callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
            assert on_failure in callbacks, f"{where}: failure callback"


def test_warehouse_heavy_tasks_take_a_warehouse_pool_slot(dagbag):
    heavy = [
        (dag.dag_id, t)
        for dag in dagbag.dags.values()
        for t in dag.tasks
        if WAREHOUSE_HEAVY.match(t.task_id)
    ]
    assert len(heavy) >= 14 + 3, "expected the ingest, dbt, train and score tasks"
    for dag_id, t in heavy:
        assert t.pool == WAREHOUSE_POOL, f"{dag_id}.{t.task_id} runs outside {WAREHOUSE_POOL}"


def test_every_pool_a_task_names_is_one_setup_creates(dagbag):
    # a pool nobody created leaves its tasks `scheduled` for ever in the scheduler
    declared = set(pool_specs()) | {DEFAULT_POOL}
    for dag in dagbag.dags.values():
        for t in dag.tasks:
            assert t.pool in declared, (
                f"{dag.dag_id}.{t.task_id} uses pool {t.pool!r}, which nothing creates: "
                "declare it in aimass.orchestration.pools.pool_specs"
            )


def test_every_asset_a_dag_waits_for_is_produced_by_a_dag(dagbag):
    produced = _produced(dagbag)
    for dag in dagbag.dags.values():
        for asset in _scheduled_on(dag):
            assert asset.name in produced, f"{dag.dag_id} waits for {asset.name}; nothing emits it"


def test_asset_scheduled_dags_take_a_day_parameter(dagbag):
    # an asset-triggered run has no logical date: its day comes from the event or `day`
    for dag in dagbag.dags.values():
        if _scheduled_on(dag):
            assert "day" in dag.params, f"{dag.dag_id}: asset-scheduled without a `day` param"


def test_ingestion_runs_daily_and_ends_in_the_raw_load_log(dagbag):
    dag = dagbag.dags["aimass_ingest"]
    assert dag.schedule == DAILY_SCHEDULE  # daily unless AIMASS_DAILY_SCHEDULE=none
    assert set(dag.params.keys()) == {"use_simulated_shop", "shop_profile"}
    ingest = {t.task_id for t in dag.tasks if t.task_id.startswith("ingest_")}
    assert ingest == {f"ingest_{source}" for source in assets.RAW}
    for source, asset in assets.RAW.items():
        task = dag.get_task(f"ingest_{source}")
        assert [o.name for o in task.outlets] == [asset.name]
        assert "simulate_shop" in task.upstream_task_ids
    gate = dag.get_task("quality_gate_raw")
    assert gate.upstream_task_ids == ingest
    assert [o.name for o in gate.outlets] == [assets.RAW_LOAD_LOG.name]
    assert "prepare_warehouse" in dag.get_task("simulate_shop").upstream_task_ids


def test_marts_run_on_the_raw_load_log(dagbag):
    dag = dagbag.dags["aimass_marts"]
    assert [a.name for a in _scheduled_on(dag)] == [assets.RAW_LOAD_LOG.name]
    assert set(dag.params.keys()) == {"day", "full_refresh"}
    gate = dag.get_task("quality_gate_features")
    assert gate.upstream_task_ids == {"build_marts"}
    assert {o.name for o in gate.outlets} == {
        assets.USER_FEATURES.name,
        assets.COUPON_TRAINING_SET.name,
    }


def test_propensity_runs_on_the_user_features(dagbag):
    dag = dagbag.dags["aimass_propensity"]
    assert [a.name for a in _scheduled_on(dag)] == [assets.USER_FEATURES.name]
    assert set(dag.params.keys()) == {"day", "force_retrain"}
    assert dag.get_task("score_propensity").upstream_task_ids == {"train_propensity"}
    assert dag.get_task("quality_gate_scores").upstream_task_ids == {"score_propensity"}
    assert [o.name for o in dag.get_task("train_propensity").outlets] == [
        assets.MODEL_REGISTRY.name
    ]
    assert [o.name for o in dag.get_task("quality_gate_scores").outlets] == [
        assets.PROPENSITY_SCORES.name
    ]


def test_timeouts_are_hours_not_forever(dagbag):
    for dag in dagbag.dags.values():
        assert dag.dagrun_timeout <= timedelta(hours=12), dag.dag_id


def test_no_start_date_stands_in_the_way_of_an_old_day(dagbag):
    """A run for a logical date before a DAG's start date gets no task instances: every DAG
    starts long before any shop's history (catchup stays off, so nothing runs for the years
    in between)."""
    for dag in dagbag.dags.values():
        assert dag.start_date <= datetime(1990, 1, 1, tzinfo=UTC), dag.dag_id
        for t in dag.tasks:
            assert t.start_date is None or t.start_date <= datetime(1990, 1, 1, tzinfo=UTC)


def test_the_daily_run_after_midnight_loads_the_day_that_ended():
    """The scheduled run that starts at 00:00 of day D + 1 has D as its logical date (`ds`)."""
    from airflow.timetables.base import TimeRestriction

    timetable = daily_timetable("@daily")
    start = datetime(1970, 1, 1, tzinfo=UTC)
    after = timetable.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(earliest=start, latest=None, catchup=True),
    )
    assert after.logical_date == start
    assert after.run_after == start + timedelta(days=1)
    assert after.data_interval.end - after.data_interval.start == timedelta(days=1)


def test_with_catchup_off_the_scheduler_starts_at_the_newest_day_not_at_the_start_date():
    from airflow.timetables.base import TimeRestriction

    first = daily_timetable("@daily").next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(earliest=START_DATE, latest=None, catchup=False),
    )
    assert first.logical_date >= datetime.now(UTC) - timedelta(days=2)


def test_the_history_import_is_manual_and_wires_the_whole_chain(dagbag):
    dag = dagbag.dags["aimass_history_import"]
    assert dag.schedule is None
    assert set(dag.params.keys()) == {"landing_uri", "train_and_score"}
    ingest = {t.task_id for t in dag.tasks if t.task_id.startswith("ingest_")}
    assert ingest == {f"ingest_{source}" for source in assets.RAW}
    assert dag.get_task("quality_gate_raw").upstream_task_ids == ingest | {"inspect_export"}
    assert dag.get_task("inspect_export").upstream_task_ids == {"prepare_warehouse"}
    assert "quality_gate_raw" in dag.get_task("build_marts").upstream_task_ids
    assert "quality_gate_features" in dag.get_task("train_propensity").upstream_task_ids
    assert "train_propensity" in dag.get_task("score_propensity").upstream_task_ids
    assert [o.name for o in dag.get_task("quality_gate_scores").outlets] == [
        assets.PROPENSITY_SCORES.name
    ]
    # it starts neither the marts nor the propensity DAGs: it builds and trains itself
    produced = {o.name for t in dag.tasks for o in t.outlets}
    assert assets.RAW_LOAD_LOG.name not in produced
    assert assets.USER_FEATURES.name not in produced
