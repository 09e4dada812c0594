"""The analyst role, tried for real: a login member of `aimass_analyst` reads the marts and the
public ml tables, and can neither write anything nor read the pipeline's own schemas."""

from __future__ import annotations

import threading
import time
import uuid
from contextlib import closing

import psycopg2
import pytest
from psycopg2 import sql
from psycopg2.extensions import make_dsn, parse_dsn

from aimass.testing import temporary_database
from aimass.warehouse import ANALYST_ROLE, ML_PUBLIC_TABLES, ensure_layout, grant_ml_public

PRIVATE_SCHEMAS = ("raw", "quarantine", "staging", "intermediate", "audit", "sim_truth")


def run(conn, statement: str) -> None:
    with conn.cursor() as cur:
        cur.execute(statement)
    conn.commit()


def fetch_one(conn, statement: str):
    with conn.cursor() as cur:
        cur.execute(statement)
        return cur.fetchone()


def denied(conn, statement: str) -> bool:
    """True when the statement fails for lack of privilege (autocommit connection)."""
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
    except psycopg2.errors.InsufficientPrivilege:
        return True
    return False


@pytest.fixture
def analyst_role(warehouse):
    """A unique login role in `aimass_analyst` (roles are cluster-wide), dropped afterwards."""
    name = f"aimass_test_analyst_{uuid.uuid4().hex[:10]}"
    run(
        warehouse,
        sql.SQL("create role {} login in role {}").format(
            sql.Identifier(name), sql.Identifier(ANALYST_ROLE)
        ),
    )
    try:
        yield name
    finally:
        run(warehouse, sql.SQL("drop role if exists {}").format(sql.Identifier(name)))


@pytest.fixture
def analyst(warehouse_url, analyst_role):
    """An autocommit connection to the warehouse, logged in as the analyst login role."""
    conn = psycopg2.connect(make_dsn(**{**parse_dsn(warehouse_url), "user": analyst_role}))
    conn.autocommit = True
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def owner_tables(warehouse):
    """Tables the pipeline (the owner) writes: one per private schema, marts, and ml tables."""
    for schema in PRIVATE_SCHEMAS:
        run(warehouse, f"create table {schema}.secret_{schema} as select 1 as x")
    run(warehouse, "create table marts.dim_users as select 'u1' as user_id, 'DE' as country")
    run(
        warehouse, "create table ml.propensity_scores as select 'u1' as user_id, 0.4 as probability"
    )
    run(warehouse, "create table ml.training_features as select 'u1' as user_id, 3 as orders")
    grant_ml_public(warehouse)
    return warehouse


def test_the_analyst_group_role_cannot_log_in(warehouse_url):
    with pytest.raises(psycopg2.OperationalError, match="not permitted to log in"):
        psycopg2.connect(make_dsn(**{**parse_dsn(warehouse_url), "user": ANALYST_ROLE}))


def test_analyst_reads_marts_and_public_ml_tables(owner_tables, analyst):
    assert fetch_one(analyst, "select user_id, country from marts.dim_users") == ("u1", "DE")
    assert fetch_one(analyst, "select count(*) from ml.propensity_scores") == (1,)
    assert "propensity_scores" in ML_PUBLIC_TABLES


def test_analyst_reads_a_marts_table_created_after_the_grant(owner_tables, analyst):
    run(owner_tables, "create table marts.fct_orders as select 'o1' as order_id, 10.0 as total")
    run(owner_tables, "create view marts.orders_view as select order_id from marts.fct_orders")
    assert fetch_one(analyst, "select order_id from marts.fct_orders") == ("o1",)
    assert fetch_one(analyst, "select order_id from marts.orders_view") == ("o1",)


def test_existing_marts_tables_become_readable_when_the_layout_is_applied(warehouse, analyst):
    run(warehouse, "create table marts.before_grant as select 1 as x")
    run(warehouse, f"revoke select on marts.before_grant from {ANALYST_ROLE}")
    assert denied(analyst, "select * from marts.before_grant")
    ensure_layout(warehouse)
    assert fetch_one(analyst, "select x from marts.before_grant") == (1,)


def test_marts_view_over_a_private_ml_table_is_readable_but_the_table_is_not(owner_tables, analyst):
    run(owner_tables, "create view marts.orders_latest as select * from ml.training_features")
    assert fetch_one(analyst, "select orders from marts.orders_latest") == (3,)
    assert denied(analyst, "select * from ml.training_features")


def test_ml_tables_need_the_public_grant(owner_tables, analyst):
    run(owner_tables, "create table ml.coupon_targets as select 'c1' as campaign_id")
    assert denied(analyst, "select * from ml.coupon_targets")
    grant_ml_public(owner_tables)
    assert fetch_one(analyst, "select campaign_id from ml.coupon_targets") == ("c1",)


def test_analyst_cannot_write_anywhere(owner_tables, analyst):
    attempts = [
        "insert into marts.dim_users values ('u2', 'FR')",
        "update marts.dim_users set country = 'FR'",
        "delete from marts.dim_users",
        "truncate marts.dim_users",
        "drop table marts.dim_users",
        "create table marts.mine (x int)",
        "create view marts.mine_v as select 1 as x",
        "insert into ml.propensity_scores values ('u2', 0.9)",
        "update ml.propensity_scores set probability = 1",
        "delete from ml.propensity_scores",
        "create table ml.mine (x int)",
        "create table public.mine (x int)",
        "create schema mine",
    ]
    allowed = [statement for statement in attempts if not denied(analyst, statement)]
    assert allowed == []
    assert fetch_one(owner_tables, "select count(*) from marts.dim_users") == (1,)


def test_analyst_cannot_read_pipeline_schemas(owner_tables, analyst):
    readable = [
        schema
        for schema in PRIVATE_SCHEMAS
        if not denied(analyst, f"select * from {schema}.secret_{schema}")
    ]
    assert readable == []
    assert denied(analyst, "select * from raw._load_log")
    assert denied(analyst, "select * from raw.orders")


def test_layout_survives_a_concurrent_creation_of_the_analyst_role(monkeypatch, warehouse):
    role = f"aimass_test_group_{uuid.uuid4().hex[:10]}"
    monkeypatch.setattr("aimass.warehouse.ANALYST_ROLE", role)
    create = sql.SQL("create role {} nologin").format(sql.Identifier(role))
    errors: list[BaseException] = []
    try:
        with temporary_database() as other_url, closing(psycopg2.connect(other_url)) as other:
            with warehouse.cursor() as cur:
                cur.execute(create)  # uncommitted: the other database's layout blocks on it
            thread = threading.Thread(target=_layout_collecting_errors, args=(other, errors))
            thread.start()
            time.sleep(0.5)
            warehouse.commit()
            thread.join(timeout=30)
            other.rollback()
    finally:
        warehouse.rollback()
        run(warehouse, sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
    if errors:
        raise errors[0]


def _layout_collecting_errors(conn, errors: list) -> None:
    try:
        ensure_layout(conn)
    except Exception as exc:  # re-raised in the test's thread
        errors.append(exc)


def test_two_layout_runs_at_once_on_one_warehouse_both_succeed(monkeypatch, warehouse_url):
    """Parallel runs (a backfill) grant on the same catalog rows; the second waits, not fails."""
    import aimass.warehouse as warehouse_module

    granted = threading.Event()
    grant_roles = warehouse_module._ensure_analyst_role

    def grant_then_hold_the_transaction_open(cur) -> None:
        grant_roles(cur)
        if not granted.is_set():
            granted.set()
            time.sleep(1.0)  # the second run starts while these grants are uncommitted

    monkeypatch.setattr(
        warehouse_module, "_ensure_analyst_role", grant_then_hold_the_transaction_open
    )
    errors: list[BaseException] = []
    with (
        closing(psycopg2.connect(warehouse_url)) as first,
        closing(psycopg2.connect(warehouse_url)) as second,
    ):
        threads = [threading.Thread(target=_layout_collecting_errors, args=(first, errors))]
        threads[0].start()
        assert granted.wait(timeout=30)
        threads.append(threading.Thread(target=_layout_collecting_errors, args=(second, errors)))
        threads[1].start()
        for thread in threads:
            thread.join(timeout=60)
    if errors:
        raise errors[0]
