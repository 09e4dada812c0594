"""Distribution profiles and the population stability index (PSI).

A profile is fixed on the training population (bin edges or category levels plus the share of
rows per bin); the scoring population is binned the same way and compared with PSI.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.features import FeatureSpec

PSI_FLOOR = 1e-4  # share used for empty bins so the log stays finite


def numeric_profile(values: np.ndarray, bins: int) -> dict:
    """Quantile bin edges of `values` plus a trailing bin for missing values."""
    values = np.asarray(values, dtype="float64")
    present = values[~np.isnan(values)]
    if present.size:
        quantiles = np.linspace(0, 1, bins + 1)[1:-1]
        edges = np.unique(np.quantile(present, quantiles)).tolist()
    else:
        edges = []
    profile = {"kind": "numeric", "edges": edges}
    profile["shares"] = shares(values, profile).tolist()
    return profile


def categorical_profile(values: pd.Series | pd.Categorical) -> dict:
    """Share per training level, one bin for unseen levels and one for missing values."""
    levels = list(pd.Categorical(values).categories.astype(str))
    profile = {"kind": "categorical", "levels": levels}
    profile["shares"] = shares(values, profile).tolist()
    return profile


def shares(values, profile: dict) -> np.ndarray:
    """Share of `values` per bin of `profile` (the last bin holds missing values)."""
    if profile["kind"] == "numeric":
        arr = np.asarray(values, dtype="float64")
        missing = np.isnan(arr)
        idx = np.searchsorted(np.asarray(profile["edges"]), arr[~missing], side="right")
        counts = np.bincount(idx, minlength=len(profile["edges"]) + 1).astype("float64")
    else:
        series = pd.Series(np.asarray(values, dtype=object))
        missing = series.isna().to_numpy()
        present = series[~missing].astype(str)
        levels = profile["levels"]
        counts = present.value_counts().reindex(levels, fill_value=0).to_numpy(dtype="float64")
        unseen = float((~present.isin(levels)).sum())
        counts = np.append(counts, unseen)
    counts = np.append(counts, float(missing.sum()))
    total = counts.sum()
    return counts / total if total else counts


def population_stability_index(expected: np.ndarray, actual: np.ndarray) -> float:
    """PSI = sum((a - e) * ln(a / e)) over bins, with empty bins floored."""
    e = np.clip(np.asarray(expected, dtype="float64"), PSI_FLOOR, None)
    a = np.clip(np.asarray(actual, dtype="float64"), PSI_FLOOR, None)
    return float(np.sum((a - e) * np.log(a / e)))


def feature_profiles(matrix: pd.DataFrame, spec: FeatureSpec, bins: int) -> dict[str, dict]:
    """One profile per model feature, computed on a prepared matrix."""
    out = {}
    for name in spec.features:
        column = matrix[name]
        if spec.kinds[name] == "numeric":
            out[name] = numeric_profile(column.to_numpy(dtype="float64"), bins)
        else:
            out[name] = categorical_profile(column)
    return out


def feature_psi(matrix: pd.DataFrame, profiles: dict[str, dict]) -> dict[str, float]:
    """PSI of each profiled feature between the profile and `matrix`."""
    result = {}
    for name, profile in profiles.items():
        if name not in matrix.columns:
            continue
        values = matrix[name]
        if profile["kind"] == "numeric":
            values = values.to_numpy(dtype="float64")
        else:
            values = values.astype(object).where(values.notna(), None)
        result[name] = population_stability_index(profile["shares"], shares(values, profile))
    return result
