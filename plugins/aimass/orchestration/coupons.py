"""Bodies of the coupon tasks: retrain the uplift model, and plan a campaign's target list.

Planning needs a champion. When there is none, the plan task trains one first (on every
completed randomized campaign); if that model is rejected by the promotion rule, the task fails
saying to look at its report and run `aimass_coupon_retrain` once more campaigns have finished.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from aimass.settings import load_settings
from aimass.warehouse import connect

log = logging.getLogger(__name__)


def _number_or_none(value):
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return value


def retrain_coupon_model(warehouse_url: str, ds: date, *, force: bool = False) -> dict:
    """Train, evaluate and register an uplift model on the campaigns finished before `ds + 1`
    (skipped while the champion is younger than `retrain_after_days`, unless `force`)."""
    from ml.uplift.pipeline import train_and_register_uplift

    with connect(warehouse_url) as conn:
        summary = train_and_register_uplift(conn, as_of=ds + timedelta(days=1), force=force)
    log.info("coupon uplift: %s %s", summary["status"], summary.get("decision_reason"))
    return summary


def latest_feature_date(warehouse_url: str) -> date:
    """The latest as-of date of `marts.fct_user_features_daily` (the default campaign date)."""
    with connect(warehouse_url) as conn, conn.cursor() as cur:
        cur.execute("select to_regclass('marts.fct_user_features_daily') is not null")
        latest = None
        if cur.fetchone()[0]:
            cur.execute("select max(as_of_date) from marts.fct_user_features_daily")
            latest = cur.fetchone()[0]
    if latest is None:
        raise ValueError(
            "marts.fct_user_features_daily is empty: run the daily pipeline before planning a "
            "coupon campaign, or give campaign_date."
        )
    return latest


def ensure_coupon_champion(warehouse_url: str) -> dict:
    """The champion's version; trains one first when there is none."""
    from ml.registry import get_champion
    from ml.uplift.config import load_uplift_config
    from ml.uplift.pipeline import train_and_register_uplift

    config = load_uplift_config()
    with connect(warehouse_url) as conn:
        champion = get_champion(conn, config.model_name, with_artifact=False)
        if champion is not None:
            return {"model_version": champion.model_version, "trained": False}
        summary = train_and_register_uplift(conn, config=config, force=True)
    if summary["status"] != "champion":
        raise ValueError(
            f"No coupon uplift champion: the model just trained ({summary['model_version']}) "
            f"was not promoted ({summary['decision_reason']}). See its report on the AI Mass "
            "page; run aimass_coupon_retrain once more randomized campaigns have finished."
        )
    return {"model_version": summary["model_version"], "trained": True}


def plan_coupon_campaign(
    warehouse_url: str,
    *,
    campaign_name: str,
    campaign_date: str | date | None,
    coupon_values,
    budget_coupons=None,
    budget_amount=None,
) -> dict:
    """Plan the campaign with the champion into `ml.coupon_targets` and export the CSV to
    `$AIMASS_HOME/exports/coupon_targets/<campaign_id>.csv`."""
    from ml.uplift.config import load_uplift_config
    from ml.uplift.pipeline import default_export_path, plan_campaign
    from ml.uplift.policy import CampaignRequest
    from ml.uplift.targets import campaign_id_for

    day = campaign_date or None
    day = date.fromisoformat(str(day)) if day else latest_feature_date(warehouse_url)
    try:
        values = tuple(float(v) for v in coupon_values or ())
    except (TypeError, ValueError) as exc:
        raise ValueError(f"coupon_values must be numbers, got {coupon_values!r}.") from exc
    budget_coupons = _number_or_none(budget_coupons)
    budget_amount = _number_or_none(budget_amount)
    request = CampaignRequest(
        name=str(campaign_name or ""),
        campaign_date=day,
        coupon_values=values,
        budget_coupons=None if budget_coupons is None else budget_coupons,
        budget_amount=None if budget_amount is None else float(budget_amount),
    )
    config = load_uplift_config()
    export = default_export_path(
        config, campaign_id_for(request.name or "campaign", day), load_settings().home
    )
    with connect(warehouse_url) as conn:
        summary = plan_campaign(conn, request, config=config, export_path=export)
    log.info("coupon campaign planned: %s", summary)
    return summary
