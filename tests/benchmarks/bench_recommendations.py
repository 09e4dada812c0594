"""Benchmark: recommender training time and recommendations per second.

Builds a simulated shop profile (`medium`: 100k users x 90 days) with the simulator, puts its
events, orders, catalogue and segments into a throw-away database as the marts the recommender
reads (tests/ml/recommend/shop.py: no ingestion or dbt), then measures, on the shop's last
morning:

1. `train_and_register`: evaluation of the model and the baselines on the last 7 days, the fit on
   all history, registration and the report;
2. `recommend`: read the interactions, fold in every active user, apply the rules, write the
   top-20 lists with COPY, as users/s and rows/s.

    .venv/bin/python -m tests.benchmarks.bench_recommendations --size medium

`run(size) -> dict` returns the measured numbers (seconds, rows, rates, the model's metrics).
"""

from __future__ import annotations

import argparse
import json
import time

import psycopg2

from aimass.testing import temporary_database
from aimass.warehouse import ensure_layout
from ml.recommend.config import load_config
from ml.recommend.pipeline import recommend, train_and_register
from ml.registry import promote
from tests.ml.recommend.shop import load_shop_marts, simulated_marts

SIZES = ("tiny", "demo", "small", "midsize", "medium")


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def run(size: str = "medium") -> dict:
    """Measure training and list generation on the simulated shop profile `size`."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, not {size!r}")
    config = load_config()
    marts, simulate_s = _timed(simulated_marts, size)
    events = len(marts.frames["marts.fct_events"])
    with temporary_database("aimass_bench") as url:
        conn = psycopg2.connect(url)
        try:
            ensure_layout(conn)
            _, load_s = _timed(load_shop_marts, conn, marts)
            trained, train_s = _timed(
                train_and_register, conn, as_of=marts.as_of, config=config, force=True
            )
            print(f"trained in {train_s:.1f}s: {trained['status']}: {trained['decision_reason']}")
            if trained["status"] != "champion":  # measure the lists anyway
                promote(conn, config.model_name, trained["model_version"], force=True)
            summary, recommend_s = _timed(recommend, conn, score_date=marts.as_of, config=config)
            again, rerun_s = _timed(recommend, conn, score_date=marts.as_of, config=config)
            with conn.cursor() as cur:
                cur.execute("select count(*) from marts.recommendations_latest")
                published = cur.fetchone()[0]
        finally:
            conn.close()
    assert published == summary["rows"] == again["rows"], (published, summary, again)
    best = min(recommend_s, rerun_s)
    return {
        "size": size,
        "users": int(marts.frames["marts.mart_user_segments"].shape[0]),
        "items": int(marts.frames["marts.dim_items"].shape[0]),
        "events": events,
        "simulate_seconds": round(simulate_s, 1),
        "load_seconds": round(load_s, 1),
        "train_seconds": round(train_s, 1),
        "train_status": trained["status"],
        "decision_reason": trained["decision_reason"],
        "evaluated_users": trained["window"]["users"],
        "train_interactions": trained["window"]["train_interactions"],
        "model": trained["metrics"],
        "baselines": trained["baselines"],
        "users_with_lists": summary["users_with_lists"],
        "rows": summary["rows"],
        "recommend_seconds": round(recommend_s, 1),
        "recommend_rerun_seconds": round(rerun_s, 1),
        "users_per_second": round(summary["users_with_lists"] / best, 1),
        "recommendations_per_second": round(summary["rows"] / best, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=SIZES, default="medium")
    args = parser.parse_args()
    result = run(args.size)
    print(
        f"{result['size']} shop: {result['users']:,} users, {result['items']:,} items, "
        f"{result['events']:,} events (simulated in {result['simulate_seconds']}s, loaded in "
        f"{result['load_seconds']}s)"
    )
    print(
        f"  train_and_register: {result['train_seconds']}s ({result['train_interactions']:,} "
        f"user x item interactions, {result['evaluated_users']:,} users evaluated, status "
        f"{result['train_status']})"
    )
    print(
        f"  recommend: {result['rows']:,} rows for {result['users_with_lists']:,} users in "
        f"{result['recommend_seconds']}s (re-run {result['recommend_rerun_seconds']}s) = "
        f"{result['users_per_second']:,} users/s, {result['recommendations_per_second']:,} "
        "recommendations/s into PostgreSQL"
    )
    print(f"  {result['decision_reason']}")
    print("  metrics:", json.dumps({"model": result["model"], **result["baselines"]}, indent=1))


if __name__ == "__main__":
    main()
