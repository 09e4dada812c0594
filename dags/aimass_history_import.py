"""
### AI Mass history import (a first export of any period, by hand)

Triggered from the parameter form (*Trigger → Single Run*) once, when a shop's first export
(months or years, any dates) lies in the landing area: `<landing>/<source>/history/*.csv` (many
days per file, split into days by their timestamps) and/or daily partitions
`<landing>/<source>/<YYYY-MM-DD>/part-*.csv`.

- *landing_uri* — where the export lies (a folder or `s3://…`); empty = `AIMASS_LANDING_URI`,
  the landing area the daily runs read.
- *train_and_score* — train the propensity model and score every user as of the day after the
  export's last day; off: load and build only.

1. **prepare_warehouse** — schemas, roles, raw and quarantine tables (idempotent).
2. **inspect_export** — what the export holds; the run stops here, loading nothing, when the
   required `orders` have no data, a file cannot be read (no header row, another delimiter,
   missing columns), rows are dated after today, or a day is both in `history/` and a daily
   partition. Timestamps without a zone are read as UTC (a warning says how many).
3. **ingest_&lt;source&gt;** — the history export, then the daily partitions up to the export's
   last day, each day replaced in its own transaction (a re-run loads nothing twice).
4. **quality_gate_raw**, **build_marts** (ONE full `dbt build` over the whole export),
   **quality_gate_features**.
5. **train_propensity** (forced) and **score_propensity** as of the last day + 1, then
   **quality_gate_scores**, which updates the Asset `ml.propensity_scores` with the day, so the
   recommendations follow. Too little history is not a failure: the result and the summary
   say how many more days training needs; nothing is scored without a champion.
6. **summary** — days and rows per source, quarantined rows, the model's metrics, the scores
   and where to look (in the task's log and result).

The same steps as `make import-history LANDING=…` (`python -m aimass.history`). Afterwards the
daily runs continue with the next day as ordinary incremental days.
"""

from __future__ import annotations

from datetime import date

from airflow.sdk import Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from aimass.history import ExportError, steps
from aimass.orchestration import assets, daily
from aimass.orchestration.connections import warehouse_dsn
from aimass.orchestration.defaults import DAG_DEFAULTS
from aimass.orchestration.pools import WAREHOUSE_POOL
from aimass.orchestration.run_day import mark_day


def _last_day(export: dict) -> date:
    return date.fromisoformat(export["last_day"])


@dag(
    dag_id="aimass_history_import",
    schedule=None,
    doc_md=__doc__,
    tags=["aimass", "ingestion", "history"],
    params={
        "landing_uri": Param(
            "",
            type="string",
            title="Landing area",
            description="Folder or URI of the export; empty = AIMASS_LANDING_URI.",
        ),
        "train_and_score": Param(
            True,
            type="boolean",
            title="Train and score",
            description="Train the propensity model and score as of the export's last day + 1.",
        ),
    },
    **DAG_DEFAULTS,
)
def aimass_history_import():
    @task
    def prepare_warehouse() -> None:
        daily.prepare_warehouse(warehouse_dsn())

    @task
    def inspect_export(params=None) -> dict:
        try:
            return steps.inspect(steps.landing_uri_of(params["landing_uri"])).as_dict()
        except ExportError as exc:  # the export must change first: retrying cannot help
            raise AirflowFailException(str(exc)) from exc

    @task(pool=WAREHOUSE_POOL, max_active_tis_per_dagrun=2)
    def ingest(source: str, export: dict) -> dict:
        result = steps.load_source(
            warehouse_dsn(), source, export["landing_uri"], _last_day(export)
        )
        mark_day(get_current_context(), _last_day(export), assets.RAW[source])
        return result

    @task
    def quality_gate_raw(export: dict) -> dict:
        return daily.quality_gate(warehouse_dsn(), "raw", _last_day(export))

    @task(pool=WAREHOUSE_POOL)
    def build_marts(export: dict) -> dict:
        return steps.build(warehouse_dsn(), _last_day(export))

    @task
    def quality_gate_features(export: dict) -> dict:
        return daily.quality_gate(warehouse_dsn(), "features", daily.as_of_for(_last_day(export)))

    @task(pool=WAREHOUSE_POOL)
    def train_propensity(export: dict, params=None) -> dict | None:
        if not params["train_and_score"]:
            return None
        return steps.train(warehouse_dsn(), _last_day(export))

    @task(pool=WAREHOUSE_POOL)
    def score_propensity(export: dict, trained: dict | None) -> dict | None:
        if trained is None:
            return None
        return steps.score(warehouse_dsn(), _last_day(export))

    @task(outlets=[assets.PROPENSITY_SCORES])
    def quality_gate_scores(export: dict, scored: dict | None) -> dict:
        result = steps.gate_scores(warehouse_dsn(), _last_day(export), scored or {})
        if result is None:  # skipped: no scores, so no asset event for the recommendations
            raise AirflowSkipException("nothing was scored, so there is nothing to check")
        mark_day(get_current_context(), _last_day(export), assets.PROPENSITY_SCORES)
        return result

    @task(trigger_rule="none_failed")
    def summary(export: dict, built: dict, trained: dict | None, scored: dict | None) -> dict:
        loads = get_current_context()["ti"].xcom_pull(
            task_ids=[f"ingest_{source}" for source in assets.RAW]
        )
        result = steps.summarise(
            warehouse_dsn(), export, loads=loads, built=built, trained=trained, scored=scored
        )
        print("\n".join(result["lines"]))
        return result

    export = inspect_export()
    prepare_warehouse() >> export
    loads = [
        ingest.override(task_id=f"ingest_{source}", outlets=[asset])(source, export)
        for source, asset in assets.RAW.items()
    ]
    gate_raw = quality_gate_raw(export)
    loads >> gate_raw
    built = build_marts(export)
    gate_features = quality_gate_features(export)
    gate_raw >> built >> gate_features
    trained = train_propensity(export)
    gate_features >> trained
    scored = score_propensity(export, trained)
    gated = quality_gate_scores(export, scored)
    gated >> summary(export, built, trained, scored)


aimass_history_import()
