"""Find a PostgreSQL server for the platform, in a fixed order.

1. `AIMASS_DATABASE_URL`, if set (it must work: a wrong URL is an error, not a fall-through);
2. a server on 127.0.0.1:5432 (`AIMASS_PG_PROBE_PORT`), as one of the usual local users;
3. a project-local cluster under `<AIMASS_HOME>/pg`, started from installed PostgreSQL binaries
   or from the `pgserver` package (see `local_cluster`);
4. otherwise a `SetupError` saying what to install.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from psycopg2.extensions import make_dsn, parse_dsn

from aimass.setup import local_cluster
from aimass.setup.errors import SetupError

DEFAULT_PROBE_USERS = ("postgres", "root")


@dataclass(frozen=True)
class ServerChoice:
    """A reachable server: an admin DSN (a role that may create databases) and how it was found."""

    admin_url: str
    found_by: str


def try_connect(url: str, timeout_s: int = 3) -> str | None:
    """Connect once; return None on success, else the server's or the network's one-line reason."""
    try:
        conn = psycopg2.connect(url, connect_timeout=timeout_s)
    except psycopg2.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    conn.close()
    return None


def _redact(url: str) -> str:
    try:
        params = parse_dsn(url)
    except psycopg2.ProgrammingError:
        return "<unparsable URL>"
    if "password" in params:
        params["password"] = "***"
    return make_dsn(**params)


def from_env_url(url: str, connect: Callable[[str], str | None] = try_connect) -> ServerChoice:
    try:
        parse_dsn(url)
    except psycopg2.ProgrammingError as exc:
        raise SetupError(
            f"AIMASS_DATABASE_URL is not a valid PostgreSQL URL ({exc}). Use the form "
            "postgresql://user:password@host:5432/dbname, or unset it to let setup find or "
            "start PostgreSQL itself."
        ) from None
    reason = connect(url)
    if reason is not None:
        raise SetupError(
            f"AIMASS_DATABASE_URL points at {_redact(url)}, but connecting failed: {reason}. "
            "Check host, port, user and password (and that the server is running), or unset "
            "AIMASS_DATABASE_URL to let setup find or start PostgreSQL itself."
        )
    return ServerChoice(admin_url=url, found_by="AIMASS_DATABASE_URL")


def probe_localhost(
    port: int, users: tuple[str, ...], connect: Callable[[str], str | None] = try_connect
) -> tuple[ServerChoice | None, list[str]]:
    """Try each user on 127.0.0.1:port; return the first that works and the reasons of failures."""
    reasons = []
    for user in users:
        url = make_dsn(host="127.0.0.1", port=str(port), user=user, dbname="postgres")
        reason = connect(url)
        if reason is None:
            return ServerChoice(admin_url=url, found_by=f"server on 127.0.0.1:{port}"), reasons
        reasons.append(f"{user}: {reason}")
    return None, reasons


def find_server(
    env: Mapping[str, str] | None = None,
    *,
    home: Path | None = None,
    connect: Callable[[str], str | None] = try_connect,
    start_local: Callable[..., str] = local_cluster.ensure_running,
) -> ServerChoice:
    """Return a working server, trying the sources in the documented order."""
    env = os.environ if env is None else env
    url = env.get("AIMASS_DATABASE_URL")
    if url:
        return from_env_url(url, connect)

    port = int(env.get("AIMASS_PG_PROBE_PORT", "5432"))
    users = tuple(
        u
        for u in dict.fromkeys(
            [
                *env.get("AIMASS_PG_PROBE_USERS", "").split(","),
                *DEFAULT_PROBE_USERS,
                getpass.getuser(),
            ]
        )
        if u
    )
    choice, reasons = probe_localhost(port, users, connect)
    if choice:
        return choice

    home = home or Path(env.get("AIMASS_HOME", Path.cwd() / ".aimass"))
    local_port = int(env.get("AIMASS_PG_PORT", "55432"))
    try:
        admin_url = start_local(
            home / "pg",
            port=local_port,
            bindir_hint=env.get("AIMASS_PG_BINDIR"),
            os_user=env.get("AIMASS_PG_OS_USER"),
        )
    except local_cluster.NoBinariesError:
        raise SetupError(
            f"No PostgreSQL found: nothing answered on 127.0.0.1:{port} "
            f"({'; '.join(reasons) or 'no attempt'}), and no PostgreSQL binaries are installed "
            "to start a local cluster. Install PostgreSQL (e.g. `apt-get install postgresql`), "
            "or `pip install pgserver` into .venv, or set AIMASS_DATABASE_URL to a server you have."
        ) from None
    return ServerChoice(admin_url=admin_url, found_by=f"project-local cluster under {home / 'pg'}")
