"""`audit.gx_validation_results`: one row per expectation result of every gate run.

Runs are kept as history by `run_id`; `audit.gx_validation_results_latest` shows only the
latest run of each (suite, ds), so a rerun of a day replaces what operators see.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from psycopg2.extras import execute_values

from aimass.quality.outcomes import ExpectationOutcome

AUDIT_LOCK_KEY = "aimass.audit.gx_validation_results"

AUDIT_DDL = """
create schema if not exists audit;
create table if not exists audit.gx_validation_results (
    run_id text not null,
    suite text not null,
    ds date not null,
    table_name text not null,
    expectation_no integer not null,
    expectation text not null,
    column_name text,
    kwargs jsonb not null,
    success boolean not null,
    observed_value jsonb,
    unexpected_count bigint,
    unexpected_sample jsonb,
    note text,
    validated_at timestamptz not null,
    primary key (run_id, expectation_no)
);
create index if not exists gx_validation_results_suite_ds
    on audit.gx_validation_results (suite, ds, validated_at);
create or replace view audit.gx_validation_results_latest as
with runs as (
    select distinct on (suite, ds) suite, ds, run_id
    from audit.gx_validation_results
    order by suite, ds, validated_at desc, run_id desc
)
select results.*
from audit.gx_validation_results as results
inner join runs on results.run_id = runs.run_id;
"""


def ensure_audit_table(conn) -> None:
    """Create the results table and the latest-run view if missing (safe when concurrent)."""
    with conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(hashtext(%s))", (AUDIT_LOCK_KEY,))
        cur.execute(AUDIT_DDL)
    conn.commit()


def _json(value) -> str:
    return json.dumps(value, default=str)


def write_outcomes(
    conn,
    *,
    run_id: str,
    suite: str,
    ds: date,
    outcomes: list[ExpectationOutcome],
    validated_at: datetime,
) -> int:
    """Insert one row per outcome for this run in one transaction; returns rows written."""
    rows = [
        (
            run_id,
            suite,
            ds,
            o.table,
            n,
            o.expectation,
            o.column,
            _json(o.kwargs),
            o.success,
            _json(o.observed_value),
            o.unexpected_count,
            _json(o.unexpected_sample),
            o.note,
            validated_at,
        )
        for n, o in enumerate(outcomes, start=1)
    ]
    with conn.cursor() as cur:
        cur.execute("delete from audit.gx_validation_results where run_id = %s", (run_id,))
        execute_values(
            cur,
            "insert into audit.gx_validation_results (run_id, suite, ds, table_name, "
            "expectation_no, expectation, column_name, kwargs, success, observed_value, "
            "unexpected_count, unexpected_sample, note, validated_at) values %s",
            rows,
        )
    conn.commit()
    return len(rows)
