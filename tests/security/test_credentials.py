"""Credentials: none in the repository, `.env` ignored, connections from the environment, and
no default or well-known password accepted where the deployment creates Airflow users."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CREATE_USERS = REPO_ROOT / "docker" / "scripts" / "create-users.sh"

# Shapes of real credentials.
TOKEN_PATTERNS = {
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "JWT": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
}
# `password: hunter2`, `AIMASS_PII_KEY=...`, `"token": "..."`: a secret-named setting with a
# literal value.
ASSIGNMENT = re.compile(
    r"""(?ix)
    \b(?P<key>[\w.-]*(?:password|passwd|secret|token|api_key|apikey|pii_key|fernet_key|jwt)[\w-]*)
    ["']?\s*[:=]\s*["']?(?P<value>[^\s"',;)}\]]{6,})"""
)
# `scheme://user:secret@host`
URL_PASSWORD = re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:(?P<value>[^@\s/'\"]+)@")
# Values that are placeholders, references or code, not secrets.
NOT_A_SECRET = re.compile(
    r"""(?ix)^(?:
      .*(?:change_?me|placeholder|example|your[_-]|xxx|\*\*\*|<|\$|\{|%\(|redacted).*
      | (?:password|passwd|secret|token|pii_key|none|null|true|false|user|pass)
      | [A-Z_]+                                  # an environment variable's name
      | [\w.]*\(.*                               # code: secrets.token_hex(16), (_set(...
      | (?:os|env|self|settings|params|conn|p|cfg|config|args|kwargs|request)\b[\w.\[\]'"]*
      | [\w.]+\[.*                               # an item lookup
      | [a-z_]+[_.][a-z0-9_.]*                   # a name or attribute: conn.password
      | =?[\d.]+                                 # a version pin
    )$"""
)
# Keys that name where a secret lives (a Kubernetes Secret and its key), not the secret.
REFERENCE_KEY = re.compile(r"(?i).*(?:name|secretkey)$")
# Fake credentials that tests use or plant on purpose (they protect nothing).
FAKE_CREDENTIALS = {
    "test-pii-key-0123456789abcdef",
    "another-pii-key-9876543210fedcba",
    "test-token-123",
    "s3cret-pw-123",
    "p%40ss",
    "abc123",
    "s3cret",
    "hunter2",
    "hunter22",
    "Wh-9f3c1e7a5b2d",
}


def tracked_text_files() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, check=True
    ).stdout
    files = []
    for name in out.decode().split("\0"):
        path = REPO_ROOT / name
        if not name or not path.is_file() or path.suffix in {".png", ".svg", ".ico", ".parquet"}:
            continue
        if path == Path(__file__).resolve():  # plants secrets on purpose to test the scan
            continue
        files.append(path)
    return files


def secret_findings(path: Path, text: str) -> list[str]:
    """Every line of `text` that looks like it holds a credential."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        where = f"{path.relative_to(REPO_ROOT)}:{number}"
        for name, pattern in TOKEN_PATTERNS.items():
            if pattern.search(line):
                found.append(f"{where}: {name}")
        for pattern in (ASSIGNMENT, URL_PASSWORD):
            for match in pattern.finditer(line):
                value = match.group("value").removesuffix("\\n").strip("\"'")
                key = match.groupdict().get("key") or ""
                if value in FAKE_CREDENTIALS or NOT_A_SECRET.match(value):
                    continue
                if REFERENCE_KEY.match(key):
                    continue
                found.append(f"{where}: {line.strip()[:120]}")
    return found


def test_no_secret_in_tracked_files():
    findings = []
    files = tracked_text_files()
    assert len(files) > 100
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        findings += secret_findings(path, text)
    assert findings == []


@pytest.mark.parametrize(
    "line",
    [
        "AIMASS_PII_KEY=9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        'password: "hunter2hunter2"',
        "AIMASS_WAREHOUSE_URL=postgresql://aimass:s3cr3t-Pw@db:5432/aimass",
        "aws_key = AKIAABCDEFGHIJKLMNOP",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        '"jwt_secret": "0a1b2c3d4e5f60718293"',
    ],
)
def test_the_scan_finds_a_planted_secret(line):
    assert secret_findings(REPO_ROOT / "planted.env", line + "\n")


def test_dotenv_files_are_ignored_and_not_tracked():
    for name in (".env", "docker/.env", ".aimass/runtime.env"):
        ignored = subprocess.run(
            ["git", "check-ignore", "-q", "--no-index", name], cwd=REPO_ROOT, check=False
        )
        assert ignored.returncode == 0, f"{name} is not git-ignored"
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert [n for n in tracked if Path(n).name == ".env" or n.endswith("runtime.env")] == []


def test_the_warehouse_connection_comes_from_the_environment(monkeypatch):
    from aimass.orchestration.connections import warehouse_dsn

    conn = {
        "conn_type": "postgres",
        "host": "db.internal",
        "port": 6543,
        "login": "pipeline",
        "password": "from-the-environment",
        "schema": "aimass_prod",
    }
    monkeypatch.setenv("AIRFLOW_CONN_AIMASS_WAREHOUSE", json.dumps(conn))
    dsn = warehouse_dsn()
    for part in ("host=db.internal", "port=6543", "user=pipeline", "dbname=aimass_prod"):
        assert part in dsn
    assert "from-the-environment" in dsn


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    from aimass.settings import ConfigError, load_settings

    monkeypatch.setenv("AIMASS_WAREHOUSE_URL", "postgresql://pipeline@db.internal/aimass")
    monkeypatch.setenv("AIMASS_PII_KEY", "k" * 32)
    settings = load_settings()
    assert settings.require_warehouse_url() == "postgresql://pipeline@db.internal/aimass"
    assert settings.require_pii_key() == b"k" * 32
    monkeypatch.delenv("AIMASS_PII_KEY")
    with pytest.raises(ConfigError, match="AIMASS_PII_KEY is missing"):
        load_settings().require_pii_key()


# --- Airflow users created by the deployment (docker/scripts/create-users.sh) -----------------


@pytest.fixture
def fake_airflow(tmp_path):
    """An `airflow` on PATH that records the users it is asked to create."""
    record = tmp_path / "created.txt"
    stub = tmp_path / "bin" / "airflow"
    stub.parent.mkdir()
    stub.write_text(f'#!/usr/bin/env bash\necho "$@" >> {record}\n')
    stub.chmod(0o755)
    return stub.parent, record


def _create_users(fake_airflow, admin_password: str) -> subprocess.CompletedProcess:
    bindir, _ = fake_airflow
    env = {"PATH": f"{bindir}:{os.environ['PATH']}"}
    for prefix, user, password in (
        ("AIRFLOW_ADMIN", "owner", admin_password),
        ("AIRFLOW_OPERATOR", "operator", "Op-3b9f1c27d4e8a6"),
        ("AIRFLOW_ANALYST", "analyst", "Vw-8c2e4a91f07d35"),
    ):
        env |= {
            f"{prefix}_USERNAME": user,
            f"{prefix}_PASSWORD": password,
            f"{prefix}_EMAIL": f"{user}@example.com",
        }
    return subprocess.run(
        ["bash", str(CREATE_USERS)], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "set AIRFLOW_ADMIN_USERNAME, AIRFLOW_ADMIN_PASSWORD"),
        ("admin", "shorter than 12"),
        ("airflow", "shorter than 12"),
        ("password", "shorter than 12"),
        ("Password1234!", "default or well-known password"),
        ("airflowairflow", "default or well-known password"),
        ("admin-admin-admin", "default or well-known password"),
        ("CHANGEME-2026", "default or well-known password"),
        ("123456789012", "default or well-known password"),
        ("owner-owner-99", "default or well-known password"),
    ],
)
def test_create_users_refuses_default_and_well_known_passwords(fake_airflow, password, message):
    proc = _create_users(fake_airflow, password)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert not fake_airflow[1].exists(), "no user may be created"


def test_create_users_accepts_a_random_password(fake_airflow):
    proc = _create_users(fake_airflow, "q7Rz-4kWm-9xTf-2bLd")
    assert proc.returncode == 0, proc.stderr
    created = fake_airflow[1].read_text().splitlines()
    assert [line.split("--username ")[1].split()[0] for line in created] == [
        "owner",
        "operator",
        "analyst",
    ]
