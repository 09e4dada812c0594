"""Feature frames, feature selection and the shared matrix code path."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from ml.features import (
    FeatureMismatchError,
    FeatureSpec,
    load_scoring_frame,
    load_training_frame,
    prepare_matrix,
    select_features,
)


def _toy_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": ["a", "b", "c", "d"],
            "as_of_date": pd.to_datetime(["2024-01-01"] * 4).date,
            "orders_30d": [0.0, 1.0, 3.0, 0.0],
            "constant": [0.0, 0.0, 0.0, 0.0],
            "all_null": [np.nan] * 4,
            "country": pd.Series(["DE", "NA", None, "DE"], dtype="str"),
            "label": [0, 1, 1, 0],
        }
    )


def test_select_features_drops_constant_and_null_and_fixes_levels():
    spec = select_features(_toy_frame())
    assert spec.features == ("orders_30d", "country")
    assert spec.dropped == {
        "constant": "constant in the training window",
        "all_null": "all null in the training window",
    }
    assert spec.categories == {"country": ["DE", "NA"]}
    assert FeatureSpec.from_dict(spec.to_dict()) == spec


def test_matrix_keeps_training_levels_and_maps_unseen_to_missing():
    spec = select_features(_toy_frame())
    scoring = _toy_frame().assign(country=pd.Series(["FR", "NA", "DE", None], dtype="str"))
    matrix = prepare_matrix(scoring, spec)
    assert list(matrix.columns) == ["orders_30d", "country"]
    assert list(matrix["country"].cat.categories) == ["DE", "NA"]
    assert matrix["country"].isna().tolist() == [True, False, False, True]
    assert matrix["orders_30d"].dtype == "float64"


def test_missing_feature_raises_instead_of_filling_nan():
    spec = select_features(_toy_frame())
    with pytest.raises(FeatureMismatchError, match=r"\['orders_30d'\].*missing"):
        prepare_matrix(_toy_frame().drop(columns=["orders_30d"]), spec)


def test_changed_type_raises():
    spec = select_features(_toy_frame())
    changed = _toy_frame().assign(orders_30d=pd.Series(["0", "1", "3", "0"], dtype="str"))
    with pytest.raises(FeatureMismatchError, match="orders_30d \\(trained as numeric"):
        prepare_matrix(changed, spec)
    changed = _toy_frame().assign(country=[1.0, 2.0, 3.0, 4.0])
    with pytest.raises(FeatureMismatchError, match="country \\(trained as categorical"):
        prepare_matrix(changed, spec)


def test_training_frame_has_only_mature_labels_in_order(marts_db, marts):
    last_dates = [marts.cutoff - timedelta(days=d) for d in (10, 7, 4)]
    assert set(last_dates) <= set(marts.grid_dates)
    frame = load_training_frame(marts_db, last_dates, 7)
    # the as-of date 4 days before the cut-off has immature labels: it is left out
    assert set(frame["as_of_date"]) == set(last_dates[:2])
    keys = list(zip(frame["as_of_date"], frame["user_id"], strict=False))
    assert keys == sorted(keys)
    assert set(frame["label"].unique()) == {0, 1}
    assert frame["country"].dtype == "str"
    assert "NA" in set(frame["country"])  # Namibia is a country, not a missing value
    assert frame["orders_30d"].dtype == "float64"
    assert (frame["label_revenue"] > 0).sum() == frame["label"].sum()
    # the revenue in the horizon is for evaluation: never a feature
    assert "label_revenue" not in select_features(frame).features


def test_scoring_frame_is_one_row_per_user(marts_db, marts):
    frame = load_scoring_frame(marts_db, marts.cutoff)
    expected = marts.features[marts.features["as_of_date"] == marts.cutoff]
    assert len(frame) == len(expected) == frame["user_id"].nunique()
    assert frame["user_id"].is_monotonic_increasing
