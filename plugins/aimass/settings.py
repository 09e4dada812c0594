"""One place for runtime configuration: every value comes from the environment.

Secrets (database URLs with passwords, the PII key) are never read from files in the
repository; `make` writes a git-ignored `.aimass/runtime.env` for local runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

WAREHOUSE_CONN_ID = "aimass_warehouse"


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says which and what to do."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    home: Path
    warehouse_url: str | None
    landing_uri: str
    pii_key: str | None

    def require_warehouse_url(self) -> str:
        if not self.warehouse_url:
            raise ConfigError(
                "AIMASS_WAREHOUSE_URL is not set. Run `make setup` (it writes "
                ".aimass/runtime.env) or export it, e.g. postgresql://user@host:5432/aimass."
            )
        return self.warehouse_url

    def require_pii_key(self) -> bytes:
        if not self.pii_key or len(self.pii_key) < 16:
            raise ConfigError(
                "AIMASS_PII_KEY is missing or shorter than 16 characters. It keys the "
                "pseudonyms of email, phone, IP and device ids; set it in the environment "
                "(`make setup` generates one into .aimass/runtime.env)."
            )
        return self.pii_key.encode()


def load_settings() -> Settings:
    """Read settings from the environment (call at run time, never at import time)."""
    home = Path(_env("AIMASS_HOME", str(Path.cwd() / ".aimass"))).resolve()
    return Settings(
        home=home,
        warehouse_url=_env("AIMASS_WAREHOUSE_URL"),
        landing_uri=_env("AIMASS_LANDING_URI", (home / "landing").as_uri()),
        pii_key=_env("AIMASS_PII_KEY"),
    )
