"""Create the warehouse and Airflow metadata databases on the chosen server."""

from __future__ import annotations

import psycopg2
from psycopg2 import sql

from aimass.setup.errors import SetupError
from aimass.testing import url_for_database


def ensure_database(admin_dsn: str, name: str) -> str:
    """Create database `name` if missing; return its DSN (same server and credentials)."""
    conn = psycopg2.connect(admin_dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", (name,))
            if cur.fetchone() is None:
                try:
                    cur.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
                except psycopg2.errors.InsufficientPrivilege:
                    raise SetupError(
                        f"The PostgreSQL user cannot create database {name!r}. Create it once "
                        "as a superuser (createdb), or use a user with CREATEDB."
                    ) from None
                except psycopg2.errors.DuplicateDatabase:
                    pass
    finally:
        conn.close()
    return url_for_database(admin_dsn, name)
