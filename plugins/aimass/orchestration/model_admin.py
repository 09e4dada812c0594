"""Bodies of the model-admin tasks: change the champion of any model by hand, then republish
what that model serves (propensity scores, recommendation lists; coupon targets are planned per
campaign, so nothing is republished for the uplift model)."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from aimass.warehouse import connect

log = logging.getLogger(__name__)
ACTIONS = ("promote", "rollback")
PROPENSITY, UPLIFT, RECOMMENDER = "propensity", "coupon_uplift", "recommender"
MODEL_NAMES = (PROPENSITY, UPLIFT, RECOMMENDER)


def change_champion(
    warehouse_url: str, action: str, model_name: str, model_version: str | None, force: bool
) -> dict:
    """Promote a given version, or roll back to the previous champion; returns the champion."""
    from ml.core import registry

    if action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}, not {action!r}")
    with connect(warehouse_url) as conn, conn:
        if action == "promote":
            if not model_version:
                raise ValueError(
                    "promote needs model_version: pick one from ml.model_registry "
                    "(or the AI Mass page) and trigger again."
                )
            registry.promote(
                conn, model_name, model_version, reason="promoted from Airflow", force=force
            )
            champion = model_version
        else:
            champion = registry.rollback(conn, model_name)
    log.info("%s: champion of %s is now %s", action, model_name, champion)
    return {"model_name": model_name, "champion": champion}


def _latest(conn, table: str) -> date | None:
    with conn.cursor() as cur:
        cur.execute("select to_regclass(%s) is not null", (table,))
        if not cur.fetchone()[0]:
            return None
        cur.execute(f"select max(score_date) from {table}")  # noqa: S608 (a constant name)
        return cur.fetchone()[0]


def _republish(warehouse_url: str, table: str, body) -> dict:
    """`body(conn, latest score date)` with the new champion, unless nothing was published."""
    with connect(warehouse_url) as conn:
        latest = _latest(conn, table)
        if latest is None:
            return {"rescored": False, "reason": f"nothing published in {table} yet"}
        return body(conn, latest)


def rescore_latest(warehouse_url: str) -> dict:
    """Score the latest published score date again with the (new) propensity champion."""
    from ml.propensity.pipeline import score

    return _republish(warehouse_url, "ml.propensity_scores", lambda c, d: score(c, score_date=d))


def republish_recommendations(warehouse_url: str) -> dict:
    """Make the latest published lists again with the (new) recommender champion."""
    from ml.recommend.pipeline import recommend

    return _republish(
        warehouse_url, "ml.user_recommendations", lambda c, d: recommend(c, score_date=d)
    )


def rescored_day(result: dict) -> date | None:
    """The data day (`ds`) whose output was republished: the score date - 1 day."""
    if not result.get("score_date"):
        return None
    return date.fromisoformat(str(result["score_date"])) - timedelta(days=1)
