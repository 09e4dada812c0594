"""Benchmark: simulate the shop for a profile and report its throughput.

Prints wall-clock seconds of `simulate_shop` (world, warm-up, every day, assembly of the
tables), rows per source, events per second and seconds per million events, the peak memory,
and optionally the time to build the truth frames and to write the landing files.
Target: 100k users x 90 days (`medium`) well under a minute per million events on 2 cores.

    .venv/bin/python tests/benchmarks/bench_simulator.py --profile small [--truth] [--landing DIR]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time

from aimass.sim.config import load_shop_config
from aimass.sim.generate import simulate_shop
from aimass.sim.landing import write_landing


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="small", help="profile in conf/simulator.yml")
    parser.add_argument("--days", type=int, help="override the profile's number of days")
    parser.add_argument("--truth", action="store_true", help="also build every truth frame")
    parser.add_argument("--landing", nargs="?", const="", help="also write landing files")
    args = parser.parse_args(argv)

    overrides = {} if args.days is None else {"days": args.days}
    config = load_shop_config(args.profile, **overrides)
    started = time.perf_counter()
    shop = simulate_shop(config)
    seconds = time.perf_counter() - started
    events = len(shop.tables["events"])
    print(f"profile {args.profile}: {config.n_users:,} users x {len(shop.days)} days")
    for name, frame in shop.tables.items():
        print(f"  {name:<20} {len(frame):>12,} rows")
    print(f"simulate_shop: {seconds:.1f} s, {events:,} events")
    print(f"events/s: {events / seconds:,.0f}")
    print(f"seconds per million events: {seconds / (events / 1e6):.2f}")
    print(f"peak memory: {peak_rss_mb():,.0f} MB")
    if args.truth:
        started = time.perf_counter()
        rows = {name: len(shop.truth[name]) for name in shop.truth}
        print(f"truth frames: {time.perf_counter() - started:.1f} s {rows}")
    if args.landing is not None:
        with tempfile.TemporaryDirectory() as scratch:
            target = args.landing or scratch
            started = time.perf_counter()
            files = write_landing(shop, target)
            print(f"landing: {len(files)} files in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
