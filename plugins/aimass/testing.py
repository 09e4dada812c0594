"""Throw-away warehouse databases for tests and benchmarks (created, then dropped), and
concurrent runs of one function."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import make_dsn, parse_dsn

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def admin_url() -> str:
    """The server URL tests create databases on (`AIMASS_ADMIN_URL`, written by `make setup`)."""
    return os.environ.get("AIMASS_ADMIN_URL") or DEFAULT_ADMIN_URL


def url_for_database(url: str, dbname: str) -> str:
    """The same server and credentials as `url`, for another database (a libpq DSN)."""
    params = parse_dsn(url)
    params["dbname"] = dbname
    return make_dsn(**params)


@contextmanager
def temporary_database(prefix: str = "aimass_test") -> Iterator[str]:
    """Create an empty database, yield its DSN, drop it afterwards (even on failure)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    server = admin_url()
    conn = psycopg2.connect(server)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        yield url_for_database(server, name)
    finally:
        with conn.cursor() as cur:
            cur.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )
        conn.close()


def run_concurrently(target: Callable[[], object], copies: int = 2, timeout_s: float = 120) -> list:
    """Run `copies` calls of `target` in threads at once; the exceptions they raised."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target()
        except BaseException as exc:  # returned to the caller
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout_s)
    return errors
