"""Warehouse connections and the PostgreSQL layout (schemas, roles, raw tables)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
from psycopg2 import sql

from aimass.contracts import SourceContract, load_contracts
from aimass.locks import hold_layout_lock, share_build_lock

SCHEMAS = ("raw", "quarantine", "staging", "intermediate", "marts", "ml", "audit", "sim_truth")
ANALYST_ROLE = "aimass_analyst"
# Schemas the analyst role may read; `ml` is readable too, but only its public tables.
ANALYST_SCHEMAS = ("marts",)
ML_PUBLIC_TABLES = (
    "model_registry",
    "propensity_scores",
    "coupon_targets",
    "model_monitoring",
    "user_recommendations",
)

LOAD_LOG_DDL = """
create table if not exists raw._load_log (
    batch_id text primary key,
    source text not null,
    ds date not null,
    source_uri text not null,
    status text not null,
    rows_in bigint not null default 0,
    rows_loaded bigint not null default 0,
    rows_rejected bigint not null default 0,
    checksum text,
    started_at timestamptz not null,
    finished_at timestamptz,
    duration_s double precision,
    message text
)
"""


@contextmanager
def connect(url: str, *, autocommit: bool = False) -> Iterator[psycopg2.extensions.connection]:
    """A psycopg2 connection that is closed on exit (commit/rollback is the caller's)."""
    conn = psycopg2.connect(url)
    conn.autocommit = autocommit
    try:
        yield conn
    finally:
        conn.close()


def quarantine_table_ddl(source: str) -> sql.Composed:
    return sql.SQL(
        """create table if not exists quarantine.{} (
            _batch_id text not null,
            _ds date,
            _source_uri text not null,
            _line_no bigint,
            _reason text not null,
            _raw_line text,
            _quarantined_at timestamptz not null default now()
        )"""
    ).format(sql.Identifier(source))


def ensure_layout(conn, contracts: dict[str, SourceContract] | None = None) -> None:
    """Create schemas, the analyst role and its grants, `raw._load_log`, and one raw table (with
    its BRIN indexes on the load columns) and one quarantine table per source contract. Safe to
    run again at any time."""
    contracts = contracts if contracts is not None else load_contracts()
    with conn.cursor() as cur:
        hold_layout_lock(cur)  # before the build lock: both are always taken in this order
        share_build_lock(cur)  # grants on every mart must not race a dbt build replacing them
        for schema in SCHEMAS:
            cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
        cur.execute(LOAD_LOG_DDL)
        for contract in contracts.values():
            cur.execute(contract.raw_table_ddl())
            for statement in contract.raw_indexes().values():
                cur.execute(statement)
            cur.execute(quarantine_table_ddl(contract.name))
        _ensure_analyst_role(cur)
    conn.commit()


def summarize_raw_indexes(conn, contract: SourceContract) -> None:
    """Summarize, in the BRIN indexes of `raw.<source>`, the page ranges loaded since their last
    summary, so the next run's scans skip them at once instead of reading every unsummarized
    page (autovacuum would get there, later)."""
    with conn.cursor() as cur:
        for index in contract.raw_indexes():
            cur.execute("select brin_summarize_new_values(%s::regclass)", (index,))
    conn.commit()


def _ensure_analyst_role(cur) -> None:
    # Roles are cluster-wide: another database may create it at the same moment, so the
    # attempt runs under a savepoint that keeps the rest of this transaction intact.
    cur.execute("select 1 from pg_roles where rolname = %s", (ANALYST_ROLE,))
    if cur.fetchone() is None:
        cur.execute("savepoint analyst_role")
        try:
            cur.execute(sql.SQL("create role {} nologin").format(sql.Identifier(ANALYST_ROLE)))
        except (psycopg2.errors.DuplicateObject, psycopg2.errors.UniqueViolation):
            cur.execute("rollback to savepoint analyst_role")
        else:
            cur.execute("release savepoint analyst_role")
    role = sql.Identifier(ANALYST_ROLE)
    cur.execute(
        sql.SQL("grant connect on database {} to {}").format(
            sql.Identifier(cur.connection.info.dbname), role
        )
    )
    for schema in ANALYST_SCHEMAS:
        s = sql.Identifier(schema)
        cur.execute(sql.SQL("grant usage on schema {} to {}").format(s, role))
        cur.execute(sql.SQL("grant select on all tables in schema {} to {}").format(s, role))
        cur.execute(
            sql.SQL("alter default privileges in schema {} grant select on tables to {}").format(
                s, role
            )
        )
    cur.execute(sql.SQL("grant usage on schema ml to {}").format(role))


def grant_ml_public(conn) -> None:
    """Let the analyst role read the public `ml` tables that exist now."""
    with conn.cursor() as cur:
        hold_layout_lock(cur)
        cur.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'ml' and table_name = any(%s)",
            (list(ML_PUBLIC_TABLES),),
        )
        for (table,) in cur.fetchall():
            cur.execute(
                sql.SQL("grant select on ml.{} to {}").format(
                    sql.Identifier(table), sql.Identifier(ANALYST_ROLE)
                )
            )
    conn.commit()
