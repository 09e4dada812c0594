"""`python -m aimass.demo`: run the pipeline's DAG chain for one day through Airflow and summarise.

Each DAG of `DEMO_CHAIN` runs with `dag.test()` (what `airflow dags test` does) for the same
logical day, one after the other, as the asset schedule would start them. All of them run in
this one process, so the platform's libraries (pandas, LightGBM, Great Expectations, dbt) are
imported once, not once per DAG. `--conf` keys go to the DAGs whose params declare them; a DAG
of the chain that is not in `dags/` is skipped with a note. Each DAG's log goes to its own file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg2
from psycopg2 import sql

from aimass.settings import load_settings

# The DAGs a day flows through, in the order the Assets chain them; the coupon campaign, which
# marketing triggers by hand, plans one campaign with its default parameters at the end.
DEMO_CHAIN = (
    "aimass_ingest",
    "aimass_marts",
    "aimass_propensity",
    "aimass_recommendations",
    "aimass_coupon_campaign",
)
MART_TABLES_SQL = """
select table_schema, table_name
from information_schema.tables
where table_schema in ('marts', 'ml') and table_type in ('BASE TABLE', 'VIEW')
order by table_schema, table_name
"""


def load_dags() -> dict:
    """dag_id -> DAG, for every DAG in the DAGs folder; exits naming the files that fail."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(os.environ.get("AIRFLOW__CORE__DAGS_FOLDER") or None)
    if bag.import_errors:
        errors = "; ".join(
            f"{path}: {err.splitlines()[-1]}" for path, err in bag.import_errors.items()
        )
        raise SystemExit(f"Some DAG files do not import: {errors}")
    return bag.dags


def declared_params(dags: dict) -> dict[str, set[str]]:
    """dag_id -> its param names."""
    return {dag_id: set(dag.params.keys()) for dag_id, dag in dags.items()}


def plan(
    conf: dict, params: dict[str, set[str]], chain: tuple[str, ...] = DEMO_CHAIN
) -> tuple[list[tuple[str, dict]], list[str]]:
    """(the DAGs to run with their share of `conf`, the DAG ids of `chain` not in the bag).

    Raises `ValueError` for a `conf` key no DAG of the chain declares.
    """
    present = [dag_id for dag_id in chain if dag_id in params]
    missing = [dag_id for dag_id in chain if dag_id not in params]
    unknown = sorted(set(conf) - set().union(*(params[d] for d in present)))
    if unknown:
        raise ValueError(
            f"no DAG of the chain ({', '.join(present)}) has the parameter(s) {unknown}; "
            "see each DAG's params on its page in the UI."
        )
    return [(d, {k: v for k, v in conf.items() if k in params[d]}) for d in present], missing


def run_dag(dag, day: date, log_path: Path, conf: dict | None = None) -> bool:
    """`dag.test()` for the logical day `day` (UTC) in this process; its (long) output goes to
    `log_path`. True when the run succeeded."""
    from airflow.utils.state import DagRunState

    logical_date = datetime.combine(day, datetime.min.time(), UTC)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log, output_to(log):
        try:
            run = dag.test(logical_date=logical_date, run_conf=conf or None)
        except Exception:  # the run could not start: the traceback goes to the DAG's log
            traceback.print_exc()
            print(f"aimass failure: {dag.dag_id} did not run; the traceback is above.")
            return False
    return run.state == DagRunState.SUCCESS


@contextmanager
def output_to(log) -> Iterator[None]:
    """Send everything written to this process's stdout and stderr (file descriptors 1 and 2,
    so Airflow's, dbt's and child processes' output too) to the open file `log`."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


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
            "select model_version, status, (metrics->>'auc')::float, "
            "(metrics->>'pr_auc')::float, (metrics->>'auc_vs_oracle')::float from ml.model_registry "
            "where model_name = 'propensity' order by trained_at desc limit 3"
        )
        out.append("\nPropensity models (newest first): version, status, AUC, PR AUC, AUC/oracle")
        out += [
            f"  {r[0]}  {r[1]:<9} {_fmt(r[2])}  {_fmt(r[3])}  {_fmt(r[4])}" for r in cur.fetchall()
        ]
        cur.execute(
            "select user_id, probability, decile, reason_1 from marts.propensity_latest "
            "order by probability desc limit 10"
        )
        out.append("\nTop-scored users (marts.propensity_latest):")
        out += [f"  {r[0]:<12} p={float(r[1]):.3f}  decile {r[2]}  {r[3] or ''}" for r in cur]
        out += _coupon_summary(conn)
    return "\n".join(out)


def _coupon_summary(conn) -> list[str]:
    """The coupon champion's held-out Qini against its baselines, and the newest planned campaign."""
    from aimass.ui.overview import campaign_targets
    from ml.registry import get_champion

    champion = get_champion(conn, "coupon_uplift", with_artifact=False)
    if champion is None:
        return ["\nCoupon uplift: no champion model."]
    m = champion.metrics
    baselines = m.get("baselines") or {}
    out = [
        f"\nCoupon uplift champion {champion.model_version} ({m.get('learner')}), held-out "
        f"campaigns: Qini {_fmt(m.get('qini'))} (propensity targeting "
        f"{_fmt((baselines.get('propensity') or {}).get('qini'))}, random "
        f"{_fmt((baselines.get('random') or {}).get('qini'))}; "
        f"{_fmt(m.get('qini_vs_oracle'), '.0%')} of the simulator oracle's)"
    ]
    plans = campaign_targets(conn)
    if plans:
        p = plans[0]
        out.append(
            f"Coupon campaign '{p['campaign_name']}' for {p['campaign_date']} "
            f"(marts.coupon_targets_latest): {p['selected_users']} coupons, face value "
            f"{float(p['budget_used'] or 0):,.0f}, expected net gain "
            f"{float(p['expected_net_value'] or 0):,.0f}"
        )
    return out


def _fmt(value: float | None, spec: str = ".3f") -> str:
    return "n/a" if value is None else format(value, spec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aimass.demo", description=__doc__)
    parser.add_argument(
        "--day", required=True, type=date.fromisoformat, help="the UTC day to run (YYYY-MM-DD)"
    )
    parser.add_argument(
        "--conf", default=None, help="JSON run parameters; each goes to the DAGs declaring it"
    )
    args = parser.parse_args(argv)
    try:
        conf = json.loads(args.conf) if args.conf else {}
        if not isinstance(conf, dict):
            raise ValueError("--conf must be a JSON object")
        dags = load_dags()
        runs, missing = plan(conf, declared_params(dags))
    except ValueError as exc:
        print(f"aimass demo: {exc}", file=sys.stderr)
        return 2
    for dag_id in missing:
        print(f"Note: {dag_id} is not in the DAGs folder; skipped.")
    settings = load_settings()
    started = time.monotonic()
    for dag_id, dag_conf in runs:
        log_path = settings.home / "logs" / f"demo-{args.day}-{dag_id}.log"
        print(f"Running {dag_id} for {args.day} through Airflow (log: {log_path}) ...", flush=True)
        dag_started = time.monotonic()
        succeeded = run_dag(dags[dag_id], args.day, log_path, dag_conf)
        elapsed = time.monotonic() - dag_started
        if not succeeded:
            print(f"{dag_id} failed after {elapsed:.0f} s. Last failures:", file=sys.stderr)
            for line in failed_tasks(log_path):
                print("  " + line.strip()[:400], file=sys.stderr)
            print(f"Full log: {log_path}", file=sys.stderr)
            return 1
        print(f"  {dag_id} finished in {elapsed:.0f} s.", flush=True)
    print(f"Pipeline finished in {time.monotonic() - started:.0f} s.\n")
    print(summary(settings.require_warehouse_url()))
    where_next = [
        "\nWhere next:",
        "  psql \"$AIMASS_WAREHOUSE_URL\" -c 'select * from marts.propensity_latest limit 20'"
        "   (after: set -a; . .aimass/runtime.env)",
        f"  {settings.home / 'exports' / 'coupon_targets'}/   — the planned coupon campaign as CSV",
        "  make airflow   — the web UI, to trigger runs with parameters",
        "  make test      — the whole test suite",
    ]
    print("\n".join(where_next))
    return 0


if __name__ == "__main__":
    sys.exit(main())
