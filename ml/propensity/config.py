"""Typed configuration of the propensity model, read from `ml/conf/propensity.yml`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml.core.config import load_settings
from ml.core.errors import ConfigError

CALIBRATION_METHODS = ("platt", "platt_bgnbd", "isotonic")
DRIFT_ON_FAIL = ("retrain", "block")
# Settings that moved out of this file: each names where it is set now.
MOVED_SETTINGS = {
    "label_horizon_days": (
        "the label horizon is set in one place, the dbt var label_horizon_days "
        "(dbt_project/dbt_project.yml, or AIMASS_DBT_VARS='{\"label_horizon_days\": 30}' for "
        "every platform dbt run); the model reads it from marts.fct_user_labels_daily"
    ),
    "windows.spacing_days": (
        "the distance between as-of dates is the dbt var as_of_spacing_days: the model uses the "
        "grid dates listed in marts.dim_as_of_dates"
    ),
    "windows.train_dates": (
        "the training window is windows.train_days long (days of grid dates before the last "
        "training date)"
    ),
}


@dataclass(frozen=True)
class WindowConfig:
    """Which grid dates of `marts.dim_as_of_dates` each time window takes."""

    train_days: int
    validation_dates: int
    calibration_dates: int
    test_dates: int
    purge_days: int | None
    min_history_days: int
    min_train_dates: int
    max_train_rows: int
    sample_seed: str


@dataclass(frozen=True)
class GuardConfig:
    """Minimum data before a model is trained."""

    min_train_rows: int
    min_train_positives: int
    min_eval_rows: int
    min_eval_positives: int


@dataclass(frozen=True)
class LightGBMConfig:
    num_boost_round: int
    early_stopping_rounds: int
    params: dict


@dataclass(frozen=True)
class CalibrationConfig:
    method: str
    bgnbd_min_slope: float


@dataclass(frozen=True)
class BgnbdConfig:
    """The BG/NBD baseline and the model feature built from it."""

    as_feature: bool
    min_customers: int


@dataclass(frozen=True)
class BaselineConfig:
    logistic_regression_max_rows: int
    logistic_regression_c: float


@dataclass(frozen=True)
class PromotionConfig:
    auc_margin: float
    baseline_margin: float
    baseline_noise_z: float


@dataclass(frozen=True)
class DriftConfig:
    bins: int
    psi_warn: float
    psi_fail: float
    score_psi_warn: float
    score_psi_fail: float
    auc_drop_warn: float
    auc_drop_fail: float
    calibration_error_warn: float
    calibration_error_fail: float
    realized_lookback_days: int
    moves_by_construction: tuple[str, ...]
    on_fail: str


@dataclass(frozen=True)
class ScoringConfig:
    batch_size: int


@dataclass(frozen=True)
class PropensityConfig:
    model_name: str
    retrain_after_days: int
    windows: WindowConfig
    guards: GuardConfig
    lightgbm: LightGBMConfig
    calibration: CalibrationConfig
    bgnbd: BgnbdConfig
    baselines: BaselineConfig
    promotion: PromotionConfig
    drift: DriftConfig
    scoring: ScoringConfig

    def purge_days(self, horizon_days: int) -> int:
        """Gap between consecutive windows; defaults to the label horizon (from the mart)."""
        purge = self.windows.purge_days
        return horizon_days if purge is None else purge


CONFIG_FILE = "propensity.yml"
CONFIG_ENV = "AIMASS_PROPENSITY_CONFIG"


SHORT_HISTORY_CONFIG = "propensity_short_history.yml"


def load_config(path: str | Path | None = None, **overrides: Any) -> PropensityConfig:
    """The packaged `ml/conf/propensity.yml`, then the settings of `path` (or of the file named
    by `$AIMASS_PROPENSITY_CONFIG`) merged over it, then `overrides` (see
    `ml.core.config.load_settings`). A setting that moved elsewhere (MOVED_SETTINGS) is an error
    naming its new place."""
    config = load_settings(
        PropensityConfig,
        CONFIG_FILE,
        env=CONFIG_ENV,
        path=path,
        overrides=overrides,
        check_user=_refuse_moved,
    )
    validate_config(config)
    return config


def _refuse_moved(values: dict, where: str) -> None:
    found = []
    for dotted, advice in MOVED_SETTINGS.items():
        section, _, key = dotted.rpartition(".")
        scope = values.get(section) if section else values
        if isinstance(scope, dict) and key in scope:
            found.append(f"{dotted}: {advice}")
    if found:
        raise ConfigError(
            f"Setting(s) in {where} are no longer model settings; remove them. "
            + " ".join(f"{item}." for item in found)
        )


def validate_config(config: PropensityConfig) -> None:
    """Reject settings that cannot produce a sound model, saying which and why."""
    w = config.windows
    problems = []
    for name in ("train_days", "validation_dates", "calibration_dates", "test_dates"):
        if getattr(w, name) < 1:
            problems.append(f"windows.{name} must be >= 1")
    if w.purge_days is not None and w.purge_days < 1:
        problems.append("windows.purge_days must be >= 1 (or null for the label horizon)")
    if w.min_history_days < 0:
        problems.append("windows.min_history_days must be >= 0")
    if w.min_train_dates < 1:
        problems.append("windows.min_train_dates must be >= 1")
    if w.max_train_rows < config.guards.min_train_rows:
        problems.append("windows.max_train_rows must be >= guards.min_train_rows")
    if config.calibration.bgnbd_min_slope <= 0:
        problems.append("calibration.bgnbd_min_slope must be > 0")
    if config.bgnbd.min_customers < 2:
        problems.append("bgnbd.min_customers must be >= 2")
    if config.drift.on_fail not in DRIFT_ON_FAIL:
        problems.append(f"drift.on_fail must be one of {DRIFT_ON_FAIL}")
    if config.retrain_after_days < 0:
        problems.append("retrain_after_days must be >= 0")
    if config.calibration.method not in CALIBRATION_METHODS:
        problems.append(f"calibration.method must be one of {CALIBRATION_METHODS}")
    if config.lightgbm.early_stopping_rounds < 1 or config.lightgbm.num_boost_round < 1:
        problems.append("lightgbm.num_boost_round and early_stopping_rounds must be >= 1")
    if config.scoring.batch_size < 1:
        problems.append("scoring.batch_size must be >= 1")
    if config.promotion.baseline_noise_z < 0:
        problems.append("promotion.baseline_noise_z must be >= 0 (0: any gap to a baseline loses)")
    if problems:
        raise ConfigError("Invalid propensity config: " + "; ".join(problems) + ".")
