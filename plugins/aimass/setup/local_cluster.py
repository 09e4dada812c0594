"""A project-local PostgreSQL cluster under `<AIMASS_HOME>/pg`, for machines without a server.

Binaries come from, in order: `AIMASS_PG_BINDIR`, `pg_config --bindir` on PATH, Debian's
`/usr/lib/postgresql/<version>/bin`, the `pgserver` package's bundled build. `initdb` and
`postgres` refuse to run as root, so as root the cluster runs as an unprivileged system user
(`AIMASS_PG_OS_USER`, else `postgres` if it exists, else a system user `aimass-pg` is created).
The cluster listens on 127.0.0.1 only, with trust auth for local development.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
from pathlib import Path

import psycopg2
from psycopg2.extensions import make_dsn

from aimass.setup.errors import SetupError

FALLBACK_OS_USER = "aimass-pg"


class NoBinariesError(SetupError):
    """No `initdb`/`pg_ctl` could be found anywhere."""


def candidate_bindirs(hint: str | None = None) -> list[Path]:
    """Directories that may hold `initdb` and `pg_ctl`, in the documented order."""
    candidates: list[Path] = []
    if hint:
        candidates.append(Path(hint))
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    debian = Path("/usr/lib/postgresql")
    if debian.is_dir():
        versions = sorted(
            (p for p in debian.iterdir() if p.name.isdigit()),
            key=lambda p: int(p.name),
            reverse=True,
        )
        candidates += [v / "bin" for v in versions]
    try:
        import pgserver  # noqa: PLC0415 - optional fallback

        candidates.append(Path(pgserver.__file__).parent / "pginstall" / "bin")
    except ImportError:
        pass
    return candidates


def find_bindir(hint: str | None = None, candidates: list[Path] | None = None) -> Path:
    candidates = candidate_bindirs(hint) if candidates is None else candidates
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    raise NoBinariesError("no PostgreSQL binaries (initdb, pg_ctl) found")


def admin_url_for(port: int) -> str:
    return make_dsn(host="127.0.0.1", port=str(port), user="postgres", dbname="postgres")


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def _answers_as_postgres(port: int) -> bool:
    try:
        psycopg2.connect(admin_url_for(port), connect_timeout=3).close()
    except psycopg2.Error:
        return False
    return True


def _os_user(requested: str | None) -> str | None:
    """The unprivileged user to run PostgreSQL as, or None to run as ourselves (not root)."""
    if os.geteuid() != 0:
        return None
    for name in (requested, "postgres"):
        if not name:
            continue
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            if name == requested:
                raise SetupError(
                    f"AIMASS_PG_OS_USER={requested} does not exist on this machine. Create it "
                    "(useradd --system) or unset AIMASS_PG_OS_USER."
                ) from None
    try:
        pwd.getpwnam(FALLBACK_OS_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                FALLBACK_OS_USER,
            ],
            check=True,
        )
    return FALLBACK_OS_USER


def _run(cmd: list[str], os_user: str | None) -> subprocess.CompletedProcess:
    if os_user:
        cmd = ["runuser", "-u", os_user, "--", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True)


def _check_reachable(path: Path, os_user: str) -> None:
    probe = _run(["test", "-w", str(path)], os_user)
    if probe.returncode != 0:
        raise SetupError(
            f"PostgreSQL must run as the unprivileged user {os_user!r}, which cannot write to "
            f"{path}. Set AIMASS_HOME to a directory it can reach (e.g. /tmp/aimass), or set "
            "AIMASS_DATABASE_URL to an existing server."
        )


def ensure_running(
    pg_dir: Path, *, port: int, bindir_hint: str | None = None, os_user: str | None = None
) -> str:
    """Start (initialising on first use) the local cluster; return its admin DSN."""
    pg_dir = Path(pg_dir).resolve()
    data = pg_dir / "data"
    if (data / "PG_VERSION").exists() and _answers_as_postgres(port):
        return admin_url_for(port)
    if port_in_use(port):
        raise SetupError(
            f"Port {port} on 127.0.0.1 is already taken by another program, so the local "
            f"PostgreSQL cluster cannot start there. Set AIMASS_PG_PORT to a free port, or stop "
            "the program using it, then run setup again."
        )
    bindir = find_bindir(bindir_hint)
    user = _os_user(os_user)
    pg_dir.mkdir(parents=True, exist_ok=True)
    if user:
        shutil.chown(pg_dir, user=user)
        for child in pg_dir.rglob("*"):
            shutil.chown(child, user=user)
        _check_reachable(pg_dir, user)
    if not (data / "PG_VERSION").exists():
        init = _run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            user,
        )
        if init.returncode != 0:
            raise SetupError(f"initdb failed for {data}:\n{init.stderr.strip()}")
    start = _run(
        [
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(pg_dir / "server.log"),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''",
            "start",
        ],
        user,
    )
    if start.returncode != 0 or not _answers_as_postgres(port):
        log_tail = ""
        if (pg_dir / "server.log").exists():
            log_tail = "\n".join((pg_dir / "server.log").read_text().splitlines()[-10:])
        raise SetupError(
            f"Could not start the local PostgreSQL cluster in {data} on port {port}:\n"
            f"{start.stderr.strip()}\n{log_tail}\nSee {pg_dir / 'server.log'}."
        )
    return admin_url_for(port)


def stop(pg_dir: Path, *, bindir_hint: str | None = None, os_user: str | None = None) -> None:
    """Stop the local cluster if it runs (fast shutdown)."""
    data = Path(pg_dir).resolve() / "data"
    if not (data / "postmaster.pid").exists():
        return
    _run(
        [str(find_bindir(bindir_hint) / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
        _os_user(os_user),
    )
