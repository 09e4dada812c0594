"""`python -m aimass.services start|stop|status`: the local Airflow processes behind `make airflow`.

Starts the api-server (web UI + REST API), scheduler, dag-processor and triggerer in the
background, each with a pid file and a log under `<AIMASS_HOME>/airflow/run`.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from aimass.settings import load_settings

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


def _run_dir() -> Path:
    path = Path(os.environ.get("AIRFLOW_HOME", load_settings().home / "airflow")) / "run"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _pid(component: str) -> int | None:
    pid_file = _run_dir() / f"{component}.pid"
    if pid_file.exists():
        pid = int(pid_file.read_text())
        if _alive(pid):
            return pid
    return None


def _port() -> int:
    return int(os.environ.get("AIRFLOW__API__PORT", "8080"))


def _wait_for_ui(timeout_s: float | None = None) -> bool:
    """True once the api-server answers; waits `AIMASS_UI_START_TIMEOUT_S` (default 180 s)."""
    if timeout_s is None:
        timeout_s = float(os.environ.get("AIMASS_UI_START_TIMEOUT_S", "180"))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{_port()}/api/v2/version", timeout=2):
                return True
        except OSError:
            time.sleep(1)
    return False


def _login_hint() -> str:
    pw_file = os.environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")
    if pw_file and Path(pw_file).exists():
        passwords = json.loads(Path(pw_file).read_text())
        return ", ".join(f"user {u} / password {p}" for u, p in passwords.items())
    return "see the api-server log for the generated password"


def _ensure_pools() -> bool:
    """Create the pools the DAGs use before the scheduler starts (it never runs a task whose
    pool is missing; it leaves it `scheduled`)."""
    proc = subprocess.run(
        [sys.executable, "-m", "aimass.orchestration.pools"], capture_output=True, text=True
    )
    print((proc.stdout or proc.stderr).strip())
    return proc.returncode == 0


def start() -> int:
    airflow = str(Path(sys.executable).parent / "airflow")
    if not any(_pid(component) for component in COMPONENTS) and not _ensure_pools():
        return 1
    for component in COMPONENTS:
        if _pid(component):
            print(f"{component}: already running (pid {_pid(component)})")
            continue
        log = (_run_dir() / f"{component}.log").open("a")
        cmd = [airflow, *component.split()]
        if component == "api-server":
            cmd += ["--port", str(_port())]
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        (_run_dir() / f"{component}.pid").write_text(str(proc.pid))
        print(f"{component}: started (pid {proc.pid}, log {_run_dir() / (component + '.log')})")
    if not _wait_for_ui():
        print(
            f"The web UI did not answer on port {_port()}; see {_run_dir()}/api-server.log",
            file=sys.stderr,
        )
        return 1
    print(f"\nAirflow UI: http://localhost:{_port()}  —  log in with {_login_hint()}")
    print("Stop everything with: make airflow-stop")
    return 0


def stop() -> int:
    for component in COMPONENTS:
        pid = _pid(component)
        if pid:
            os.killpg(pid, signal.SIGTERM)
            print(f"{component}: stopped (pid {pid})")
        (_run_dir() / f"{component}.pid").unlink(missing_ok=True)
    return 0


def status() -> int:
    for component in COMPONENTS:
        pid = _pid(component)
        print(f"{component}: {f'running (pid {pid})' if pid else 'stopped'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aimass.services", description=__doc__)
    parser.add_argument("action", choices=["start", "stop", "status"])
    args = parser.parse_args(argv)
    return {"start": start, "stop": stop, "status": status}[args.action]()


if __name__ == "__main__":
    sys.exit(main())
