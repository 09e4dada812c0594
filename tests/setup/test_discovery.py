"""PostgreSQL discovery: the order of sources and one clear message per bad setup state."""

from __future__ import annotations

import socket

import pytest

from aimass.setup import discovery, local_cluster
from aimass.setup.errors import SetupError
from aimass.testing import admin_url


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _never_start(*args, **kwargs):
    raise AssertionError("the local cluster must not be started when a server was found")


def test_env_url_wins_when_it_works():
    choice = discovery.find_server({"AIMASS_DATABASE_URL": admin_url()}, start_local=_never_start)
    assert choice.found_by == "AIMASS_DATABASE_URL"
    assert choice.admin_url == admin_url()


def test_wrong_env_url_is_an_error_naming_the_url_and_hiding_the_password():
    url = f"postgresql://someone:s3cret@127.0.0.1:{_closed_port()}/aimass"
    with pytest.raises(SetupError) as err:
        discovery.find_server({"AIMASS_DATABASE_URL": url}, start_local=_never_start)
    message = str(err.value)
    assert "AIMASS_DATABASE_URL" in message and "connecting failed" in message
    assert "s3cret" not in message and "***" in message


def test_unparsable_env_url_is_an_error():
    with pytest.raises(SetupError, match="not a valid PostgreSQL URL"):
        discovery.find_server({"AIMASS_DATABASE_URL": "not a url at all"})


def test_localhost_server_is_found_without_env_url():
    port = admin_url().split("port=")[1].split()[0] if "port=" in admin_url() else "5432"
    choice = discovery.find_server({"AIMASS_PG_PROBE_PORT": port}, start_local=_never_start)
    assert choice.found_by == f"server on 127.0.0.1:{port}"


def test_local_cluster_is_next_when_nothing_answers(tmp_path):
    started = {}

    def fake_start(pg_dir, **kwargs):
        started.update(kwargs, pg_dir=pg_dir)
        return "host=127.0.0.1 port=55999 user=postgres dbname=postgres"

    env = {"AIMASS_PG_PROBE_PORT": str(_closed_port()), "AIMASS_PG_PORT": "55999"}
    choice = discovery.find_server(env, home=tmp_path, start_local=fake_start)
    assert started["pg_dir"] == tmp_path / "pg" and started["port"] == 55999
    assert choice.found_by.startswith("project-local cluster")


def test_no_server_and_no_binaries_says_what_to_install(tmp_path):
    def no_binaries(*args, **kwargs):
        raise local_cluster.NoBinariesError("none")

    env = {"AIMASS_PG_PROBE_PORT": str(_closed_port())}
    with pytest.raises(SetupError) as err:
        discovery.find_server(env, home=tmp_path, start_local=no_binaries)
    assert "No PostgreSQL found" in str(err.value)
    assert "apt-get install postgresql" in str(err.value) and "pgserver" in str(err.value)


def test_taken_port_is_refused_with_a_clear_message(tmp_path):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(SetupError, match=f"Port {port} on 127.0.0.1 is already taken"):
            local_cluster.ensure_running(tmp_path / "pg", port=port)


def test_find_bindir_reports_missing_binaries(tmp_path):
    with pytest.raises(local_cluster.NoBinariesError):
        local_cluster.find_bindir(candidates=[tmp_path])
    assert str(tmp_path) in map(str, local_cluster.candidate_bindirs(str(tmp_path)))
