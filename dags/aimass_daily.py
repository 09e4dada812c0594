"""
### AI Mass daily pipeline

Every day, for the data interval `ds` (one UTC day):

1. **simulate_shop** — when *use_simulated_shop* is on (the default), writes the built-in simulated
   shop's landing files up to `ds` and its hidden truth (`sim_truth`). Off: your own exports in the
   landing area are used as they are.
2. **ingest_&lt;source&gt;** — one task per source contract: loads every new or changed landing
   partition up to `ds` into `raw.<source>` with COPY; bad rows go to `quarantine.<source>`.
3. **quality_gate_raw** — Great Expectations on the raw layer (schema, completeness, keys).
4. **build_marts** — `dbt build`: staging, marts, point-in-time feature marts, with dbt tests.
5. **quality_gate_features** — Great Expectations on the feature marts; a failure stops the run,
   so no model is trained and no score is written from bad data.
6. **train_propensity** — LightGBM purchase propensity with a time-based split; registered in
   `ml.model_registry`; promoted to champion only if it beats the champion on the same window.
7. **score_propensity** — the champion scores every active user as of `ds + 1` into
   `ml.propensity_scores`; `marts.propensity_latest` shows the latest scores.
8. **quality_gate_scores** — Great Expectations on the new scores.

Re-running any day gives the same rows (every step replaces exactly its own day).
"""

from __future__ import annotations

from datetime import date

from airflow.sdk import Param, dag, get_current_context, task

from aimass.orchestration import assets, daily
from aimass.orchestration.connections import warehouse_dsn
from aimass.orchestration.defaults import DAG_DEFAULTS, DAILY_SCHEDULE


def _ds() -> date:
    return date.fromisoformat(get_current_context()["ds"])


@dag(
    dag_id="aimass_daily",
    schedule=DAILY_SCHEDULE,
    doc_md=__doc__,
    tags=["aimass", "daily"],
    params={
        "use_simulated_shop": Param(
            True, type="boolean", description="Generate the built-in simulated shop's data."
        ),
        "shop_profile": Param(
            "demo",
            type="string",
            enum=["tiny", "demo", "small", "medium"],
            description="Size of the simulated shop.",
        ),
        "force_retrain": Param(
            False, type="boolean", description="Train a new model even if the champion is recent."
        ),
        "full_refresh": Param(
            False, type="boolean", description="Rebuild every dbt model from scratch."
        ),
    },
    **DAG_DEFAULTS,
)
def aimass_daily():
    @task
    def prepare_warehouse() -> None:
        daily.prepare_warehouse(warehouse_dsn())

    @task
    def simulate_shop(params=None) -> dict | None:
        if not params["use_simulated_shop"]:
            return None
        return daily.simulate_shop(warehouse_dsn(), _ds(), params["shop_profile"])

    @task(max_active_tis_per_dagrun=2)
    def ingest(source: str) -> dict:
        return daily.ingest_source(warehouse_dsn(), source, _ds())

    @task(outlets=[assets.USER_FEATURES])
    def build_marts(params=None) -> dict:
        return daily.build_marts(warehouse_dsn(), _ds(), full_refresh=params["full_refresh"])

    @task
    def quality_gate(suite: str) -> dict:
        day = _ds() if suite == "raw" else daily.as_of_for(_ds())
        return daily.quality_gate(warehouse_dsn(), suite, day)

    @task(outlets=[assets.MODEL_REGISTRY])
    def train_propensity(params=None) -> dict:
        return daily.train_propensity(warehouse_dsn(), _ds(), force=params["force_retrain"])

    @task(outlets=[assets.PROPENSITY_SCORES])
    def score_propensity() -> dict:
        return daily.score_propensity(warehouse_dsn(), _ds())

    prepared = prepare_warehouse()
    simulated = simulate_shop()
    prepared >> simulated
    loads = [
        ingest.override(task_id=f"ingest_{source}", outlets=[asset])(source)
        for source, asset in assets.RAW.items()
    ]
    simulated >> loads
    raw_gate = quality_gate.override(task_id="quality_gate_raw")("raw")
    loads >> raw_gate
    marts = build_marts()
    feature_gate = quality_gate.override(task_id="quality_gate_features")("features")
    trained = train_propensity()
    scored = score_propensity()
    score_gate = quality_gate.override(task_id="quality_gate_scores")("scores")
    raw_gate >> marts >> feature_gate >> trained >> scored >> score_gate


aimass_daily()
