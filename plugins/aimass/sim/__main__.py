"""Command line: simulate the shop and write its landing files (and optionally its truth).

python -m aimass.sim --profile demo --until 2026-09-28 --landing file:///tmp/landing
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date

from aimass.sim.config import load_shop_config
from aimass.sim.generate import simulate_shop
from aimass.sim.landing import write_landing


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m aimass.sim", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--profile", default="demo", help="profile in conf/simulator.yml")
    parser.add_argument(
        "--until", type=date.fromisoformat, help="last day to simulate (YYYY-MM-DD)"
    )
    parser.add_argument("--seed", type=int, help="override the profile's seed")
    parser.add_argument("--landing", help="landing area (file:// URI or path) to write files to")
    parser.add_argument("--truth-url", help="warehouse DSN to (re)write the sim_truth tables into")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    overrides = {} if args.seed is None else {"seed": args.seed}
    config = load_shop_config(args.profile, **overrides)
    started = time.perf_counter()
    shop = simulate_shop(config, until=args.until)
    elapsed = time.perf_counter() - started
    n_events = len(shop.tables["events"])
    print(f"simulated {len(shop.days)} days ({shop.days[0]}..{shop.days[-1]}) in {elapsed:.2f} s")
    for name, frame in shop.tables.items():
        print(f"  {name:<20} {len(frame):>10,} rows")
    print(f"events/s: {n_events / elapsed:,.0f}")
    if args.landing:
        started = time.perf_counter()
        files = write_landing(shop, args.landing)
        print(f"wrote {len(files)} landing files in {time.perf_counter() - started:.2f} s")
    if args.truth_url:
        import psycopg2

        from aimass.sim.truth import write_truth

        conn = psycopg2.connect(args.truth_url)
        try:
            truth = write_truth(shop, conn)
        finally:
            conn.close()
        for name, rows in truth.rows.items():
            print(f"  sim_truth.{name:<26} {rows:>10,} rows ({truth.written[name]:,} written)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
