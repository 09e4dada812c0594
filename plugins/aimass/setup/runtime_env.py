"""The git-ignored `<AIMASS_HOME>/runtime.env`: every variable the platform and Airflow read.

It holds the connection URLs and the PII key of this machine, so it never enters the repository.
Sourcing it (`set -a; . .aimass/runtime.env; set +a`) sets every variable, except those of
`USER_VALUE_WINS`, which it sets only when they are not set already: a value the user exported
(e.g. their own landing area) stays.
"""

from __future__ import annotations

import json
import re
import secrets
import shlex
from pathlib import Path
from urllib.parse import quote

from psycopg2.extensions import parse_dsn

# Variables runtime.env only defaults: the value in the environment, when there is one, wins.
USER_VALUE_WINS = frozenset({"AIMASS_LANDING_URI"})
_DEFAULT_LINE = re.compile(r'^\[ -n "\$\{(\w+):-\}" \] \|\| export (\w+)=(.*)$')


def dsn_to_url(dsn: str, scheme: str = "postgresql") -> str:
    """A libpq DSN or URL as a URL with the given scheme (e.g. `postgresql+psycopg2`)."""
    p = parse_dsn(dsn)
    auth = quote(p.get("user", ""), safe="")
    if p.get("password"):
        auth += ":" + quote(p["password"], safe="")
    host = quote(p.get("host", "127.0.0.1"), safe="")
    port = p.get("port", "5432")
    return f"{scheme}://{auth}@{host}:{port}/{quote(p.get('dbname', 'postgres'), safe='')}"


def airflow_connection_json(dsn: str) -> str:
    """`AIRFLOW_CONN_*` value (JSON form) for a libpq DSN."""
    p = parse_dsn(dsn)
    conn = {
        "conn_type": "postgres",
        "host": p.get("host", "127.0.0.1"),
        "port": int(p.get("port", "5432")),
        "login": p.get("user"),
        "password": p.get("password"),
        "schema": p.get("dbname"),
    }
    return json.dumps({k: v for k, v in conn.items() if v is not None})


def read_env_file(path: Path) -> dict[str, str]:
    """The values a runtime.env file sets (a default-only line gives its default)."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        default = _DEFAULT_LINE.match(line)
        if default:
            parts = shlex.split(default.group(3))
            values[default.group(2)] = parts[0] if parts else ""
            continue
        key, _, raw = line.partition("=")
        key = key.removeprefix("export ").strip()
        parts = shlex.split(raw)
        values[key] = parts[0] if parts else ""
    return values


def airflow_settings(
    *, home: Path, repo_root: Path, metadata_dsn: str, api_port: int = 8080
) -> dict[str, str]:
    """Airflow's runtime settings: home inside the project, Postgres metadata, LocalExecutor."""
    airflow_home = home / "airflow"
    return {
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(repo_root / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(repo_root / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": dsn_to_url(metadata_dsn, "postgresql+psycopg2"),
        "AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(
            airflow_home / "simple_auth_manager_passwords.json"
        ),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(airflow_home / "logs"),
        "AIRFLOW__API__PORT": str(api_port),
        # Tasks report to the api-server's execution API: it must name the same port.
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
        # LightGBM's OpenMP threads spin while waiting; on a busy two-core worker that
        # multiplies training time. Passive waiting yields the core instead.
        "OMP_WAIT_POLICY": "PASSIVE",
    }


def platform_settings(
    *,
    home: Path,
    admin_dsn: str,
    warehouse_dsn: str,
    pii_key: str | None,
    landing_uri: str | None = None,
) -> dict[str, str]:
    """The platform's variables; the landing area defaults to `<home>/landing`."""
    return {
        "AIMASS_HOME": str(home),
        "AIMASS_ADMIN_URL": admin_dsn,
        "AIMASS_WAREHOUSE_URL": warehouse_dsn,
        "AIMASS_LANDING_URI": landing_uri or (home / "landing").as_uri(),
        "AIMASS_PII_KEY": pii_key or secrets.token_hex(32),
        "AIRFLOW_CONN_AIMASS_WAREHOUSE": airflow_connection_json(warehouse_dsn),
    }


def env_line(key: str, value: str) -> str:
    """One shell line of runtime.env: `export KEY=value`, or for `USER_VALUE_WINS` a line that
    exports the value only when KEY is unset or empty."""
    if key in USER_VALUE_WINS:
        return f'[ -n "${{{key}:-}}" ] || export {key}={shlex.quote(value)}'
    return f"export {key}={shlex.quote(value)}"


def write_env_file(path: Path, values: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Written by `python -m aimass.setup`; machine-local, never commit.",
        f"# {', '.join(sorted(USER_VALUE_WINS))}: a value already in your environment wins.",
        "",
    ]
    lines += [env_line(k, v) for k, v in values.items()]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.chmod(0o600)
    tmp.replace(path)
