"""Typed configuration of the recommender, read from `ml/conf/recommendations.yml`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml.core.config import load_settings
from ml.core.errors import ConfigError

ALGORITHMS = ("als", "item_knn")
EVENT_TYPES = ("view", "like", "comment", "favorite", "add_to_cart", "purchase")
CONFIG_ENV = "AIMASS_RECOMMENDATIONS_CONFIG"
CONFIG_FILE = "recommendations.yml"


@dataclass(frozen=True)
class ModelConfig:
    algorithm: str
    factors: int
    regularization: float
    alpha: float
    iterations: int
    neighbours: int
    random_state: int
    num_threads: int
    blas_threads: int
    candidates: int


@dataclass(frozen=True)
class RulesConfig:
    exclude_unavailable: bool
    recent_purchase_days: int
    max_per_merchant: int


@dataclass(frozen=True)
class ColdStartConfig:
    min_items: int
    new_item_weight: float
    content_neighbours: int


@dataclass(frozen=True)
class EvaluationConfig:
    horizon_days: int
    k: tuple
    primary_metric: str
    min_train_interactions: int
    min_test_users: int
    max_test_users: int


@dataclass(frozen=True)
class PromotionConfig:
    margin: float
    baseline_margin: float
    must_beat: tuple


@dataclass(frozen=True)
class WriteConfig:
    batch_users: int


@dataclass(frozen=True)
class RecommendConfig:
    model_name: str
    top_n: int
    history_days: int
    half_life_days: float
    active_days: int
    retrain_after_days: int
    event_weights: dict
    model: ModelConfig
    rules: RulesConfig
    cold_start: ColdStartConfig
    evaluation: EvaluationConfig
    promotion: PromotionConfig
    write: WriteConfig


def load_config(path: str | Path | None = None, **overrides: Any) -> RecommendConfig:
    """The packaged `ml/conf/recommendations.yml`, then `path` (or `$AIMASS_RECOMMENDATIONS_CONFIG`)
    merged over it, then `overrides` (`top_n=10`, `model={"factors": 16}`, `rules__max_per_merchant=2`).
    """
    config = load_settings(
        RecommendConfig, CONFIG_FILE, env=CONFIG_ENV, path=path, overrides=overrides
    )
    validate_config(config)
    return config


def validate_config(config: RecommendConfig) -> None:
    """Reject settings that cannot give sound lists, saying which and why."""
    problems = []
    if config.top_n < 1:
        problems.append("top_n must be >= 1")
    for name in ("history_days", "active_days", "half_life_days"):
        if getattr(config, name) <= 0:
            problems.append(f"{name} must be > 0")
    unknown = sorted(set(config.event_weights) - set(EVENT_TYPES))
    if unknown:
        problems.append(f"event_weights has unknown event types {unknown}; use {EVENT_TYPES}")
    if not config.event_weights or any(w <= 0 for w in config.event_weights.values()):
        problems.append("event_weights needs at least one event type, every weight > 0")
    m = config.model
    if m.algorithm not in ALGORITHMS:
        problems.append(f"model.algorithm must be one of {ALGORITHMS}")
    if min(m.factors, m.iterations, m.neighbours, m.num_threads, m.blas_threads) < 1:
        problems.append("model.factors, iterations, neighbours, num_threads, blas_threads >= 1")
    if m.candidates < config.top_n:
        problems.append("model.candidates must be >= top_n")
    if config.rules.max_per_merchant < 1 or config.rules.recent_purchase_days < 0:
        problems.append("rules.max_per_merchant >= 1 and rules.recent_purchase_days >= 0")
    e = config.evaluation
    if e.horizon_days < 1 or not e.k or min(e.k) < 1:
        problems.append("evaluation.horizon_days >= 1 and every evaluation.k >= 1")
    metric, _, k = e.primary_metric.partition("@")
    if metric not in ("ndcg", "recall", "precision", "map") or not k.isdigit():
        problems.append("evaluation.primary_metric must look like ndcg@10 or recall@20")
    unknown_baselines = set(config.promotion.must_beat) - {
        "popularity",
        "category_popularity",
        "item_knn",
    }
    if unknown_baselines:
        problems.append(
            f"promotion.must_beat has unknown baselines {sorted(unknown_baselines)}; "
            "use popularity, category_popularity or item_knn"
        )
    if config.write.batch_users < 1:
        problems.append("write.batch_users must be >= 1")
    if problems:
        raise ConfigError("Invalid recommendations config: " + "; ".join(problems) + ".")
