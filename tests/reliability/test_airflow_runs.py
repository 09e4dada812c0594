"""Real Airflow runs (`airflow dags test`) of the ingestion DAG on the tiny simulated shop:

- a clean run emits the `raw._load_log` asset event that starts transformation (and through it
  training and scoring); no XCom of the run holds a credential, no log shows the password;
- a run whose raw data fails the Great Expectations gate fails, posts the cause to the alert
  webhook (a real HTTP server on 127.0.0.1), and emits no event: nothing downstream runs;
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import psycopg2
import pytest
from psycopg2.extensions import make_dsn, parse_dsn

pytestmark = pytest.mark.slow

DAY = "2026-08-09"  # the tiny shop's last day
CONF = '{"shop_profile": "tiny"}'
PASSWORD = "Wh-9f3c1e7a5b2d"  # the warehouse password of this platform (trust auth ignores it)


@pytest.fixture(scope="module")
def env(platform_env):
    """The platform, with a password in the warehouse connection and URL."""
    conn = json.loads(platform_env["AIRFLOW_CONN_AIMASS_WAREHOUSE"])
    url = make_dsn(**{**parse_dsn(platform_env["AIMASS_WAREHOUSE_URL"]), "password": PASSWORD})
    return {
        **platform_env,
        "AIRFLOW_CONN_AIMASS_WAREHOUSE": json.dumps({**conn, "password": PASSWORD}),
        "AIMASS_WAREHOUSE_URL": url,
    }


def metadata(env) -> str:
    return env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].replace("postgresql+psycopg2", "postgresql")


def query(dsn: str, statement: str, params=()) -> list[tuple]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchall() if cur.description else []


def load_log_events(env) -> list[tuple]:
    """Asset events of `raw._load_log` (what schedules aimass_marts): (source task, extra)."""
    return query(
        metadata(env),
        "select e.source_dag_id || '.' || e.source_task_id, e.extra::text from asset_event e "
        "join asset a on a.id = e.asset_id where a.name = 'raw._load_log' order by e.id",
    )


def task_logs(env) -> str:
    folder = Path(env["AIRFLOW__LOGGING__BASE_LOG_FOLDER"])
    return "\n".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def clean_run(env, run_dag):
    proc = run_dag(env, "aimass_ingest", DAY, CONF)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    return proc


def marts_queue(env) -> list[tuple]:
    """Asset events waiting to start aimass_marts."""
    return query(
        metadata(env),
        "select asset_id, created_at from asset_dag_run_queue where target_dag_id = 'aimass_marts'",
    )


def test_a_clean_ingest_run_emits_the_event_that_starts_transformation(clean_run, env):
    events = [(task, json.loads(extra)) for task, extra in load_log_events(env)]
    assert events == [("aimass_ingest.quality_gate_raw", {"ds": DAY})]


def test_no_credential_in_the_xcoms_or_logs_of_a_real_run(clean_run, env):
    xcoms = query(
        metadata(env), "select task_id, value::text from xcom where dag_id = 'aimass_ingest'"
    )
    tasks = {task for task, _ in xcoms}
    assert {"simulate_shop", "ingest_orders", "quality_gate_raw"} <= tasks
    credentials = [PASSWORD, env["AIMASS_PII_KEY"], env["AIMASS_WAREHOUSE_URL"]]
    leaked = [(task, c) for task, value in xcoms for c in credentials if c in (value or "")]
    assert leaked == []
    assert not any("password" in (value or "").lower() for _, value in xcoms)
    output = clean_run.stdout + clean_run.stderr + task_logs(env)
    assert PASSWORD not in output
    assert env["AIMASS_PII_KEY"] not in output


def test_bad_raw_data_fails_the_gate_alerts_and_starts_nothing_downstream(clean_run, env, run_dag):
    dsn = env["AIMASS_WAREHOUSE_URL"]
    query(
        dsn,
        """insert into raw.orders
           select 'planted-bad-order', user_id, order_ts, status, -50, discount_amount,
                  coupon_id, device_id, updated_at, 'planted', now(), 'planted', _ds
           from raw.orders where _ds = %s limit 1""",
        (DAY,),
    )
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    events_before, queue_before = load_log_events(env), marts_queue(env)
    try:
        hooked = {**env, "AIMASS_ALERT_WEBHOOK_URL": f"http://127.0.0.1:{server.server_port}/"}
        proc = run_dag(hooked, "aimass_ingest", DAY, CONF)
    finally:
        server.shutdown()
        server.server_close()
        query(dsn, "delete from raw.orders where order_id = 'planted-bad-order'")
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "quality_gate_raw" in output and "total_amount" in output
    assert [m["text"] for m in received if "quality_gate_raw" in m["text"]], received
    alert = next(m["text"] for m in received if "quality_gate_raw" in m["text"])
    assert alert.startswith(f"aimass failure: aimass_ingest.quality_gate_raw for {DAY}: ")
    assert "total_amount" in alert or "expectation" in alert.lower(), alert
    # no new event: aimass_marts, and so training and scoring, are not started
    assert load_log_events(env) == events_before
    assert marts_queue(env) == queue_before
