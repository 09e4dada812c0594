"""Airflow's own backfill of `aimass_ingest` over past days, with the asset chain running
`aimass_marts` by itself, gives the same raw tables and marts as the same days run one by one
with `airflow dags test`.

Two fresh platforms with the same PII key (so pseudonyms match) work side by side:

- *backfill*: api-server, scheduler and dag-processor; `airflow backfill create --dag-id
  aimass_ingest --from-date … --to-date … --max-active-runs 1`; the raw gate's asset events
  start `aimass_marts`, which takes its day from the event (several days that arrive while a
  marts run is busy are one run, for the newest day: incremental dbt models re-read whatever was
  loaded since, so that is the same as one run per day). This platform starts *without* the
  Airflow pools: the scheduler must create `aimass_warehouse` when it starts (otherwise the
  pooled tasks would never run).
- *day by day*: for each day, `airflow dags test aimass_ingest DAY` then `aimass_marts DAY`.

Then every raw table and every base table in `marts` must hold the same rows (compared as an
order-independent checksum of all columns except load metadata: batch ids, load times and the
landing file's URI, which names the platform's own directory).

Range: the `tiny` shop's last 7 days (2026-08-03 to 2026-08-09). Each day is two DAG runs on
each platform (an ingest run is 17 tasks, a marts run a full `dbt build` of about 60 models with
their tests); measured on the two-core machine: about 5 minutes for the backfill and its 7 marts
runs, 6 for the whole test. The range covers the first backfill day loading the whole history
(about a month of landing files), the next days loading one new day plus its late rows, and
asset events arriving while a marts run may still be busy (one run or several: the tables must
not differ).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

from aimass.orchestration.pools import WAREHOUSE_POOL
from tests.conftest import platform

pytestmark = pytest.mark.slow

AIRFLOW = str(Path(sys.executable).parent / "airflow")
FIRST_DAY, LAST_DAY = date(2026, 8, 3), date(2026, 8, 9)
DAYS = [FIRST_DAY + timedelta(days=i) for i in range((LAST_DAY - FIRST_DAY).days + 1)]
CONF = '{"shop_profile": "tiny"}'
PII_KEY = secrets.token_hex(32)
# load metadata: which batch, when, from which file path; everything else must match
LOAD_METADATA = {"_batch_id", "_loaded_at", "_source_uri", "loaded_at", "source_loaded_at"}
LOAD_LOG_COLUMNS = ("source", "ds", "status", "rows_in", "rows_loaded", "rows_rejected", "checksum")
TIMEOUT_S = 2400  # a stuck run fails the test instead of hanging it


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _metadata_dsn(env: dict) -> str:
    return env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].replace("postgresql+psycopg2", "postgresql")


def _query(dsn: str, query: str, params: tuple = ()) -> list[tuple]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


def table_checksums(dsn: str) -> dict[str, tuple[int, str]]:
    """table -> (rows, md5 of its sorted rows), for raw.* and the base tables of marts."""
    out = {}
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('raw', 'marts') and table_type = 'BASE TABLE' "
            "order by 1, 2"
        )
        for schema, table in cur.fetchall():
            cur.execute(
                "select column_name from information_schema.columns "
                "where table_schema = %s and table_name = %s order by ordinal_position",
                (schema, table),
            )
            columns = [c for (c,) in cur.fetchall() if c not in LOAD_METADATA]
            if (schema, table) == ("raw", "_load_log"):
                columns = list(LOAD_LOG_COLUMNS)
            row = sql.SQL("row({})::text").format(sql.SQL(", ").join(map(sql.Identifier, columns)))
            cur.execute(
                sql.SQL(
                    "select count(*), md5(coalesce(string_agg(r, E'\\n' order by r), '')) "
                    "from (select {} as r from {}.{}) as t"
                ).format(row, sql.Identifier(schema), sql.Identifier(table))
            )
            out[f"{schema}.{table}"] = cur.fetchone()
    return out


def _day_by_day(env: dict, run_dag, result: dict, stop: threading.Event) -> None:
    try:
        for day in DAYS:
            for dag_id, conf in (("aimass_ingest", CONF), ("aimass_marts", None)):
                if stop.is_set():
                    result["error"] = "stopped"
                    return
                proc = run_dag(env, dag_id, day.isoformat(), conf)
                if proc.returncode != 0:
                    result["error"] = f"{dag_id} {day}:\n" + (proc.stdout + proc.stderr)[-4000:]
                    return
        result["checksums"] = table_checksums(env["AIMASS_WAREHOUSE_URL"])
    except Exception as exc:  # reported by the test thread
        result["error"] = repr(exc)


def _start(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _wait(what: str, ready, deadline: float, logs: list[Path]) -> None:
    while not ready():
        if time.monotonic() > deadline:
            tails = "\n".join(
                f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in logs
            )
            raise AssertionError(f"{what}: not reached in time\n{tails}")
        time.sleep(3)


def _backfill_state(dsn: str) -> dict:
    ingest = _query(
        dsn,
        "select run_id, state from dag_run where dag_id = 'aimass_ingest' "
        "and backfill_id is not null",
    )
    marts = _query(dsn, "select run_id, state from dag_run where dag_id = 'aimass_marts'")
    queued = _query(
        dsn, "select count(*) from asset_dag_run_queue where target_dag_id = 'aimass_marts'"
    )[0][0]
    return {"ingest": dict(ingest), "marts": dict(marts), "marts_queued_events": queued}


def _failed_task_logs(dsn: str, home: Path) -> str:
    """The end of the log of every failed task (before the platform and its logs go)."""
    failed = _query(dsn, "select dag_id, run_id, task_id from task_instance where state = 'failed'")
    out = []
    for dag_id, run_id, task_id in failed:
        pattern = f"dag_id={dag_id}/run_id={run_id}/task_id={task_id}/attempt=*.log"
        for log in sorted((home / "airflow" / "logs").glob(pattern)):
            out.append(
                f"--- {dag_id}.{task_id} ({run_id})\n{log.read_text(errors='replace')[-8000:]}"
            )
    return "\n".join(out)


def _chain_done(state: dict, dsn: str, home: Path) -> bool:
    ingest, marts = state["ingest"], state["marts"]
    if "failed" in ingest.values() or "failed" in marts.values():
        raise AssertionError(f"a run failed: {state}\n{_failed_task_logs(dsn, home)}")
    return (
        len(ingest) == len(DAYS)
        and set(ingest.values()) == {"success"}
        and bool(marts)
        and set(marts.values()) == {"success"}
        and state["marts_queued_events"] == 0
    )


def _feature_event_days(dsn: str) -> list[str]:
    rows = _query(
        dsn,
        "select e.extra from asset_event as e join asset as a on a.id = e.asset_id "
        "where a.name = 'marts.fct_user_features_daily' order by e.id",
    )
    return [
        (extra if isinstance(extra, dict) else json.loads(extra)).get("ds") for (extra,) in rows
    ]


def test_backfill_gives_the_same_tables_as_day_by_day_runs(run_dag):
    with (
        platform(pii_key=PII_KEY, pools=False, prefix="aimass_bf") as env,
        platform(pii_key=PII_KEY, prefix="aimass_dd") as reference_env,
    ):
        started = time.monotonic()
        deadline = started + TIMEOUT_S
        reference: dict = {}
        stop = threading.Event()
        day_by_day = threading.Thread(
            target=_day_by_day, args=(reference_env, run_dag, reference, stop)
        )
        day_by_day.start()

        port = str(_free_port())
        env = {
            **env,
            "AIRFLOW__API__PORT": port,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        }
        home = Path(env["AIMASS_HOME"])
        dsn = _metadata_dsn(env)
        logs = [home / f"{c}.log" for c in ("api-server", "scheduler", "dag-processor")]
        procs = [
            _start([AIRFLOW, "api-server", "--port", port], env, logs[0]),
            _start([AIRFLOW, "scheduler"], env, logs[1]),
            _start([AIRFLOW, "dag-processor"], env, logs[2]),
        ]
        try:
            _wait(
                f"the scheduler creates the {WAREHOUSE_POOL} pool when it starts",
                lambda: (
                    _query(
                        dsn, "select count(*) from slot_pool where pool = %s", (WAREHOUSE_POOL,)
                    )[0][0]
                    == 1
                ),
                deadline,
                logs,
            )
            _wait(
                "the dag-processor parses the DAGs",
                lambda: (
                    _query(
                        dsn,
                        "select count(distinct dag_id) from serialized_dag "
                        "where dag_id in ('aimass_ingest', 'aimass_marts')",
                    )[0][0]
                    == 2
                ),
                deadline,
                logs,
            )
            unpause = [
                subprocess.Popen(
                    [AIRFLOW, "dags", "unpause", dag_id],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for dag_id in ("aimass_ingest", "aimass_marts")
            ]
            for proc in unpause:
                assert proc.wait(timeout=300) == 0, proc.stderr.read()
            backfill = subprocess.run(
                [
                    AIRFLOW,
                    "backfill",
                    "create",
                    "--dag-id",
                    "aimass_ingest",
                    "--from-date",
                    FIRST_DAY.isoformat(),
                    "--to-date",
                    LAST_DAY.isoformat(),
                    "--max-active-runs",
                    "1",
                    "--dag-run-conf",
                    CONF,
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert backfill.returncode == 0, backfill.stdout[-3000:] + backfill.stderr[-3000:]
            _wait(
                "the backfill and the marts it triggers succeed",
                lambda: _chain_done(_backfill_state(dsn), dsn, home),
                deadline,
                logs,
            )
            backfilled_at = time.monotonic()
            state = _backfill_state(dsn)
            event_days = _feature_event_days(dsn)
        except BaseException:
            stop.set()  # let the day-by-day runs end before their platform goes
            day_by_day.join(timeout=900)
            raise
        finally:
            for proc in reversed(procs):
                _stop(proc)

        day_by_day.join(timeout=max(deadline - time.monotonic(), 1))
        assert not day_by_day.is_alive(), "the day-by-day runs did not finish in time"
        assert "error" not in reference, reference.get("error")
        backfilled = table_checksums(env["AIMASS_WAREHOUSE_URL"])
        print(
            f"backfill of {len(DAYS)} days + asset-triggered marts: "
            f"{backfilled_at - started:.0f} s ({len(state['marts'])} marts runs for days "
            f"{event_days}); whole test {time.monotonic() - started:.0f} s"
        )

    assert event_days[-1] == LAST_DAY.isoformat()
    assert backfilled["raw.orders"][0] > 0 and backfilled["marts.fct_user_features_daily"][0] > 0
    assert set(backfilled) == set(reference["checksums"])
    different = [
        f"{table}: {backfilled[table][0]} rows after the backfill, "
        f"{reference['checksums'][table][0]} day by day"
        for table in sorted(backfilled)
        if backfilled[table] != reference["checksums"][table]
    ]
    assert not different, "tables differ:\n" + "\n".join(different)
