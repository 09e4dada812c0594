"""
### AI Mass model admin

Change the champion of a model (*model_name*: propensity, coupon_uplift or recommender) by
hand, from a parameter form:

- **promote** — make *model_version* the champion (a version the promotion rule rejected needs
  *force*); the previous champion is retired.
- **rollback** — put the previous champion back; the current one is marked rejected.

Then what the model serves is made again with the new champion: for propensity the latest score
date is scored again, so `marts.propensity_latest` serves its scores, and the Asset
`ml.propensity_scores` is updated with that day (`ds` = score date - 1), so the DAGs scheduled on
the scores run for it; for the recommender the latest lists are made again
(`marts.recommendations_latest`, Asset `ml.user_recommendations`). Coupon targets are planned per
campaign (`aimass_coupon_campaign`), so the uplift model republishes nothing. Versions and their
reports are listed on the AI Mass page and in `ml.model_registry`.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException

from aimass.orchestration import assets, model_admin
from aimass.orchestration.connections import warehouse_dsn
from aimass.orchestration.defaults import DAG_DEFAULTS
from aimass.orchestration.pools import WAREHOUSE_POOL
from aimass.orchestration.run_day import mark_day


@dag(
    dag_id="aimass_model_admin",
    schedule=None,
    doc_md=__doc__,
    tags=["aimass", "models"],
    params={
        "action": Param(
            "promote",
            type="string",
            enum=list(model_admin.ACTIONS),
            description="promote a version, or roll back to the previous champion",
        ),
        "model_name": Param("propensity", type="string", enum=list(model_admin.MODEL_NAMES)),
        "model_version": Param(
            "", type="string", description="the version to promote (ignored by rollback)"
        ),
        "force": Param(
            False, type="boolean", description="also promote a version the promotion rule rejected"
        ),
    },
    **DAG_DEFAULTS,
)
def aimass_model_admin():
    @task(outlets=[assets.MODEL_REGISTRY])
    def change_champion(params=None) -> dict:
        p = params
        return model_admin.change_champion(
            warehouse_dsn(), p["action"], p["model_name"], p["model_version"] or None, p["force"]
        )

    def _republish(model_name: str, body, asset, params: dict) -> dict:
        if params["model_name"] != model_name:
            raise AirflowSkipException(f"the changed model is not {model_name}")
        result = body(warehouse_dsn())
        day = model_admin.rescored_day(result)
        if day is not None:
            mark_day(get_current_context(), day, asset)
        return result

    @task(pool=WAREHOUSE_POOL, outlets=[assets.PROPENSITY_SCORES])
    def rescore_latest(params=None) -> dict:
        return _republish(
            model_admin.PROPENSITY, model_admin.rescore_latest, assets.PROPENSITY_SCORES, params
        )

    @task(pool=WAREHOUSE_POOL, outlets=[assets.USER_RECOMMENDATIONS])
    def republish_recommendations(params=None) -> dict:
        return _republish(
            model_admin.RECOMMENDER,
            model_admin.republish_recommendations,
            assets.USER_RECOMMENDATIONS,
            params,
        )

    changed = change_champion()
    changed >> [rescore_latest(), republish_recommendations()]


aimass_model_admin()
