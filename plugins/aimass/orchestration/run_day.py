"""Which UTC day (`ds`) a run works on, however it was started.

- a manual or API trigger may name it in the `day` param (see `DAY_PARAM`);
- a run scheduled on Assets takes it from its triggering asset events, whose `extra["ds"]` the
  producing task set with `mark_day`;
- a timetable run, a backfill or `airflow dags test DAG DAY` has it as its logical date.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from airflow.sdk import Param

DAY_KEY = "ds"

DAY_PARAM = Param(
    None,
    type=["null", "string"],
    format="date",
    title="Day (UTC)",
    description=(
        "The data day to work on. Empty: the day of the asset event that triggered the run, "
        "else the run's logical date."
    ),
)


def day_extra(ds: date) -> dict[str, str]:
    """The asset-event extra that tells consumers which day was produced."""
    return {DAY_KEY: ds.isoformat()}


def mark_day(context: Mapping, ds: date, *outlets) -> None:
    """Stamp the day on the events this task emits for `outlets`."""
    for asset in outlets:
        context["outlet_events"][asset].extra = day_extra(ds)


def triggering_days(events: Mapping | None) -> list[date]:
    """Every day carried by the triggering asset events, oldest first."""
    days = {
        event.extra[DAY_KEY]
        for asset_events in (events or {}).values()
        for event in asset_events
        if (event.extra or {}).get(DAY_KEY)
    }
    return sorted(date.fromisoformat(day) for day in days)


def run_day(context: Mapping) -> date:
    """The run's day: the `day` param, else the newest triggering event's day, else `ds`."""
    param = (context.get("params") or {}).get("day")
    if param:
        return date.fromisoformat(str(param))
    days = triggering_days(context.get("triggering_asset_events"))
    if days:
        return days[-1]
    if context.get("ds"):
        return date.fromisoformat(context["ds"])
    raise ValueError(
        "This run has no day to work on: it has no logical date, no `day` parameter and no "
        "triggering asset event naming one. Trigger it with a `day` (YYYY-MM-DD)."
    )
