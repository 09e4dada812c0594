"""The Airflow REST API: token auth, a triggered daily run polled to success, 401 without a token."""

from __future__ import annotations

import psycopg2
import pytest
import requests

pytestmark = pytest.mark.slow


def test_unauthenticated_calls_are_refused(airflow_server):
    assert requests.get(f"{airflow_server.url}/api/v2/dags", timeout=30).status_code == 401
    assert requests.get(f"{airflow_server.url}/aimass/", timeout=30).status_code == 401
    bad = requests.post(
        f"{airflow_server.url}/auth/token",
        json={"username": "admin", "password": "admin"},
        timeout=30,
    )
    assert bad.status_code in (401, 403)


def test_trigger_a_run_through_the_api_and_poll_it_to_success(airflow_server):
    resp = airflow_server.api(
        "POST",
        "/dags/aimass_daily/dagRuns",
        json={
            "dag_run_id": "api_test_2026-09-28",
            "logical_date": "2026-09-28T00:00:00Z",
            "conf": {"shop_profile": "demo"},
        },
    )
    assert resp.status_code == 200, resp.text
    run = airflow_server.wait_for_run("api_test_2026-09-28")
    assert run["state"] == "success", airflow_server.failed_tasks("api_test_2026-09-28")
    with psycopg2.connect(airflow_server.env["AIMASS_WAREHOUSE_URL"]) as conn:
        with conn.cursor() as cur:
            cur.execute("select count(*) from marts.propensity_latest")
            assert cur.fetchone()[0] > 0
