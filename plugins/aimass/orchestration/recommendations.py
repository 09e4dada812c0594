"""Bodies of the recommendation tasks: plain functions of (warehouse, day, options).

The run for `ds` recommends as of `ds + 1` (`daily.as_of_for`), from events with ts < that day.

Partial recomputes: a run with a `segment` replaces, for that score date, only the rows of the
segment's users in `ml.user_recommendations` (everyone else's lists stay); a run with a
`campaign_category` writes the category-filtered lists to `ml.campaign_recommendations`
(one row per (score_date, campaign_category, user_id, rank)) and leaves the general lists alone.
"""

from __future__ import annotations

import logging
from datetime import date

from aimass.orchestration.daily import as_of_for
from aimass.warehouse import connect

log = logging.getLogger(__name__)


def _blank(value) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def train_recommender(warehouse_url: str, ds: date, *, force: bool = False) -> dict:
    """Evaluate, register and maybe promote a recommender trained on data before `ds + 1`
    (skipped while the champion is younger than `retrain_after_days`)."""
    from ml.recommend.pipeline import train_and_register

    with connect(warehouse_url) as conn:
        summary = train_and_register(conn, as_of=as_of_for(ds), force=force)
    log.info("recommender: %s %s", summary["status"], summary.get("decision_reason"))
    return summary


def publish_recommendations(
    warehouse_url: str,
    ds: date,
    *,
    top_n: int | None = None,
    segment: str | None = None,
    campaign_category: str | None = None,
) -> dict:
    """Publish the top-N lists as of `ds + 1` for every active user, or one segment, or one
    campaign category; raises (leaving the published lists alone) when there is nothing to
    recommend."""
    from ml.recommend.pipeline import recommend

    with connect(warehouse_url) as conn:
        summary = recommend(
            conn,
            score_date=as_of_for(ds),
            top_n=top_n,
            segment=_blank(segment),
            campaign_category=_blank(campaign_category),
        )
    log.info("recommendations: %s", summary)
    return summary
