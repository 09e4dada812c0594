"""
### AI Mass purchase propensity (on new features)

Runs when `aimass_marts` has published the feature marts of a day (Asset
`marts.fct_user_features_daily`):

1. **train_propensity** — LightGBM purchase propensity with a time-based split, trained when the
   champion is older than `retrain_after_days` (or *force_retrain*); registered in
   `ml.model_registry` and promoted only if it is not worse than the champion on the same window.
2. **score_propensity** — the champion scores every active user as of `ds + 1` into
   `ml.propensity_scores`; `marts.propensity_latest` shows the latest scores.
3. **quality_gate_scores** — Great Expectations on the new scores; when they pass it updates the
   Asset `ml.propensity_scores` with the day.

The day `ds` is the *day* parameter when given, else the day of the triggering asset event,
else the run's logical date.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task

from aimass.orchestration import assets, daily
from aimass.orchestration.connections import warehouse_dsn
from aimass.orchestration.defaults import DAG_DEFAULTS
from aimass.orchestration.pools import WAREHOUSE_POOL
from aimass.orchestration.run_day import DAY_PARAM, mark_day, run_day


@dag(
    dag_id="aimass_propensity",
    schedule=[assets.USER_FEATURES],
    doc_md=__doc__,
    tags=["aimass", "models"],
    params={
        "day": DAY_PARAM,
        "force_retrain": Param(
            False, type="boolean", description="Train a new model even if the champion is recent."
        ),
    },
    **DAG_DEFAULTS,
)
def aimass_propensity():
    @task(pool=WAREHOUSE_POOL, outlets=[assets.MODEL_REGISTRY])
    def train_propensity(params=None) -> dict:
        context = get_current_context()
        ds = run_day(context)
        result = daily.train_propensity(warehouse_dsn(), ds, force=params["force_retrain"])
        mark_day(context, ds, assets.MODEL_REGISTRY)
        return result

    @task(pool=WAREHOUSE_POOL)
    def score_propensity() -> dict:
        return daily.score_propensity(warehouse_dsn(), run_day(get_current_context()))

    @task(outlets=[assets.PROPENSITY_SCORES])
    def quality_gate_scores() -> dict:
        context = get_current_context()
        ds = run_day(context)
        result = daily.quality_gate(warehouse_dsn(), "scores", daily.as_of_for(ds))
        mark_day(context, ds, assets.PROPENSITY_SCORES)
        return result

    train_propensity() >> score_propensity() >> quality_gate_scores()


aimass_propensity()
