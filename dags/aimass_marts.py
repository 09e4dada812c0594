"""
### AI Mass marts (on new raw data)

Runs when `aimass_ingest` has loaded a day and its raw gate passed (Asset `raw._load_log`):

1. **build_marts** — `dbt build`: staging, dimensions and facts, point-in-time feature marts
   and analytics marts, with dbt tests. Incremental models re-read whatever was loaded since
   their last run, so one run catches up on several loaded days; a build that would re-read
   most of `raw` (after a bulk load) is a full refresh, which is faster and gives the same marts.
2. **quality_gate_features** — Great Expectations on the feature marts as of `ds + 1`; a failure
   stops here, so no model is trained and no score is written from bad data. When it passes it
   updates the Assets `marts.fct_user_features_daily` and `marts.fct_coupon_training_set` with
   the day, which starts the model DAGs.

The day `ds` is the *day* parameter when given, else the day of the triggering asset event
(the newest, when several loads arrived together), else the run's logical date.
*full_refresh* rebuilds every dbt model from scratch.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task

from aimass.orchestration import assets, daily
from aimass.orchestration.connections import warehouse_dsn
from aimass.orchestration.defaults import DAG_DEFAULTS
from aimass.orchestration.pools import WAREHOUSE_POOL
from aimass.orchestration.run_day import DAY_PARAM, mark_day, run_day

FEATURE_ASSETS = [assets.USER_FEATURES, assets.COUPON_TRAINING_SET]


@dag(
    dag_id="aimass_marts",
    schedule=[assets.RAW_LOAD_LOG],
    doc_md=__doc__,
    tags=["aimass", "transformation"],
    params={
        "day": DAY_PARAM,
        "full_refresh": Param(
            False, type="boolean", description="Rebuild every dbt model from scratch."
        ),
    },
    **DAG_DEFAULTS,
)
def aimass_marts():
    @task(pool=WAREHOUSE_POOL)
    def build_marts(params=None) -> dict:
        ds = run_day(get_current_context())
        return daily.build_marts(warehouse_dsn(), ds, full_refresh=params["full_refresh"])

    @task(outlets=FEATURE_ASSETS)
    def quality_gate_features() -> dict:
        context = get_current_context()
        ds = run_day(context)
        result = daily.quality_gate(warehouse_dsn(), "features", daily.as_of_for(ds))
        mark_day(context, ds, *FEATURE_ASSETS)
        return result

    build_marts() >> quality_gate_features()


aimass_marts()
