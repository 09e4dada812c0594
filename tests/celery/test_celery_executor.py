"""The real pipeline through the CeleryExecutor on a real `airflow celery worker`.

`aimass_ingest` (tiny simulated shop, one day: 17 tasks) runs with `airflow dags test
--use-executor`: every task is sent through Redis to the worker, which runs it and reports to
the api-server's Execution API. `aimass_marts` is left out of `CHAIN` to keep the test within
its 3-minute budget (its `dbt build` alone takes about a minute); `tests/e2e/test_backfill.py`
runs it through the scheduler, and adding `("aimass_marts", None)` to `CHAIN` runs it here. Redis on 127.0.0.1:6379 is the broker
(the test is skipped when none answers), in a database index of its own that it checks is empty
first, so no other worker on this machine can take its tasks; a fresh platform holds the
warehouse, the Airflow metadata and Celery's results. Budget: about 3 minutes.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import psycopg2
import pytest
import redis

from aimass.contracts import load_contracts
from aimass.orchestration.celery_settings import (
    DEFAULT_BROKER_URL,
    BrokerUnavailable,
    celery_settings,
    check_broker,
    check_celery_executor,
)
from tests.conftest import platform

AIRFLOW = str(Path(sys.executable).parent / "airflow")
DAY = "2026-08-09"  # the tiny shop's last day
CHAIN = (("aimass_ingest", '{"shop_profile": "tiny"}'),)
START_TIMEOUT_S = 600  # api-server and worker start-up on a busy machine
RUN_TIMEOUT_S = 900  # a stuck run fails the test instead of hanging it
CLAIM_KEY = "aimass:celery-test:claimed"

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


def _api_healthy(port: int) -> bool:
    try:
        url = f"http://127.0.0.1:{port}/api/v2/monitor/health"
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def _claim_private_db(base_url: str) -> str:
    """A broker URL on an empty Redis database index, claimed for this test (10 min)."""
    for index in range(15, 0, -1):
        client = redis.Redis.from_url(base_url, db=index)
        try:
            if client.dbsize() == 0 and client.set(CLAIM_KEY, os.getpid(), nx=True, ex=600):
                return f"{base_url.rsplit('/', 1)[0]}/{index}"
        finally:
            client.close()
    pytest.skip(f"no empty Redis database index at {base_url} to keep this test's queue apart")


def _release_db(broker_url: str) -> None:
    """Empty the database index this test claimed (it was empty before)."""
    client = redis.Redis.from_url(broker_url)
    try:
        client.flushdb()
    finally:
        client.close()


@pytest.fixture(scope="module")
def broker():
    try:
        check_broker(DEFAULT_BROKER_URL)
    except BrokerUnavailable as exc:
        pytest.skip(f"CeleryExecutor test needs Redis: {exc}")
    check_celery_executor()
    url = _claim_private_db(DEFAULT_BROKER_URL)
    try:
        yield url
    finally:
        _release_db(url)


@pytest.fixture(scope="module")
def celery_platform(broker):
    """A platform whose tasks run on one Celery worker, with the api-server it reports to."""
    with platform(prefix="aimass_celery") as base:
        port = _free_port()
        metadata_url = base["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        metadata_dsn = metadata_url.replace("postgresql+psycopg2://", "postgresql://")
        env = {
            **base,
            **celery_settings(
                metadata_dsn=metadata_dsn,
                broker_url=broker,
                worker_concurrency=2,
                api_server_url=f"http://127.0.0.1:{port}",
            ),
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        }
        home = Path(env["AIMASS_HOME"])
        api_log, worker_log = home / "api-server.log", home / "worker.log"
        procs: list[subprocess.Popen] = []
        t0 = time.monotonic()
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
                    "default",
                    "--concurrency",
                    "2",
                    "--skip-serve-logs",
                    "--without-mingle",
                    "--without-gossip",
                ],
                env,
                worker_log,
            )
            procs.append(worker)
            _wait_for(lambda: _api_healthy(port), api, api_log, "api-server")
            _wait_for(lambda: " ready." in _tail(worker_log), worker, worker_log, "celery worker")
            print(f"api-server and worker ready: {time.monotonic() - t0:.1f} s")
            yield SimpleNamespace(
                env=env, metadata_dsn=metadata_dsn, worker_log=worker_log, api_log=api_log
            )
        finally:
            for proc in reversed(procs):
                _stop(proc)


@pytest.fixture(scope="module")
def chain_run(celery_platform):
    """`airflow dags test --use-executor` of each DAG of the chain for DAY, in asset order."""
    p = celery_platform
    seconds = {}
    for dag_id, conf in CHAIN:
        cmd = [AIRFLOW, "dags", "test", dag_id, DAY, "--use-executor"]
        cmd += ["--conf", conf] if conf else []
        started = time.monotonic()
        try:
            proc = subprocess.run(
                cmd, env=p.env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S
            )
        except subprocess.TimeoutExpired as exc:
            output = (exc.stdout or b"") + (exc.stderr or b"")
            raise AssertionError(
                f"{dag_id} did not finish in {RUN_TIMEOUT_S} s:\n"
                f"{output.decode(errors='replace')[-3000:]}\n--- worker ---\n{_tail(p.worker_log)}"
            ) from exc
        assert proc.returncode == 0, (
            f"{dag_id}:\n{(proc.stdout + proc.stderr)[-4000:]}\n--- worker ---\n"
            + _tail(p.worker_log)
        )
        seconds[dag_id] = round(time.monotonic() - started, 1)
    print(f"DAG runs through the CeleryExecutor: {seconds}")
    return seconds


def _fetch(dsn: str, query: str, params: tuple = ()) -> list[tuple]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


def test_every_task_of_the_chain_succeeded_on_a_celery_worker(celery_platform, chain_run):
    rows = _fetch(
        celery_platform.metadata_dsn,
        "select dag_id, task_id, state, hostname, queue from task_instance",
    )
    by_dag = {dag_id for dag_id, *_ in rows}
    assert by_dag == {dag_id for dag_id, _ in CHAIN}
    assert sum(1 for r in rows if r[1].startswith("ingest_")) >= 14
    for dag_id, task_id, state, hostname, queue in rows:
        assert state == "success", f"{dag_id}.{task_id}: {state}"
        assert hostname, f"{dag_id}.{task_id}: no worker hostname recorded"
        assert queue == "default", f"{dag_id}.{task_id}: queue {queue!r}"
    log = celery_platform.worker_log.read_text(errors="replace")
    for dag_id, task_id, *_ in rows:
        assert f"task_id='{task_id}'" in log, f"{dag_id}.{task_id} not in the worker log"


def test_celery_recorded_each_task_in_the_result_backend(celery_platform, chain_run):
    tasks = _fetch(celery_platform.metadata_dsn, "select count(*) from task_instance")[0][0]
    # the run ends when the last task reports success; its Celery job finishes moments later
    deadline = time.monotonic() + 30
    while True:
        rows = dict(
            _fetch(
                celery_platform.metadata_dsn,
                "select status, count(*) from celery_taskmeta group by status",
            )
        )
        if rows == {"SUCCESS": tasks} or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert rows == {"SUCCESS": tasks}


def test_the_worker_loaded_every_source_for_the_day(celery_platform, chain_run):
    dsn = celery_platform.env["AIMASS_WAREHOUSE_URL"]
    assert _fetch(dsn, "select count(*) from raw.orders where _ds = %s", (DAY,))[0][0] > 0
    statuses = dict(
        _fetch(
            dsn, "select source, max(status) from raw._load_log where ds = %s group by 1", (DAY,)
        )
    )
    assert set(statuses) == set(load_contracts()), statuses
