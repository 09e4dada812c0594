"""Typed configuration of the propensity model, read from `ml/conf/propensity.yml`."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field, fields, is_dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

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

    train_days: int = 365
    validation_dates: int = 1
    calibration_dates: int = 1
    test_dates: int = 2
    purge_days: int | None = None
    min_history_days: int = 14
    min_train_dates: int = 4
    max_train_rows: int = 1_000_000
    sample_seed: str = "aimass"


@dataclass(frozen=True)
class GuardConfig:
    """Minimum data before a model is trained."""

    min_train_rows: int = 1000
    min_train_positives: int = 50
    min_eval_rows: int = 200
    min_eval_positives: int = 10


@dataclass(frozen=True)
class LightGBMConfig:
    num_boost_round: int = 600
    early_stopping_rounds: int = 40
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CalibrationConfig:
    method: str = "platt_bgnbd"
    bgnbd_min_slope: float = 0.01


@dataclass(frozen=True)
class BgnbdConfig:
    """The BG/NBD baseline and the model feature built from it."""

    as_feature: bool = True
    min_customers: int = 100


@dataclass(frozen=True)
class BaselineConfig:
    logistic_regression_max_rows: int = 200_000
    logistic_regression_c: float = 1.0


@dataclass(frozen=True)
class PromotionConfig:
    auc_margin: float = 0.005
    baseline_margin: float = 0.0
    baseline_noise_z: float = 1.645


@dataclass(frozen=True)
class DriftConfig:
    bins: int = 10
    psi_warn: float = 0.1
    psi_fail: float = 0.25
    score_psi_warn: float = 0.1
    score_psi_fail: float = 0.25
    auc_drop_warn: float = 0.03
    auc_drop_fail: float = 0.07
    calibration_error_warn: float = 0.02
    calibration_error_fail: float = 0.05
    realized_lookback_days: int = 60
    moves_by_construction: tuple[str, ...] = ()
    on_fail: str = "retrain"


@dataclass(frozen=True)
class ScoringConfig:
    batch_size: int = 50_000


@dataclass(frozen=True)
class PropensityConfig:
    model_name: str = "propensity"
    retrain_after_days: int = 7
    windows: WindowConfig = field(default_factory=WindowConfig)
    guards: GuardConfig = field(default_factory=GuardConfig)
    lightgbm: LightGBMConfig = field(default_factory=LightGBMConfig)
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)
    bgnbd: BgnbdConfig = field(default_factory=BgnbdConfig)
    baselines: BaselineConfig = field(default_factory=BaselineConfig)
    promotion: PromotionConfig = field(default_factory=PromotionConfig)
    drift: DriftConfig = field(default_factory=DriftConfig)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)

    def purge_days(self, horizon_days: int) -> int:
        """Gap between consecutive windows; defaults to the label horizon (from the mart)."""
        purge = self.windows.purge_days
        return horizon_days if purge is None else purge


CONFIG_ENV = "AIMASS_PROPENSITY_CONFIG"


SHORT_HISTORY_CONFIG = "propensity_short_history.yml"


def packaged_config_path(name: str = "propensity.yml") -> Path:
    """A YAML shipped in `ml/conf/` (the defaults, or e.g. SHORT_HISTORY_CONFIG)."""
    return Path(str(resources.files("ml") / "conf" / name))


def _read_yaml(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"Propensity config {path} does not exist; pass an existing YAML.")
    raw = yaml.safe_load(path.read_text()) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path} must hold a mapping of settings, got {type(raw).__name__}.")
    return raw


def load_config(path: str | Path | None = None, **overrides: Any) -> PropensityConfig:
    """The packaged `ml/conf/propensity.yml`, then the settings of `path` (or of the file named
    by `$AIMASS_PROPENSITY_CONFIG`) merged over it, then `overrides`.

    Overrides are top-level keys (`retrain_after_days=0`), nested dicts merged into a section
    (`windows={"train_days": 90}`), or `section__key` (`lightgbm__num_boost_round=50`). A
    setting that moved elsewhere (MOVED_SETTINGS) is an error naming its new place.
    """
    raw = _read_yaml(packaged_config_path())
    user_path = path if path is not None else os.environ.get(CONFIG_ENV) or None
    if user_path is not None:
        user = _read_yaml(Path(user_path))
        _refuse_moved(user, str(user_path))
        for key, value in user.items():
            _merge(raw, [key], value)
    override_tree: dict = {}
    for key, value in overrides.items():
        _merge(override_tree, key.split("__"), value)
    _refuse_moved(override_tree, "the overrides")
    for key, value in override_tree.items():
        _merge(raw, [key], value)
    config = _build(PropensityConfig, raw, "config")
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
        raise ValueError(
            f"Setting(s) in {where} are no longer model settings; remove them. "
            + " ".join(f"{item}." for item in found)
        )


def _merge(target: dict, keys: list[str], value: Any) -> None:
    head, *rest = keys
    if rest:
        _merge(target.setdefault(head, {}), rest, value)
    elif isinstance(value, dict) and isinstance(target.get(head), dict):
        merged = copy.deepcopy(target[head])
        for sub_key, sub_value in value.items():
            _merge(merged, [sub_key], sub_value)
        target[head] = merged
    else:
        target[head] = value


def _build(cls, values: dict, where: str):
    if not isinstance(values, dict):
        raise ValueError(f"{where} must be a mapping, got {values!r}.")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(
            f"Unknown setting(s) {unknown} in {where}; valid keys are {sorted(known)}."
        )
    kwargs = {}
    for name, value in values.items():
        default = cls.__dataclass_fields__[name].default_factory  # type: ignore[attr-defined]
        nested = default() if callable(default) else None
        if is_dataclass(nested):
            kwargs[name] = _build(type(nested), value or {}, f"{where}.{name}")
        elif isinstance(value, list):
            kwargs[name] = tuple(value)  # frozen settings stay hashable
        else:
            kwargs[name] = value
    return cls(**kwargs)


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
        raise ValueError("Invalid propensity config: " + "; ".join(problems) + ".")
