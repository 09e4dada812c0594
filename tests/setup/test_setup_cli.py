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


def test_wrong_database_url_gives_one_message_and_exit_code_2(tmp_path):
    env = {
        **os.environ,
        "AIMASS_DATABASE_URL": f"postgresql://x@127.0.0.1:{_closed_port()}/db",
        "AIMASS_HOME": str(tmp_path),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "aimass.setup", "--repo-root", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("aimass setup: AIMASS_DATABASE_URL points at")
    assert not (tmp_path / "runtime.env").exists()
