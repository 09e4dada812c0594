"""Inventory of the Airflow connection ids the platform uses (values come from the environment)."""

from __future__ import annotations

from psycopg2.extensions import make_dsn

from aimass.settings import WAREHOUSE_CONN_ID

# conn id -> what it is; each is set as AIRFLOW_CONN_<ID> in the environment.
CONNECTIONS = {
    WAREHOUSE_CONN_ID: "the PostgreSQL warehouse (raw, staging, marts, ml, audit)",
    "aimass_ads_api": "the ad platform's HTTP API (sources of kind api: ad_campaigns, ad_events)",
    "aimass_merchant_api": "the merchant platform's HTTP API (source of kind api: merchants)",
    "aimass_shop_db": "the shop's OLTP PostgreSQL database (sources of kind sql)",
}


def warehouse_dsn(conn_id: str = WAREHOUSE_CONN_ID) -> str:
    """libpq DSN of the warehouse, from the Airflow connection (never from a file in the repo)."""
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    params = {
        "host": conn.host,
        "port": str(conn.port) if conn.port else None,
        "user": conn.login,
        "password": conn.password,
        "dbname": conn.schema,
    }
    return make_dsn(**{k: v for k, v in params.items() if v})
