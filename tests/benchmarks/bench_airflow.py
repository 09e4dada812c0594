"""Benchmark: one whole daily run through Airflow, against the sum of its task durations.

Builds a throw-away platform (warehouse and Airflow metadata databases, a temporary home,
`airflow db migrate`), runs `python -m aimass.demo --day D-1` (the simulated shop's history up
to the day before its last: ingest, dbt full build, gates, training, scoring, recommendations;
reported as the history run, the full rebuild a daily run is compared with), then times
`python -m aimass.demo --day D` (the last day): the wall seconds of the whole DAG chain for that
one incremental day, run as `make demo` runs it (every DAG with `dag.test()`, in one process).
An incremental dbt model re-reads the rows loaded since `load_overlap_minutes` before the newest
load it holds. The throw-away platform sets that overlap to `BENCH_LOAD_OVERLAP_MINUTES` = 0
(`AIMASS_DBT_VARS`): its loads run one after another, so there are no clock differences to
cover, and day D re-reads the last load of day D-1 and the new day, as a nightly run with the
default overlap does. (With a positive overlap, the run right after a bulk history load would
re-read every history load finished within the overlap of the last one; `aimass.build_plan`
makes that catch-up build a full refresh.) The sum of the task durations comes from Airflow's
`task_instance` table (start to end of every task that started during the timed run, however
many DAGs the chain has), so wall / sum is the orchestration overhead.

    .venv/bin/python -m tests.benchmarks.bench_airflow [--profile small]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2

from aimass.setup.runtime_env import airflow_settings, platform_settings
from aimass.sim.config import load_shop_config
from aimass.testing import admin_url, temporary_database
from aimass.transform import VARS_ENV
from aimass.warehouse import connect, ensure_layout
from tests.benchmarks.common import peak_rss_mb

REPO_ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = str(Path(sys.executable).parent / "airflow")
BENCH_LOAD_OVERLAP_MINUTES = 0
TASKS_SQL = """
select dag_id, task_id, state, extract(epoch from end_date - start_date)
from task_instance
where start_date >= %s and end_date is not null
order by start_date
"""


def platform_env(home: Path, warehouse_dsn: str, metadata_dsn: str) -> dict[str, str]:
    """Environment of a throw-away platform (as `tests/conftest.py::platform_env` builds it)."""
    return {
        **os.environ,
        "AIMASS_TASK_RETRIES": "0",
        VARS_ENV: json.dumps({"load_overlap_minutes": BENCH_LOAD_OVERLAP_MINUTES}),
        **platform_settings(
            home=home, admin_dsn=admin_url(), warehouse_dsn=warehouse_dsn, pii_key=None
        ),
        **airflow_settings(home=home, repo_root=REPO_ROOT, metadata_dsn=metadata_dsn),
    }


def run_demo(env: dict, day: str, profile: str, log_path: Path) -> float:
    """Wall seconds of `python -m aimass.demo --day day` (the whole DAG chain for one day)."""
    cmd = [sys.executable, "-m", "aimass.demo", "--day", day]
    cmd += ["--conf", json.dumps({"shop_profile": profile})]
    started = time.perf_counter()
    with log_path.open("w") as log:
        code = subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT).returncode
    seconds = time.perf_counter() - started
    if code != 0:
        tail = log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"aimass.demo --day {day} failed (exit {code}):\n{tail}")
    return seconds


def task_durations(metadata_dsn: str, since: datetime) -> list[tuple[str, str, str, float]]:
    """(dag_id, task_id, state, seconds) of every task that started at or after `since`."""
    with psycopg2.connect(metadata_dsn) as conn, conn.cursor() as cur:
        cur.execute(TASKS_SQL, (since,))
        rows = [(d, t, s, float(sec)) for d, t, s, sec in cur.fetchall()]
    conn.close()
    return rows


def summarise(wall_s: float, tasks: list[tuple[str, str, str, float]]) -> dict:
    total = sum(t[3] for t in tasks)
    per_dag: dict[str, float] = {}
    for dag_id, _, _, seconds in tasks:
        per_dag[dag_id] = per_dag.get(dag_id, 0.0) + seconds
    slowest = sorted(tasks, key=lambda t: t[3], reverse=True)[:6]
    return {
        "wall_s": round(wall_s, 1),
        "task_sum_s": round(total, 1),
        "overhead_ratio": round(wall_s / total, 2) if total else None,
        "dags": len(per_dag),
        "tasks": len(tasks),
        "task_states": sorted({t[2] for t in tasks}),
        "task_sum_per_dag_s": {d: round(s, 1) for d, s in per_dag.items()},
        "slowest_tasks": [[f"{d}.{t}", round(s, 1)] for d, t, _, s in slowest],
        "build_marts_s": round(sum(s for _, t, _, s in tasks if t == "build_marts"), 1),
    }


def run(profile: str = "small") -> dict:
    """History up to the day before the shop's last day, then the last day timed."""
    config = load_shop_config(profile)
    last_day = config.end_date
    history_day = last_day - timedelta(days=1)
    with (
        temporary_database("aimass_bench_af_wh") as warehouse_dsn,
        temporary_database("aimass_bench_af_md") as metadata_dsn,
        tempfile.TemporaryDirectory(prefix="aimass-bench-") as tmp,
    ):
        home = Path(tmp)
        with connect(warehouse_dsn) as conn:
            ensure_layout(conn)
        env = platform_env(home, warehouse_dsn, metadata_dsn)
        started = time.perf_counter()
        migrate = subprocess.run(
            [AIRFLOW, "db", "migrate"], env=env, capture_output=True, text=True
        )
        if migrate.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed: {migrate.stderr[-2000:]}")
        migrate_s = time.perf_counter() - started

        since = datetime.now(UTC)
        history_s = run_demo(env, history_day.isoformat(), profile, home / "history.log")
        history = summarise(history_s, task_durations(metadata_dsn, since))

        since = datetime.now(UTC)
        day_s = run_demo(env, last_day.isoformat(), profile, home / "day.log")
        day = summarise(day_s, task_durations(metadata_dsn, since))
    return {
        "profile": profile,
        "users": config.n_users,
        "history_day": history_day.isoformat(),
        "day": last_day.isoformat(),
        "airflow_db_migrate_s": round(migrate_s, 1),
        "history_run": history,
        "load_overlap_minutes": BENCH_LOAD_OVERLAP_MINUTES,
        "daily_run": day,
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="small", help="simulator profile (tiny ... medium)")
    args = parser.parse_args()
    print(json.dumps(run(args.profile), indent=2))


if __name__ == "__main__":
    main()
