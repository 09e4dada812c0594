"""Model monitoring into `ml.model_monitoring`: feature and score drift of a scoring population
against training, and realized AUC / calibration of past scores whose labels have matured.

Drift rule. Features that move by construction (ages, times since an event, lifetime totals:
`drift.moves_by_construction`, fnmatch patterns) leave the training population a little more
every day, so their PSI compares the scored population with the previous as-of date of the mart
instead: it catches a sudden break, not the calendar. Every other feature, and the score,
compares with the model's calibration window. A `fail` (any metric at its fail threshold) makes
the next training run retrain whatever `retrain_after_days` says (`latest_failures`); with
`drift.on_fail: block` a failing feature or score PSI of the day also keeps the day's scores
unpublished (`DriftBlockedError`), the last published scores stay.
"""

from __future__ import annotations

from datetime import date, timedelta
from fnmatch import fnmatchcase

import numpy as np
import pandas as pd
from psycopg2.extras import Json, execute_values
from sklearn.metrics import roc_auc_score

from aimass.warehouse import grant_ml_public
from ml.config import DriftConfig
from ml.drift import (
    categorical_profile,
    feature_psi,
    numeric_profile,
    population_stability_index,
    shares,
)
from ml.features import load_scoring_frame
from ml.jsonsafe import jsonable
from ml.model import PropensityModel
from ml.registry import RegisteredModel

MONITORING_DDL = """
create table if not exists ml.model_monitoring (
    model_name text not null,
    model_version text not null,
    metric_date date not null,
    metric text not null,
    value double precision,
    status text not null check (status in ('ok', 'warn', 'fail')),
    warn_threshold double precision,
    fail_threshold double precision,
    details jsonb,
    computed_at timestamptz not null default now(),
    primary key (model_name, model_version, metric_date, metric)
);
comment on table ml.model_monitoring is
    'One row per (model_name, model_version, metric_date, metric): psi:<feature>, psi_max, '
    'score_psi, score_mean (drift on metric_date = score date) and realized_auc, '
    'realized_calibration_error (metric_date = score date whose labels matured).';
"""


class DriftBlockedError(ValueError):
    """Today's input drift failed and `drift.on_fail` is `block`: scores were not published."""


def moves_by_construction(feature: str, drift: DriftConfig) -> bool:
    """Whether `feature` matches one of the `drift.moves_by_construction` patterns."""
    return any(fnmatchcase(feature, pattern) for pattern in drift.moves_by_construction)


def status_for(value: float | None, warn: float | None, fail: float | None) -> str:
    """ok / warn / fail for a metric where larger values are worse."""
    if value is None or not np.isfinite(value):
        return "ok"
    if fail is not None and value >= fail:
        return "fail"
    if warn is not None and value >= warn:
        return "warn"
    return "ok"


def _metric(metric_date, metric, value, warn=None, fail=None, details=None) -> dict:
    return {
        "metric_date": metric_date,
        "metric": metric,
        "value": None if value is None else float(value),
        "status": status_for(value, warn, fail),
        "warn_threshold": warn,
        "fail_threshold": fail,
        "details": details,
    }


def reference_date(conn, metric_date: date) -> date | None:
    """The latest as-of date with feature rows before `metric_date` (marts.dim_as_of_dates)."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass('marts.dim_as_of_dates') is not null")
        if not cur.fetchone()[0]:
            return None
        cur.execute(
            "select max(as_of_date) from marts.dim_as_of_dates where as_of_date < %s and users > 0",
            (metric_date,),
        )
        return cur.fetchone()[0]


def _profile(column: pd.Series, kind: str, bins: int) -> dict:
    if kind == "numeric":
        return numeric_profile(column.to_numpy(dtype="float64"), bins)
    return categorical_profile(column)


def drift_metrics(
    model: PropensityModel,
    frame: pd.DataFrame,
    metric_date: date,
    drift: DriftConfig,
    reference: tuple[date, pd.DataFrame] | None = None,
) -> list[dict]:
    """PSI per feature and of the score distribution for the scoring population. Features that
    move by construction compare with `reference` (an earlier as-of date and its feature
    frame); without one their PSI against training is recorded without thresholds."""
    matrix = model.matrix(frame)
    reference_matrix = None if reference is None else model.matrix(reference[1])
    rows = []
    psi = feature_psi(matrix, model.feature_profiles)
    judged: dict[str, float] = {}
    for name, value in psi.items():
        if not moves_by_construction(name, drift):
            judged[name] = value
            rows.append(_metric(metric_date, f"psi:{name}", value, drift.psi_warn, drift.psi_fail))
            continue
        details: dict = {"moves_by_construction": True}
        if reference_matrix is None:
            details["compared_with"] = "training (no earlier as-of date in the mart)"
            rows.append(_metric(metric_date, f"psi:{name}", value, details=details))
            continue
        profile = _profile(reference_matrix[name], model.spec.kinds[name], drift.bins)
        current = matrix[name]
        values = (
            current.to_numpy(dtype="float64")
            if profile["kind"] == "numeric"
            else current.astype(object).where(current.notna(), None)
        )
        day_psi = population_stability_index(profile["shares"], shares(values, profile))
        details |= {"compared_with": f"as_of_date {reference[0]}", "psi_vs_training": value}
        judged[name] = day_psi
        rows.append(
            _metric(metric_date, f"psi:{name}", day_psi, drift.psi_warn, drift.psi_fail, details)
        )
    if judged:
        worst = max(judged, key=judged.get)
        rows.append(
            _metric(
                metric_date,
                "psi_max",
                judged[worst],
                drift.psi_warn,
                drift.psi_fail,
                {"feature": worst},
            )
        )
    probabilities = model.probabilities(matrix)
    if model.score_profile:
        score_psi = population_stability_index(
            model.score_profile["shares"], shares(probabilities, model.score_profile)
        )
        rows.append(
            _metric(metric_date, "score_psi", score_psi, drift.score_psi_warn, drift.score_psi_fail)
        )
    rows.append(
        _metric(
            metric_date, "score_mean", float(probabilities.mean()), details={"rows": len(frame)}
        )
    )
    return rows


def load_reference(conn, metric_date: date) -> tuple[date, pd.DataFrame] | None:
    """The previous as-of date and its feature frame, for features that move by construction."""
    earlier = reference_date(conn, metric_date)
    if earlier is None:
        return None
    frame = load_scoring_frame(conn, earlier)
    return None if frame.empty else (earlier, frame)


def realized_metrics(
    conn,
    record: RegisteredModel,
    as_of: date,
    drift: DriftConfig,
) -> list[dict]:
    """AUC and calibration error of the version's past scores whose labels have matured."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass('ml.propensity_scores') is not null")
        if not cur.fetchone()[0]:
            return []
        cur.execute(
            """
            select s.score_date, s.probability, l.purchased_in_horizon
            from ml.propensity_scores s
            join marts.fct_user_labels_daily l
              on l.user_id = s.user_id and l.as_of_date = s.score_date
            where s.model_version = %s and s.model_name = %s
              and l.is_label_mature and l.label_horizon_days = %s
              and s.score_date >= %s and s.score_date <= %s
            order by s.score_date, s.user_id
            """,
            (
                record.model_version,
                record.model_name,
                record.label_horizon_days,
                as_of - timedelta(days=drift.realized_lookback_days),
                as_of,
            ),
        )
        data = pd.DataFrame(cur.fetchall(), columns=["score_date", "probability", "label"])
    reference_auc = (record.metrics.get("model") or {}).get("roc_auc")
    rows = []
    for score_date, group in data.groupby("score_date", sort=True):
        y = group["label"].to_numpy(dtype=np.int64)
        p = group["probability"].to_numpy(dtype="float64")
        details = {"rows": int(len(y)), "purchasers": int(y.sum()), "test_auc": reference_auc}
        if 0 < y.sum() < len(y):
            auc = float(roc_auc_score(y, p))
            drop = None if reference_auc is None else reference_auc - auc
            details["auc_drop"] = drop
            metric = _metric(score_date, "realized_auc", auc, details=details)
            metric["status"] = status_for(drop, drift.auc_drop_warn, drift.auc_drop_fail)
            rows.append(metric)
        error = abs(float(p.mean()) - float(y.mean()))
        rows.append(
            _metric(
                score_date,
                "realized_calibration_error",
                error,
                drift.calibration_error_warn,
                drift.calibration_error_fail,
                details | {"mean_predicted": float(p.mean()), "observed_rate": float(y.mean())},
            )
        )
    return rows


def write_metrics(conn, model_name: str, model_version: str, rows: list[dict]) -> None:
    """Upsert monitoring rows in one transaction."""
    try:
        with conn.cursor() as cur:
            cur.execute(MONITORING_DDL)
            execute_values(
                cur,
                """
                insert into ml.model_monitoring (model_name, model_version, metric_date, metric,
                    value, status, warn_threshold, fail_threshold, details)
                values %s
                on conflict (model_name, model_version, metric_date, metric) do update set
                    value = excluded.value, status = excluded.status,
                    warn_threshold = excluded.warn_threshold,
                    fail_threshold = excluded.fail_threshold,
                    details = excluded.details, computed_at = now()
                """,
                [
                    (
                        model_name,
                        model_version,
                        r["metric_date"],
                        r["metric"],
                        r["value"],
                        r["status"],
                        r["warn_threshold"],
                        r["fail_threshold"],
                        Json(jsonable(r["details"])) if r["details"] is not None else None,
                    )
                    for r in rows
                ],
            )
        conn.commit()
    except Exception:
        conn.rollback()
        raise
    grant_ml_public(conn)


def monitor_propensity(
    conn,
    record: RegisteredModel,
    metric_date: date,
    drift: DriftConfig,
    frame: pd.DataFrame | None = None,
) -> list[dict]:
    """Compute and store drift for `metric_date` and realized metrics of matured scores."""
    model = record.load()
    frame = load_scoring_frame(conn, metric_date) if frame is None else frame
    rows = []
    if not frame.empty:
        reference = load_reference(conn, metric_date)
        rows = drift_metrics(model, frame, metric_date, drift, reference)
    rows += realized_metrics(conn, record, metric_date, drift)
    if rows:
        write_metrics(conn, record.model_name, record.model_version, rows)
    return rows


def latest_failures(conn, model_name: str, model_version: str) -> list[str]:
    """`metric@date` of every row with status fail written by the version's latest monitoring
    run (one transaction: one computed_at); empty when there is none."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass('ml.model_monitoring') is not null")
        if not cur.fetchone()[0]:
            return []
        cur.execute(
            """
            select metric, metric_date from ml.model_monitoring
            where model_name = %s and model_version = %s and status = 'fail'
              and computed_at = (
                  select max(computed_at) from ml.model_monitoring
                  where model_name = %s and model_version = %s
              )
            order by metric_date, metric
            """,
            (model_name, model_version, model_name, model_version),
        )
        return [f"{metric}@{day}" for metric, day in cur.fetchall()]


def load_monitoring(conn, model_name: str, model_version: str) -> pd.DataFrame:
    """All monitoring rows of one version (empty frame when none)."""
    columns = ["metric_date", "metric", "value", "status", "warn_threshold", "fail_threshold"]
    with conn.cursor() as cur:
        cur.execute("select to_regclass('ml.model_monitoring') is not null")
        if not cur.fetchone()[0]:
            return pd.DataFrame(columns=columns)
        cur.execute(
            f"select {', '.join(columns)} from ml.model_monitoring "  # noqa: S608
            "where model_name = %s and model_version = %s order by metric_date, metric",
            (model_name, model_version),
        )
        return pd.DataFrame(cur.fetchall(), columns=columns)
