"""The rates the uplift model derives from the feature marts' columns, and the final fit on the
training and validation campaigns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.registry import get_model
from ml.uplift.derived import with_derived_features


def test_favourite_share_is_favourites_among_items_looked_at_and_null_without_any():
    frame = pd.DataFrame(
        {
            "favorites_30d": pd.array([1, 0, 0, 3], dtype="Int64"),
            "views_30d": pd.array([3, 5, 0, 0], dtype="Int64"),
        }
    )
    out = with_derived_features(frame)
    share = out["favorite_share_30d"].to_numpy()
    assert np.allclose(share[[0, 1, 3]], [0.25, 0.0, 1.0]) and np.isnan(share[2])
    assert "favorite_share_30d" not in frame.columns  # the input is left alone
    # a frame without the inputs (e.g. an older feature mart) gets no derived column
    assert list(with_derived_features(frame[["views_30d"]]).columns) == ["views_30d"]


def test_the_model_uses_the_derived_rate_and_is_fitted_on_training_and_validation(uplift_db):
    conn, summary = uplift_db
    record = get_model(conn, "coupon_uplift", summary["model_version"], with_artifact=False)
    assert "favorite_share_30d" in record.features["features"]
    campaigns = record.metrics["campaigns"]
    fitted = [c["campaign"] for c in campaigns if c["split"] in ("train", "validation")]
    assert record.metrics["fitted_on"] == fitted
    assert not {c["campaign"] for c in campaigns if c["split"] == "test"} & set(fitted)
