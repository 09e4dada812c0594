"""
### AI Mass model admin

Change the purchase-propensity champion by hand, from a parameter form:

- **promote** — make *model_version* the champion (a version the promotion rule rejected needs
  *force*); the previous champion is retired.
- **rollback** — put the previous champion back; the current one is marked rejected.

Then the latest score date is scored again with the new champion, so
`marts.propensity_latest` serves its scores, and the Asset `ml.propensity_scores` is updated
with that day (`ds` = score date - 1), so the DAGs scheduled on the scores run for it. Versions
and their reports are listed on the AI Mass page and in `ml.model_registry`; the daily scores
themselves come from `aimass_propensity`.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task

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
        "model_name": Param("propensity", type="string", enum=["propensity"]),
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
    def change_champion() -> dict:
        p = get_current_context()["params"]
        return model_admin.change_champion(
            warehouse_dsn(), p["action"], p["model_name"], p["model_version"] or None, p["force"]
        )

    @task(pool=WAREHOUSE_POOL, outlets=[assets.PROPENSITY_SCORES])
    def rescore_latest() -> dict:
        result = model_admin.rescore_latest(warehouse_dsn())
        day = model_admin.rescored_day(result)
        if day is not None:
            mark_day(get_current_context(), day, assets.PROPENSITY_SCORES)
        return result

    change_champion() >> rescore_latest()


aimass_model_admin()
