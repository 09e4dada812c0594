"""Benchmark: simulate the shop for a profile and report its throughput.

Measures wall-clock seconds of `simulate_shop` (world, warm-up, every day, assembly of the
tables), rows per source, events per second and seconds per million events, the peak memory,
and optionally the time to build the truth frames and to write the landing files.
Target: 100k users x 90 days (`medium`) well under a minute per million events on 2 cores.

    .venv/bin/python -m tests.benchmarks.bench_simulator --profile small [--truth] [--landing DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time

from aimass.sim.config import load_shop_config
from aimass.sim.generate import simulate_shop
from aimass.sim.landing import write_landing
from tests.benchmarks.common import peak_rss_mb


def run(
    profile: str = "small",
    days: int | None = None,
    truth: bool = False,
    landing: str | None = None,
) -> dict:
    """Simulate `profile` once; seconds, rows per source and events/s."""
    overrides = {} if days is None else {"days": days}
    config = load_shop_config(profile, **overrides)
    started = time.perf_counter()
    shop = simulate_shop(config)
    seconds = time.perf_counter() - started
    events = len(shop.tables["events"])
    result = {
        "profile": profile,
        "users": config.n_users,
        "days": len(shop.days),
        "rows": {name: len(frame) for name, frame in shop.tables.items()},
        "events": events,
        "simulate_s": round(seconds, 2),
        "events_per_s": round(events / seconds),
        "s_per_million_events": round(seconds / (events / 1e6), 2),
    }
    if truth:
        started = time.perf_counter()
        result["truth_rows"] = {name: len(shop.truth[name]) for name in shop.truth}
        result["truth_s"] = round(time.perf_counter() - started, 2)
    if landing is not None:
        with tempfile.TemporaryDirectory() as scratch:
            started = time.perf_counter()
            files = write_landing(shop, landing or scratch)
            result["landing_files"] = len(files)
            result["landing_s"] = round(time.perf_counter() - started, 2)
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="small", help="profile in conf/simulator.yml")
    parser.add_argument("--days", type=int, help="override the profile's number of days")
    parser.add_argument("--truth", action="store_true", help="also build every truth frame")
    parser.add_argument("--landing", nargs="?", const="", help="also write landing files")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.profile, args.days, args.truth, args.landing), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
