"""The Airflow pools AI Mass tasks run in, and how they come to exist wherever the DAGs run.

`aimass_warehouse` bounds how many warehouse-heavy tasks (ingestion COPYs, `dbt build`,
training, scoring) hit PostgreSQL at once, across all DAGs. Its size comes from one place:
`AIMASS_WAREHOUSE_POOL_SLOTS` (default 4).

A pool that does not exist fails nothing loudly: the scheduler leaves the tasks that name it in
`scheduled` for ever (a warning in its log, a DAG warning in the UI), while `airflow dags test`
ignores pools and runs them. So the pools are created by `make setup`, by the test platforms,
before `make airflow` starts the scheduler, by the Docker/Helm init jobs, and by the scheduler
itself when it starts (`plugins/aimass_pools.py`):

    python -m aimass.orchestration.pools          # create or resize them (needs AIRFLOW_* env)
    python -m aimass.orchestration.pools --check  # exit 1 naming the missing ones
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

log = logging.getLogger(__name__)

WAREHOUSE_POOL = "aimass_warehouse"
WAREHOUSE_POOL_SLOTS_ENV = "AIMASS_WAREHOUSE_POOL_SLOTS"
DEFAULT_WAREHOUSE_POOL_SLOTS = 4


@dataclass(frozen=True)
class PoolSpec:
    name: str
    slots: int
    description: str


def warehouse_pool_slots(env: Mapping[str, str] = os.environ) -> int:
    """Slots of `aimass_warehouse`, from `AIMASS_WAREHOUSE_POOL_SLOTS`."""
    raw = env.get(WAREHOUSE_POOL_SLOTS_ENV, "").strip()
    if not raw:
        return DEFAULT_WAREHOUSE_POOL_SLOTS
    try:
        slots = int(raw)
    except ValueError:
        slots = 0
    if slots < 1:
        raise ValueError(
            f"{WAREHOUSE_POOL_SLOTS_ENV} must be a whole number of at least 1, got {raw!r}: "
            "set it to how many warehouse-heavy tasks may run at once (default "
            f"{DEFAULT_WAREHOUSE_POOL_SLOTS})."
        )
    return slots


def pool_specs(env: Mapping[str, str] = os.environ) -> dict[str, PoolSpec]:
    """Every pool a DAG in `dags/` may name, with its configured size."""
    return {
        WAREHOUSE_POOL: PoolSpec(
            WAREHOUSE_POOL,
            warehouse_pool_slots(env),
            "AI Mass: warehouse-heavy tasks (ingest, dbt build, train, score); "
            f"size from {WAREHOUSE_POOL_SLOTS_ENV}",
        )
    }


def missing_pools(env: Mapping[str, str] = os.environ) -> list[str]:
    """The declared pools the Airflow metadata database does not have."""
    from airflow.models.pool import Pool
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        existing = set(session.scalars(select(Pool.pool)))
    return sorted(set(pool_specs(env)) - existing)


def ensure_pools(*, resize: bool = True, env: Mapping[str, str] = os.environ) -> dict[str, int]:
    """Create the declared pools in the Airflow metadata database; returns name -> slots.

    `resize=False` only creates missing pools and leaves the size of existing ones alone
    (what the scheduler does at start, so a size set in the UI survives a restart).
    """
    from airflow.models.pool import Pool
    from airflow.utils.session import create_session
    from sqlalchemy import select

    sizes = {}
    with create_session() as session:
        for spec in pool_specs(env).values():
            pool = session.scalar(select(Pool).where(Pool.pool == spec.name))
            if pool is not None and not resize:
                sizes[spec.name] = pool.slots
                continue
            Pool.create_or_update_pool(
                spec.name, spec.slots, spec.description, include_deferred=False, session=session
            )
            if pool is None:
                log.info("created Airflow pool %s with %d slots", spec.name, spec.slots)
            sizes[spec.name] = spec.slots
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m aimass.orchestration.pools", description=__doc__
    )
    parser.add_argument(
        "--check", action="store_true", help="only report missing pools (exit 1 if any)"
    )
    args = parser.parse_args(argv)
    try:
        if args.check:
            missing = missing_pools()
            if missing:
                print(
                    f"Missing Airflow pools: {', '.join(missing)}. Tasks that use them would "
                    "wait in `scheduled` for ever; create them: python -m aimass.orchestration.pools",
                    file=sys.stderr,
                )
                return 1
            print("Airflow pools present: " + ", ".join(sorted(pool_specs())))
            return 0
        sizes = ensure_pools()
    except ValueError as exc:
        print(f"aimass pools: {exc}", file=sys.stderr)
        return 2
    for name, slots in sizes.items():
        print(f"Airflow pool {name}: {slots} slots.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
