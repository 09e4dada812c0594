"""Point-in-time training frames of the propensity model: the label mart joined to the feature
mart on the grid's as-of dates, the label horizon, and the user sample."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from psycopg2 import sql

from ml.core.frames import (
    FEATURES_TABLE,
    LABEL_COLUMN,
    REVENUE_COLUMN,
    feature_column_types,
    feature_select_list,
    frame_dtypes,
    read_copy,
)

LABELS_TABLE = ("marts", "fct_user_labels_daily")

AS_OF_DATES_TABLE = ("marts", "dim_as_of_dates")


def check_label_horizon(conn, as_of_dates: Iterable[date], horizon: int) -> None:
    """The labels in the mart must have been built with the configured horizon."""
    with conn.cursor() as cur:
        cur.execute(
            "select distinct label_horizon_days from marts.fct_user_labels_daily "
            "where as_of_date = any(%s)",
            (list(as_of_dates),),
        )
        found = sorted(row[0] for row in cur.fetchall())
    wrong = [h for h in found if h != horizon]
    if wrong:
        raise ValueError(
            f"marts.fct_user_labels_daily holds labels with a horizon of {found} days for these "
            f"as-of dates, not the {horizon} days of the rest of the mart. Rebuild it with one "
            "dbt var label_horizon_days (dbt build --full-refresh)."
        )


def label_horizon(conn) -> int:
    """The label horizon H in days, as the labels mart was built (the dbt var
    `label_horizon_days`, the one place it is set); ValueError when the mart is empty or mixes
    horizons."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass('marts.fct_user_labels_daily') is not null")
        exists = cur.fetchone()[0]
        found = []
        if exists:
            cur.execute(
                "select distinct label_horizon_days from marts.fct_user_labels_daily order by 1"
            )
            found = [row[0] for row in cur.fetchall()]
    if not found:
        raise ValueError(
            "marts.fct_user_labels_daily is missing or empty, so the label horizon is unknown: "
            "load source data and run dbt build (the horizon is the dbt var label_horizon_days)."
        )
    if len(found) > 1:
        raise ValueError(
            f"marts.fct_user_labels_daily holds labels of several horizons {found} (days): "
            "rebuild it with one dbt var label_horizon_days (dbt build --full-refresh)."
        )
    horizon = int(found[0])
    if horizon < 1:
        raise ValueError(
            f"marts.fct_user_labels_daily has a label horizon of {horizon} days; set the dbt var "
            "label_horizon_days to 1 or more and rebuild."
        )
    return horizon


def load_as_of_dates(conn) -> pd.DataFrame:
    """`marts.dim_as_of_dates`: one row per as-of date the feature marts hold (as_of_date,
    is_grid_date, is_latest, is_coupon_offer_date, users), oldest first."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass('marts.dim_as_of_dates') is not null")
        if not cur.fetchone()[0]:
            raise ValueError(
                "marts.dim_as_of_dates does not exist: build the marts with dbt build (it lists "
                "the as-of dates the feature marts hold, which the model's windows use)."
            )
        cur.execute(
            "select as_of_date, is_grid_date, is_latest, is_coupon_offer_date, users "
            "from marts.dim_as_of_dates order by as_of_date"
        )
        rows = cur.fetchall()
    return pd.DataFrame(
        rows, columns=["as_of_date", "is_grid_date", "is_latest", "is_coupon_offer_date", "users"]
    )


@dataclass(frozen=True)
class UserSample:
    """Keep the rows of these as-of dates only for users whose key (md5 of seed + user_id,
    read as a number in [0, 1)) is below `fraction`: whole users, the same ones every run."""

    dates: tuple[date, ...]
    fraction: float
    seed: str

    def to_dict(self) -> dict:
        return {"fraction": self.fraction, "seed": self.seed, "dates": len(self.dates)}


def user_sample_key(user_id: str, seed: str) -> float:
    """The number in [0, 1) a user is sampled by (the same as the SQL of `UserSample`)."""
    return int(hashlib.md5(f"{seed}{user_id}".encode()).hexdigest()[:8], 16) / 2**32


def training_sample(
    as_of_dates: pd.DataFrame, train_dates: Sequence[date], max_rows: int, seed: str
) -> UserSample | None:
    """The sample of whole users that keeps the training window near `max_rows` rows (its size
    from `users` of marts.dim_as_of_dates), or None when it fits."""
    users = as_of_dates.set_index("as_of_date")["users"]
    rows = int(users.reindex(list(train_dates)).fillna(0).sum())
    if rows <= max_rows:
        return None
    return UserSample(tuple(train_dates), max_rows / rows, seed)


def load_training_frame(
    conn, as_of_dates: Iterable[date], horizon: int, sample: UserSample | None = None
) -> pd.DataFrame:
    """Features joined to labels for the given as-of dates; only mature labels.

    One row per (user_id, as_of_date), ordered by as_of_date then user_id; the label is in
    column `label` (0/1), the revenue in the horizon in `label_revenue`. With `sample`, its
    dates keep only the sampled users.
    """
    dates = sorted(set(as_of_dates))
    check_label_horizon(conn, dates, horizon)
    types = feature_column_types(conn)
    select_list = feature_select_list(types) + [
        sql.SQL("l.purchased_in_horizon::int as {}").format(sql.Identifier(LABEL_COLUMN)),
        sql.SQL("l.revenue_in_horizon::float8 as {}").format(sql.Identifier(REVENUE_COLUMN)),
    ]
    sampled = sql.SQL("")
    params: list = [dates, horizon]
    if sample is not None:
        sampled = sql.SQL(
            "and (not f.as_of_date = any(%s::date[]) or "
            "('x' || substr(md5(%s || f.user_id::text), 1, 8))::bit(32)::bigint "
            "< %s::float8 * 4294967296) "
        )
        params += [list(sample.dates), sample.seed, sample.fraction]
    query = sql.SQL(
        "select {columns} from {features} f join {labels} l "
        "on l.user_id = f.user_id and l.as_of_date = f.as_of_date "
        "where f.as_of_date = any(%s::date[]) and l.is_label_mature "
        "and l.label_horizon_days = %s {sampled}"
        "order by f.as_of_date, f.user_id"
    ).format(
        columns=sql.SQL(", ").join(select_list),
        features=sql.Identifier(*FEATURES_TABLE),
        labels=sql.Identifier(*LABELS_TABLE),
        sampled=sampled,
    )
    dtypes = frame_dtypes(types) | {LABEL_COLUMN: "int64", REVENUE_COLUMN: "float64"}
    return read_copy(conn, query, params, dtypes)


def label_status(conn, as_of_dates: Iterable[date]) -> pd.DataFrame:
    """Per as-of date: label rows, mature rows and the latest label-window end."""
    with conn.cursor() as cur:
        cur.execute(
            "select as_of_date, count(*), count(*) filter (where is_label_mature), "
            "max(label_window_end) from marts.fct_user_labels_daily "
            "where as_of_date = any(%s::date[]) group by as_of_date order by as_of_date",
            (sorted(set(as_of_dates)),),
        )
        rows = cur.fetchall()
    return pd.DataFrame(rows, columns=["as_of_date", "rows", "mature_rows", "label_window_end"])


def first_data_day(as_of_dates: pd.DataFrame) -> date | None:
    """The day before the earliest as-of date with feature rows: the first data day, or later
    when the mart starts after it (as_of_history_days), so the look-back is never short."""
    held = as_of_dates.loc[as_of_dates["users"] > 0, "as_of_date"]
    return None if held.empty else min(held) - timedelta(days=1)


def labels_of(df: pd.DataFrame) -> np.ndarray:
    """The 0/1 label column as an int array."""
    if LABEL_COLUMN not in df.columns:
        raise ValueError("The frame has no label column; load it with load_training_frame.")
    return df[LABEL_COLUMN].to_numpy(dtype=np.int64)
