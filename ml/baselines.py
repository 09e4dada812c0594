"""Baselines the model is compared with on the same test window: an RFM rule, a logistic regression,
and (on simulated data) the oracle built from the simulator's true purchase probabilities."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ml.features import FeatureSpec, labels_of, prepare_matrix

ORACLE_TABLE = "sim_truth.user_daily_purchase_prob"
# The fair oracle: the true probability from the state at the start of the as-of date only.
HORIZON_ORACLE_TABLE = "sim_truth.user_horizon_purchase_prob"
RECENCY_COLUMN = "days_since_last_order"
FREQUENCY_COLUMNS = ("orders_90d", "orders_30d", "orders_7d")
MONETARY_COLUMNS = ("revenue_90d", "revenue_30d", "revenue_7d")
SAMPLE_SEED = 20240601


def rfm_scores(frame: pd.DataFrame) -> np.ndarray | None:
    """Mean percentile rank of recency (recent = high), frequency and monetary value.

    None when the frame has none of the RFM columns.
    """
    parts = []
    if RECENCY_COLUMN in frame.columns:
        recency = frame[RECENCY_COLUMN].astype("float64")
        never = recency.max(skipna=True) + 1 if recency.notna().any() else 1.0
        parts.append((-recency.fillna(never)).rank(pct=True))
    for candidates in (FREQUENCY_COLUMNS, MONETARY_COLUMNS):
        column = next((c for c in candidates if c in frame.columns), None)
        if column is not None:
            parts.append(frame[column].astype("float64").fillna(0).rank(pct=True))
    if not parts:
        return None
    return np.mean(np.column_stack(parts), axis=1)


def _logistic_inputs(frame: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    matrix = prepare_matrix(frame, spec)
    for name in spec.categorical_features:
        matrix[name] = matrix[name].astype(object).where(matrix[name].notna(), "(missing)")
    return matrix


def fit_logistic_regression(
    train_frame: pd.DataFrame, spec: FeatureSpec, *, max_rows: int, c: float
) -> Pipeline:
    """Standardized numeric features (median-imputed, with missing flags) and one-hot
    categoricals into an L2 logistic regression, fitted on (a fixed sample of) the training
    window."""
    frame = train_frame
    if len(frame) > max_rows:
        rng = np.random.default_rng(SAMPLE_SEED)
        frame = frame.iloc[np.sort(rng.choice(len(frame), size=max_rows, replace=False))]
    numeric = [f for f in spec.features if spec.kinds[f] == "numeric"]
    categorical = spec.categorical_features
    transformers = []
    if numeric:
        transformers.append(
            (
                "numeric",
                make_pipeline(
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                    StandardScaler(),
                ),
                numeric,
            )
        )
    if categorical:
        transformers.append(("categorical", OneHotEncoder(handle_unknown="ignore"), categorical))
    pipeline = Pipeline(
        [
            ("columns", ColumnTransformer(transformers)),
            ("model", LogisticRegression(C=c, max_iter=2000)),
        ]
    )
    pipeline.fit(_logistic_inputs(frame, spec), labels_of(frame))
    return pipeline


def logistic_regression_scores(
    pipeline: Pipeline, frame: pd.DataFrame, spec: FeatureSpec
) -> np.ndarray:
    return pipeline.predict_proba(_logistic_inputs(frame, spec))[:, 1]


def oracle_available(conn, table: str = ORACLE_TABLE) -> bool:
    with conn.cursor() as cur:
        cur.execute("select to_regclass(%s) is not null", (table,))
        return bool(cur.fetchone()[0])


def _horizon_oracle_sql(conn, horizon: int) -> str | None:
    """The fair oracle's query when its table holds this horizon, else None."""
    if not oracle_available(conn, HORIZON_ORACLE_TABLE):
        return None
    with conn.cursor() as cur:
        cur.execute(
            "select exists (select 1 from sim_truth.user_horizon_purchase_prob where horizon_days = %s)",
            (horizon,),
        )
        if not cur.fetchone()[0]:
            return None
    return """
        with keys as (
            select unnest(%s::text[]) as user_id, unnest(%s::date[]) as as_of_date
        )
        select k.user_id, k.as_of_date, p.p_purchase
        from keys k
        join sim_truth.user_horizon_purchase_prob p
          on p.user_id = k.user_id and p.as_of_date = k.as_of_date and p.horizon_days = %s
    """


def oracle_probabilities(conn, frame: pd.DataFrame, horizon: int) -> np.ndarray | None:
    """The simulator's true P(purchase in [A, A+H)), aligned with `frame` rows (0 where the
    simulator has no value for the user); None without truth tables.

    Uses `sim_truth.user_horizon_purchase_prob` (computed from the state at A alone) when it
    holds this horizon; otherwise 1 - prod_d (1 - p_d) over the daily truth, which sees states
    that purchases inside the window already changed and so flatters the oracle."""
    horizon_sql = _horizon_oracle_sql(conn, horizon)
    if horizon_sql is None and not oracle_available(conn):
        return None
    keys = frame[["user_id", "as_of_date"]]
    with conn.cursor() as cur:
        cur.execute(
            horizon_sql
            or """
            with keys as (
                select unnest(%s::text[]) as user_id, unnest(%s::date[]) as as_of_date
            )
            select k.user_id, k.as_of_date,
                   1 - exp(sum(ln(greatest(1 - p.p_purchase, 1e-12))))
            from keys k
            join sim_truth.user_daily_purchase_prob p
              on p.user_id = k.user_id
             and p.day >= k.as_of_date
             and p.day < k.as_of_date + %s
            group by k.user_id, k.as_of_date
            """,
            (keys["user_id"].tolist(), keys["as_of_date"].tolist(), horizon),
        )
        rows = cur.fetchall()
    if not rows:
        return None
    truth = {(u, d): float(p) for u, d, p in rows}
    return np.array(
        [truth.get((u, d), 0.0) for u, d in keys.itertuples(index=False)], dtype="float64"
    )
