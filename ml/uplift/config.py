"""Typed configuration of the coupon uplift model, read from `ml/conf/coupon_uplift.yml`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ml.config import _build, _merge, _read_yaml, packaged_config_path

CONFIG_FILE = "coupon_uplift.yml"
CONFIG_ENV = "AIMASS_COUPON_UPLIFT_CONFIG"
LEARNERS = ("t_learner", "x_learner", "s_learner")


@dataclass(frozen=True)
class CampaignSplitConfig:
    """How many of the latest campaigns are held out for validation and test."""

    validation_campaigns: int = 1
    test_campaigns: int = 1
    min_train_campaigns: int = 1


@dataclass(frozen=True)
class UpliftGuardConfig:
    """Minimum randomized data before a model is trained."""

    min_control_users: int = 200
    min_treated_users: int = 100
    min_train_conversions: int = 50


@dataclass(frozen=True)
class EconomicsConfig:
    """Money: margin on incremental revenue and what a coupon costs."""

    margin: float = 0.3
    coupon_cost_per_unit: float = 1.0
    cost_per_coupon_sent: float = 0.0
    order_value: float | None = None


@dataclass(frozen=True)
class UpliftEvaluationConfig:
    target_share: float = 0.3
    uplift_at_k: tuple[float, ...] = (0.1, 0.3)
    curve_points: int = 51
    random_seed: int = 20240601


@dataclass(frozen=True)
class UpliftPromotionConfig:
    qini_margin: float = 0.02
    baseline_margin: float = 0.0


@dataclass(frozen=True)
class UpliftLightGBMConfig:
    num_boost_round: int = 150
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class TargetsConfig:
    export_dir: str | None = None


@dataclass(frozen=True)
class UpliftConfig:
    model_name: str = "coupon_uplift"
    retrain_after_days: int = 7
    learners: tuple[str, ...] = LEARNERS
    campaigns: CampaignSplitConfig = field(default_factory=CampaignSplitConfig)
    guards: UpliftGuardConfig = field(default_factory=UpliftGuardConfig)
    economics: EconomicsConfig = field(default_factory=EconomicsConfig)
    evaluation: UpliftEvaluationConfig = field(default_factory=UpliftEvaluationConfig)
    promotion: UpliftPromotionConfig = field(default_factory=UpliftPromotionConfig)
    lightgbm: UpliftLightGBMConfig = field(default_factory=UpliftLightGBMConfig)
    targets: TargetsConfig = field(default_factory=TargetsConfig)


def load_uplift_config(path: str | Path | None = None, **overrides: Any) -> UpliftConfig:
    """The packaged `ml/conf/coupon_uplift.yml`, then `path` (or `$AIMASS_COUPON_UPLIFT_CONFIG`)
    merged over it, then `overrides` (`section__key=value` or top-level keys)."""
    raw = _read_yaml(packaged_config_path(CONFIG_FILE))
    user_path = path if path is not None else os.environ.get(CONFIG_ENV) or None
    if user_path is not None:
        for key, value in _read_yaml(Path(user_path)).items():
            _merge(raw, [key], value)
    for key, value in overrides.items():
        _merge(raw, key.split("__"), value)
    config = _build(UpliftConfig, raw, "coupon uplift config")
    config = _normalise(config)
    validate_uplift_config(config)
    return config


def _normalise(config: UpliftConfig) -> UpliftConfig:
    from dataclasses import replace

    evaluation = replace(
        config.evaluation, uplift_at_k=tuple(float(k) for k in config.evaluation.uplift_at_k)
    )
    return replace(config, learners=tuple(config.learners), evaluation=evaluation)


def validate_uplift_config(config: UpliftConfig) -> None:
    """Reject settings that cannot give a sound model, saying which and why."""
    problems = []
    unknown = sorted(set(config.learners) - set(LEARNERS))
    if not config.learners or unknown:
        problems.append(f"learners must be a non-empty subset of {list(LEARNERS)}")
    c = config.campaigns
    if c.validation_campaigns < 1 or c.test_campaigns < 1 or c.min_train_campaigns < 1:
        problems.append("campaigns.* must each be >= 1")
    e = config.economics
    if not 0 < e.margin <= 1:
        problems.append("economics.margin must be in (0, 1]")
    if e.coupon_cost_per_unit < 0 or e.cost_per_coupon_sent < 0:
        problems.append("economics costs must be >= 0")
    if e.order_value is not None and e.order_value <= 0:
        problems.append("economics.order_value must be > 0 or null")
    v = config.evaluation
    if not 0 < v.target_share <= 1 or any(not 0 < k <= 1 for k in v.uplift_at_k):
        problems.append("evaluation.target_share and uplift_at_k must be in (0, 1]")
    if v.curve_points < 3:
        problems.append("evaluation.curve_points must be >= 3")
    if config.lightgbm.num_boost_round < 1:
        problems.append("lightgbm.num_boost_round must be >= 1")
    if config.retrain_after_days < 0:
        problems.append("retrain_after_days must be >= 0")
    if problems:
        raise ValueError(
            "Invalid coupon uplift config (ml/conf/coupon_uplift.yml): " + "; ".join(problems) + "."
        )
