"""Benchmark: the ingest loader against plain `psql \\copy` of the same CSV file.

Generates one day of events (default 1,000,000 rows) as a landing partition, loads it with
`aimass.ingest.sync_source` (parse, validate, pseudonymise, COPY, quarantine, load log) and
with `psql \\copy` into a table with the same columns, on the same throw-away database.
Prints rows/s for both and the ratio (loader / psql; 1.0 = as fast as psql).

    .venv/bin/python tests/benchmarks/bench_ingest.py [--rows 1000000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg2
from aimass.contracts import load_contracts
from aimass.ingest import sync_source
from aimass.testing import temporary_database
from aimass.warehouse import ensure_layout
from psycopg2.extensions import parse_dsn

DAY = date(2024, 3, 2)
PII_KEY = b"benchmark-pii-key-0123456789"


def synthetic_events(rows: int, seed: int = 7) -> pd.DataFrame:
    """One day of plausible events (string columns as a CSV export would carry them)."""
    rng = np.random.default_rng(seed)
    seconds = np.sort(rng.integers(0, 86_400_000_000, rows))
    stamps = pd.Timestamp(DAY, tz="UTC") + pd.to_timedelta(seconds, unit="us")
    users = rng.integers(0, rows // 20 + 1, rows)
    kinds = np.array(["view", "search", "add_to_cart", "purchase", "click"])
    event_type = kinds[rng.integers(0, len(kinds), rows)]
    items = rng.integers(0, 50_000, rows)
    has_item = event_type != "search"
    queries = np.array(["red shoes", "phone case, clear", "usb-c cable", 'tv 55"', "lamp"])
    return pd.DataFrame(
        {
            "event_id": [f"ev-{i:08d}" for i in range(rows)],
            "event_ts": stamps,
            "user_id": [f"u{u:07d}" for u in users],
            "event_type": event_type,
            "item_id": np.where(has_item, [f"i{i:06d}" for i in items], None),
            "merchant_id": np.where(has_item, [f"m{i % 997:04d}" for i in items], None),
            "search_query": np.where(~has_item, queries[items % len(queries)], None),
            "device_id": [f"dev-{u % 40_000:06d}" for u in users],
            "session_id": [
                f"s{u:07d}-{h}" for u, h in zip(users, seconds // 3_600_000_000, strict=True)
            ],
        }
    )


def copy_table_ddl(contract) -> str:
    cols = ", ".join(f'"{c.name}" {c.pg_type}' for c in contract.columns)
    return f"create table bench_psql_copy ({cols})"


def time_psql_copy(url: str, csv_path: Path, contract) -> float:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("drop table if exists bench_psql_copy")
        cur.execute(copy_table_ddl(contract))
    params = parse_dsn(url)
    cmd = [
        "psql",
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        params.get("host", "127.0.0.1"),
        "-p",
        params.get("port", "5432"),
        "-U",
        params.get("user", "postgres"),
        "-d",
        params["dbname"],
        "-c",
        f"\\copy bench_psql_copy from '{csv_path}' with (format csv, header true)",
    ]
    started = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - started


def time_loader(url: str, landing: Path, contract) -> tuple[float, list]:
    conn = psycopg2.connect(url)
    try:
        started = time.perf_counter()
        results = sync_source(conn, contract, str(landing), up_to=DAY, pii_key=PII_KEY, force=True)
        return time.perf_counter() - started, results
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2, help="best of N runs each")
    args = parser.parse_args()
    contract = load_contracts()["events"]
    with tempfile.TemporaryDirectory() as tmp, temporary_database("aimass_bench") as url:
        landing = Path(tmp) / "landing"
        csv_path = landing / "events" / DAY.isoformat() / "part-0000.csv"
        csv_path.parent.mkdir(parents=True)
        started = time.perf_counter()
        synthetic_events(args.rows).to_csv(csv_path, index=False)
        size_mb = csv_path.stat().st_size / 1e6
        print(
            f"generated {args.rows:,} events ({size_mb:.0f} MB) in {time.perf_counter() - started:.1f}s"
        )
        conn = psycopg2.connect(url)
        ensure_layout(conn)
        conn.close()
        psql_s = min(time_psql_copy(url, csv_path, contract) for _ in range(args.repeat))
        loads = [time_loader(url, landing, contract) for _ in range(args.repeat)]
        loader_s, results = min(loads, key=lambda r: r[0])
        (result,) = results
        assert result.rows_loaded + result.rows_rejected == args.rows, result
        print(f"psql \\copy : {psql_s:6.2f}s  {args.rows / psql_s:>12,.0f} rows/s")
        print(
            f"loader     : {loader_s:6.2f}s  {args.rows / loader_s:>12,.0f} rows/s  "
            f"(loaded {result.rows_loaded:,}, quarantined {result.rows_rejected:,})"
        )
        print(f"ratio loader/psql rows/s: {psql_s / loader_s:.2f}x")


if __name__ == "__main__":
    main()
