"""A real project-local cluster: initialised, started as an unprivileged user, reused, stopped."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path

import psycopg2
import pytest

from aimass.setup import local_cluster


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def cluster_dir():
    # Under /tmp, world-traversable: as root the cluster runs as an unprivileged user.
    path = Path(tempfile.mkdtemp(prefix="aimass-pg-"))
    path.chmod(0o755)
    yield path / "pg"
    local_cluster.stop(path / "pg")
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow
def test_local_cluster_starts_answers_and_is_reused(cluster_dir):
    try:
        local_cluster.find_bindir()
    except local_cluster.NoBinariesError:
        pytest.skip("no PostgreSQL binaries on this machine (apt-get install postgresql)")
    port = _free_port()
    url = local_cluster.ensure_running(cluster_dir, port=port)
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("show listen_addresses")
        assert cur.fetchone()[0] == "127.0.0.1"
    if os.geteuid() == 0:
        owner = (cluster_dir / "data").stat().st_uid
        assert owner != 0, "PostgreSQL data must belong to an unprivileged user"
    # a second call finds the running cluster instead of failing on the taken port
    assert local_cluster.ensure_running(cluster_dir, port=port) == url
