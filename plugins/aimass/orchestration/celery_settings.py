"""CeleryExecutor settings for running Airflow workers on this machine (Redis broker, results in
the Airflow metadata database), as `AIRFLOW__…` environment variables.

They layer on top of `aimass.setup.runtime_env.airflow_settings`, which selects the LocalExecutor;
apply both, this one last, to scale task execution out to `airflow celery worker` processes.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aimass.setup.runtime_env import dsn_to_url

DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"
DEFAULT_QUEUE = "default"
CELERY_EXECUTOR = "CeleryExecutor"


class BrokerUnavailable(RuntimeError):
    """The Celery broker does not answer; the message says where it was looked for."""


def result_backend_url(metadata_dsn: str) -> str:
    """Celery's SQLAlchemy result backend URL (`db+postgresql://…`) for the metadata database."""
    return "db+" + dsn_to_url(metadata_dsn, "postgresql")


def celery_settings(
    *,
    metadata_dsn: str,
    broker_url: str = DEFAULT_BROKER_URL,
    queue: str = DEFAULT_QUEUE,
    worker_concurrency: int = 2,
    api_server_url: str = "http://127.0.0.1:8080",
) -> dict[str, str]:
    """Environment that switches Airflow to the CeleryExecutor.

    `queue` is where tasks are sent unless they name another one (workers listen with `-q`);
    `api_server_url` is the api-server whose Execution API workers report task state to.
    """
    if worker_concurrency < 1:
        raise ValueError(f"worker_concurrency must be at least 1, got {worker_concurrency}")
    if urlsplit(broker_url).scheme not in ("redis", "rediss"):
        raise ValueError(f"broker_url must be a redis:// or rediss:// URL, got {broker_url!r}")
    return {
        "AIRFLOW__CORE__EXECUTOR": CELERY_EXECUTOR,
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": result_backend_url(metadata_dsn),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(worker_concurrency),
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": api_server_url.rstrip("/") + "/execution/",
    }


def check_broker(broker_url: str = DEFAULT_BROKER_URL, timeout_s: float = 2.0) -> None:
    """Raise `BrokerUnavailable` unless the Redis broker answers PING."""
    import redis

    try:
        client = redis.Redis.from_url(broker_url, socket_connect_timeout=timeout_s)
        try:
            client.ping()
        finally:
            client.close()
    except redis.RedisError as exc:
        raise BrokerUnavailable(
            f"No Redis answers at {broker_url} ({exc}). Start one (`redis-server`), or set "
            "AIRFLOW__CELERY__BROKER_URL to a reachable broker."
        ) from exc
