"""The simulated shop's OLTP database: users, items and orders in schema `shop`.

`write_oltp` upserts the simulator's frames by primary key, so writing the same frames again
changes nothing and writing a later day's frames updates the rows that changed (their
`updated_at` moves). It is the source the SQL connector extracts from.

    python -m aimass.sim.oltp --dsn postgresql://postgres@127.0.0.1/shop --profile tiny
"""

from __future__ import annotations

import argparse
import io
from collections.abc import Mapping, Sequence

import pandas as pd
import psycopg2
from psycopg2 import sql

from aimass.contracts import SourceContract, load_contracts

OLTP_SCHEMA = "shop"
OLTP_SOURCES = ("users", "items", "orders")


def oltp_table_ddl(contract: SourceContract, schema: str = OLTP_SCHEMA) -> sql.Composed:
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.pg_type))
        for c in contract.columns
    )
    key = sql.SQL(", ").join(sql.Identifier(c) for c in contract.primary_key)
    return sql.SQL("create table if not exists {}.{} ({}, primary key ({}))").format(
        sql.Identifier(schema), sql.Identifier(contract.name), columns, key
    )


def write_oltp(
    dsn: str,
    frames: Mapping[str, pd.DataFrame],
    *,
    contracts: Mapping[str, SourceContract] | None = None,
) -> dict[str, int]:
    """Create `shop.<source>` tables and upsert the frames; rows inserted or changed."""
    contracts = contracts or load_contracts()
    changed = {}
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("set timezone to 'UTC'")
            cur.execute(
                sql.SQL("create schema if not exists {}").format(sql.Identifier(OLTP_SCHEMA))
            )
            for name, frame in frames.items():
                contract = contracts[name]
                cur.execute(oltp_table_ddl(contract))
                changed[name] = _upsert(cur, contract, frame)
    finally:
        conn.close()
    return changed


def _upsert(cur, contract: SourceContract, frame: pd.DataFrame) -> int:
    target = sql.SQL("{}.{}").format(sql.Identifier(OLTP_SCHEMA), sql.Identifier(contract.name))
    staging = sql.Identifier(f"_load_{contract.name}")
    names = contract.column_names
    cols = sql.SQL(", ").join(sql.Identifier(n) for n in names)
    key = sql.SQL(", ").join(sql.Identifier(c) for c in contract.primary_key)
    cur.execute(sql.SQL("create temp table {} (like {}) on commit drop").format(staging, target))
    buffer = io.StringIO()
    frame[names].to_csv(buffer, index=False, header=False, na_rep="")
    buffer.seek(0)
    cur.copy_expert(
        sql.SQL("copy {} ({}) from stdin with (format csv)").format(staging, cols).as_string(cur),
        buffer,
    )
    updates = sql.SQL(", ").join(
        sql.SQL("{0} = excluded.{0}").format(sql.Identifier(n))
        for n in names
        if n not in contract.primary_key
    )
    cur.execute(
        sql.SQL(
            "insert into {target} ({cols}) select distinct on ({key}) {cols} from {staging} "
            "order by {key}{latest} "
            "on conflict ({key}) do update set {updates} "
            "where ({target_row}) is distinct from ({excluded_row})"
        ).format(
            target=target,
            cols=cols,
            key=key,
            staging=staging,
            updates=updates,
            latest=sql.SQL(", {} desc nulls last").format(
                sql.Identifier(contract.incremental_column)
            )
            if contract.incremental_column
            else sql.SQL(""),
            target_row=sql.SQL(", ").join(
                sql.SQL("{}.{}").format(target, sql.Identifier(n)) for n in names
            ),
            excluded_row=sql.SQL(", ").join(
                sql.SQL("excluded.{}").format(sql.Identifier(n)) for n in names
            ),
        )
    )
    return cur.rowcount


def main(argv: Sequence[str] | None = None) -> None:
    """Write a simulated shop's users, items and orders into an OLTP database."""
    from aimass.sim.config import load_shop_config
    from aimass.sim.generate import simulate_shop

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--profile", default="tiny")
    parser.add_argument("--until", default=None)
    args = parser.parse_args(argv)
    shop = simulate_shop(load_shop_config(args.profile), until=args.until)
    counts = write_oltp(args.dsn, {name: shop.tables[name] for name in OLTP_SOURCES})
    print(", ".join(f"{name}: {n} rows written" for name, n in counts.items()))


if __name__ == "__main__":
    main()
