"""`python -m aimass.setup`: find or start PostgreSQL, create the databases, write runtime.env."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import psycopg2

from aimass.setup.databases import ensure_database
from aimass.setup.discovery import find_server
from aimass.setup.errors import SetupError
from aimass.setup.runtime_env import (
    airflow_settings,
    platform_settings,
    read_env_file,
    write_env_file,
)
from aimass.warehouse import ensure_layout


def run(repo_root: Path, home: Path) -> dict[str, str]:
    env_file = home / "runtime.env"
    previous = read_env_file(env_file)
    choice = find_server()
    warehouse_dsn = ensure_database(
        choice.admin_url, os.environ.get("AIMASS_WAREHOUSE_DB", "aimass")
    )
    metadata_dsn = ensure_database(choice.admin_url, os.environ.get("AIMASS_AIRFLOW_DB", "airflow"))
    conn = psycopg2.connect(warehouse_dsn)
    try:
        ensure_layout(conn)
    finally:
        conn.close()
    values = {
        **platform_settings(
            home=home,
            admin_dsn=choice.admin_url,
            warehouse_dsn=warehouse_dsn,
            pii_key=os.environ.get("AIMASS_PII_KEY") or previous.get("AIMASS_PII_KEY"),
            landing_uri=os.environ.get("AIMASS_LANDING_URI") or None,
        ),
        **airflow_settings(home=home, repo_root=repo_root, metadata_dsn=metadata_dsn),
    }
    write_env_file(env_file, values)
    print(f"PostgreSQL: {choice.found_by}")
    print(f"warehouse database: {warehouse_dsn.split('dbname=')[-1].split()[0]}")
    print(f"runtime settings written to {env_file}")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aimass.setup", description=__doc__)
    parser.add_argument("--repo-root", type=Path, default=Path.cwd())
    parser.add_argument(
        "--home", type=Path, default=None, help="default: $AIMASS_HOME or ./.aimass"
    )
    args = parser.parse_args(argv)
    home = (args.home or Path(os.environ.get("AIMASS_HOME", args.repo_root / ".aimass"))).resolve()
    try:
        run(args.repo_root.resolve(), home)
    except SetupError as exc:
        print(f"aimass setup: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
