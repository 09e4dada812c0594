"""The target lists: `ml.coupon_targets` (one row per (campaign_id, user_id, model_version)),
`ml.coupon_campaign_plans` (one row per (campaign_id, model_version): the request and totals),
the view `marts.coupon_targets_latest` (the champion's lists) and a CSV export for marketing
tools. Every statement is parameterised; names never reach SQL text."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from aimass.warehouse import grant_ml_public
from ml.uplift.policy import CampaignRequest

TARGET_COLUMNS = (
    "campaign_id",
    "user_id",
    "model_name",
    "model_version",
    "campaign_date",
    "rank",
    "selected",
    "coupon_value",
    "predicted_uplift",
    "p_purchase_with_coupon",
    "p_purchase_without_coupon",
    "p_redeem",
    "expected_net_value",
    "planned_at",
)
EXPORT_COLUMNS = (
    "campaign_id",
    "campaign_name",
    "campaign_date",
    "user_id",
    "coupon_value",
    "rank",
    "predicted_uplift",
    "expected_net_value",
)

TARGETS_DDL = """
create schema if not exists ml;
create table if not exists ml.coupon_campaign_plans (
    campaign_id text not null,
    model_name text not null,
    model_version text not null,
    campaign_name text not null,
    campaign_date date not null,
    coupon_values numeric[] not null,
    budget_coupons integer check (budget_coupons > 0),
    budget_amount numeric check (budget_amount > 0),
    candidates integer not null,
    selected_users integer not null,
    coupons_sent integer not null,
    face_value_sent numeric not null,
    expected_net_value double precision not null,
    expected_incremental_buyers double precision not null,
    planned_at timestamptz not null,
    primary key (campaign_id, model_version)
);
comment on table ml.coupon_campaign_plans is
    'One row per (campaign_id, model_version): a planned coupon campaign, its budget and totals.';
create table if not exists ml.coupon_targets (
    campaign_id text not null,
    user_id text not null,
    model_name text not null,
    model_version text not null,
    campaign_date date not null,
    rank integer not null check (rank >= 1),
    selected boolean not null,
    coupon_value numeric not null check (coupon_value > 0),
    predicted_uplift double precision not null,
    p_purchase_with_coupon double precision not null,
    p_purchase_without_coupon double precision not null,
    p_redeem double precision not null,
    expected_net_value double precision not null,
    planned_at timestamptz not null,
    primary key (campaign_id, model_version, user_id)
);
comment on table ml.coupon_targets is
    'Coupon targeting: one row per (campaign_id, user_id, model_version). coupon_value = the '
    'recommended value (best expected net value among the allowed ones); selected = in the '
    'campaign within its budget; predicted_uplift = change in P(purchase in the horizon).';
"""

LATEST_VIEW_SQL = """
create or replace view marts.coupon_targets_latest as
with champion as (
    select model_version
    from ml.model_registry
    where model_name = %(model_name)s and status = 'champion'
)

select
    targets.campaign_id,
    plans.campaign_name,
    targets.campaign_date,
    targets.user_id,
    targets.coupon_value,
    targets.predicted_uplift,
    targets.expected_net_value,
    targets.rank,
    targets.selected,
    targets.model_version,
    plans.planned_at
from ml.coupon_targets as targets
inner join champion on targets.model_version = champion.model_version
inner join ml.coupon_campaign_plans as plans
    on targets.campaign_id = plans.campaign_id and targets.model_version = plans.model_version;
comment on view marts.coupon_targets_latest is
    'One row per (campaign, user): the current champion''s coupon target list of each campaign.';
"""


def campaign_id_for(name: str, campaign_date) -> str:
    """A stable id per (name, date): re-planning the same campaign replaces its rows."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "campaign"
    digest = hashlib.sha256(f"{name}\x00{campaign_date.isoformat()}".encode()).hexdigest()[:8]
    return f"{campaign_date:%Y%m%d}-{slug}-{digest}"


def ensure_targets_tables(conn, model_name: str) -> None:
    """Create the tables and (re)create the view over the champion of `model_name`."""
    with conn.cursor() as cur:
        cur.execute(TARGETS_DDL)
        cur.execute("create schema if not exists marts")
        cur.execute(LATEST_VIEW_SQL, {"model_name": model_name})


def write_targets(
    conn,
    targets: pd.DataFrame,
    request: CampaignRequest,
    *,
    campaign_id: str,
    model_name: str,
    model_version: str,
) -> dict:
    """Replace the campaign's rows of this model version in one transaction; on any error
    nothing changes. Returns the plan's totals."""
    planned_at = datetime.now(UTC)
    selected = targets[targets["selected"]]
    plan = {
        "campaign_id": campaign_id,
        "model_name": model_name,
        "model_version": model_version,
        "campaign_name": request.name,
        "campaign_date": request.campaign_date,
        "coupon_values": sorted(float(v) for v in request.coupon_values),
        "budget_coupons": request.budget_coupons,
        "budget_amount": request.budget_amount,
        "candidates": len(targets),
        "selected_users": len(selected),
        "coupons_sent": len(selected),
        "face_value_sent": float(selected["coupon_value"].sum()),
        "expected_net_value": float(selected["expected_net_value"].sum()),
        "expected_incremental_buyers": float(selected["predicted_uplift"].sum()),
        "planned_at": planned_at,
    }
    rows = targets.assign(
        campaign_id=campaign_id,
        model_name=model_name,
        model_version=model_version,
        campaign_date=request.campaign_date.isoformat(),
        planned_at=planned_at.isoformat(),
    )[list(TARGET_COLUMNS)]
    try:
        ensure_targets_tables(conn, model_name)
        with conn.cursor() as cur:
            cur.execute(
                "delete from ml.coupon_targets where campaign_id = %s and model_version = %s",
                (campaign_id, model_version),
            )
            cur.execute(
                "delete from ml.coupon_campaign_plans "
                "where campaign_id = %s and model_version = %s",
                (campaign_id, model_version),
            )
            columns = list(plan)
            cur.execute(
                "insert into ml.coupon_campaign_plans ({}) values ({})".format(  # noqa: S608
                    ", ".join(columns), ", ".join(["%s"] * len(columns))
                ),
                [plan[c] for c in columns],
            )
            buffer = io.StringIO()
            rows.to_csv(buffer, index=False, header=False, float_format="%.17g")
            buffer.seek(0)
            cur.copy_expert(
                f"copy ml.coupon_targets ({', '.join(TARGET_COLUMNS)}) from stdin "
                "with (format csv)",
                buffer,
            )
        conn.commit()
    except Exception:
        conn.rollback()
        raise
    grant_ml_public(conn)
    return plan


def export_csv(targets: pd.DataFrame, request: CampaignRequest, campaign_id: str, path: Path):
    """The selected users as CSV (UTF-8, header, comma-separated, one row per coupon to send,
    in rank order) for a marketing tool's import; written atomically."""
    selected = targets[targets["selected"]].sort_values("rank", kind="stable")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(EXPORT_COLUMNS)
        for row in selected.itertuples(index=False):
            writer.writerow(
                [
                    campaign_id,
                    request.name,
                    request.campaign_date.isoformat(),
                    row.user_id,
                    f"{row.coupon_value:g}",
                    row.rank,
                    f"{row.predicted_uplift:.6f}",
                    f"{row.expected_net_value:.4f}",
                ]
            )
    tmp.replace(path)
    return path


def request_json(request: CampaignRequest) -> str:
    return json.dumps(
        {
            "name": request.name,
            "campaign_date": request.campaign_date.isoformat(),
            "coupon_values": list(request.coupon_values),
            "budget_coupons": request.budget_coupons,
            "budget_amount": request.budget_amount,
        }
    )
