"""Typed configuration of the recommender, read from `ml/conf/recommendations.yml`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ml.config import _build, _merge, packaged_config_path

ALGORITHMS = ("als", "item_knn")
EVENT_TYPES = ("view", "like", "comment", "favorite", "add_to_cart", "purchase")
CONFIG_ENV = "AIMASS_RECOMMENDATIONS_CONFIG"
CONFIG_FILE = "recommendations.yml"


@dataclass(frozen=True)
class ModelConfig:
    algorithm: str = "als"
    factors: int = 16
    regularization: float = 0.5
    alpha: float = 0.5
    iterations: int = 20
    neighbours: int = 100
    random_state: int = 20240601
    num_threads: int = 1
    blas_threads: int = 1
    candidates: int = 200


@dataclass(frozen=True)
class RulesConfig:
    exclude_unavailable: bool = True
    recent_purchase_days: int = 30
    max_per_merchant: int = 4


@dataclass(frozen=True)
class ColdStartConfig:
    min_items: int = 3
    new_item_weight: float = 0.5
    content_neighbours: int = 10


@dataclass(frozen=True)
class EvaluationConfig:
    horizon_days: int = 7
    k: tuple = (5, 10, 20)
    primary_metric: str = "ndcg@10"
    min_train_interactions: int = 200
    min_test_users: int = 20
    max_test_users: int = 20_000


@dataclass(frozen=True)
class PromotionConfig:
    margin: float = 0.005
    baseline_margin: float = 0.0
    must_beat: tuple = ("popularity", "category_popularity")


@dataclass(frozen=True)
class WriteConfig:
    batch_users: int = 2000


@dataclass(frozen=True)
class RecommendConfig:
    model_name: str = "recommender"
    top_n: int = 20
    history_days: int = 90
    half_life_days: float = 21
    active_days: int = 30
    retrain_after_days: int = 7
    event_weights: dict = field(default_factory=dict)
    model: ModelConfig = field(default_factory=ModelConfig)
    rules: RulesConfig = field(default_factory=RulesConfig)
    cold_start: ColdStartConfig = field(default_factory=ColdStartConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    promotion: PromotionConfig = field(default_factory=PromotionConfig)
    write: WriteConfig = field(default_factory=WriteConfig)


def _read_yaml(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(
            f"Recommendations config {path} does not exist; pass an existing YAML."
        )
    raw = yaml.safe_load(path.read_text()) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path} must hold a mapping of settings, got {type(raw).__name__}.")
    return raw


def load_config(path: str | Path | None = None, **overrides: Any) -> RecommendConfig:
    """The packaged `ml/conf/recommendations.yml`, then `path` (or `$AIMASS_RECOMMENDATIONS_CONFIG`)
    merged over it, then `overrides` (`top_n=10`, `model={"factors": 16}`, `rules__max_per_merchant=2`).
    """
    raw = _read_yaml(packaged_config_path(CONFIG_FILE))
    user_path = path if path is not None else os.environ.get(CONFIG_ENV) or None
    if user_path is not None:
        for key, value in _read_yaml(Path(user_path)).items():
            _merge(raw, [key], value)
    for key, value in overrides.items():
        _merge(raw, key.split("__"), value)
    if "evaluation" in raw and "k" in (raw["evaluation"] or {}):
        raw["evaluation"]["k"] = tuple(raw["evaluation"]["k"])
    if "promotion" in raw and "must_beat" in (raw["promotion"] or {}):
        raw["promotion"]["must_beat"] = tuple(raw["promotion"]["must_beat"])
    config = _build(RecommendConfig, raw, "config")
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
        raise ValueError("Invalid recommendations config: " + "; ".join(problems) + ".")
