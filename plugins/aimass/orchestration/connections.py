"""Inventory of the Airflow connection ids the platform uses (values come from the environment)."""

from __future__ import annotations

from psycopg2.extensions import make_dsn

from aimass.settings import WAREHOUSE_CONN_ID

# conn id -> what it is; each is set as AIRFLOW_CONN_<ID> in the environment.
CONNECTIONS = {
    WAREHOUSE_CONN_ID: "the PostgreSQL warehouse (raw, staging, marts, ml, audit)",
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
