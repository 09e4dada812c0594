"""`python -m aimass.setup` prints one clear message, never a traceback, on a bad setup."""

from __future__ import annotations

import os
import socket
import subprocess
import sys


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_setup(env: dict, repo_root) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "aimass.setup", "--repo-root", str(repo_root)],
        env=env,
        capture_output=True,
        text=True,
    )


def test_wrong_database_url_gives_one_message_and_exit_code_2(tmp_path):
    env = {
        **os.environ,
        "AIMASS_DATABASE_URL": f"postgresql://x@127.0.0.1:{_closed_port()}/db",
        "AIMASS_HOME": str(tmp_path),
    }
    proc = run_setup(env, tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("aimass setup: AIMASS_DATABASE_URL points at")
    assert not (tmp_path / "runtime.env").exists()


def test_a_login_without_privileges_gives_one_message(tmp_path):
    import psycopg2
    from psycopg2 import sql
    from psycopg2.extensions import make_dsn, parse_dsn

    from aimass.testing import admin_url, temporary_database

    role = "aimass_test_nopriv"
    admin = psycopg2.connect(admin_url())
    admin.autocommit = True
    try:
        with admin.cursor() as cur, temporary_database("aimass_nopriv") as warehouse:
            cur.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
            cur.execute(sql.SQL("create role {} login").format(sql.Identifier(role)))
            params = {**parse_dsn(admin_url()), "user": role, "dbname": "postgres"}
            params.pop("password", None)
            env = {
                **os.environ,
                "AIMASS_DATABASE_URL": make_dsn(**params),
                "AIMASS_WAREHOUSE_DB": parse_dsn(warehouse)["dbname"],
                "AIMASS_AIRFLOW_DB": parse_dsn(warehouse)["dbname"],
                "AIMASS_HOME": str(tmp_path),
            }
            proc = run_setup(env, tmp_path)
            cur.execute(sql.SQL("drop owned by {}").format(sql.Identifier(role)))
    finally:
        with admin.cursor() as cur:
            cur.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
        admin.close()
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"aimass setup: The PostgreSQL user '{role}' may not set up")
