"""One Airflow Asset per published table (the names DAGs produce and are scheduled on)."""

from __future__ import annotations

from airflow.sdk import Asset

from aimass.contracts import load_contracts

# A logical address: Airflow compares asset URIs as names; it does not connect to them.
_WAREHOUSE = "postgres://warehouse:5432/aimass"


def table_asset(schema: str, table: str) -> Asset:
    return Asset(name=f"{schema}.{table}", uri=f"{_WAREHOUSE}/{schema}/{table}")


RAW = {source: table_asset("raw", source) for source in load_contracts()}
# Emitted once the day's loads are in and the raw gate passed: what transformation waits for.
RAW_LOAD_LOG = table_asset("raw", "_load_log")
USER_FEATURES = table_asset("marts", "fct_user_features_daily")
COUPON_TRAINING_SET = table_asset("marts", "fct_coupon_training_set")
MODEL_REGISTRY = table_asset("ml", "model_registry")
PROPENSITY_SCORES = table_asset("ml", "propensity_scores")
COUPON_TARGETS = table_asset("ml", "coupon_targets")
USER_RECOMMENDATIONS = table_asset("ml", "user_recommendations")
