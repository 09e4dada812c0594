"""Probability calibration of raw LightGBM scores, stored as plain numbers (no pickles).

Every calibrator is called with the raw scores and the model matrix of the same rows (only
`platt_bgnbd` reads the matrix: its BG/NBD column)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit, log_expit
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from ml.bgnbd import FEATURE as BGNBD_FEATURE

BGNBD_FLOOR = 1e-6  # expected purchases below this count as this (finite logarithm)


@dataclass(frozen=True)
class PlattCalibrator:
    """p = sigmoid(slope * raw + intercept); monotonic, so the ranking is unchanged."""

    slope: float
    intercept: float

    def __call__(self, raw: np.ndarray, matrix: pd.DataFrame | None = None) -> np.ndarray:
        z = self.slope * np.asarray(raw, dtype="float64") + self.intercept
        return expit(z)

    def to_dict(self) -> dict:
        return {"method": "platt", "slope": self.slope, "intercept": self.intercept}


def _log_bgnbd(values) -> np.ndarray:
    return np.log(np.maximum(np.asarray(values, dtype="float64"), BGNBD_FLOOR))


@dataclass(frozen=True)
class PlattBgnbdCalibrator:
    """p = sigmoid(slope * raw + bgnbd_slope * log(BG/NBD expected purchases) + intercept).

    A logistic regression on the held-out calibration window with two inputs: the booster's
    margin and the BG/NBD expectation, which is continuous in each user's purchase history,
    with `bgnbd_slope` at least `calibration.bgnbd_min_slope` (> 0). Users the booster's trees
    put in the same leaves get different probabilities when their histories differ, ordered by
    the expectation, so the published scores have no long ties; for a fixed expectation it is
    increasing in the raw score. (Unconstrained, the slope often comes out negative on one
    calibration date, as the booster already uses the expectation, and reverses that order.)"""

    slope: float
    bgnbd_slope: float
    intercept: float

    def __call__(self, raw: np.ndarray, matrix: pd.DataFrame | None = None) -> np.ndarray:
        if matrix is None or BGNBD_FEATURE not in matrix.columns:
            raise ValueError(
                f"The platt_bgnbd calibrator needs the {BGNBD_FEATURE} column of the model "
                "matrix; score through PropensityModel.predict / matrix."
            )
        z = (
            self.slope * np.asarray(raw, dtype="float64")
            + self.bgnbd_slope * _log_bgnbd(matrix[BGNBD_FEATURE])
            + self.intercept
        )
        return expit(z)

    def to_dict(self) -> dict:
        return {
            "method": "platt_bgnbd",
            "slope": self.slope,
            "bgnbd_slope": self.bgnbd_slope,
            "intercept": self.intercept,
        }


@dataclass(frozen=True)
class IsotonicCalibrator:
    """Piecewise-linear, non-decreasing map from raw score to probability (clipped at ends)."""

    x: tuple[float, ...]
    y: tuple[float, ...]

    def __call__(self, raw: np.ndarray, matrix: pd.DataFrame | None = None) -> np.ndarray:
        return np.interp(np.asarray(raw, dtype="float64"), self.x, self.y)

    def to_dict(self) -> dict:
        return {"method": "isotonic", "x": list(self.x), "y": list(self.y)}


Calibrator = PlattCalibrator | PlattBgnbdCalibrator | IsotonicCalibrator


def _logistic_with_floor(inputs: np.ndarray, y: np.ndarray, floor: float) -> np.ndarray:
    """Maximum-likelihood weights (one per input column, then the intercept) of a logistic
    regression whose second weight is at least `floor`."""
    design = np.column_stack([inputs, np.ones(len(y))])

    def objective(w):
        z = design @ w
        ll = y * log_expit(z) + (1 - y) * log_expit(-z)
        return -ll.mean(), -(design.T @ (y - expit(z))) / len(y)

    start = np.array([1.0, floor, 0.0])
    bounds = [(None, None), (floor, None), (None, None)]
    result = minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds)
    if not np.isfinite(result.fun):
        raise ValueError(f"The platt_bgnbd calibration did not converge ({result.message}).")
    return result.x


def fit_calibrator(
    method: str,
    raw_scores: np.ndarray,
    labels: np.ndarray,
    matrix: pd.DataFrame | None = None,
    bgnbd_min_slope: float = 0.01,
) -> Calibrator:
    """Fit a calibrator on held-out raw scores (margins) and their 0/1 labels. `platt_bgnbd`
    without the BG/NBD column in `matrix` (no BG/NBD fit, or the feature not used) is `platt`."""
    raw = np.asarray(raw_scores, dtype="float64")
    y = np.asarray(labels, dtype="int64")
    if len(np.unique(y)) < 2:
        raise ValueError(
            "The calibration window holds only one label value; widen windows.calibration_dates "
            "or wait for more data."
        )
    if method == "platt_bgnbd" and matrix is not None and BGNBD_FEATURE in matrix.columns:
        inputs = np.column_stack([raw, _log_bgnbd(matrix[BGNBD_FEATURE])])
        slope, bgnbd_slope, intercept = _logistic_with_floor(inputs, y, bgnbd_min_slope)
        return PlattBgnbdCalibrator(float(slope), float(bgnbd_slope), float(intercept))
    if method in ("platt", "platt_bgnbd"):
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
    raise ValueError(
        f"Unknown calibration method {method!r}; use 'platt', 'platt_bgnbd' or 'isotonic'."
    )


def calibrator_from_dict(data: dict) -> Calibrator:
    if data["method"] == "platt":
        return PlattCalibrator(float(data["slope"]), float(data["intercept"]))
    if data["method"] == "platt_bgnbd":
        return PlattBgnbdCalibrator(
            float(data["slope"]), float(data["bgnbd_slope"]), float(data["intercept"])
        )
    if data["method"] == "isotonic":
        return IsotonicCalibrator(tuple(data["x"]), tuple(data["y"]))
    raise ValueError(f"Unknown calibrator {data['method']!r} in the model artifact.")
