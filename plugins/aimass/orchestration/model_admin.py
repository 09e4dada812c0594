"""Bodies of the model-admin tasks: change the champion by hand, then republish its scores."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from aimass.warehouse import connect

log = logging.getLogger(__name__)
ACTIONS = ("promote", "rollback")


def change_champion(
    warehouse_url: str, action: str, model_name: str, model_version: str | None, force: bool
) -> dict:
    """Promote a given version, or roll back to the previous champion; returns the champion."""
    from ml import registry

    if action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}, not {action!r}")
    with connect(warehouse_url) as conn:
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


def rescore_latest(warehouse_url: str) -> dict:
    """Score the latest published score date again with the (new) champion."""
    from ml.pipeline import score

    with connect(warehouse_url) as conn:
        with conn.cursor() as cur:
            cur.execute("select max(score_date) from ml.propensity_scores")
            latest = cur.fetchone()[0]
        if latest is None:
            return {"rescored": False, "reason": "no scores published yet"}
        return score(conn, score_date=latest)


def rescored_day(result: dict) -> date | None:
    """The data day (`ds`) whose scores `rescore_latest` republished: the score date - 1 day."""
    if not result.get("score_date"):
        return None
    return date.fromisoformat(str(result["score_date"])) - timedelta(days=1)
