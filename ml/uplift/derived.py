"""Rates the uplift model derives from the columns of the feature marts, the same way when
training and when scoring: behaviour that tells deal seekers apart, which raw counts mix up
with how active a user is."""

from __future__ import annotations

import pandas as pd

from ml.features import FeatureSpec, prepare_matrix

# name -> (part, rest): part / (part + rest), null when both are 0
SHARES = {
    # items saved for later (price watching) among the items looked at
    "favorite_share_30d": ("favorites_30d", "views_30d"),
}


def with_derived_features(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame plus every derived rate whose inputs it has (a copy; the input is unchanged)."""
    out = frame.copy()
    for name, (part, rest) in SHARES.items():
        if part in frame.columns and rest in frame.columns:
            numerator = frame[part].astype("float64")
            total = numerator + frame[rest].astype("float64")
            out[name] = (numerator / total.where(total > 0)).astype("float64")
    return out


def uplift_matrix(frame: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """`prepare_matrix` of the frame with the derived rates added."""
    return prepare_matrix(with_derived_features(frame), spec)
