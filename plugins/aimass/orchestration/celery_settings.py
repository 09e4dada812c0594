"""CeleryExecutor settings for running Airflow workers on this machine (Redis broker, results in
the Airflow metadata database), as `AIRFLOW__…` environment variables.

They layer on top of `aimass.setup.runtime_env.airflow_settings`, which selects the LocalExecutor;
apply both, this one last, to scale task execution out to `airflow celery worker` processes.

Tasks go to Celery queue `default` unless a task names its own (`@task(queue=...)`); workers
listen with `airflow celery worker --queues default`. Airflow 3.3.2 does not carry a changed
`[operators] default_queue` through DAG serialization (tasks still arrive on `default`), so it is
left alone here.
"""

from __future__ import annotations

from importlib import metadata
from urllib.parse import urlsplit

from aimass.setup.runtime_env import dsn_to_url

DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"
CELERY_EXECUTOR = "CeleryExecutor"
VISIBILITY_TIMEOUT_S = 6 * 3600


class BrokerUnavailable(RuntimeError):
    """The Celery broker does not answer; the message says where it was looked for."""


class CeleryExecutorUnavailable(RuntimeError):
    """The installed Celery provider cannot load; the message names the versions and the fix."""


def result_backend_url(metadata_dsn: str) -> str:
    """Celery's SQLAlchemy result backend URL (`db+postgresql://…`) for the metadata database."""
    return "db+" + dsn_to_url(metadata_dsn, "postgresql")


def celery_settings(
    *,
    metadata_dsn: str,
    broker_url: str = DEFAULT_BROKER_URL,
    worker_concurrency: int = 2,
    api_server_url: str = "http://127.0.0.1:8080",
) -> dict[str, str]:
    """Environment that switches Airflow to the CeleryExecutor.

    `api_server_url` is the api-server whose Execution API the workers report task state to.
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
        # longer than any DAG run may take, so Redis never re-delivers a task still running
        "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT_S),
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


def check_celery_executor() -> None:
    """Raise `CeleryExecutorUnavailable` unless the Celery provider's executor module imports."""
    try:
        import airflow.providers.celery.executors.celery_executor_utils  # noqa: F401
    except ImportError as exc:
        versions = ", ".join(
            f"{name} {_version(name)}" for name in ("apache-airflow-providers-celery", "celery")
        )
        raise CeleryExecutorUnavailable(
            f"The CeleryExecutor cannot load ({exc}) with {versions}. Pin a celery release the "
            "provider supports in requirements.in (celery 5.7 removed what provider 3.26 "
            "imports: `celery<5.7`) and re-compile requirements.txt."
        ) from exc


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "(not installed)"
