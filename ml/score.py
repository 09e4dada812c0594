"""Score every user with a registered model into `ml.propensity_scores`, with reasons."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd

from aimass.warehouse import grant_ml_public
from ml.evaluate import assign_deciles
from ml.features import load_scoring_frame, prepare_matrix
from ml.model import PropensityModel
from ml.reasons import top_reasons
from ml.registry import RegisteredModel, get_champion, get_model

DEFAULT_MODEL_NAME = "propensity"
DEFAULT_BATCH_SIZE = 50_000
SCORE_COLUMNS = (
    "score_date",
    "user_id",
    "model_name",
    "model_version",
    "probability",
    "decile",
    "reason_1",
    "reason_2",
    "reason_3",
    "scored_at",
)

SCORES_DDL = """
create table if not exists ml.propensity_scores (
    score_date date not null,
    user_id text not null,
    model_name text not null,
    model_version text not null,
    probability double precision not null check (probability >= 0 and probability <= 1),
    decile smallint not null check (decile between 1 and 10),
    reason_1 text,
    reason_2 text,
    reason_3 text,
    scored_at timestamptz not null,
    primary key (score_date, model_version, user_id)
);
create index if not exists propensity_scores_version_date
    on ml.propensity_scores (model_version, score_date);
comment on table ml.propensity_scores is
    'Purchase propensity: one row per (score_date, user_id, model_version). probability = '
    'calibrated P(at least one order in the label horizon from score_date); decile 10 = highest.';
"""

LATEST_VIEW_SQL = """
create or replace view marts.propensity_latest as
with champion as (
    select model_version
    from ml.model_registry
    where model_name = %(model_name)s and status = 'champion'
),

champion_scores as (
    select scores.*
    from ml.propensity_scores as scores
    inner join champion on scores.model_version = champion.model_version
),

latest_date as (
    select max(score_date) as score_date from champion_scores
)

select
    champion_scores.user_id,
    champion_scores.score_date,
    champion_scores.model_version,
    champion_scores.probability,
    champion_scores.decile,
    champion_scores.reason_1,
    champion_scores.reason_2,
    champion_scores.reason_3
from champion_scores
inner join latest_date on champion_scores.score_date = latest_date.score_date;
comment on view marts.propensity_latest is
    'One row per user: the current champion''s propensity scores of its latest score_date.';
"""


def ensure_scores_table(conn) -> None:
    """Create `ml.propensity_scores` if missing (no commit)."""
    with conn.cursor() as cur:
        cur.execute("create schema if not exists ml")
        cur.execute(SCORES_DDL)


def refresh_latest_view(conn, model_name: str = DEFAULT_MODEL_NAME) -> None:
    """(Re)create `marts.propensity_latest` over the champion of `model_name` (no commit)."""
    with conn.cursor() as cur:
        cur.execute("create schema if not exists marts")
        cur.execute(LATEST_VIEW_SQL, {"model_name": model_name})


def score_frame(model: PropensityModel, frame: pd.DataFrame, batch_size: int) -> pd.DataFrame:
    """user_id, probability, decile and reason_1..3 for every row of a scoring frame.

    Works in batches so the SHAP matrix stays small; deciles are over the whole frame.
    """
    probabilities = np.empty(len(frame), dtype="float64")
    reasons: list[list[str | None]] = []
    features = list(model.spec.features)
    for start in range(0, len(frame), batch_size):
        part = model.prepare(frame.iloc[start : start + batch_size])
        matrix = prepare_matrix(part, model.spec)
        probabilities[start : start + len(part)] = model.probabilities(matrix)
        reasons.extend(top_reasons(model.contributions(matrix), part, features, count=3))
    out = pd.DataFrame(
        reasons, columns=["reason_1", "reason_2", "reason_3"], index=frame.index, dtype=object
    )
    out.insert(0, "user_id", frame["user_id"].to_numpy())
    out.insert(1, "probability", probabilities)
    out.insert(2, "decile", assign_deciles(probabilities))
    return out.reset_index(drop=True)


def copy_score_batch(cur, rows: pd.DataFrame) -> None:
    """COPY one batch of finished score rows (columns SCORE_COLUMNS) into the table."""
    buffer = io.StringIO()
    rows.to_csv(buffer, index=False, header=False, na_rep="\\N", float_format="%.17g")
    buffer.seek(0)
    cur.copy_expert(
        f"copy ml.propensity_scores ({', '.join(SCORE_COLUMNS)}) from stdin "
        "with (format csv, null '\\N')",
        buffer,
    )


def write_scores(
    conn,
    scores: pd.DataFrame,
    *,
    score_date: date,
    model_name: str,
    model_version: str,
    batch_size: int,
    view_model_name: str | None,
) -> int:
    """Replace the rows of (score_date, model_version) in one transaction; on any error the
    transaction is rolled back and the previous rows stay."""
    rows = scores.assign(
        score_date=score_date.isoformat(),
        model_name=model_name,
        model_version=model_version,
        scored_at=datetime.now(UTC).isoformat(),
    )[list(SCORE_COLUMNS)]
    try:
        ensure_scores_table(conn)
        with conn.cursor() as cur:
            cur.execute(
                "delete from ml.propensity_scores where score_date = %s and model_version = %s",
                (score_date, model_version),
            )
            for start in range(0, len(rows), batch_size):
                copy_score_batch(cur, rows.iloc[start : start + batch_size])
        if view_model_name is not None:
            refresh_latest_view(conn, view_model_name)
        conn.commit()
    except Exception:
        conn.rollback()
        raise
    grant_ml_public(conn)
    return len(rows)


def scoring_frame(conn, score_date: date) -> pd.DataFrame:
    """The features of every user as of `score_date`; ValueError when the mart has none."""
    frame = load_scoring_frame(conn, score_date)
    conn.commit()  # end the read transaction: no locks held while computing
    if frame.empty:
        raise ValueError(
            f"marts.fct_user_features_daily has no rows for as_of_date {score_date}: it holds "
            "the as-of dates of marts.dim_as_of_dates (the training grid and the day after the "
            f"last loaded day). Load the data of {score_date} minus one day and run dbt, or "
            "pick one of those dates."
        )
    return frame


def resolve_model(conn, model_name: str, model_version: str | None) -> RegisteredModel:
    """The given version, or the champion; ValueError when there is none."""
    if model_version is not None:
        return get_model(conn, model_name, model_version)
    champion = get_champion(conn, model_name)
    if champion is None:
        raise ValueError(
            f"No champion for model {model_name}: train one (python -m ml train --as-of ...) "
            "or pass an explicit model_version."
        )
    return champion


def score_propensity(
    conn,
    score_date: date,
    *,
    model_name: str = DEFAULT_MODEL_NAME,
    model_version: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    refresh_view: bool | None = None,
    record: RegisteredModel | None = None,
    frame: pd.DataFrame | None = None,
) -> int:
    """Score every user of the feature mart as of `score_date` with the champion (or the given
    version, or `record`) into ml.propensity_scores; returns the number of rows written.
    `frame` is the scoring frame when the caller loaded it already.

    Idempotent per (score_date, model_version). `marts.propensity_latest` is refreshed when
    scoring the default model name (or when refresh_view=True).
    """
    record = record or resolve_model(conn, model_name, model_version)
    model = record.load()
    frame = scoring_frame(conn, score_date) if frame is None else frame
    scores = score_frame(model, frame, batch_size)
    if refresh_view is None:
        refresh_view = model_name == DEFAULT_MODEL_NAME
    return write_scores(
        conn,
        scores,
        score_date=score_date,
        model_name=model_name,
        model_version=record.model_version,
        batch_size=batch_size,
        view_model_name=model_name if refresh_view else None,
    )
