"""Publish lists: COPY into `ml.user_recommendations` (or, for a campaign's category filter,
`ml.campaign_recommendations`) and the `marts.*_latest` views, one transaction per run.

- A full run replaces exactly its score_date.
- A segment run replaces only the rows of that score_date for the segment's users; everybody
  else's lists of that day stay as they are.
- A campaign run (category filter) writes to `ml.campaign_recommendations`, one row per
  (score_date, campaign_category, user_id, rank), replacing that (score_date, campaign) only;
  the general lists are never touched.
An empty result is never written: the caller raises first, so a good day is never replaced by
nothing. On any error the transaction is rolled back and the previous rows stay.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pandas as pd
from psycopg2 import sql

from aimass.warehouse import ANALYST_ROLE, grant_ml_public

LIST_COLUMNS = (
    "score_date",
    "user_id",
    "rank",
    "item_id",
    "score",
    "reason",
    "category",
    "merchant_id",
    "model_name",
    "model_version",
    "scope",
    "created_at",
)

DDL = """
create schema if not exists ml;
create table if not exists ml.user_recommendations (
    score_date date not null,
    user_id text not null,
    rank smallint not null check (rank >= 1),
    item_id text not null,
    score double precision not null,
    reason text not null,
    category text,
    merchant_id text,
    model_name text not null,
    model_version text not null,
    scope text not null,
    created_at timestamptz not null,
    primary key (score_date, user_id, rank),
    unique (score_date, user_id, item_id)
);
comment on table ml.user_recommendations is
    'Personalised recommendations: one row per (score_date, user_id, rank); rank 1 = best. '
    'Lists for score_date use only data before it. scope = all, or segment:<name> for a '
    'segment recompute that replaced these users'' rows.';
create table if not exists ml.campaign_recommendations (
    score_date date not null,
    campaign_category text not null,
    user_id text not null,
    rank smallint not null check (rank >= 1),
    item_id text not null,
    score double precision not null,
    reason text not null,
    category text,
    merchant_id text,
    model_name text not null,
    model_version text not null,
    scope text not null,
    created_at timestamptz not null,
    primary key (score_date, campaign_category, user_id, rank)
);
comment on table ml.campaign_recommendations is
    'Recommendations restricted to one campaign category: one row per '
    '(score_date, campaign_category, user_id, rank).';
create schema if not exists marts;
create or replace view marts.recommendations_latest as
select score_date, user_id, rank, item_id, score, reason, category, merchant_id, model_version
from ml.user_recommendations
where score_date = (select max(score_date) from ml.user_recommendations);
comment on view marts.recommendations_latest is
    'One row per (user_id, rank): each active user''s list of the latest score_date.';
create or replace view marts.campaign_recommendations_latest as
select
    score_date, campaign_category, user_id, rank, item_id, score, reason, category,
    merchant_id, model_version
from ml.campaign_recommendations as c
where score_date = (
    select max(score_date) from ml.campaign_recommendations as latest
    where latest.campaign_category = c.campaign_category
);
comment on view marts.campaign_recommendations_latest is
    'One row per (campaign_category, user_id, rank): the latest lists of every campaign.';
"""


def ensure_tables(conn) -> None:
    """Create the tables and views if missing (no commit)."""
    with conn.cursor() as cur:
        cur.execute(DDL)


def _grant_campaign_table(conn) -> None:
    with conn.cursor() as cur:
        cur.execute("select 1 from pg_roles where rolname = %s", (ANALYST_ROLE,))
        if cur.fetchone():
            cur.execute(
                sql.SQL("grant select on ml.campaign_recommendations to {}").format(
                    sql.Identifier(ANALYST_ROLE)
                )
            )
    conn.commit()


def _copy(cur, table: str, columns: list[str], rows: pd.DataFrame) -> None:
    buffer = io.StringIO()
    rows[columns].to_csv(buffer, index=False, header=False, na_rep="\\N")
    buffer.seek(0)
    cur.copy_expert(
        f"copy {table} ({', '.join(columns)}) from stdin with (format csv, null '\\N')", buffer
    )


def write_lists(
    conn,
    lists: pd.DataFrame,
    *,
    score_date: date,
    model_name: str,
    model_version: str,
    segment: str | None = None,
    campaign_category: str | None = None,
) -> int:
    """Replace the rows of this run's scope in one transaction; returns the rows written.

    `lists` has user_id, rank, item_id, score, reason, category, merchant_id."""
    if lists.empty:
        raise ValueError(
            f"No recommendation rows for {score_date}; nothing was written and the published "
            "lists stay as they are."
        )
    scope = f"segment:{segment}" if segment else "all"
    rows = lists.assign(
        score_date=score_date.isoformat(),
        model_name=model_name,
        model_version=model_version,
        scope=scope,
        created_at=datetime.now(UTC).isoformat(),
    )
    users = sorted(rows["user_id"].unique())
    try:
        ensure_tables(conn)
        with conn.cursor() as cur:
            if campaign_category is not None:
                rows = rows.assign(campaign_category=campaign_category)
                if segment:
                    cur.execute(
                        "delete from ml.campaign_recommendations where score_date = %s "
                        "and campaign_category = %s and user_id = any(%s)",
                        (score_date, campaign_category, users),
                    )
                else:
                    cur.execute(
                        "delete from ml.campaign_recommendations where score_date = %s "
                        "and campaign_category = %s",
                        (score_date, campaign_category),
                    )
                columns = ["campaign_category", *LIST_COLUMNS]
                _copy(cur, "ml.campaign_recommendations", columns, rows)
            else:
                if segment:
                    cur.execute(
                        "delete from ml.user_recommendations "
                        "where score_date = %s and user_id = any(%s)",
                        (score_date, users),
                    )
                else:
                    cur.execute(
                        "delete from ml.user_recommendations where score_date = %s",
                        (score_date,),
                    )
                _copy(cur, "ml.user_recommendations", list(LIST_COLUMNS), rows)
        conn.commit()
    except Exception:
        conn.rollback()
        raise
    grant_ml_public(conn)
    _grant_campaign_table(conn)
    return len(rows)
