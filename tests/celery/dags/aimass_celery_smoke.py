"""
### Celery smoke DAG

Two chained tasks that report which worker ran them: `worker_name` returns the value of
`AIMASS_CELERY_WORKER_NAME` in the process that executed it (set only in the Celery worker's
environment), and `echo_worker_name` receives it over XCom and returns it again. Both go to the
Celery queue named by `AIMASS_CELERY_SMOKE_QUEUE` (default `default`).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

QUEUE = os.environ.get("AIMASS_CELERY_SMOKE_QUEUE", "default")


@dag(
    dag_id="aimass_celery_smoke",
    schedule=None,
    start_date=pendulum.datetime(2026, 7, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=10),
    doc_md=__doc__,
    tags=["aimass", "test"],
    default_args={"retries": 0},
)
def aimass_celery_smoke():
    @task(queue=QUEUE)
    def worker_name() -> str:
        return os.environ.get("AIMASS_CELERY_WORKER_NAME", "")

    @task(queue=QUEUE)
    def echo_worker_name(upstream: str) -> str:
        here = os.environ.get("AIMASS_CELERY_WORKER_NAME", "")
        if upstream != here:
            raise RuntimeError(f"upstream ran on {upstream!r}, this task on {here!r}")
        return here

    echo_worker_name(worker_name())


aimass_celery_smoke()
