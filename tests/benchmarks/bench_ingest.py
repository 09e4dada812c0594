"""Benchmark: the ingest loader against plain `psql \\copy` of the same CSV file.

Generates one day of events (default 1,000,000 rows) as a landing partition, loads it with
`aimass.ingest.sync_source` (parse, validate, pseudonymise, COPY, quarantine, load log) and
with `psql \\copy` on the same throw-away database, into (a) a table of the contract's columns
and (b) a raw-shaped table whose load columns are filled by constant defaults. Prints rows/s
and the ratio loader/psql (1.0 = as fast as psql) for a new day and for replacing a day.

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
from psycopg2.extensions import parse_dsn

from aimass.contracts import load_contracts
from aimass.ingest import sync_source
from aimass.testing import temporary_database
from aimass.warehouse import ensure_layout

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


def psql_copy(url: str, table: str, columns: list[str], csv_path: Path) -> float:
    """Seconds for `psql \\copy` of the CSV file into `table`."""
    params = parse_dsn(url)
    copy = f"\\copy {table} ({', '.join(columns)}) from '{csv_path}' with (format csv, header true)"
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
        copy,
    ]
    started = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - started


def execute(url: str, *statements: str) -> None:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement)
    conn.close()


def time_psql(url: str, csv_path: Path, contract, *, raw_shaped: bool, repeat: int) -> float:
    """Best of `repeat` psql copies into a table with the contract's columns; `raw_shaped`
    adds the raw table's load columns, filled by constant defaults (as a minimal loader would)."""
    cols = ", ".join(f'"{c.name}" {c.pg_type}' for c in contract.columns)
    if raw_shaped:
        cols += (
            ", _batch_id text not null default '00000000-0000-0000-0000-000000000000',"
            " _loaded_at timestamptz not null default now(),"
            f" _source_uri text not null default '{csv_path}',"
            f" _ds date not null default '{DAY}'"
        )
    best = float("inf")
    for _ in range(repeat):
        execute(
            url, "drop table if exists bench_psql_copy", f"create table bench_psql_copy ({cols})"
        )
        best = min(best, psql_copy(url, "bench_psql_copy", contract.column_names, csv_path))
    execute(url, "drop table bench_psql_copy")
    return best


def time_loader(url: str, landing: Path, contract, *, reload: bool) -> tuple[float, object]:
    """Seconds for one `sync_source` of the day: into an empty day, or replacing it."""
    if not reload:
        execute(url, "truncate raw.events, quarantine.events, raw._load_log")
    conn = psycopg2.connect(url)
    try:
        started = time.perf_counter()
        (result,) = sync_source(
            conn, contract, str(landing), up_to=DAY, pii_key=PII_KEY, force=True
        )
        return time.perf_counter() - started, result
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
            f"generated {args.rows:,} events ({size_mb:.0f} MB) in "
            f"{time.perf_counter() - started:.1f}s"
        )
        conn = psycopg2.connect(url)
        ensure_layout(conn)
        conn.close()
        time_loader(url, landing, contract, reload=False)  # warm-up: imports, caches
        bare = time_psql(url, csv_path, contract, raw_shaped=False, repeat=args.repeat)
        shaped = time_psql(url, csv_path, contract, raw_shaped=True, repeat=args.repeat)
        first = min(
            (time_loader(url, landing, contract, reload=False) for _ in range(args.repeat)),
            key=lambda r: r[0],
        )
        again = min(
            (time_loader(url, landing, contract, reload=True) for _ in range(args.repeat)),
            key=lambda r: r[0],
        )
        result = first[1]
        assert result.rows_loaded + result.rows_rejected == args.rows, result
        n = args.rows
        print(f"psql \\copy, contract columns only  : {bare:6.2f}s {n / bare:>11,.0f} rows/s")
        print(f"psql \\copy, raw-shaped table       : {shaped:6.2f}s {n / shaped:>11,.0f} rows/s")
        print(
            f"loader, new day                     : {first[0]:6.2f}s {n / first[0]:>11,.0f} rows/s"
            f"  (loaded {result.rows_loaded:,}, quarantined {result.rows_rejected:,})"
        )
        print(
            f"loader, replacing the day           : {again[0]:6.2f}s {n / again[0]:>11,.0f} rows/s"
        )
        print(
            f"ratio loader/psql (rows/s), new day : {bare / first[0]:.2f}x vs contract columns, "
            f"{shaped / first[0]:.2f}x vs raw-shaped"
        )


if __name__ == "__main__":
    main()
