"""
### AI Mass ingestion (daily)

Every day, for the data interval `ds` (one UTC day; the scheduled run starts at midnight
when the day is over):

1. **prepare_warehouse** — schemas, roles, raw and quarantine tables (idempotent).
2. **simulate_shop** — when *use_simulated_shop* is on (the default unless
   `AIMASS_USE_SIMULATED_SHOP=false`), writes the built-in simulated shop's landing files up to
   `ds` and its hidden truth (`sim_truth`). Off: your own exports in the landing area are used
   as they are.
3. **ingest_&lt;source&gt;** — one task per source contract: loads every new or changed landing
   partition up to `ds` into `raw.<source>` with COPY; bad rows go to `quarantine.<source>`.
   Each updates the Asset `raw.<source>`. A day without `orders` data (no partition, not
   within a loaded history export), or before any data, fails and says what the landing area
   holds; an optional source's missing day is listed under `missing` in the task's result.
4. **quality_gate_raw** — Great Expectations on the raw layer (schema, completeness, keys). When
   it passes it updates the Asset `raw._load_log` with the day, which starts `aimass_marts`.

Any day can be run, years back included. Re-running a day replaces exactly that day. Past
days: `airflow backfill create --dag-id aimass_ingest --from-date … --to-date …`; the asset
chain follows for every day. A first export of months or years: `aimass_history_import`.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task

from aimass.orchestration import assets, daily
from aimass.orchestration.connections import warehouse_dsn
from aimass.orchestration.defaults import DAG_DEFAULTS, DAILY_SCHEDULE, USE_SIMULATED_SHOP
from aimass.orchestration.pools import WAREHOUSE_POOL
from aimass.orchestration.run_day import mark_day, run_day


@dag(
    dag_id="aimass_ingest",
    schedule=DAILY_SCHEDULE,
    doc_md=__doc__,
    tags=["aimass", "ingestion", "daily"],
    params={
        "use_simulated_shop": Param(
            USE_SIMULATED_SHOP,
            type="boolean",
            description=(
                "Generate the built-in simulated shop's data. Off: load your own exports from "
                "the landing area (default for scheduled runs: AIMASS_USE_SIMULATED_SHOP)."
            ),
        ),
        "shop_profile": Param(
            "demo",
            type="string",
            enum=["tiny", "demo", "small", "midsize", "medium"],
            description="Size of the simulated shop.",
        ),
    },
    **DAG_DEFAULTS,
)
def aimass_ingest():
    @task
    def prepare_warehouse() -> None:
        daily.prepare_warehouse(warehouse_dsn())

    @task
    def simulate_shop(params=None) -> dict | None:
        if not params["use_simulated_shop"]:
            return None
        ds = run_day(get_current_context())
        return daily.simulate_shop(warehouse_dsn(), ds, params["shop_profile"])

    @task(pool=WAREHOUSE_POOL, max_active_tis_per_dagrun=2)
    def ingest(source: str) -> dict:
        context = get_current_context()
        ds = run_day(context)
        result = daily.ingest_source(warehouse_dsn(), source, ds)
        mark_day(context, ds, assets.RAW[source])
        return result

    @task(outlets=[assets.RAW_LOAD_LOG])
    def quality_gate_raw() -> dict:
        context = get_current_context()
        ds = run_day(context)
        result = daily.quality_gate(warehouse_dsn(), "raw", ds)
        mark_day(context, ds, assets.RAW_LOAD_LOG)
        return result

    simulated = simulate_shop()
    prepare_warehouse() >> simulated
    loads = [
        ingest.override(task_id=f"ingest_{source}", outlets=[asset])(source)
        for source, asset in assets.RAW.items()
    ]
    simulated >> loads >> quality_gate_raw()


aimass_ingest()
