"""The deployment's init scripts, run for real on this machine's PostgreSQL: the server's first-start
script (roles and databases) and the Airflow init script (metadata migration, the named FAB users,
the warehouse layout), then the production auth seen through a real api-server."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql
from psycopg2.extensions import parse_dsn

from aimass.setup.runtime_env import airflow_settings
from aimass.testing import admin_url, temporary_database

REPO_ROOT = Path(__file__).resolve().parents[2]
POSTGRES_INIT = REPO_ROOT / "docker" / "postgres" / "init-databases.sh"
AIRFLOW_INIT = REPO_ROOT / "docker" / "scripts" / "airflow-init.sh"
CREATE_USERS = REPO_ROOT / "docker" / "scripts" / "create-users.sh"
VENV_BIN = Path(sys.executable).parent
FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
USERS = {  # env prefix -> (username, FAB role)
    "AIRFLOW_ADMIN": ("owner", "Admin"),
    "AIRFLOW_OPERATOR": ("operator", "Op"),
    "AIRFLOW_ANALYST": ("analyst", "Viewer"),
}


def _server_env() -> dict[str, str]:
    """libpq variables for the test server, as the postgres image's entrypoint would have them."""
    p = parse_dsn(admin_url())
    env = {"PGHOST": p.get("host", "127.0.0.1"), "PGPORT": p.get("port", "5432")}
    if p.get("password"):
        env["PGPASSWORD"] = p["password"]
    return {**env, "POSTGRES_USER": p.get("user", "postgres"), "POSTGRES_DB": "postgres"}


def _bash(script: Path, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(script)], env=env, capture_output=True, text=True, timeout=timeout
    )


# --- PostgreSQL first-start script ---------------------------------------------------------------


@pytest.fixture
def server_names():
    """Unique role and database names for one run of the server init script; all dropped after."""
    suffix = uuid.uuid4().hex[:8]
    names = {
        "AIRFLOW_DB_NAME": f"aimass_t_af_{suffix}",
        "AIRFLOW_DB_USER": f"aimass_t_af_{suffix}",
        "AIMASS_WAREHOUSE_DB": f"aimass_t_wh_{suffix}",
        "AIMASS_DB_USER": f"aimass_t_wh_{suffix}",
        "AIMASS_ANALYST_GROUP": f"aimass_t_grp_{suffix}",
        "AIMASS_ANALYST_DB_USER": f"aimass_t_an_{suffix}",
    }
    yield names
    conn = psycopg2.connect(admin_url())
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for db in (names["AIRFLOW_DB_NAME"], names["AIMASS_WAREHOUSE_DB"]):
                cur.execute(
                    sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(db))
                )
            for role in (
                names["AIMASS_ANALYST_DB_USER"],
                names["AIMASS_ANALYST_GROUP"],
                names["AIMASS_DB_USER"],
                names["AIRFLOW_DB_USER"],
            ):
                cur.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
    finally:
        conn.close()


@pytest.mark.skipif(shutil.which("psql") is None, reason="the server init script needs psql")
def test_server_init_creates_owned_databases_and_the_analyst_login(server_names):
    env = {
        **os.environ,
        **_server_env(),
        **server_names,
        "AIRFLOW_DB_PASSWORD": "pw-'quoted\"-" + secrets.token_hex(4),
        "AIMASS_DB_PASSWORD": secrets.token_hex(8),
        "AIMASS_ANALYST_DB_PASSWORD": secrets.token_hex(8),
    }
    for attempt in ("first start", "again (idempotent)"):
        proc = _bash(POSTGRES_INIT, env)
        assert proc.returncode == 0, f"{attempt}: {proc.stdout[-2000:]}{proc.stderr[-2000:]}"

    with psycopg2.connect(admin_url()) as conn, conn.cursor() as cur:
        cur.execute(
            "select datname, pg_get_userbyid(datdba) from pg_database where datname = any(%s)",
            ([server_names["AIRFLOW_DB_NAME"], server_names["AIMASS_WAREHOUSE_DB"]],),
        )
        assert dict(cur.fetchall()) == {
            server_names["AIRFLOW_DB_NAME"]: server_names["AIRFLOW_DB_USER"],
            server_names["AIMASS_WAREHOUSE_DB"]: server_names["AIMASS_DB_USER"],
        }
        cur.execute(
            "select pg_has_role(%s, %s, 'member'), "
            "has_database_privilege(%s, %s, 'connect'), "
            "has_database_privilege(%s, %s, 'connect'), "
            "(select rolcanlogin from pg_roles where rolname = %s)",
            (
                server_names["AIMASS_ANALYST_DB_USER"],
                server_names["AIMASS_ANALYST_GROUP"],
                server_names["AIMASS_ANALYST_DB_USER"],
                server_names["AIMASS_WAREHOUSE_DB"],
                server_names["AIMASS_ANALYST_DB_USER"],
                server_names["AIRFLOW_DB_NAME"],
                server_names["AIMASS_ANALYST_GROUP"],
            ),
        )
        member, warehouse_connect, metadata_connect, group_can_login = cur.fetchone()
    assert member and warehouse_connect
    assert not metadata_connect, "the analyst must not reach the Airflow metadata database"
    assert not group_can_login


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"AIMASS_DB_PASSWORD": ""}, "AIMASS_DB_PASSWORD is not set"),
        ({"AIRFLOW_DB_PASSWORD": "CHANGE_ME"}, "AIRFLOW_DB_PASSWORD is still the CHANGE_ME"),
    ],
)
def test_server_init_refuses_missing_or_placeholder_passwords(override, message):
    env = {
        **os.environ,
        # no server is reachable here: the script must stop before it connects
        "PGHOST": "/nonexistent",
        "AIRFLOW_DB_USER": "airflow",
        "AIRFLOW_DB_PASSWORD": "x" * 16,
        "AIMASS_DB_USER": "aimass",
        "AIMASS_DB_PASSWORD": "y" * 16,
        "AIMASS_ANALYST_DB_USER": "analyst",
        "AIMASS_ANALYST_DB_PASSWORD": "z" * 16,
        **override,
    }
    proc = _bash(POSTGRES_INIT, env)
    assert proc.returncode == 2
    assert message in proc.stderr


def test_create_users_refuses_short_or_missing_passwords():
    base = {**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}"}
    short = {**base, "AIRFLOW_ADMIN_USERNAME": "owner", "AIRFLOW_ADMIN_EMAIL": "o@example.com"}
    proc = _bash(CREATE_USERS, {**short, "AIRFLOW_ADMIN_PASSWORD": "CHANGE_ME"})
    assert proc.returncode == 2 and "shorter than 12" in proc.stderr
    proc = _bash(CREATE_USERS, {**short, "AIRFLOW_ADMIN_PASSWORD": ""})
    assert proc.returncode == 2 and "set AIRFLOW_ADMIN_USERNAME, AIRFLOW_ADMIN_PASSWORD" in (
        proc.stderr
    )


# --- Airflow init script and the FAB auth it sets up ---------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(port: int, method: str, path: str, token: str | None = None, body=None):
    """(status, parsed JSON or None) of one HTTP call to the api-server (status 0: no answer)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=data, headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, None
    except OSError:
        return 0, None


@pytest.fixture(scope="module")
def initialised():
    """Fresh metadata and warehouse databases after `airflow-init.sh`, with the FAB env."""
    with (
        temporary_database("aimass_init_af") as metadata_dsn,
        temporary_database("aimass_init_wh") as warehouse_dsn,
        tempfile.TemporaryDirectory(prefix="aimass-init-") as home,
    ):
        passwords = {prefix: secrets.token_urlsafe(18) for prefix in USERS}
        env = {
            **os.environ,
            **airflow_settings(home=Path(home), repo_root=REPO_ROOT, metadata_dsn=metadata_dsn),
            "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
            "AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER,
            "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIMASS_WAREHOUSE_URL": warehouse_dsn,
            "AIMASS_WAREHOUSE_POOL_SLOTS": "3",
        }
        for prefix, (username, _) in USERS.items():
            env[f"{prefix}_USERNAME"] = username
            env[f"{prefix}_PASSWORD"] = passwords[prefix]
            env[f"{prefix}_EMAIL"] = f"{username}@example.com"
        started = time.monotonic()
        proc = _bash(AIRFLOW_INIT, env, timeout=600)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        print(f"airflow-init.sh: {time.monotonic() - started:.1f} s")
        yield env, passwords, warehouse_dsn, metadata_dsn


def test_airflow_init_refuses_placeholders_before_touching_anything():
    env = {
        **os.environ,
        "AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql://u:CHANGE_ME@nowhere/airflow",
        "AIMASS_WAREHOUSE_URL": "postgresql://nowhere/aimass",
    }
    proc = _bash(AIRFLOW_INIT, env)
    assert proc.returncode == 2
    assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" in proc.stderr and "CHANGE_ME" in proc.stderr


def test_airflow_init_refuses_another_auth_manager():
    env = {**os.environ, "AIRFLOW__CORE__AUTH_MANAGER": "SimpleAuthManager"}
    proc = _bash(AIRFLOW_INIT, env)
    assert proc.returncode == 2 and "FAB auth manager" in proc.stderr


def test_init_creates_the_warehouse_pool_with_the_configured_slots(initialised):
    metadata_dsn = initialised[3]
    with psycopg2.connect(metadata_dsn) as conn, conn.cursor() as cur:
        cur.execute("select slots from slot_pool where pool = 'aimass_warehouse'")
        assert cur.fetchall() == [(3,)]


def test_init_creates_the_warehouse_layout(initialised):
    _, _, warehouse_dsn, _ = initialised
    with psycopg2.connect(warehouse_dsn) as conn, conn.cursor() as cur:
        cur.execute(
            "select count(*) from information_schema.schemata "
            "where schema_name in ('raw', 'staging', 'marts', 'ml', 'audit')"
        )
        assert cur.fetchone()[0] == 5
        cur.execute("select has_schema_privilege('aimass_analyst', 'marts', 'usage')")
        assert cur.fetchone()[0]


@pytest.fixture(scope="module")
def api_server(initialised):
    """A real api-server with the FAB auth manager on the initialised metadata database."""
    env, passwords, _, _ = initialised
    port = _free_port()
    log = Path(env["AIRFLOW_HOME"]).parent / "api-server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(VENV_BIN / "airflow"), "api-server", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while _request(port, "GET", "/api/v2/monitor/health")[0] != 200:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"api-server did not come up:\n{log.read_text()[-3000:]}")
            time.sleep(1)
        tokens = {}
        for prefix, (username, _) in USERS.items():
            status, body = _request(
                port,
                "POST",
                "/auth/token",
                body={"username": username, "password": passwords[prefix]},
            )
            assert status == 201 and body and body.get("access_token"), (username, status, body)
            tokens[username] = body["access_token"]
        yield port, tokens
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def test_init_created_the_named_users_with_their_roles(api_server):
    # every account signed in (the fixture asked each for a token); the owner lists them
    port, tokens = api_server
    status, body = _request(port, "GET", "/auth/fab/v1/users", tokens["owner"])
    assert status == 200
    roles = {u["username"]: [r["name"] for r in u["roles"]] for u in body["users"]}
    assert roles == {username: [role] for username, role in USERS.values()}


def test_api_rejects_a_wrong_password_and_anonymous_calls(api_server):
    port, _ = api_server
    status, _ = _request(
        port, "POST", "/auth/token", body={"username": "owner", "password": "nope"}
    )
    assert status == 401
    assert _request(port, "GET", "/api/v2/dags")[0] == 401


def test_roles_grant_what_each_person_needs_and_no_more(api_server):
    port, tokens = api_server
    run = {"logical_date": None}
    # everyone signed in may read
    for username in tokens:
        assert _request(port, "GET", "/api/v2/dags", tokens[username])[0] == 200, username
    # the analyst (Viewer) may not trigger runs; the operator (Op) may (404: no such DAG)
    trigger = "/api/v2/dags/aimass_no_such_dag/dagRuns"
    assert _request(port, "POST", trigger, tokens["analyst"], run)[0] == 403
    assert _request(port, "POST", trigger, tokens["operator"], run)[0] == 404
    # only the platform owner (Admin) administers users
    assert _request(port, "GET", "/auth/fab/v1/users", tokens["owner"])[0] == 200
    assert _request(port, "GET", "/auth/fab/v1/users", tokens["operator"])[0] == 403
    assert _request(port, "GET", "/auth/fab/v1/users", tokens["analyst"])[0] == 403
