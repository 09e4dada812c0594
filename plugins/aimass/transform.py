"""Run the dbt project (`dbt_project/`) against a warehouse database from Python.

`run_dbt` starts the installed `dbt` CLI as a subprocess with connection settings passed only
through environment variables (see `dbt_project/profiles.yml`), a private target and log
directory per call (so concurrent runs against different databases never share files), and
raises `DbtError` naming every failed node with its message.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from psycopg2.extensions import parse_dsn

from aimass.locks import build_lock

log = logging.getLogger(__name__)

PROJECT_DIR_ENV = "AIMASS_DBT_PROJECT_DIR"
PARSE_CACHE_ENV = "AIMASS_DBT_PARSE_CACHE"
VARS_ENV = "AIMASS_DBT_VARS"
FAILED_STATUSES = {"error", "fail", "runtime error"}


class DbtError(RuntimeError):
    """A dbt invocation failed; `failures` lists (node, status, message) per failed node."""

    def __init__(self, message: str, *, failures: list[dict], output: str):
        super().__init__(message)
        self.failures = failures
        self.output = output


@dataclass(frozen=True)
class DbtResult:
    """What one dbt invocation did: its arguments, timing, per-node results and output."""

    args: list[str]
    returncode: int
    seconds: float
    output: str
    results: list[dict] = field(default_factory=list)
    target_path: str | None = None

    @property
    def nodes(self) -> list[str]:
        """Unique ids of every node this run executed."""
        return [r["unique_id"] for r in self.results]

    def nodes_with_status(self, status: str) -> list[str]:
        """Unique ids of the nodes that ended with `status` (success, pass, warn, skipped...)."""
        return [r["unique_id"] for r in self.results if r["status"] == status]


def project_dir() -> Path:
    """The dbt project: `AIMASS_DBT_PROJECT_DIR`, else `<repo>/dbt_project` (two levels above
    the `aimass` package)."""
    override = os.environ.get(PROJECT_DIR_ENV)
    path = Path(override) if override else Path(__file__).resolve().parents[2] / "dbt_project"
    if not (path / "dbt_project.yml").is_file():
        raise FileNotFoundError(
            f"no dbt_project.yml in {path}. Set {PROJECT_DIR_ENV} to the dbt project directory."
        )
    return path


def vars_from_env() -> dict:
    """dbt vars set for every run of this platform: `AIMASS_DBT_VARS`, a JSON object."""
    text = os.environ.get(VARS_ENV)
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise ValueError(
            f"{VARS_ENV} must be a JSON object of dbt vars, such as "
            f'{{"lookback_days": 2}}; it is {text!r}. Fix or unset it.'
        )
    return value


def dbt_var(name: str):
    """A dbt var as every run sees it: `AIMASS_DBT_VARS`, else `dbt_project.yml`'s default."""
    import yaml

    overrides = vars_from_env()
    if name in overrides:
        return overrides[name]
    return yaml.safe_load((project_dir() / "dbt_project.yml").read_text())["vars"][name]


def dbt_executable() -> str:
    """The `dbt` CLI installed beside the running interpreter, else the one on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    if beside.is_file():
        return str(beside)
    found = shutil.which("dbt")
    if not found:
        raise FileNotFoundError(
            "the dbt CLI was not found beside the Python interpreter or on PATH; "
            "install dbt-core and dbt-postgres into this environment."
        )
    return found


def dbt_env(warehouse_url: str) -> dict[str, str]:
    """The `AIMASS_DBT_*` variables `profiles.yml` reads, from a libpq URL or key=value DSN."""
    try:
        params = parse_dsn(warehouse_url)
    except Exception as exc:  # psycopg2.ProgrammingError for malformed input
        raise ValueError(
            f"cannot parse the warehouse URL ({exc}); pass a libpq URL such as "
            "postgresql://user@host:5432/aimass or a DSN 'host=... dbname=...'."
        ) from exc
    missing = [key for key in ("dbname",) if not params.get(key)]
    if missing:
        raise ValueError(f"the warehouse URL names no {', '.join(missing)}; add it to the URL.")
    return {
        "AIMASS_DBT_HOST": params.get("host") or "127.0.0.1",
        "AIMASS_DBT_PORT": params.get("port") or "5432",
        "AIMASS_DBT_USER": params.get("user") or os.environ.get("PGUSER") or "postgres",
        "AIMASS_DBT_PASSWORD": params.get("password") or "",
        "AIMASS_DBT_DBNAME": params["dbname"],
    }


def _parse_cache_file(project: Path) -> Path:
    """Where the last parsed manifest of `project` is kept between calls (speeds up parsing;
    dbt itself re-parses whatever changed)."""
    root = os.environ.get(PARSE_CACHE_ENV) or os.path.join(tempfile.gettempdir(), "aimass-dbt")
    key = hashlib.sha256(str(project.resolve()).encode()).hexdigest()[:16]
    return Path(root) / key / "partial_parse.msgpack"


def _read_results(target: Path) -> list[dict]:
    path = target / "run_results.json"
    if not path.is_file():
        return []
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    return [
        {
            "unique_id": r.get("unique_id"),
            "status": str(r.get("status")),
            "message": r.get("message"),
            "failures": r.get("failures"),
            "execution_time": r.get("execution_time"),
            "rows_affected": (r.get("adapter_response") or {}).get("rows_affected"),
            "relation_name": r.get("relation_name"),
        }
        for r in doc.get("results", [])
    ]


def _failure_message(args: list[str], returncode: int, failures: list[dict], output: str) -> str:
    if failures:
        lines = []
        for f in failures:
            line = f"  {f['unique_id']} [{f['status']}]: {(f['message'] or '').strip()}"
            if f["unique_id"].startswith("test.") and f.get("relation_name"):
                line += f" (failing rows in {f['relation_name']})"
            lines.append(line)
        detail = "\n".join(lines)
    else:
        tail = "\n".join(output.strip().splitlines()[-25:])
        detail = f"  no node failed; dbt output ends with:\n{tail}"
    advice = "Fix the model or the data named above, then run again."
    return f"dbt {' '.join(args)} failed (exit code {returncode}):\n{detail}\n{advice}"


def run_dbt(
    args: list[str],
    warehouse_url: str,
    *,
    vars: dict | None = None,
    target_path: str | None = None,
) -> DbtResult:
    """Run `dbt <args>` in the project against `warehouse_url`; raise `DbtError` on failure.

    `vars` go on top of `AIMASS_DBT_VARS`. Each call writes its artifacts and logs to
    `target_path` (default: a fresh temporary directory, removed afterwards), so runs against
    different databases can go in parallel.
    """
    project = project_dir()
    own_target = target_path is None
    target = Path(target_path or tempfile.mkdtemp(prefix="aimass-dbt-"))
    target.mkdir(parents=True, exist_ok=True)
    (target / "run_results.json").unlink(missing_ok=True)
    cache = _parse_cache_file(project)
    if cache.is_file() and not (target / "partial_parse.msgpack").exists():
        shutil.copyfile(cache, target / "partial_parse.msgpack")
    command = [
        dbt_executable(),
        *args,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(target),
        "--log-path",
        str(target / "logs"),
    ]
    vars = {**vars_from_env(), **(vars or {})}
    if vars:
        command += ["--vars", json.dumps(vars, default=str)]
    env = {
        **os.environ,
        **dbt_env(warehouse_url),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_USE_COLORS": "false",
        "DBT_PRINTER_WIDTH": "120",
    }
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            command, cwd=project, env=env, capture_output=True, text=True, check=False
        )
        elapsed = time.perf_counter() - started
        output = proc.stdout + proc.stderr
        results = _read_results(target)
        _remember_parse(target, cache)
        if proc.returncode != 0:
            failures = [r for r in results if r["status"] in FAILED_STATUSES]
            raise DbtError(
                _failure_message(args, proc.returncode, failures, output),
                failures=failures,
                output=output,
            )
        return DbtResult(
            args=list(args),
            returncode=proc.returncode,
            seconds=elapsed,
            output=output,
            results=results,
            target_path=None if own_target else str(target),
        )
    finally:
        if own_target:
            shutil.rmtree(target, ignore_errors=True)


def _remember_parse(target: Path, cache: Path) -> None:
    """Keep this run's parsed manifest for the next call (atomic replace, so a concurrent
    reader sees either the old or the new file)."""
    parsed = target / "partial_parse.msgpack"
    if not parsed.is_file():
        return
    cache.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache.parent, suffix=".tmp")
    os.close(fd)
    shutil.copyfile(parsed, tmp)
    os.replace(tmp, cache)


def dbt_build(
    warehouse_url: str,
    *,
    vars: dict | None = None,
    full_refresh: bool = False,
    select: str | list[str] | None = None,
) -> DbtResult:
    """`dbt build` (models, unit tests and data tests in dependency order).

    Under the warehouse's build lock (`aimass.locks`): a second build (a double trigger, a
    manual run beside the scheduled one) waits for the first, and loads into `raw` wait for
    the build, so every model of one build reads the same raw data."""
    args = ["build"]
    if full_refresh:
        args.append("--full-refresh")
    if select:
        args += ["--select", *([select] if isinstance(select, str) else select)]
    with build_lock(warehouse_url):
        return run_dbt(args, warehouse_url, vars=vars)
