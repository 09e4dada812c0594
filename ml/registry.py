"""The model registry `ml.model_registry`: one row per (model_name, model_version), the
champion/candidate lifecycle, and the promotion rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from psycopg2 import sql
from psycopg2.extras import Json

from ml.jsonsafe import jsonable
from ml.model import PropensityModel, artifact_sha256

STATUSES = ("candidate", "champion", "retired", "rejected")

REGISTRY_DDL = """
create schema if not exists ml;
create table if not exists ml.model_registry (
    model_name text not null,
    model_version text not null,
    status text not null check (status in ('candidate', 'champion', 'retired', 'rejected')),
    trained_at timestamptz not null,
    training_cutoff date not null,
    train_start date not null,
    train_end date not null,
    validation_start date not null,
    validation_end date not null,
    calibration_start date not null,
    calibration_end date not null,
    test_start date not null,
    test_end date not null,
    label_horizon_days integer not null,
    windows jsonb not null,
    params jsonb not null,
    features jsonb not null,
    metrics jsonb not null,
    verdict text,
    decision_reason text,
    artifact bytea not null,
    artifact_sha256 text not null,
    promoted_at timestamptz,
    retired_at timestamptz,
    report_html text,
    primary key (model_name, model_version)
);
create unique index if not exists model_registry_one_champion
    on ml.model_registry (model_name) where status = 'champion';
create table if not exists ml.model_registry_events (
    model_name text not null,
    model_version text not null,
    event text not null,
    reason text,
    happened_at timestamptz not null default clock_timestamp()
);
"""

RECORD_COLUMNS = (
    "model_name",
    "model_version",
    "status",
    "trained_at",
    "training_cutoff",
    "label_horizon_days",
    "windows",
    "params",
    "features",
    "metrics",
    "verdict",
    "decision_reason",
    "artifact_sha256",
    "promoted_at",
    "retired_at",
    "report_html",
)


@dataclass
class RegisteredModel:
    """A registry row; `artifact` is loaded only when asked for."""

    model_name: str
    model_version: str
    status: str
    trained_at: datetime
    training_cutoff: date
    label_horizon_days: int
    windows: dict
    params: dict
    features: dict
    metrics: dict
    verdict: str | None
    decision_reason: str | None
    artifact_sha256: str
    promoted_at: datetime | None
    retired_at: datetime | None
    report_html: str | None
    artifact: bytes | None = None

    def load(self) -> PropensityModel:
        """The model, after checking the artifact against its stored sha256."""
        if self.artifact is None:
            raise ValueError("The artifact was not loaded; use get_model(..., with_artifact=True).")
        digest = artifact_sha256(self.artifact)
        if digest != self.artifact_sha256:
            raise ValueError(
                f"Artifact of {self.model_name} {self.model_version} is corrupt: sha256 {digest} "
                f"!= registered {self.artifact_sha256}. Retrain or restore the registry row."
            )
        return PropensityModel.from_artifact(self.artifact)


def ensure_registry(conn) -> None:
    """Create the registry tables if they are missing (no commit)."""
    with conn.cursor() as cur:
        cur.execute(REGISTRY_DDL)


def model_version_id(training_cutoff: date, artifact: bytes) -> str:
    """`YYYYMMDD-<sha8>`: sortable by training cut-off, identical for identical models."""
    return f"{training_cutoff:%Y%m%d}-{artifact_sha256(artifact)[:8]}"


def _log(cur, model_name: str, version: str, event: str, reason: str | None) -> None:
    cur.execute(
        "insert into ml.model_registry_events (model_name, model_version, event, reason) "
        "values (%s, %s, %s, %s)",
        (model_name, version, event, reason),
    )


def register(
    conn,
    *,
    model_name: str,
    artifact: bytes,
    windows: dict,
    label_horizon_days: int,
    params: dict,
    features: dict,
    metrics: dict,
    status: str = "candidate",
    verdict: str | None = None,
    decision_reason: str | None = None,
    report_html: str | None = None,
    model_version: str | None = None,
) -> str:
    """Insert a model version (or refresh the metrics/report of the same version, keeping the
    status of a champion or retired one) and return its version id. `windows` is `TimeWindows.as_dict()`."""
    if status not in STATUSES:
        raise ValueError(f"Unknown status {status!r}; use one of {STATUSES}.")
    cutoff = date.fromisoformat(windows["cutoff"])
    version = model_version or model_version_id(cutoff, artifact)
    values = {
        "model_name": model_name,
        "model_version": version,
        "status": status,
        "training_cutoff": cutoff,
        "label_horizon_days": label_horizon_days,
        "windows": Json(jsonable(windows)),
        "params": Json(jsonable(params)),
        "features": Json(jsonable(features)),
        "metrics": Json(jsonable(metrics)),
        "verdict": verdict,
        "decision_reason": decision_reason,
        "artifact": artifact,
        "artifact_sha256": artifact_sha256(artifact),
        "report_html": report_html,
    }
    for name in ("train", "validation", "calibration", "test"):
        values[f"{name}_start"] = windows[name]["start"]
        values[f"{name}_end"] = windows[name]["end"]
    columns = list(values)
    try:
        with conn.cursor() as cur:
            ensure_registry(conn)
            cur.execute(
                sql.SQL(
                    """
                    insert into ml.model_registry ({columns}, trained_at)
                    values ({values}, clock_timestamp())
                    on conflict (model_name, model_version) do update set
                        -- a re-evaluation may turn a rejected version into a candidate or
                        -- back; a champion or retired version keeps its status
                        status = case
                            when ml.model_registry.status in ('candidate', 'rejected')
                                then excluded.status
                            else ml.model_registry.status
                        end,
                        metrics = excluded.metrics,
                        verdict = excluded.verdict,
                        decision_reason = excluded.decision_reason,
                        report_html = coalesce(
                            excluded.report_html, ml.model_registry.report_html
                        )
                    returning (xmax = 0) as inserted
                    """
                ).format(
                    columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
                    values=sql.SQL(", ").join(map(sql.Placeholder, columns)),
                ),
                values,
            )
            inserted = cur.fetchone()[0]
            _log(
                cur,
                model_name,
                version,
                "registered" if inserted else "re-registered",
                decision_reason,
            )
        conn.commit()
    except Exception:
        conn.rollback()
        raise
    return version


def _select(where: str, with_artifact: bool) -> str:
    columns = ", ".join(RECORD_COLUMNS) + (", artifact" if with_artifact else "")
    return f"select {columns} from ml.model_registry where {where}"  # noqa: S608


def _record(row: tuple, with_artifact: bool) -> RegisteredModel:
    values: dict[str, Any] = dict(zip(RECORD_COLUMNS, row, strict=False))
    if with_artifact:
        values["artifact"] = bytes(row[len(RECORD_COLUMNS)])
    return RegisteredModel(**values)


def _registry_exists(conn) -> bool:
    with conn.cursor() as cur:
        cur.execute("select to_regclass('ml.model_registry') is not null")
        return bool(cur.fetchone()[0])


def get_model(
    conn, model_name: str, model_version: str, *, with_artifact: bool = True
) -> RegisteredModel:
    """One registered version; ValueError naming the known versions when it does not exist."""
    row = None
    if _registry_exists(conn):
        with conn.cursor() as cur:
            cur.execute(
                _select("model_name = %s and model_version = %s", with_artifact),
                (model_name, model_version),
            )
            row = cur.fetchone()
    if row is None:
        known = [m.model_version for m in list_models(conn, model_name)]
        raise ValueError(
            f"Model {model_name} version {model_version} is not in ml.model_registry; "
            f"known versions: {known or 'none (train one first)'}."
        )
    return _record(row, with_artifact)


def get_champion(conn, model_name: str, *, with_artifact: bool = True) -> RegisteredModel | None:
    """The current champion of `model_name`, or None."""
    if not _registry_exists(conn):
        return None
    with conn.cursor() as cur:
        cur.execute(
            _select("model_name = %s and status = 'champion'", with_artifact), (model_name,)
        )
        row = cur.fetchone()
    return None if row is None else _record(row, with_artifact)


def list_models(conn, model_name: str) -> list[RegisteredModel]:
    """Every version of `model_name`, newest training first (artifacts not loaded)."""
    if not _registry_exists(conn):
        return []
    with conn.cursor() as cur:
        cur.execute(
            _select("model_name = %s", False) + " order by trained_at desc, model_version desc",
            (model_name,),
        )
        return [_record(row, False) for row in cur.fetchall()]


def promote(
    conn, model_name: str, model_version: str, *, reason: str | None = None, force: bool = False
) -> None:
    """Make `model_version` the champion; the previous champion is retired. A rejected version
    is promoted only with force=True. Promoting the current champion does nothing."""
    try:
        with conn.cursor() as cur:
            ensure_registry(conn)
            cur.execute(
                "select model_version, status from ml.model_registry where model_name = %s "
                "order by model_version for update",
                (model_name,),
            )
            statuses = dict(cur.fetchall())
            if model_version not in statuses:
                raise ValueError(
                    f"Cannot promote {model_name} {model_version}: not in ml.model_registry "
                    f"(known: {sorted(statuses) or 'none'})."
                )
            if statuses[model_version] == "champion":
                conn.rollback()
                return
            if statuses[model_version] == "rejected" and not force:
                raise ValueError(
                    f"{model_name} {model_version} was rejected (see decision_reason in "
                    "ml.model_registry); promote it with force=True (--force) if you are sure."
                )
            cur.execute(
                "update ml.model_registry set status = 'retired', retired_at = clock_timestamp() "
                "where model_name = %s and status = 'champion' returning model_version",
                (model_name,),
            )
            for (old,) in cur.fetchall():
                _log(cur, model_name, old, "retired", f"replaced by {model_version}")
            cur.execute(
                "update ml.model_registry set status = 'champion', promoted_at = clock_timestamp(), "
                "retired_at = null, decision_reason = coalesce(%s, decision_reason) "
                "where model_name = %s and model_version = %s",
                (reason, model_name, model_version),
            )
            _log(cur, model_name, model_version, "promoted", reason)
        conn.commit()
    except Exception:
        conn.rollback()
        raise


def rollback(conn, model_name: str) -> str:
    """Put the previous champion back and mark the current one rejected; returns the version
    that is champion again. The previous champion is the retired version promoted most recently
    before the current champion."""
    try:
        with conn.cursor() as cur:
            ensure_registry(conn)
            cur.execute(
                "select model_version, promoted_at from ml.model_registry "
                "where model_name = %s and status = 'champion' for update",
                (model_name,),
            )
            current = cur.fetchone()
            if current is None:
                raise ValueError(f"{model_name} has no champion to roll back.")
            cur.execute(
                "select model_version from ml.model_registry where model_name = %s "
                "and status = 'retired' and promoted_at < %s "
                "order by promoted_at desc limit 1 for update",
                (model_name, current[1]),
            )
            previous = cur.fetchone()
            if previous is None:
                raise ValueError(
                    f"{model_name} {current[0]} is the first champion; there is no earlier "
                    "champion to roll back to. Promote another version instead."
                )
            cur.execute(
                "update ml.model_registry set status = 'rejected', retired_at = clock_timestamp(), "
                "decision_reason = 'rolled back to ' || %s "
                "where model_name = %s and model_version = %s",
                (previous[0], model_name, current[0]),
            )
            _log(cur, model_name, current[0], "rolled back", f"replaced by {previous[0]}")
            cur.execute(
                "update ml.model_registry set status = 'champion', retired_at = null "
                "where model_name = %s and model_version = %s",
                (model_name, previous[0]),
            )
            _log(cur, model_name, previous[0], "restored", f"rollback of {current[0]}")
        conn.commit()
    except Exception:
        conn.rollback()
        raise
    return previous[0]


def set_status(
    conn, model_name: str, model_version: str, status: str, reason: str | None = None
) -> None:
    """Set a non-champion status (candidate/rejected/retired); use promote() for champion."""
    if status not in STATUSES or status == "champion":
        raise ValueError(f"set_status takes candidate, retired or rejected, not {status!r}.")
    try:
        with conn.cursor() as cur:
            cur.execute(
                "update ml.model_registry set status = %s, decision_reason = coalesce(%s, "
                "decision_reason) where model_name = %s and model_version = %s",
                (status, reason, model_name, model_version),
            )
            if cur.rowcount != 1:
                raise ValueError(f"{model_name} {model_version} is not in ml.model_registry.")
            _log(cur, model_name, model_version, status, reason)
        conn.commit()
    except Exception:
        conn.rollback()
        raise


def set_report(conn, model_name: str, model_version: str, report_html: str) -> None:
    try:
        with conn.cursor() as cur:
            cur.execute(
                "update ml.model_registry set report_html = %s "
                "where model_name = %s and model_version = %s",
                (report_html, model_name, model_version),
            )
            if cur.rowcount != 1:
                raise ValueError(f"{model_name} {model_version} is not in ml.model_registry.")
        conn.commit()
    except Exception:
        conn.rollback()
        raise


# --- the promotion rule --------------------------------------------------------------------


def baselines_not_beaten(
    candidate_metrics: dict,
    baselines: dict[str, dict],
    margin: float = 0.0,
    *,
    metric: str = "roc_auc",
    noise_z: float = 0.0,
) -> list[str]:
    """Names of the baselines (the oracle excluded) whose `metric` (default: AUC) the candidate
    does not exceed by `margin`. With `noise_z` > 0, only those it trails by more than `noise_z`
    standard errors of the difference (`<metric>_difference_se` in the baseline's metrics): a
    gap that small is chance on the test window, not a loss."""
    auc = candidate_metrics[metric]
    return [
        name
        for name, metrics in baselines.items()
        if name != "oracle"
        and metrics
        and metrics.get(metric) is not None
        and auc <= metrics[metric] + margin - noise_z * metrics.get(f"{metric}_difference_se", 0.0)
    ]


def decide_promotion(
    candidate_metrics: dict,
    champion_metrics_on_same_window: dict | None,
    margin: float,
    baselines: dict[str, dict],
    baseline_margin: float = 0.0,
    *,
    metric: str = "roc_auc",
    metric_label: str = "AUC",
    noise_z: float = 0.0,
) -> tuple[bool, str]:
    """Promote when the candidate beats every baseline (`baselines_not_beaten`) and, if there is
    a champion, its `metric` (default: AUC) on the same test window is at most `margin` below
    the champion's."""
    auc = candidate_metrics[metric]
    failed = baselines_not_beaten(
        candidate_metrics, baselines, baseline_margin, metric=metric, noise_z=noise_z
    )
    if failed:
        detail = ", ".join(f"{n} {baselines[n][metric]:.4f}" for n in failed)
        beyond = f" by more than {noise_z} standard errors" if noise_z else ""
        return False, (
            f"Rejected: {metric_label} {auc:.4f} does not beat the baseline(s) {detail}{beyond}."
        )
    compared = {
        n: m[metric]
        for n, m in baselines.items()
        if n != "oracle" and m and m.get(metric) is not None
    }
    ahead = [f"{n} {v:.4f}" for n, v in compared.items() if auc > v + baseline_margin]
    level = [f"{n} {v:.4f}" for n, v in compared.items() if auc <= v + baseline_margin]
    standing = "; ".join(
        ([f"beats {', '.join(ahead)}"] if ahead else [])
        + ([f"is level with {', '.join(level)} (within noise)"] if level else [])
    )
    if champion_metrics_on_same_window is None:
        return True, (
            f"Promoted: first champion; {metric_label} {auc:.4f} "
            f"{standing or 'has no baseline to compare'}."
        )
    champion_auc = champion_metrics_on_same_window[metric]
    if auc >= champion_auc - margin:
        return True, (
            f"Promoted: {metric_label} {auc:.4f} vs champion {champion_auc:.4f} on the same "
            f"test window (allowed margin {margin}); {standing or 'no baseline to compare'}."
        )
    return False, (
        f"Kept as candidate: {metric_label} {auc:.4f} is more than {margin} below the "
        "champion's "
        f"{champion_auc:.4f} on the same test window."
    )
