"""Benchmark: a full dbt build against one incremental day at N days of history.

Simulates the shop (profile `demo` by default: ~2,000 users, 90 days), loads the first N - 1
days into `raw` of a throw-away warehouse as daily batches (one per day, loaded at 01:00 of the
next day; PII pseudonymised, `_ds` = the row's day) and runs `dbt run` on the empty warehouse
(the full build: every model built from all of `raw`, as `--full-refresh` does); loads day N the
same way and runs `dbt run` again (one incremental day, the steady state of the daily pipeline).
Prints seconds for each, the ratio incremental / full (aim: at most 0.20; the full build covers
N - 1 days, so the ratio is high by about 1/N), dbt's fixed start-up cost (`dbt run` with
nothing selected) and the slowest models of each. With `--build` the same with `dbt build`
(tests included). `--full-refresh` also times a `--full-refresh` over all N days (a third build).

    .venv/bin/python -m tests.benchmarks.bench_dbt [--profile demo] [--days 90] [--build]
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, date, datetime, timedelta

import psycopg2

from aimass.sim.config import load_shop_config
from aimass.sim.generate import simulate_shop
from aimass.testing import temporary_database
from aimass.transform import DbtResult, run_dbt
from aimass.warehouse import ensure_layout
from tests.benchmarks.common import peak_rss_mb
from tests.dbt.dbt_raw_loader import load_raw, split_by_day


def next_morning(day: date) -> datetime:
    """01:00 UTC of the day after `day`: when a daily pipeline loads the day."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(
        hours=1
    )


def slowest_nodes(result: DbtResult, kind: str = "model", n: int = 5) -> list[tuple[str, float]]:
    """The `n` slowest nodes of one kind (model, test, unit_test) and their seconds."""
    nodes = [r for r in result.results if r["unique_id"].startswith(f"{kind}.")]
    nodes.sort(key=lambda r: r["execution_time"] or 0, reverse=True)
    return [(r["unique_id"].split(".")[2], round(r["execution_time"], 2)) for r in nodes[:n]]


def seconds_by_kind(result: DbtResult) -> dict[str, float]:
    """Summed node seconds per kind (model, test, unit_test): where a build's time goes."""
    totals: dict[str, float] = {}
    for r in result.results:
        kind = r["unique_id"].split(".")[0]
        totals[kind] = round(totals.get(kind, 0.0) + (r["execution_time"] or 0), 1)
    return totals


def run(
    profile: str = "demo", days: int = 90, build: bool = False, full_refresh: bool = False
) -> dict:
    """Seconds of the full build and one incremental day of `profile` (and, with
    `full_refresh`, of a `--full-refresh` over every day)."""
    command = "build" if build else "run"
    started = time.perf_counter()
    shop = simulate_shop(load_shop_config(profile, days=days))
    history = sorted(shop.days)[:days]
    simulate_s = time.perf_counter() - started
    raw_rows = {source: len(frame) for source, frame in shop.tables.items()}

    with temporary_database(prefix="aimass_bench_dbt") as url:
        conn = psycopg2.connect(url)
        try:
            ensure_layout(conn)
            deliveries = list(split_by_day(shop.tables, history))
            load_started = time.perf_counter()
            for day, delivery in deliveries[:-1]:
                load_raw(conn, delivery, loaded_at=next_morning(day), batch_id=f"day-{day}")
            load_s = time.perf_counter() - load_started
            startup = run_dbt(["run", "--select", "tag:none-selected"], url)
            full = run_dbt([command], url)
            day, delivery = deliveries[-1]
            load_raw(conn, delivery, loaded_at=next_morning(day), batch_id=f"day-{day}")
            incremental = run_dbt([command], url)
            refresh = run_dbt([command, "--full-refresh"], url) if full_refresh else None
            with conn.cursor() as cur:
                cur.execute(
                    "select count(*), count(distinct as_of_date) from marts.fct_user_features_daily"
                )
                feature_rows, as_of_dates = cur.fetchone()
        finally:
            conn.close()

    del shop, deliveries
    return {
        "profile": profile,
        "days": len(history),
        "command": f"dbt {command}",
        "raw_rows": raw_rows,
        "load_history_s": round(load_s, 1),
        "feature_rows": feature_rows,
        "as_of_dates": as_of_dates,
        "dbt_startup_s": round(startup.seconds, 1),
        "full_build_days": len(history) - 1,
        "full_build_s": round(full.seconds, 1),
        "incremental_day_s": round(incremental.seconds, 1),
        "full_refresh_s": round(refresh.seconds, 1) if refresh else None,
        "ratio_incremental_to_full": round(incremental.seconds / full.seconds, 3),
        "ratio_without_startup": round(
            (incremental.seconds - startup.seconds) / (full.seconds - startup.seconds), 3
        ),
        "node_seconds_incremental": seconds_by_kind(incremental),
        "node_seconds_full_build": seconds_by_kind(full),
        "slowest_models_incremental": slowest_nodes(incremental),
        "slowest_models_full_build": slowest_nodes(full),
        "slowest_tests_incremental": slowest_nodes(incremental, "test"),
        "simulate_s": round(simulate_s, 1),
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="demo", help="simulator profile (demo, small, ...)")
    parser.add_argument("--days", type=int, default=90, help="days of history")
    parser.add_argument("--build", action="store_true", help="time `dbt build` (with tests)")
    parser.add_argument(
        "--full-refresh", action="store_true", help="also time a --full-refresh of every day"
    )
    args = parser.parse_args()
    print(json.dumps(run(args.profile, args.days, args.build, args.full_refresh), indent=2))


if __name__ == "__main__":
    main()
