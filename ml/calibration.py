"""Probability calibration of raw LightGBM scores, stored as plain numbers (no pickles)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression


@dataclass(frozen=True)
class PlattCalibrator:
    """p = sigmoid(slope * raw + intercept); monotonic, so the ranking is unchanged."""

    slope: float
    intercept: float

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        z = self.slope * np.asarray(raw, dtype="float64") + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def to_dict(self) -> dict:
        return {"method": "platt", "slope": self.slope, "intercept": self.intercept}


@dataclass(frozen=True)
class IsotonicCalibrator:
    """Piecewise-linear, non-decreasing map from raw score to probability (clipped at ends)."""

    x: tuple[float, ...]
    y: tuple[float, ...]

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        return np.interp(np.asarray(raw, dtype="float64"), self.x, self.y)

    def to_dict(self) -> dict:
        return {"method": "isotonic", "x": list(self.x), "y": list(self.y)}


Calibrator = PlattCalibrator | IsotonicCalibrator


def fit_calibrator(method: str, raw_scores: np.ndarray, labels: np.ndarray) -> Calibrator:
    """Fit a calibrator on held-out raw scores (margins) and their 0/1 labels."""
    raw = np.asarray(raw_scores, dtype="float64")
    y = np.asarray(labels, dtype="int64")
    if len(np.unique(y)) < 2:
        raise ValueError(
            "The calibration window holds only one label value; widen windows.calibration_dates "
            "or wait for more data."
        )
    if method == "platt":
        model = LogisticRegression(C=np.inf, solver="lbfgs", max_iter=1000)
        model.fit(raw.reshape(-1, 1), y)
        return PlattCalibrator(float(model.coef_[0, 0]), float(model.intercept_[0]))
    if method == "isotonic":
        model = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
        model.fit(raw, y)
        return IsotonicCalibrator(
            tuple(float(v) for v in model.X_thresholds_),
            tuple(float(v) for v in model.y_thresholds_),
        )
    raise ValueError(f"Unknown calibration method {method!r}; use 'platt' or 'isotonic'.")


def calibrator_from_dict(data: dict) -> Calibrator:
    if data["method"] == "platt":
        return PlattCalibrator(float(data["slope"]), float(data["intercept"]))
    if data["method"] == "isotonic":
        return IsotonicCalibrator(tuple(data["x"]), tuple(data["y"]))
    raise ValueError(f"Unknown calibrator {data['method']!r} in the model artifact.")
