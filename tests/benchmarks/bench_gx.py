"""Benchmark: the Great Expectations gate on feature marts of 100k and 1M rows per as-of date.

Builds `marts.fct_user_features_daily` with two as-of dates of N rows each (every contract
column) in a throw-away database, then runs `run_gate(..., "features", ...)` (one checkpoint with
the whole features suite, on the latest as-of date) and a 3-expectation checkpoint on the same
rows. Prints seconds per checkpoint and rows validated per second. GX's import (several seconds
without cached bytecode) is done once up front and reported separately.

    .venv/bin/python -m tests.benchmarks.bench_gx [--rows 100000 1000000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg2

from aimass.quality import run_gate
from aimass.quality.config import get_suite
from aimass.quality.context import build_context, sqlalchemy_url
from aimass.testing import temporary_database
from aimass.warehouse import ensure_layout
from tests.benchmarks.common import peak_rss_mb

AS_OF = date(2024, 3, 10)
TEXT_VALUES = {
    "user_id": "'u' || g",
    "country": "(array['DE', 'FR', 'PL', 'ES'])[1 + g % 4]",
    "top_category_90d": "(array['shoes', 'toys', 'books'])[1 + g % 3]",
    "device_os": "(array['ios', 'android', 'web'])[1 + g % 3]",
}
RATIO_COLUMNS = {
    "view_to_order_rate_90d", "cart_to_order_rate_90d", "top_category_share_90d",
    "discount_share_90d", "ad_ctr_30d",
}  # fmt: skip


def feature_columns() -> list[str]:
    """The contract columns, as the features suite's column-set expectation lists them."""
    for spec in get_suite("features").expectations:
        if spec.type == "expect_table_columns_to_match_set":
            return list(spec.kwargs["column_set"])
    raise ValueError("the features suite has no expect_table_columns_to_match_set entry")


def column_sql(name: str) -> tuple[str, str]:
    """(type, value expression over generate_series `g`) of one plausible feature column."""
    if name == "as_of_date":
        return "date", "{as_of_date}"
    if name in TEXT_VALUES:
        return "text", TEXT_VALUES[name]
    if name in RATIO_COLUMNS:
        return "numeric", "(g % 100) / 100.0"
    if name == "is_mobile":
        return "integer", "g % 2"
    if name == "active_days_30d":
        return "integer", "g % 31"
    if name.startswith(("revenue", "avg_")):
        return "numeric", "(g % 997) * 1.5"
    if name.startswith("days_since"):
        return "integer", "case when g % 4 = 0 then null else g % 90 end"
    return "integer", "g % 17"


def build_features(url: str, rows: int) -> None:
    columns = [(name, *column_sql(name)) for name in feature_columns()]
    ddl = ", ".join(f"{name} {pg_type}" for name, pg_type, _ in columns)
    select = ", ".join(expr for _, _, expr in columns)
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(f"create table marts.fct_user_features_daily ({ddl})")
        for as_of_date in (AS_OF - timedelta(days=1), AS_OF):
            values = select.replace("{as_of_date}", f"date '{as_of_date.isoformat()}'")
            cur.execute(
                f"insert into marts.fct_user_features_daily select {values} "
                f"from generate_series(1, {int(rows)}) as g"
            )
        cur.execute("analyze marts.fct_user_features_daily")
    conn.close()


def three_expectation_checkpoint(url: str, docs_dir: Path) -> float:
    """Seconds of one detailed checkpoint with 3 expectations on the latest partition."""
    import great_expectations as gx

    context = build_context(docs_dir)
    source = context.data_sources.add_postgres(
        "wh", connection_string=sqlalchemy_url(url), create_temp_table=True
    )
    asset = source.add_query_asset(
        "features",
        query="select * from marts.fct_user_features_daily "
        f"where as_of_date = '{AS_OF.isoformat()}'",
    )
    batch = asset.add_batch_definition_whole_table("latest")
    suite = context.suites.add_or_update(
        gx.ExpectationSuite(
            name="three",
            expectations=[
                gx.expectations.ExpectColumnValuesToNotBeNull(column="user_id"),
                gx.expectations.ExpectColumnValuesToBeBetween(column="orders_30d", min_value=0),
                gx.expectations.ExpectTableRowCountToBeBetween(min_value=1),
            ],
        )
    )
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name="three", data=batch, suite=suite)
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name="three",
            validation_definitions=[definition],
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5},
        )
    )
    started = time.perf_counter()
    assert checkpoint.run().success
    return time.perf_counter() - started


def bench(rows: int, repeat: int) -> dict:
    with temporary_database("aimass_bench_gx") as url, tempfile.TemporaryDirectory() as tmp:
        with psycopg2.connect(url) as conn:
            ensure_layout(conn)
        conn.close()
        started = time.perf_counter()
        build_features(url, rows)
        build_s = time.perf_counter() - started
        docs_dir = Path(tmp) / "gx" / "data_docs"
        gates = [run_gate(url, "features", ds=AS_OF, data_docs_dir=docs_dir) for _ in range(repeat)]
        small = min(three_expectation_checkpoint(url, docs_dir) for _ in range(repeat))
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute(
                "update marts.fct_user_features_daily set orders_7d = -1 "
                "where user_id = 'u7' and as_of_date = %s",
                (AS_OF,),
            )
        conn.close()
        failing = run_gate(
            url, "features", ds=AS_OF, data_docs_dir=docs_dir, raise_on_failure=False
        )
        assert not failing.success
    best = min(gates, key=lambda g: g.duration_s)
    return {
        "rows_per_as_of_date": rows,
        "table_rows": 2 * rows,
        "build_table_s": round(build_s, 1),
        "expectations": best.evaluated,
        "gate_s": round(best.duration_s, 2),
        "gate_checkpoint_s": round(sum(best.checkpoint_s.values()), 2),
        "gate_gx_incl_docs_s": round(best.gx_duration_s, 2),
        "gate_rows_per_s": round(best.rows_validated / best.duration_s),
        "gate_expectation_rows_per_s": round(
            best.evaluated * best.rows_validated / best.duration_s
        ),
        "gate_with_one_failure_s": round(failing.duration_s, 2),
        "three_expectation_checkpoint_s": round(small, 2),
        "three_expectation_rows_per_s": round(rows / small),
    }


def run(rows: list[int] | int = 100_000, repeat: int = 2) -> dict:
    """The gate's seconds and rows validated/s for each table size in `rows`."""
    started = time.perf_counter()
    import great_expectations  # noqa: F401  (timed once, outside every measurement)

    import_s = time.perf_counter() - started
    sizes = [rows] if isinstance(rows, int) else list(rows)
    return {
        "gx_import_s": round(import_s, 2),
        "runs": [bench(n, repeat) for n in sizes],
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    print(json.dumps(run(args.rows, args.repeat), indent=2))


if __name__ == "__main__":
    main()
