"""A DAG run through the CeleryExecutor on a real `airflow celery worker`.

Redis on 127.0.0.1:6379 is the broker; a fresh PostgreSQL database holds the Airflow metadata
and Celery's results; an api-server serves the Execution API the worker reports to. The DAG's
tasks go to a queue of this test's own, so no other worker on this machine can take them.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from types import SimpleNamespace

import psycopg2
import pytest
import redis

from aimass.orchestration.celery_settings import (
    DEFAULT_BROKER_URL,
    BrokerUnavailable,
    celery_settings,
    check_broker,
    check_celery_executor,
)
from aimass.setup.runtime_env import airflow_settings
from aimass.testing import temporary_database

REPO_ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = str(Path(sys.executable).parent / "airflow")
DAG_FOLDER = Path(__file__).resolve().parent / "dags"
DAG_ID = "aimass_celery_smoke"
TASK_IDS = {"worker_name", "echo_worker_name"}
DAY = "2026-08-09"
START_TIMEOUT_S = 120
RUN_TIMEOUT_S = 300


pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, chars: int = 4000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"


def _start(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _stop(proc: subprocess.Popen) -> None:
    """Warm shutdown of the process group we started; killed if it does not stop in time."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _wait_for(ready, proc: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited with {proc.returncode}:\n{_tail(log)}")
        if ready():
            return
        time.sleep(1)
    raise AssertionError(f"{what} not ready after {START_TIMEOUT_S} s:\n{_tail(log)}")


def _forget_queue(broker_url: str, queue: str) -> None:
    """Remove this test's queue and its routing keys from the broker (nothing else)."""
    client = redis.Redis.from_url(broker_url)
    try:
        for key in client.scan_iter(match=f"*{queue}*"):
            client.delete(key)
    finally:
        client.close()


def _api_healthy(port: int) -> bool:
    try:
        url = f"http://127.0.0.1:{port}/api/v2/monitor/health"
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def broker():
    try:
        check_broker(DEFAULT_BROKER_URL)
    except BrokerUnavailable as exc:
        pytest.skip(f"CeleryExecutor test needs Redis: {exc}")
    check_celery_executor()
    return DEFAULT_BROKER_URL


@pytest.fixture(scope="module")
def celery_platform(broker):
    """Metadata database, api-server and one Celery worker on a private queue."""
    with (
        temporary_database("aimass_celery_af") as metadata_dsn,
        tempfile.TemporaryDirectory(prefix="aimass-celery-") as home,
    ):
        queue = f"aimass_test_{uuid.uuid4().hex[:10]}"
        port = _free_port()
        env = {
            **os.environ,
            **airflow_settings(home=Path(home), repo_root=REPO_ROOT, metadata_dsn=metadata_dsn),
            **celery_settings(
                metadata_dsn=metadata_dsn,
                broker_url=broker,
                worker_concurrency=2,
                api_server_url=f"http://127.0.0.1:{port}",
            ),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAG_FOLDER),
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIMASS_CELERY_SMOKE_QUEUE": queue,
        }
        env.pop("AIMASS_CELERY_WORKER_NAME", None)
        t0 = time.monotonic()
        migrate = subprocess.run(
            [AIRFLOW, "db", "migrate"], env=env, capture_output=True, text=True
        )
        assert migrate.returncode == 0, migrate.stdout[-3000:] + migrate.stderr[-3000:]

        worker_name = f"worker-{queue}"
        api_log, worker_log = Path(home) / "api-server.log", Path(home) / "worker.log"
        procs: list[subprocess.Popen] = []
        try:
            # both start at once; the worker needs the api-server only once tasks arrive
            api = _start([AIRFLOW, "api-server", "--port", str(port)], env, api_log)
            procs.append(api)
            worker = _start(
                [
                    AIRFLOW,
                    "celery",
                    "worker",
                    "--queues",
                    queue,
                    "--concurrency",
                    "2",
                    "--celery-hostname",
                    f"{worker_name}@%h",
                    "--skip-serve-logs",
                    "--without-mingle",
                    "--without-gossip",
                ],
                {**env, "AIMASS_CELERY_WORKER_NAME": worker_name},
                worker_log,
            )
            procs.append(worker)
            _wait_for(lambda: _api_healthy(port), api, api_log, "api-server")
            _wait_for(lambda: " ready." in _tail(worker_log), worker, worker_log, "celery worker")
            print(f"migrated, api-server and worker ready: {time.monotonic() - t0:.1f} s")
            yield SimpleNamespace(
                env=env,
                metadata_dsn=metadata_dsn,
                queue=queue,
                worker_name=worker_name,
                worker=worker,
                worker_log=worker_log,
                api_log=api_log,
            )
        finally:
            t1 = time.monotonic()
            for proc in reversed(procs):
                _stop(proc)
            print(f"worker and api-server stopped in {time.monotonic() - t1:.1f} s")
            _forget_queue(broker, queue)


@pytest.fixture(scope="module")
def dag_run(celery_platform):
    """`airflow dags test --use-executor`: the run's tasks go through the CeleryExecutor."""
    p = celery_platform
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [AIRFLOW, "dags", "test", DAG_ID, DAY, "--use-executor"],
            env=p.env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        output = (exc.stdout or b"") + (exc.stderr or b"")
        raise AssertionError(
            f"the DAG run did not finish in {RUN_TIMEOUT_S} s:\n"
            f"{output.decode(errors='replace')[-3000:]}\n--- worker log ---\n{_tail(p.worker_log)}"
        ) from exc
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, (
        (proc.stdout + proc.stderr)[-4000:] + "\n--- worker log ---\n" + _tail(p.worker_log)
    )
    print(f"DAG run through the CeleryExecutor: {elapsed:.1f} s")
    return proc


def _fetch(dsn: str, query: str, params: tuple) -> list[tuple]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


def test_every_task_succeeded_on_the_worker_queue(celery_platform, dag_run):
    rows = _fetch(
        celery_platform.metadata_dsn,
        "select task_id, state, queue, hostname from task_instance where dag_id = %s",
        (DAG_ID,),
    )
    assert {r[0] for r in rows} == TASK_IDS
    for task_id, state, queue, hostname in rows:
        assert state == "success", f"{task_id}: {state}"
        assert queue == celery_platform.queue, f"{task_id} went to queue {queue!r}"
        assert hostname, f"{task_id}: no hostname recorded"


def test_tasks_ran_inside_the_worker_process(celery_platform, dag_run):
    # only the worker's environment carries AIMASS_CELERY_WORKER_NAME; the `dags test` process
    # that queued the tasks does not, so these values prove where the task code executed
    assert "AIMASS_CELERY_WORKER_NAME" not in celery_platform.env
    rows = _fetch(
        celery_platform.metadata_dsn,
        "select task_id, value from xcom where dag_id = %s and key = 'return_value'",
        (DAG_ID,),
    )
    assert dict(rows) == {task_id: celery_platform.worker_name for task_id in TASK_IDS}
    log = celery_platform.worker_log.read_text(errors="replace")
    for task_id in TASK_IDS:
        assert f"task_id='{task_id}'" in log, f"{task_id} not in the worker log"


def test_celery_recorded_each_task_in_the_result_backend(celery_platform, dag_run):
    # the run ends when the last task reports success; its Celery job finishes moments later
    deadline = time.monotonic() + 30
    while True:
        rows = _fetch(
            celery_platform.metadata_dsn,
            "select status, count(*) from celery_taskmeta group by status",
            (),
        )
        if dict(rows) == {"SUCCESS": len(TASK_IDS)} or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert dict(rows) == {"SUCCESS": len(TASK_IDS)}
