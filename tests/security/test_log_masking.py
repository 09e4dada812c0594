"""A connection fetched in a task has its password registered with Airflow's secrets masker,
which every task log line passes through: a logged password or DSN shows `***`."""

from __future__ import annotations

import json

from airflow.sdk import BaseHook
from airflow.sdk._shared.secrets_masker import redact

from aimass.orchestration.connections import warehouse_dsn

PASSWORD = "Wh-9f3c1e7a5b2d"


def test_a_logged_connection_password_and_dsn_are_masked(monkeypatch):
    conn = {"conn_type": "postgres", "host": "db", "login": "pipeline", "schema": "aimass"}
    monkeypatch.setenv("AIRFLOW_CONN_AIMASS_WAREHOUSE", json.dumps({**conn, "password": PASSWORD}))
    fetched = BaseHook.get_connection("aimass_warehouse")
    assert fetched.password == PASSWORD
    line = redact(f"warehouse password: {fetched.password}; dsn: {warehouse_dsn()}")
    assert PASSWORD not in line
    assert "warehouse password: ***" in line and "password=***" in line
    assert "host=db" in line  # only the secret is hidden
