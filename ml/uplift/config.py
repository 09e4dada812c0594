"""Typed configuration of the coupon uplift model, read from `ml/conf/coupon_uplift.yml`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ml.core.config import load_settings
from ml.core.errors import ConfigError

CONFIG_FILE = "coupon_uplift.yml"
CONFIG_ENV = "AIMASS_COUPON_UPLIFT_CONFIG"
LEARNERS = ("t_learner", "x_learner", "s_learner")


@dataclass(frozen=True)
class CampaignSplitConfig:
    """How many of the latest campaigns are held out for validation and test."""

    validation_campaigns: int
    test_campaigns: int
    min_train_campaigns: int


@dataclass(frozen=True)
class UpliftGuardConfig:
    """Minimum randomized data before a model is trained."""

    min_control_users: int
    min_treated_users: int
    min_train_conversions: int


@dataclass(frozen=True)
class EconomicsConfig:
    """Money: margin on incremental revenue and what a coupon costs."""

    margin: float
    coupon_cost_per_unit: float
    cost_per_coupon_sent: float
    order_value: float | None


@dataclass(frozen=True)
class UpliftEvaluationConfig:
    target_share: float
    uplift_at_k: tuple[float, ...]
    curve_points: int
    random_seed: int


@dataclass(frozen=True)
class UpliftPromotionConfig:
    qini_margin: float
    baseline_margin: float


@dataclass(frozen=True)
class UpliftLightGBMConfig:
    num_boost_round: int
    params: dict


@dataclass(frozen=True)
class TargetsConfig:
    export_dir: str | None


@dataclass(frozen=True)
class UpliftConfig:
    model_name: str
    retrain_after_days: int
    learners: tuple[str, ...]
    campaigns: CampaignSplitConfig
    guards: UpliftGuardConfig
    economics: EconomicsConfig
    evaluation: UpliftEvaluationConfig
    promotion: UpliftPromotionConfig
    lightgbm: UpliftLightGBMConfig
    targets: TargetsConfig


def load_config(path: str | Path | None = None, **overrides: Any) -> UpliftConfig:
    """The packaged `ml/conf/coupon_uplift.yml`, then `path` (or `$AIMASS_COUPON_UPLIFT_CONFIG`)
    merged over it, then `overrides` (`section__key=value` or top-level keys)."""
    config = load_settings(
        UpliftConfig, CONFIG_FILE, env=CONFIG_ENV, path=path, overrides=overrides
    )
    evaluation = replace(
        config.evaluation, uplift_at_k=tuple(float(k) for k in config.evaluation.uplift_at_k)
    )
    config = replace(config, evaluation=evaluation)
    validate_config(config)
    return config


def validate_config(config: UpliftConfig) -> None:
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
        raise ConfigError(
            "Invalid coupon uplift config (ml/conf/coupon_uplift.yml): " + "; ".join(problems) + "."
        )
