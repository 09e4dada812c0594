"""Point-in-time feature frames from the marts, and the one feature matrix used by training and
scoring alike."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
from pandas.api.types import (
    is_bool_dtype,
    is_numeric_dtype,
    is_object_dtype,
    is_string_dtype,
)
from psycopg2 import sql

FEATURES_TABLE = ("marts", "fct_user_features_daily")
LABELS_TABLE = ("marts", "fct_user_labels_daily")
AS_OF_DATES_TABLE = ("marts", "dim_as_of_dates")
KEY_COLUMNS = ("user_id", "as_of_date")
LABEL_COLUMN = "label"
REVENUE_COLUMN = "label_revenue"  # revenue in the label horizon: evaluation only, never a feature
NOT_FEATURES = (*KEY_COLUMNS, LABEL_COLUMN, REVENUE_COLUMN)
NUMERIC_PG_TYPES = {"smallint", "integer", "bigint", "numeric", "real", "double precision"}
TEXT_PG_TYPES = {"text", "character varying", "character"}
NULL_MARKER = r"\N"


class FeatureMismatchError(ValueError):
    """The data offered to a model does not have the features it was trained on."""


@dataclass(frozen=True)
class FeatureSpec:
    """The features a model uses: names in order, kind, and the fixed categorical levels."""

    features: tuple[str, ...]
    kinds: dict[str, str]
    categories: dict[str, list[str]] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)

    @property
    def categorical_features(self) -> list[str]:
        return [f for f in self.features if self.kinds[f] == "categorical"]

    def to_dict(self) -> dict:
        return {
            "features": list(self.features),
            "kinds": dict(self.kinds),
            "categories": {k: list(v) for k, v in self.categories.items()},
            "dropped": dict(self.dropped),
        }

    @classmethod
    def from_dict(cls, data: dict) -> FeatureSpec:
        return cls(
            features=tuple(data["features"]),
            kinds=dict(data["kinds"]),
            categories={k: list(v) for k, v in data.get("categories", {}).items()},
            dropped=dict(data.get("dropped", {})),
        )


# --- loading -------------------------------------------------------------------------------


def feature_column_types(conn) -> dict[str, str]:
    """Feature-mart columns (keys excluded) mapped to `numeric`, `boolean`, `categorical` or
    `unsupported`, in table order."""
    with conn.cursor() as cur:
        cur.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = %s and table_name = %s order by ordinal_position",
            FEATURES_TABLE,
        )
        rows = cur.fetchall()
    if not rows:
        raise ValueError(
            "marts.fct_user_features_daily does not exist or has no columns; build the feature "
            "marts (dbt build) before training or scoring."
        )
    return {name: _kind_of(pg_type) for name, pg_type in rows if name not in KEY_COLUMNS}


def _kind_of(pg_type: str) -> str:
    if pg_type in NUMERIC_PG_TYPES:
        return "numeric"
    if pg_type == "boolean":
        return "boolean"
    if pg_type in TEXT_PG_TYPES:
        return "categorical"
    return "unsupported"


def _feature_select_list(types: dict[str, str]) -> list[sql.Composable]:
    items: list[sql.Composable] = [
        sql.SQL("f.user_id::text as user_id"),
        sql.SQL("f.as_of_date"),
    ]
    for name, kind in types.items():
        col = sql.SQL("f.{}").format(sql.Identifier(name))
        if kind == "boolean":
            items.append(sql.SQL("{}::int as {}").format(col, sql.Identifier(name)))
        elif kind != "unsupported":
            items.append(sql.SQL("{} as {}").format(col, sql.Identifier(name)))
    return items


def _read_copy(
    conn, query: sql.Composable, params: Sequence, dtypes: dict[str, str]
) -> pd.DataFrame:
    """Run `query` through COPY (much faster than row fetching) into a typed DataFrame."""
    with conn.cursor() as cur:
        statement = cur.mogrify(query, params).decode()
        buffer = io.StringIO()
        cur.copy_expert(
            f"copy ({statement}) to stdout with (format csv, header true, null '{NULL_MARKER}')",
            buffer,
        )
    buffer.seek(0)
    frame = pd.read_csv(
        buffer,
        dtype=dtypes,
        keep_default_na=False,
        na_values=[NULL_MARKER],
        parse_dates=False,
    )
    if "as_of_date" in frame.columns:
        frame["as_of_date"] = pd.to_datetime(frame["as_of_date"]).dt.date
    return frame


def _frame_dtypes(types: dict[str, str]) -> dict[str, str]:
    dtypes = {"user_id": "str", "as_of_date": "str"}
    for name, kind in types.items():
        if kind == "categorical":
            dtypes[name] = "str"
        elif kind in ("numeric", "boolean"):
            dtypes[name] = "float64"
    return dtypes


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
    select_list = _feature_select_list(types) + [
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
    dtypes = _frame_dtypes(types) | {LABEL_COLUMN: "int64", REVENUE_COLUMN: "float64"}
    return _read_copy(conn, query, params, dtypes)


def load_scoring_frame(conn, score_date: date) -> pd.DataFrame:
    """Features of every user in the feature mart as of `score_date`, ordered by user_id."""
    types = feature_column_types(conn)
    query = sql.SQL(
        "select {columns} from {features} f where f.as_of_date = %s order by f.user_id"
    ).format(
        columns=sql.SQL(", ").join(_feature_select_list(types)),
        features=sql.Identifier(*FEATURES_TABLE),
    )
    return _read_copy(conn, query, (score_date,), _frame_dtypes(types))


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


# --- feature selection and the matrix -------------------------------------------------------


def _kind_of_series(series: pd.Series) -> str:
    if is_bool_dtype(series) or is_numeric_dtype(series):
        return "numeric"
    if is_string_dtype(series) or is_object_dtype(series):
        return "categorical"
    if isinstance(series.dtype, pd.CategoricalDtype):
        return "categorical"
    return "unsupported"


def select_features(frame: pd.DataFrame) -> FeatureSpec:
    """Every column except keys and label; drop constant, all-null or unsupported columns.

    Text columns are categorical; their levels (sorted, as seen in `frame`) are fixed here.
    """
    features: list[str] = []
    kinds: dict[str, str] = {}
    categories: dict[str, list[str]] = {}
    dropped: dict[str, str] = {}
    for name in frame.columns:
        if name in NOT_FEATURES:
            continue
        series = frame[name]
        kind = _kind_of_series(series)
        if kind == "unsupported":
            dropped[name] = f"unsupported type {series.dtype}"
        elif series.isna().all():
            dropped[name] = "all null in the training window"
        elif series.nunique(dropna=False) <= 1:
            dropped[name] = "constant in the training window"
        else:
            features.append(name)
            kinds[name] = kind
            if kind == "categorical":
                categories[name] = sorted(str(v) for v in series.dropna().unique())
    if not features:
        raise ValueError(
            "No usable feature: every column of marts.fct_user_features_daily is constant or "
            "null in the training window. Check that the sources were loaded and dbt ran."
        )
    return FeatureSpec(tuple(features), kinds, categories, dropped)


def prepare_matrix(df: pd.DataFrame, feature_spec: FeatureSpec) -> pd.DataFrame:
    """The model matrix: the spec's features in order, numeric as float64, categorical as pandas
    category with the training levels (unseen levels become missing).

    Raises FeatureMismatchError when a feature is absent or changed type, never filling NaN.
    """
    missing = [f for f in feature_spec.features if f not in df.columns]
    if missing:
        raise FeatureMismatchError(
            f"Feature(s) {missing} used by the model are missing from the data. Restore them in "
            "marts.fct_user_features_daily or train a new model version on the current columns."
        )
    columns: dict[str, pd.Series | pd.Categorical] = {}
    wrong: list[str] = []
    for name in feature_spec.features:
        series = df[name]
        expected = feature_spec.kinds[name]
        actual = _kind_of_series(series)
        if series.isna().all() and actual in ("numeric", "categorical"):
            actual = expected  # an all-null column carries no type information of its own
        if actual != expected:
            wrong.append(f"{name} (trained as {expected}, now {series.dtype})")
            continue
        if expected == "numeric":
            columns[name] = series.astype("float64").to_numpy()
        else:
            values = series.astype(object).where(series.notna(), None)
            columns[name] = pd.Categorical(
                [None if v is None else str(v) for v in values],
                categories=feature_spec.categories[name],
            )
    if wrong:
        raise FeatureMismatchError(
            f"Feature(s) changed type since training: {', '.join(wrong)}. Fix the mart column "
            "types or train a new model version."
        )
    return pd.DataFrame(columns, index=df.index)[list(feature_spec.features)]


def labels_of(df: pd.DataFrame) -> np.ndarray:
    """The 0/1 label column as an int array."""
    if LABEL_COLUMN not in df.columns:
        raise ValueError("The frame has no label column; load it with load_training_frame.")
    return df[LABEL_COLUMN].to_numpy(dtype=np.int64)
