"""runtime.env: sourcing it sets the platform's variables, but a landing URI the user exported
stays (setup's `<home>/landing` is only the default)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from aimass.setup.runtime_env import platform_settings, read_env_file, write_env_file

HOME = Path("/srv/aimass home")


def _values(**overrides) -> dict[str, str]:
    values = platform_settings(
        home=HOME,
        admin_dsn="host=127.0.0.1 user=postgres dbname=postgres",
        warehouse_dsn="host=127.0.0.1 user=postgres dbname=aimass",
        pii_key="k" * 32,
        **overrides,
    )
    return values


def _sourced(env_file: Path, variable: str, environment: dict[str, str]) -> str:
    """The value of `variable` after `set -a; . env_file; set +a` in bash."""
    script = f'set -a; . "{env_file}"; set +a; printf %s "${variable}"'
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIMASS_")} | environment
    return subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout


def test_an_exported_landing_uri_wins_over_runtime_env(tmp_path):
    env_file = tmp_path / "runtime.env"
    write_env_file(env_file, _values())
    mine = "s3://my-bucket/exports/landing"
    assert _sourced(env_file, "AIMASS_LANDING_URI", {"AIMASS_LANDING_URI": mine}) == mine
    default = (HOME / "landing").as_uri()
    assert _sourced(env_file, "AIMASS_LANDING_URI", {}) == default
    assert _sourced(env_file, "AIMASS_LANDING_URI", {"AIMASS_LANDING_URI": ""}) == default
    # every other variable is set by the file, whatever the environment had
    stale = {"AIMASS_WAREHOUSE_URL": "postgresql://elsewhere/db"}
    assert _sourced(env_file, "AIMASS_WAREHOUSE_URL", stale) == _values()["AIMASS_WAREHOUSE_URL"]


def test_the_file_reads_back_as_written(tmp_path):
    env_file = tmp_path / "runtime.env"
    values = _values(landing_uri="file:///data/shop export/landing")
    write_env_file(env_file, values)
    assert read_env_file(env_file) == values
    assert "export AIMASS_LANDING_URI" not in env_file.read_text().replace("|| export", "")


def test_setup_keeps_the_landing_uri_it_was_given_as_the_default():
    assert _values(landing_uri="file:///x")["AIMASS_LANDING_URI"] == "file:///x"
    assert _values()["AIMASS_LANDING_URI"] == (HOME / "landing").as_uri()
