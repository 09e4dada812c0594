"""Creates the AI Mass Airflow pools when a scheduler, triggerer or dag-processor starts.

The scheduler never runs a task whose pool is missing (it stays `scheduled`, with only a warning
in the scheduler log), so every deployment that loads these plugins gets the pools, whatever set
it up. Existing pools keep their size; `python -m aimass.orchestration.pools` sets it from
`AIMASS_WAREHOUSE_POOL_SLOTS`.
"""

from __future__ import annotations

import logging

from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin

log = logging.getLogger(__name__)


class PoolsOnStart:
    @hookimpl
    def on_starting(self, component) -> None:
        # Airflow jobs (table `job`) only: task processes also start listeners, without a
        # metadata database
        if getattr(component, "__tablename__", None) != "job":
            return
        from aimass.orchestration.pools import ensure_pools

        try:
            ensure_pools(resize=False)
        except Exception:  # a listener must not stop the component; the log says why
            log.exception(
                "could not create the AI Mass pools; run python -m aimass.orchestration.pools"
            )


class AimassPoolsPlugin(AirflowPlugin):
    name = "aimass_pools"
    listeners = [PoolsOnStart()]
