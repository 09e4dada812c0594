"""Feature frames read from the feature mart (one row per user and as-of date), and the one
feature matrix every model builds from them for training and scoring alike."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from pandas.api.types import (
    is_bool_dtype,
    is_numeric_dtype,
    is_object_dtype,
    is_string_dtype,
)
from psycopg2 import sql

FEATURES_TABLE = ("marts", "fct_user_features_daily")

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


def feature_select_list(types: dict[str, str]) -> list[sql.Composable]:
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


def read_copy(
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


def frame_dtypes(types: dict[str, str]) -> dict[str, str]:
    dtypes = {"user_id": "str", "as_of_date": "str"}
    for name, kind in types.items():
        if kind == "categorical":
            dtypes[name] = "str"
        elif kind in ("numeric", "boolean"):
            dtypes[name] = "float64"
    return dtypes


def load_scoring_frame(conn, score_date: date) -> pd.DataFrame:
    """Features of every user in the feature mart as of `score_date`, ordered by user_id."""
    types = feature_column_types(conn)
    query = sql.SQL(
        "select {columns} from {features} f where f.as_of_date = %s order by f.user_id"
    ).format(
        columns=sql.SQL(", ").join(feature_select_list(types)),
        features=sql.Identifier(*FEATURES_TABLE),
    )
    return read_copy(conn, query, (score_date,), frame_dtypes(types))


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
