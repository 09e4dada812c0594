"""Typed configuration of the propensity model, read from `ml/conf/propensity.yml`."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field, fields, is_dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

CALIBRATION_METHODS = ("platt", "isotonic")


@dataclass(frozen=True)
class WindowConfig:
    """How many as-of dates each time window holds and how far apart they are."""

    spacing_days: int = 3
    train_dates: int = 10
    validation_dates: int = 1
    calibration_dates: int = 1
    test_dates: int = 2
    purge_days: int | None = None
    min_history_days: int = 14
    min_train_dates: int = 4


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
    method: str = "platt"


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


@dataclass(frozen=True)
class ScoringConfig:
    batch_size: int = 50_000


@dataclass(frozen=True)
class PropensityConfig:
    model_name: str = "propensity"
    label_horizon_days: int = 7
    retrain_after_days: int = 7
    windows: WindowConfig = field(default_factory=WindowConfig)
    guards: GuardConfig = field(default_factory=GuardConfig)
    lightgbm: LightGBMConfig = field(default_factory=LightGBMConfig)
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)
    baselines: BaselineConfig = field(default_factory=BaselineConfig)
    promotion: PromotionConfig = field(default_factory=PromotionConfig)
    drift: DriftConfig = field(default_factory=DriftConfig)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)

    @property
    def purge_days(self) -> int:
        """Gap between consecutive windows; defaults to the label horizon."""
        purge = self.windows.purge_days
        return self.label_horizon_days if purge is None else purge


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

    Overrides are top-level keys (`label_horizon_days=5`), nested dicts merged into a section
    (`windows={"train_dates": 6}`), or `section__key` (`lightgbm__num_boost_round=50`).
    """
    raw = _read_yaml(packaged_config_path())
    user_path = path if path is not None else os.environ.get(CONFIG_ENV) or None
    if user_path is not None:
        for key, value in _read_yaml(Path(user_path)).items():
            _merge(raw, [key], value)
    for key, value in overrides.items():
        _merge(raw, key.split("__"), value)
    config = _build(PropensityConfig, raw, "config")
    validate_config(config)
    return config


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
        else:
            kwargs[name] = value
    return cls(**kwargs)


def validate_config(config: PropensityConfig) -> None:
    """Reject settings that cannot produce a sound model, saying which and why."""
    w = config.windows
    problems = []
    if config.label_horizon_days < 1:
        problems.append("label_horizon_days must be >= 1")
    for name in ("spacing_days", "train_dates", "validation_dates", "calibration_dates"):
        if getattr(w, name) < 1:
            problems.append(f"windows.{name} must be >= 1")
    if w.test_dates < 1:
        problems.append("windows.test_dates must be >= 1")
    if config.purge_days < 1:
        problems.append("windows.purge_days must be >= 1 (or null for the label horizon)")
    if w.min_history_days < 0:
        problems.append("windows.min_history_days must be >= 0")
    if not 1 <= w.min_train_dates <= w.train_dates:
        problems.append("windows.min_train_dates must be between 1 and windows.train_dates")
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
