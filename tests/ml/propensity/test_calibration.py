"""Calibration of raw booster margins: each method fits held-out labels, round-trips through
plain numbers, and keeps the ranking it promises."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.propensity.bgnbd import FEATURE as BGNBD
from ml.propensity.calibration import (
    IsotonicCalibrator,
    PlattBgnbdCalibrator,
    PlattCalibrator,
    calibrator_from_dict,
    fit_calibrator,
)


def _window(rows: int = 4000, seed: int = 3):
    rng = np.random.default_rng(seed)
    raw = rng.normal(size=rows)
    expected = np.exp(rng.normal(-1.0, 1.0, size=rows))
    p = 1 / (1 + np.exp(-(1.5 * raw + 0.4 * np.log(expected) - 1.0)))
    y = (rng.random(rows) < p).astype(int)
    return raw, y, pd.DataFrame({BGNBD: expected})


def test_platt_recovers_the_slope_and_keeps_the_ranking():
    raw, y, _ = _window()
    calibrator = fit_calibrator("platt", raw, y)
    assert isinstance(calibrator, PlattCalibrator) and calibrator.slope > 0
    probabilities = calibrator(raw)
    assert np.all((probabilities > 0) & (probabilities < 1))
    assert np.array_equal(np.argsort(raw, kind="stable"), np.argsort(probabilities, kind="stable"))
    assert abs(probabilities.mean() - y.mean()) < 0.01  # calibrated in the large


def test_platt_bgnbd_keeps_a_positive_weight_on_the_expectation_and_breaks_ties():
    raw, y, matrix = _window()
    calibrator = fit_calibrator("platt_bgnbd", raw, y, matrix, bgnbd_min_slope=0.01)
    assert isinstance(calibrator, PlattBgnbdCalibrator)
    assert calibrator.bgnbd_slope >= 0.01
    tied = np.zeros(3)  # the same booster margin, three purchase histories
    histories = pd.DataFrame({BGNBD: [0.1, 0.5, 2.0]})
    assert np.all(np.diff(calibrator(tied, histories)) > 0)
    with pytest.raises(ValueError, match="needs the bgnbd_expected_purchases column"):
        calibrator(raw)


def test_platt_bgnbd_without_the_column_is_platt():
    raw, y, _ = _window()
    assert isinstance(fit_calibrator("platt_bgnbd", raw, y, pd.DataFrame()), PlattCalibrator)


def test_isotonic_is_non_decreasing_and_clipped():
    raw, y, _ = _window()
    calibrator = fit_calibrator("isotonic", raw, y)
    assert isinstance(calibrator, IsotonicCalibrator)
    grid = np.linspace(raw.min() - 5, raw.max() + 5, 200)
    values = calibrator(grid)
    assert np.all(np.diff(values) >= 0) and values.min() >= 0 and values.max() <= 1


@pytest.mark.parametrize("method", ["platt", "platt_bgnbd", "isotonic"])
def test_every_calibrator_round_trips_through_its_dict(method):
    raw, y, matrix = _window(rows=1500)
    calibrator = fit_calibrator(method, raw, y, matrix)
    again = calibrator_from_dict(calibrator.to_dict())
    assert np.allclose(again(raw, matrix), calibrator(raw, matrix))


def test_one_label_value_or_an_unknown_method_is_refused():
    raw, y, _ = _window(rows=100)
    with pytest.raises(ValueError, match="only one label value"):
        fit_calibrator("platt", raw, np.zeros_like(y))
    with pytest.raises(ValueError, match="Unknown calibration method 'beta'"):
        fit_calibrator("beta", raw, y)
    with pytest.raises(ValueError, match="Unknown calibrator"):
        calibrator_from_dict({"method": "beta"})
