"""`python -m aimass.demo`: run the daily pipeline once through Airflow and summarise the result."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
from psycopg2 import sql

from aimass.settings import load_settings

DAG_ID = "aimass_daily"
MART_TABLES_SQL = """
select table_schema, table_name
from information_schema.tables
where table_schema in ('marts', 'ml') and table_type in ('BASE TABLE', 'VIEW')
order by table_schema, table_name
"""


def run_dag(day: str, log_path: Path, conf: str | None = None) -> int:
    """`airflow dags test` for one logical day; its (long) output goes to `log_path`."""
    cmd = [str(Path(sys.executable).parent / "airflow"), "dags", "test", DAG_ID, day]
    if conf:
        cmd += ["--conf", conf]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        return subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=os.environ).returncode


def failed_tasks(log_path: Path) -> list[str]:
    lines = log_path.read_text(errors="replace").splitlines()
    return [line for line in lines if "aimass failure:" in line or "Task failed" in line][-5:]


def summary(warehouse_url: str) -> str:
    out = []
    with psycopg2.connect(warehouse_url) as conn, conn.cursor() as cur:
        cur.execute(MART_TABLES_SQL)
        out.append("Rows per published table:")
        for schema, table in cur.fetchall():
            cur.execute(
                sql.SQL("select count(*) from {}.{}").format(
                    sql.Identifier(schema), sql.Identifier(table)
                )
            )
            out.append(f"  {schema}.{table:<34} {cur.fetchone()[0]:>10,}")
        cur.execute(
            "select model_version, status, metrics->>'auc', metrics->>'pr_auc', "
            "metrics->>'auc_vs_oracle' from ml.model_registry "
            "where model_name = 'propensity' order by trained_at desc limit 3"
        )
        out.append("\nPropensity models (newest first): version, status, AUC, PR AUC, AUC/oracle")
        out += [f"  {r[0]}  {r[1]:<9} {r[2]}  {r[3]}  {r[4]}" for r in cur.fetchall()]
        cur.execute(
            "select user_id, probability, decile, reason_1 from marts.propensity_latest "
            "order by probability desc limit 10"
        )
        out.append("\nTop-scored users (marts.propensity_latest):")
        out += [f"  {r[0]:<12} p={float(r[1]):.3f}  decile {r[2]}  {r[3] or ''}" for r in cur]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aimass.demo", description=__doc__)
    parser.add_argument("--day", required=True, help="the data interval (UTC day) to run")
    parser.add_argument("--conf", default=None, help="JSON run parameters")
    args = parser.parse_args(argv)
    settings = load_settings()
    log_path = settings.home / "logs" / f"demo-{args.day}.log"
    print(f"Running {DAG_ID} for {args.day} through Airflow (log: {log_path}) ...", flush=True)
    started = time.monotonic()
    code = run_dag(args.day, log_path, args.conf)
    elapsed = time.monotonic() - started
    if code != 0:
        print(f"The pipeline failed after {elapsed:.0f} s. Last failures:", file=sys.stderr)
        for line in failed_tasks(log_path):
            print("  " + line.strip()[:400], file=sys.stderr)
        print(f"Full log: {log_path}", file=sys.stderr)
        return code
    print(f"Pipeline finished in {elapsed:.0f} s.\n")
    print(summary(settings.require_warehouse_url()))
    print(
        "\nWhere next:\n"
        "  psql \"$AIMASS_WAREHOUSE_URL\" -c 'select * from marts.propensity_latest limit 20'"
        "   (after: set -a; . .aimass/runtime.env)\n"
        "  make airflow   — the web UI, to trigger runs with parameters\n"
        "  make test      — the whole test suite"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
