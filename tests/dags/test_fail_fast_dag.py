"""A deterministic input error fails its Airflow task on the first try, retries configured:
`airflow dags test` (i.e. `dag.test()`) of `aimass_ingest` on an orders file without a
required column."""

from __future__ import annotations

import json
import time
from pathlib import Path

import psycopg2
import pytest
from psycopg2.extensions import make_dsn

from tests.conftest import platform

pytestmark = pytest.mark.slow

DAY = "2024-03-02"
OWN_EXPORTS = json.dumps({"use_simulated_shop": False})


def metadata_dsn(env: dict) -> str:
    url = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].replace("postgresql+psycopg2", "postgresql")
    return make_dsn(url)


def test_a_file_without_a_required_column_fails_the_task_at_once(run_dag):
    with platform(prefix="aimass_failfast") as env:
        env = {**env, "AIMASS_TASK_RETRIES": "2"}
        folder = Path(env["AIMASS_HOME"]) / "landing" / "orders" / DAY
        folder.mkdir(parents=True)
        (folder / "part-0000.csv").write_text("order_id,user_id\no1,u1\n")
        started = time.monotonic()
        proc = run_dag(env, "aimass_ingest", DAY, OWN_EXPORTS)
        seconds = time.monotonic() - started
        with psycopg2.connect(metadata_dsn(env)) as conn, conn.cursor() as cur:
            cur.execute(
                "select task_id, state, try_number, max_tries from task_instance "
                "where dag_id = 'aimass_ingest' and task_id in ('ingest_orders', 'ingest_events')"
            )
            states = {task: (state, tries, max_tries) for task, state, tries, max_tries in cur}
    output = proc.stdout + proc.stderr
    assert states["ingest_orders"] == ("failed", 1, 2), output[-3000:]
    assert states["ingest_events"][0] == "success"
    assert "orders/2024-03-02/part-0000.csv: required columns" in output
    assert "not retried" in output
    assert seconds < 300
