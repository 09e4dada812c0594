"""The local CeleryExecutor settings: broker, result backend on the metadata database, checks."""

from __future__ import annotations

import socket

import pytest

from aimass.orchestration.celery_settings import (
    BrokerUnavailable,
    celery_settings,
    check_broker,
    result_backend_url,
)

METADATA_DSN = "host=127.0.0.1 port=5432 user=airflow password=p@ss dbname=airflow"


def test_result_backend_is_the_metadata_database_through_sqlalchemy():
    assert (
        result_backend_url(METADATA_DSN) == "db+postgresql://airflow:p%40ss@127.0.0.1:5432/airflow"
    )


def test_settings_select_the_celery_executor_with_redis_and_the_execution_api():
    env = celery_settings(metadata_dsn=METADATA_DSN, api_server_url="http://127.0.0.1:9090/")
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://127.0.0.1:6379/0"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == result_backend_url(METADATA_DSN)
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:9090/execution/"
    assert int(env["AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT"]) >= 3 * 3600


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"broker_url": "amqp://127.0.0.1:5672//"}, "redis://"),
        ({"worker_concurrency": 0}, "worker_concurrency"),
    ],
)
def test_settings_reject_what_this_deployment_does_not_run(kwargs, message):
    with pytest.raises(ValueError, match=message):
        celery_settings(metadata_dsn=METADATA_DSN, **kwargs)


def test_check_broker_names_the_url_when_nothing_answers():
    with socket.socket() as s:  # a port nobody listens on: bound, never listening
        s.bind(("127.0.0.1", 0))
        url = f"redis://127.0.0.1:{s.getsockname()[1]}/0"
        with pytest.raises(BrokerUnavailable, match=url):
            check_broker(url, timeout_s=1)
