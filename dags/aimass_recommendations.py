"""
### AI Mass recommendations (after propensity scoring)

Runs when `aimass_propensity` has published the scores of a day (Asset `ml.propensity_scores`),
or from the parameter form:

1. **train_recommender** — implicit-feedback collaborative filtering (implicit ALS) on the
   behaviour events and order lines before `ds + 1`, weighted per event type and decayed in time;
   evaluated against global popularity, popularity in the favourite category, item-kNN and (on
   the simulated shop) the oracle on the last days; registered in `ml.model_registry`
   (`recommender`) and promoted only if it beats the baselines and is not worse than the
   champion. Skipped while the champion is younger than `retrain_after_days`.
2. **publish_recommendations** — the champion's top *top_n* items per active user as of
   `ds + 1`, after the rules (no unavailable item, no recent purchase, a per-merchant cap), into
   `ml.user_recommendations`; `marts.recommendations_latest` shows the latest lists.

Recompute from the form: *segment* (a `marts.mart_user_segments` segment) replaces only that
segment's users' lists of the day; *campaign_category* writes category-only lists to
`ml.campaign_recommendations` (view `marts.campaign_recommendations_latest`) and leaves the
general lists alone. Nothing is written when there is nothing to recommend, so a good day is
never replaced by an empty one.

The day `ds` is the *day* parameter when given, else the day of the triggering asset event,
else the run's logical date.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task

from aimass.orchestration import assets, recommendations
from aimass.orchestration.connections import warehouse_dsn
from aimass.orchestration.defaults import DAG_DEFAULTS
from aimass.orchestration.pools import WAREHOUSE_POOL
from aimass.orchestration.run_day import DAY_PARAM, mark_day, run_day


@dag(
    dag_id="aimass_recommendations",
    schedule=[assets.PROPENSITY_SCORES],
    doc_md=__doc__,
    tags=["aimass", "models", "recommendations"],
    params={
        "day": DAY_PARAM,
        "top_n": Param(20, type="integer", minimum=1, maximum=200, description="Items per user."),
        "segment": Param(
            None,
            type=["null", "string"],
            description="Only recompute this marts.mart_user_segments segment (e.g. champions).",
        ),
        "campaign_category": Param(
            None,
            type=["null", "string"],
            description="Campaign lists: only items of this category (ml.campaign_recommendations).",
        ),
        "force_retrain": Param(
            False, type="boolean", description="Train a new model even if the champion is recent."
        ),
    },
    **DAG_DEFAULTS,
)
def aimass_recommendations():
    @task(pool=WAREHOUSE_POOL, outlets=[assets.MODEL_REGISTRY])
    def train_recommender(params=None) -> dict:
        context = get_current_context()
        ds = run_day(context)
        result = recommendations.train_recommender(
            warehouse_dsn(), ds, force=params["force_retrain"]
        )
        mark_day(context, ds, assets.MODEL_REGISTRY)
        return result

    @task(pool=WAREHOUSE_POOL, outlets=[assets.USER_RECOMMENDATIONS])
    def publish_recommendations(params=None) -> dict:
        context = get_current_context()
        ds = run_day(context)
        result = recommendations.publish_recommendations(
            warehouse_dsn(),
            ds,
            top_n=params["top_n"],
            segment=params["segment"],
            campaign_category=params["campaign_category"],
        )
        mark_day(context, ds, assets.USER_RECOMMENDATIONS)
        return result

    train_recommender() >> publish_recommendations()


aimass_recommendations()
