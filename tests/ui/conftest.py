"""A real Airflow web server (api-server, scheduler, dag-processor, triggerer) on a free port,
over a throw-away platform; started and stopped the way `make airflow` does it, once for the
browser and the REST API tests together."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import platform

DAG_ID = "aimass_ingest"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AirflowServer:
    def __init__(self, env: dict):
        self.env = env
        self.url = f"http://127.0.0.1:{env['AIRFLOW__API__PORT']}"

    @property
    def password(self) -> str:
        passwords = json.loads(
            Path(self.env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]).read_text()
        )
        return passwords["admin"]

    def token(self) -> str:
        resp = requests.post(
            f"{self.url}/auth/token",
            json={"username": "admin", "password": self.password},
            timeout=30,
        )
        resp.raise_for_status()
        return resp.json()["access_token"]

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token()}"}
        return requests.request(
            method, f"{self.url}/api/v2{path}", headers=headers, timeout=30, **kwargs
        )

    def wait_for_dag(self, dag_id: str = DAG_ID, timeout_s: float = 180) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.api("GET", f"/dags/{dag_id}").status_code == 200:
                return
            time.sleep(2)
        raise AssertionError(f"{dag_id} was not parsed by the dag-processor in {timeout_s} s")

    def wait_for_run(self, run_id: str, dag_id: str = DAG_ID, timeout_s: float = 600) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            run = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}").json()
            if run.get("state") in ("success", "failed"):
                return run
            time.sleep(5)
        raise AssertionError(f"run {run_id} did not finish in {timeout_s} s")

    def failed_tasks(self, run_id: str, dag_id: str = DAG_ID) -> list[str]:
        tis = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances").json()
        return [t["task_id"] for t in tis.get("task_instances", []) if t["state"] != "success"]

    def wait_for_asset_triggered_run(self, dag_id: str, after: str, timeout_s: float = 600) -> dict:
        """The first asset-triggered run of `dag_id` queued after `after` (ISO time), finished."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            runs = self.api(
                "GET",
                f"/dags/{dag_id}/dagRuns",
                params={"run_type": "asset_triggered", "order_by": "run_after"},
            ).json()["dag_runs"]
            runs = [r for r in runs if r["run_after"] > after]
            if runs and runs[0]["state"] in ("success", "failed"):
                return runs[0]
            time.sleep(5)
        raise AssertionError(f"no asset-triggered run of {dag_id} finished in {timeout_s} s")


def _services(env: dict, action: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aimass.services", action],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="session")
def ui_platform_env():
    """One platform for the browser and REST API tests (pools created, like `make setup`)."""
    with platform(prefix="aimass_ui") as env:
        yield env


@pytest.fixture(scope="session")
def airflow_server(ui_platform_env):
    port = _free_port()
    env = {
        **ui_platform_env,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIMASS_DAILY_SCHEDULE": "none",  # only the runs the tests trigger
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        # a busy CI machine can take minutes to start the api-server
        "AIMASS_UI_START_TIMEOUT_S": "600",
    }
    started = _services(env, "start")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        server = AirflowServer(env)
        server.wait_for_dag()
        yield server
    finally:
        _services(env, "stop")
