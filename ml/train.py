"""Train the propensity model: LightGBM with early stopping on a later window, then calibration
on a held-out window after that. Same data and config give the same model."""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd

from ml.bgnbd import BgnbdFit, with_feature
from ml.calibration import fit_calibrator
from ml.config import PropensityConfig
from ml.drift import feature_profiles, numeric_profile
from ml.features import labels_of, prepare_matrix, select_features
from ml.model import PropensityModel
from ml.windows import WINDOW_NAMES, TimeWindows

REQUIRED_PARAMS = {"objective": "binary"}


@dataclass
class TrainingResult:
    model: PropensityModel
    params: dict
    best_iteration: int
    validation_auc: float | None


def split_by_window(frame: pd.DataFrame, windows: TimeWindows) -> dict[str, pd.DataFrame]:
    """The rows of each window (by as_of_date), in the frame's order."""
    out = {}
    for name in WINDOW_NAMES:
        mask = frame["as_of_date"].isin(set(windows.dates(name)))
        out[name] = frame.loc[mask].reset_index(drop=True)
    return out


def lightgbm_params(config: PropensityConfig) -> dict:
    """The LightGBM parameters actually used (config plus the binary objective)."""
    params = dict(config.lightgbm.params)
    params.update(REQUIRED_PARAMS)
    params.setdefault("metric", "auc")
    params.setdefault("verbosity", -1)
    return params


def train_model(
    frames: dict[str, pd.DataFrame], config: PropensityConfig, bgnbd: BgnbdFit | None = None
) -> TrainingResult:
    """Fit on `train`, stop early on `validation`, calibrate on `calibration`; with a BG/NBD
    fit (made on training data) and `bgnbd.as_feature`, its expected purchases are a feature.

    The `test` frame, if present, is not touched. Drift profiles are those of the calibration
    window, the latest population before the test window.
    """
    derived = bgnbd if config.bgnbd.as_feature else None
    prepared = {name: with_feature(frames[name], derived) for name in WINDOW_NAMES[:3]}
    spec = select_features(prepared["train"])
    x_train, y_train = prepare_matrix(prepared["train"], spec), labels_of(frames["train"])
    x_valid, y_valid = (
        prepare_matrix(prepared["validation"], spec),
        labels_of(frames["validation"]),
    )
    params = lightgbm_params(config)
    train_set = lgb.Dataset(x_train, y_train, categorical_feature="auto", free_raw_data=False)
    valid_set = lgb.Dataset(x_valid, y_valid, reference=train_set)
    booster = lgb.train(
        params,
        train_set,
        num_boost_round=config.lightgbm.num_boost_round,
        valid_sets=[valid_set],
        valid_names=["validation"],
        callbacks=[
            lgb.early_stopping(
                config.lightgbm.early_stopping_rounds, first_metric_only=True, verbose=False
            )
        ],
    )
    best_iteration = booster.best_iteration or booster.current_iteration()
    final = lgb.Booster(model_str=booster.model_to_string(num_iteration=best_iteration))
    x_calib = prepare_matrix(prepared["calibration"], spec)
    calibrator = fit_calibrator(
        config.calibration.method,
        final.predict(x_calib, raw_score=True),
        labels_of(frames["calibration"]),
        x_calib,
        config.calibration.bgnbd_min_slope,
    )
    model = PropensityModel(
        booster=final,
        calibrator=calibrator,
        spec=spec,
        feature_profiles=feature_profiles(x_calib, spec, config.drift.bins),
        bgnbd=derived,
    )
    model.score_profile = numeric_profile(model.probabilities(x_calib), config.drift.bins)
    validation_auc = _best_score(booster)
    return TrainingResult(model, params, int(best_iteration), validation_auc)


def _best_score(booster: lgb.Booster) -> float | None:
    scores = booster.best_score.get("validation", {})
    value = scores.get("auc")
    return None if value is None or np.isnan(value) else float(value)
