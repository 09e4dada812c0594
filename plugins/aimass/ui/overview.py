"""What the AI Mass page shows, read from the warehouse: each function returns plain data,
or None when the table behind it does not exist yet (a fresh platform shows "not yet built")."""

from __future__ import annotations

from typing import Any

from psycopg2 import errors


def _rows(conn, query: str, params: tuple = ()) -> list[dict[str, Any]] | None:
    with conn.cursor() as cur:
        try:
            cur.execute(query, params)
        except (errors.UndefinedTable, errors.UndefinedColumn, errors.InvalidSchemaName):
            conn.rollback()
            return None
        names = [d.name for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def model_registry(conn) -> list[dict] | None:
    """Every model version, champion first, newest first."""
    return _rows(
        conn,
        """
        select model_name, model_version, status, trained_at,
               metrics->>'auc' as auc, metrics->>'pr_auc' as pr_auc,
               metrics->>'auc_vs_oracle' as auc_vs_oracle, metrics->>'qini' as qini,
               metrics->>'ndcg_at_10' as ndcg_at_10,
               report_html is not null as has_report
        from ml.model_registry
        order by model_name, (status = 'champion') desc, trained_at desc
        limit 50
        """,
    )


def model_report(conn, model_name: str, version: str) -> str | None:
    rows = _rows(
        conn,
        "select report_html from ml.model_registry where model_name = %s and model_version = %s",
        (model_name, version),
    )
    return rows[0]["report_html"] if rows else None


def latest_gate_results(conn) -> list[dict] | None:
    """Per suite, the latest validation run: how many expectations passed and failed."""
    return _rows(
        conn,
        """
        with latest as (
            select suite, max(validated_at) as validated_at
            from audit.gx_validation_results group by suite
        )
        select r.suite, r.ds, r.validated_at,
               count(*) filter (where r.success) as passed,
               count(*) filter (where not r.success) as failed
        from audit.gx_validation_results as r
        inner join latest as l on r.suite = l.suite and r.validated_at = l.validated_at
        group by r.suite, r.ds, r.validated_at
        order by r.suite
        """,
    )


def score_distribution(conn) -> list[dict] | None:
    """Users and mean probability per decile of the latest published scores."""
    return _rows(
        conn,
        """
        select score_date, decile, count(*) as users, avg(probability) as mean_probability
        from marts.propensity_latest
        group by score_date, decile
        order by decile desc
        """,
    )


def segment_sizes(conn) -> list[dict] | None:
    return _rows(
        conn,
        """
        select segment, count(*) as users
        from marts.mart_user_segments
        where as_of_date = (select max(as_of_date) from marts.mart_user_segments)
        group by segment
        order by users desc
        """,
    )


def campaign_targets(conn) -> list[dict] | None:
    return _rows(
        conn,
        """
        select campaign_id, min(campaign_name) as campaign_name,
               min(campaign_date) as campaign_date,
               count(*) filter (where selected) as selected_users,
               count(*) as candidates,
               sum(coupon_value) filter (where selected) as budget_used,
               sum(expected_net_value) filter (where selected) as expected_net_value
        from marts.coupon_targets_latest
        group by campaign_id
        order by min(campaign_date) desc, campaign_id
        limit 20
        """,
    )


def recommendations(conn) -> list[dict] | None:
    """Latest lists: score date, users with a list, catalogue coverage, and the recommender
    champion's NDCG@10 next to the popularity baselines on its test window."""
    rows = _rows(
        conn,
        """
        with champion as (
            select metrics from ml.model_registry
            where model_name = 'recommender' and status = 'champion'
        )
        select
            max(r.score_date) as score_date,
            count(distinct r.user_id) as users,
            count(distinct r.item_id)::float
                / nullif((select count(*) from marts.dim_items where is_available), 0)
                as coverage,
            (select (metrics->>'ndcg@10')::float from champion) as model_ndcg,
            (select (metrics->'baselines'->'popularity'->>'ndcg@10')::float from champion)
                as popularity_ndcg,
            (select (metrics->'baselines'->'category_popularity'->>'ndcg@10')::float
             from champion) as category_popularity_ndcg
        from marts.recommendations_latest as r
        """,
    )
    return rows if rows and rows[0]["users"] else None


def overview(conn) -> dict[str, Any]:
    return {
        "models": model_registry(conn),
        "gates": latest_gate_results(conn),
        "scores": score_distribution(conn),
        "segments": segment_sizes(conn),
        "campaigns": campaign_targets(conn),
        "recommendations": recommendations(conn),
    }
