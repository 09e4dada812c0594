"""
### AI Mass coupon campaign (plan a target list)

Triggered from the parameter form (*Trigger → Single Run*):

- *campaign_name* — stored as given (any text); the same name and date re-plan the same
  campaign, replacing its rows.
- *campaign_date* — the offer day; empty = the latest as-of date with features.
- *budget_coupons* and/or *budget_amount* — at most this many coupons, at most this face value
  in total (money); at least one. The budget is never exceeded.
- *coupon_values* — the values marketing allows (values of past randomized campaigns only).

1. **ensure_coupon_model** — the `coupon_uplift` champion; with none, one is trained first on
   every finished randomized campaign (the task fails when that model is not promoted: see its
   report, and retrain with `aimass_coupon_retrain` once more campaigns have finished).
2. **plan_campaign** — the users whom a coupon moves most, each with the value of the highest
   expected net gain (incremental revenue × margin − coupon cost × redemption probability),
   never users with a negative predicted effect, within the budget; written to
   `ml.coupon_targets` (view `marts.coupon_targets_latest`) and exported as CSV to
   `$AIMASS_HOME/exports/coupon_targets/<campaign_id>.csv`.

Bad input (no budget or a budget ≤ 0, an unknown coupon value, a date without features) fails
the run with a message naming the problem; nothing is written.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task

from aimass.orchestration import assets, coupons
from aimass.orchestration.connections import warehouse_dsn
from aimass.orchestration.defaults import DAG_DEFAULTS
from aimass.orchestration.pools import WAREHOUSE_POOL


@dag(
    dag_id="aimass_coupon_campaign",
    schedule=None,
    doc_md=__doc__,
    tags=["aimass", "models", "coupons"],
    params={
        "campaign_name": Param(
            "demo coupon campaign", type="string", description="Campaign name (stored as text)."
        ),
        "campaign_date": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Offer day (YYYY-MM-DD); empty = latest day with features.",
        ),
        "budget_coupons": Param(
            200, type=["null", "integer"], description="At most this many coupons."
        ),
        "budget_amount": Param(
            None, type=["null", "number"], description="At most this face value in total."
        ),
        "coupon_values": Param(
            [5, 10],
            type="array",
            items={"type": "number"},
            description="Coupon values allowed in this campaign.",
        ),
    },
    **DAG_DEFAULTS,
)
def aimass_coupon_campaign():
    @task(pool=WAREHOUSE_POOL, outlets=[assets.MODEL_REGISTRY])
    def ensure_coupon_model() -> dict:
        return coupons.ensure_coupon_champion(warehouse_dsn())

    @task(pool=WAREHOUSE_POOL, outlets=[assets.COUPON_TARGETS])
    def plan_campaign() -> dict:
        p = get_current_context()["params"]
        return coupons.plan_coupon_campaign(
            warehouse_dsn(),
            campaign_name=p["campaign_name"],
            campaign_date=p["campaign_date"],
            coupon_values=p["coupon_values"],
            budget_coupons=p["budget_coupons"],
            budget_amount=p["budget_amount"],
        )

    ensure_coupon_model() >> plan_campaign()


aimass_coupon_campaign()
