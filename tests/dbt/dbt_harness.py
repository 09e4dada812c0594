"""Helpers of the dbt tests: throw-away warehouses, the shop to load, table comparisons."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
import psycopg2
from psycopg2 import sql

from aimass.contracts import load_contracts
from aimass.testing import temporary_database
from aimass.warehouse import ensure_layout
from tests.dbt.dbt_shop_fixture import EDGE_DAY, boundary_orders, build_shop

PII_PATTERNS = {
    "an e-mail address": r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$",
    "a phone number": r"^\+?[0-9][0-9 ()-]{6,}[0-9]$",
    "an IP address": r"^([0-9]{1,3}\.){3}[0-9]{1,3}$",
}


@contextmanager
def fresh_warehouse() -> Iterator[str]:
    """A new database with the warehouse layout; dropped afterwards."""
    with temporary_database(prefix="aimass_dbt") as url:
        conn = psycopg2.connect(url)
        try:
            ensure_layout(conn)
        finally:
            conn.close()
        yield url


def simulated_shop() -> dict[str, pd.DataFrame] | None:
    """The simulator's `tiny` shop, or None when the simulator is not installed."""
    try:
        from aimass.sim.config import load_shop_config
        from aimass.sim.generate import simulate_shop
    except ImportError:
        return None
    return dict(simulate_shop(load_shop_config("tiny")).tables)


def shop_with_boundaries() -> tuple[str, dict[str, pd.DataFrame]]:
    """The simulated tiny shop (else the fixture shop) plus the boundary users' orders."""
    tables = simulated_shop()
    name = "simulator tiny"
    if tables is None:
        tables, name = build_shop(), "fixture shop"
    orders = tables["orders"]
    if not orders["order_id"].str.startswith("o-edge_").any():
        extra = pd.DataFrame(boundary_orders(EDGE_DAY), columns=orders.columns)
        tables["orders"] = pd.concat([orders.astype(object), extra], ignore_index=True)
    return name, tables


def clear_pii_values(tables: dict[str, pd.DataFrame]) -> list[str]:
    """Every clear-text PII value of the frames (per the contracts' `pii` flags)."""
    values: set[str] = set()
    for source, contract in load_contracts().items():
        frame = tables.get(source)
        if frame is None:
            continue
        for column in contract.columns:
            if column.pii:
                values.update(str(v) for v in frame[column.name].dropna().unique())
    return sorted(values)


def text_columns(conn, schemas: tuple[str, ...]) -> dict[tuple[str, str], list[str]]:
    """Text columns per relation (schema, table) of the given schemas."""
    with conn.cursor() as cur:
        cur.execute(
            """
            select table_schema, table_name, column_name
            from information_schema.columns
            where table_schema = any(%s) and data_type in ('text', 'character varying')
            order by table_schema, table_name, ordinal_position
            """,
            (list(schemas),),
        )
        out: dict[tuple[str, str], list[str]] = {}
        for schema, table, column in cur.fetchall():
            out.setdefault((schema, table), []).append(column)
    return out


def pii_findings(conn, schemas: tuple[str, ...], clear_values: list[str]) -> list[str]:
    """One line per text column holding clear-text PII: a value of `clear_values`, or a
    value shaped like an e-mail address, phone number or IP address."""
    findings = []
    with conn.cursor() as cur:
        for (schema, table), columns in text_columns(conn, schemas).items():
            for column in columns:
                col = sql.Identifier(column)
                pattern_counts = sql.SQL(", ").join(
                    sql.SQL("count(*) filter (where {} ~* %s)").format(col) for _ in PII_PATTERNS
                )
                cur.execute(
                    sql.SQL("select count(*) filter (where {} = any(%s)), {} from {}").format(
                        col, pattern_counts, sql.Identifier(schema, table)
                    ),
                    [clear_values, *PII_PATTERNS.values()],
                )
                exact, *pattern_hits = cur.fetchone()
                where = f"{schema}.{table}.{column}"
                if exact:
                    findings.append(f"{where}: {exact} clear-text PII values")
                for kind, hits in zip(PII_PATTERNS, pattern_hits, strict=True):
                    if hits:
                        findings.append(f"{where}: {hits} values look like {kind}")
    return findings


def comparable_columns(conn, relation: str, exclude: tuple[str, ...] = ()) -> list[str]:
    """Columns of `relation` (schema.table) in table order, without `exclude`."""
    schema, table = relation.split(".")
    with conn.cursor() as cur:
        cur.execute(
            "select column_name from information_schema.columns "
            "where table_schema = %s and table_name = %s order by ordinal_position",
            (schema, table),
        )
        return [c for (c,) in cur.fetchall() if c not in exclude]


def rows_missing(conn, left: str, right: str, columns: list[str]) -> int:
    """Rows of `left` not in `right` over `columns` (multiset difference, value equality)."""
    select = sql.SQL(", ").join(map(sql.Identifier, columns))
    query = sql.SQL(
        "select count(*) from (select {cols} from {left} except all select {cols} from {right}) d"
    ).format(
        cols=select,
        left=sql.Identifier(*left.split(".")),
        right=sql.Identifier(*right.split(".")),
    )
    with conn.cursor() as cur:
        cur.execute(query)
        return cur.fetchone()[0]


def scalar(conn, query: str, params=None):
    with conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchone()[0]
