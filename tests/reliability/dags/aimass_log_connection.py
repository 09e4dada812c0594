"""Test DAG: a task that logs the warehouse connection's password and DSN (they must show masked)."""

from __future__ import annotations

import logging

import pendulum
from airflow.sdk import BaseHook, dag, task

from aimass.orchestration.connections import warehouse_dsn

log = logging.getLogger(__name__)


@dag(
    dag_id="aimass_log_connection",
    schedule=None,
    start_date=pendulum.datetime(2026, 7, 1, tz="UTC"),
    catchup=False,
)
def aimass_log_connection():
    @task
    def log_connection() -> dict:
        conn = BaseHook.get_connection("aimass_warehouse")
        log.info("warehouse password: %s", conn.password)
        print(f"warehouse dsn: {warehouse_dsn()}")
        return {"host": conn.host, "login": conn.login}

    log_connection()


aimass_log_connection()
