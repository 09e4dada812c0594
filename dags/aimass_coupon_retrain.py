"""
### AI Mass coupon uplift retraining

Weekly (and on demand from the form): trains the coupon-targeting uplift model on
`marts.fct_coupon_training_set` — every randomized coupon campaign whose outcome window has
finished. T-, X- and S-learners (LightGBM base models) are fitted on the older campaigns, one
is chosen by Qini on the next campaign, and it is evaluated on the latest campaign against
random targeting, targeting everyone, purchase-propensity targeting and (on the simulated shop)
the oracle, with the off-policy net value of each targeting policy. Registered in
`ml.model_registry` as `coupon_uplift`; promoted only when it beats the baselines and is not
worse than the champion on the same campaign. Skipped while the champion is younger than
`retrain_after_days` unless *force* is on. The report is on the AI Mass page.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task

from aimass.orchestration import assets, coupons
from aimass.orchestration.connections import warehouse_dsn
from aimass.orchestration.defaults import DAG_DEFAULTS, WEEKLY_SCHEDULE
from aimass.orchestration.pools import WAREHOUSE_POOL
from aimass.orchestration.run_day import DAY_PARAM, run_day


@dag(
    dag_id="aimass_coupon_retrain",
    schedule=WEEKLY_SCHEDULE,
    doc_md=__doc__,
    tags=["aimass", "models", "coupons"],
    params={
        "day": DAY_PARAM,
        "force": Param(
            False, type="boolean", description="Train a new model even if the champion is recent."
        ),
    },
    **DAG_DEFAULTS,
)
def aimass_coupon_retrain():
    @task(pool=WAREHOUSE_POOL, outlets=[assets.MODEL_REGISTRY])
    def train_coupon_model(params=None) -> dict:
        ds = run_day(get_current_context())
        return coupons.retrain_coupon_model(warehouse_dsn(), ds, force=params["force"])

    train_coupon_model()


aimass_coupon_retrain()
