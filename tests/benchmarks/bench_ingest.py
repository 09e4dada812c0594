"""Benchmark: the ingest loader against plain `psql \\copy` of the same CSV file.

Generates one day of events (default 1,000,000 rows) as a landing partition and loads it, on
one throw-away database, into the same empty `raw.events` table with (a) `psql \\copy` of the
file (the load columns filled by constant column defaults set for the measurement only) and
(b) `aimass.ingest.sync_source` (parse, validate, pseudonymise, binary COPY, quarantine, load
log). Each is warmed up once and timed best of N. Reports rows/s and the ratio loader/psql
(1.0 = as fast as psql) for a new day, and the loader's time to replace a loaded day.

    .venv/bin/python -m tests.benchmarks.bench_ingest [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import psycopg2
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from psycopg2.extensions import parse_dsn

from aimass.contracts import load_contracts
from aimass.ingest import sync_source
from aimass.testing import temporary_database
from aimass.warehouse import ensure_layout
from tests.benchmarks.common import peak_rss_mb

DAY = date(2024, 3, 2)
PII_KEY = b"benchmark-pii-key-0123456789"


def _prefixed(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Strings like `prefix` + zero-padded number, built without a Python loop."""
    digits = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def synthetic_events(rows: int, seed: int = 7) -> pa.Table:
    """One day of plausible events (string columns as a CSV export would carry them)."""
    rng = np.random.default_rng(seed)
    seconds = np.sort(rng.integers(0, 86_400_000_000, rows))
    day_start = np.datetime64(DAY.isoformat(), "us").astype(np.int64)
    stamps = pa.array(day_start + seconds, pa.timestamp("us", tz="UTC"))
    users = rng.integers(0, rows // 20 + 1, rows)
    kinds = np.array(["view", "search", "add_to_cart", "purchase", "click"])
    event_type = kinds[rng.integers(0, len(kinds), rows)]
    items = rng.integers(0, 50_000, rows)
    no_item = pa.array(event_type == "search")
    queries = pa.array(["red shoes", "phone case, clear", "usb-c cable", 'tv 55"', "lamp"])
    null = pa.scalar(None, pa.string())
    hours = pc.cast(pa.array(seconds // 3_600_000_000), pa.string())
    return pa.table(
        {
            "event_id": _prefixed("ev-", np.arange(rows), 8),
            "event_ts": stamps,
            "user_id": _prefixed("u", users, 7),
            "event_type": pa.array(event_type),
            "item_id": pc.if_else(no_item, null, _prefixed("i", items, 6)),
            "merchant_id": pc.if_else(no_item, null, _prefixed("m", items % 997, 4)),
            "search_query": pc.if_else(no_item, pc.take(queries, items % 5), null),
            "device_id": _prefixed("dev-", users % 40_000, 6),
            "session_id": pc.binary_join_element_wise(_prefixed("s", users, 7), hours, "-"),
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


def time_psql(url: str, csv_path: Path, contract) -> float:
    """Seconds of one `psql \\copy` of the file into an empty `raw.events`; its load columns
    take constant defaults for the duration (as a minimal loader would fill them)."""
    defaults = {
        "_batch_id": "'00000000-0000-0000-0000-000000000000'",
        "_loaded_at": "now()",
        "_source_uri": f"'{csv_path}'",
        "_ds": f"date '{DAY}'",
    }
    alter = ", ".join(f"alter column {c} set default {v}" for c, v in defaults.items())
    drop = ", ".join(f"alter column {c} drop default" for c in defaults)
    execute(url, "truncate raw.events", f"alter table raw.events {alter}")
    try:
        return psql_copy(url, "raw.events", contract.column_names, csv_path)
    finally:
        execute(url, f"alter table raw.events {drop}")


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


def run(rows: int = 1_000_000, repeat: int = 3) -> dict:
    """Best-of-`repeat` seconds and rows/s of the loader and of `psql \\copy`, same file,
    same table, same database, alternating so both see the same machine state."""
    contract = load_contracts()["events"]
    with tempfile.TemporaryDirectory() as tmp, temporary_database("aimass_bench_ingest") as url:
        landing = Path(tmp) / "landing"
        csv_path = landing / "events" / DAY.isoformat() / "part-0000.csv"
        csv_path.parent.mkdir(parents=True)
        started = time.perf_counter()
        pa_csv.write_csv(synthetic_events(rows), csv_path)
        generate_s = time.perf_counter() - started
        conn = psycopg2.connect(url)
        ensure_layout(conn)
        conn.close()
        time_loader(url, landing, contract, reload=False)  # warm-up: imports, caches
        time_psql(url, csv_path, contract)  # warm-up: the file in the page cache
        psql_s, loader_s = [], []
        for _ in range(repeat):
            psql_s.append(time_psql(url, csv_path, contract))
            loader_s.append(time_loader(url, landing, contract, reload=False))
        replace_s = min(time_loader(url, landing, contract, reload=True)[0] for _ in range(repeat))
        first_s, result = min(loader_s, key=lambda r: r[0])
        assert result.rows_loaded + result.rows_rejected == rows, result
        best_psql = min(psql_s)
        return {
            "rows": rows,
            "file_mb": round(csv_path.stat().st_size / 1e6, 1),
            "generate_s": round(generate_s, 1),
            "repeat": repeat,
            "psql_copy_s": round(best_psql, 3),
            "psql_copy_rows_per_s": round(rows / best_psql),
            "loader_s": round(first_s, 3),
            "loader_rows_per_s": round(rows / first_s),
            "loader_replace_day_s": round(replace_s, 3),
            "loader_replace_day_rows_per_s": round(rows / replace_s),
            "ratio_loader_to_psql": round(best_psql / first_s, 3),
            "rows_loaded": result.rows_loaded,
            "rows_quarantined": result.rows_rejected,
            "all_psql_s": [round(s, 3) for s in psql_s],
            "all_loader_s": [round(s, 3) for s, _ in loader_s],
            "peak_rss_mb": peak_rss_mb(),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs each")
    args = parser.parse_args()
    print(json.dumps(run(args.rows, args.repeat), indent=2))


if __name__ == "__main__":
    main()
