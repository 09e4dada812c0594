"""Shared DAG defaults: owner, retries, timeouts, and the failure callback every DAG uses."""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from datetime import timedelta

import pendulum
from airflow.timetables.interval import CronDataIntervalTimetable

log = logging.getLogger(__name__)

OWNER = "aimass"


def daily_timetable(cron: str) -> CronDataIntervalTimetable:
    """A run per UTC day *after* the day is over: the run that starts at midnight has the day
    that just ended as its data interval and logical date (`ds`), so it loads a complete day
    (Airflow 3's plain cron strings would give it the day that just began)."""
    return CronDataIntervalTimetable(cron, timezone="UTC")


# `AIMASS_DAILY_SCHEDULE=none` turns the timetables off (manual and API triggers only),
# e.g. for a test server that must run only the runs it triggers; any other value is a cron
# expression or preset (default `@daily`).
_DAILY = os.environ.get("AIMASS_DAILY_SCHEDULE", "@daily")
DAILY_SCHEDULE = None if _DAILY.lower() == "none" else daily_timetable(_DAILY)
# Weekly work (model retraining) follows the same switch.
WEEKLY_SCHEDULE = None if DAILY_SCHEDULE is None else "@weekly"
# Whether the daily ingestion generates the built-in simulated shop by default (its
# `use_simulated_shop` parameter; scheduled runs use the default): set
# `AIMASS_USE_SIMULATED_SHOP=false` once your own exports land, so the schedule loads them.
USE_SIMULATED_SHOP = os.environ.get("AIMASS_USE_SIMULATED_SHOP", "true").strip().lower() not in (
    "false",
    "0",
    "no",
    "off",
)
# Far in the past, so that no start date stands in the way of an old day: a run for a logical
# date before a DAG's start_date gets no task instances and "succeeds" having done nothing.
# With catchup off the scheduler still creates only the newest interval's run (no backfill of
# the years in between); past days are an explicit backfill or trigger.
START_DATE = pendulum.datetime(1970, 1, 1, tz="UTC")


def failure_summary(context) -> str:
    """One line: which DAG, task and day failed, and why."""
    ti = context.get("task_instance") or context.get("ti")
    exc = context.get("exception")
    if exc is not None:
        text = str(exc).strip()
        cause = text.splitlines()[0] if text else type(exc).__name__
    else:
        cause = context.get("reason") or "see the task log"
    dag_id = getattr(ti, "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    return f"aimass failure: {dag_id}.{task_id} for {context.get('ds', '?')}: {cause}"


def on_failure(context) -> None:
    """Log the one-line cause; also POST it to `AIMASS_ALERT_WEBHOOK_URL` when that is set."""
    line = failure_summary(context)
    log.error(line)
    url = os.environ.get("AIMASS_ALERT_WEBHOOK_URL")
    if not url:
        return
    body = json.dumps({"text": line}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10):
            pass
    except OSError as exc:  # the alert must not hide the original failure
        log.error("could not post the failure alert to the webhook: %s", exc)


DEFAULT_ARGS = {
    "owner": OWNER,
    # `AIMASS_TASK_RETRIES=0` makes one-off runs (the demo, tests) fail fast instead of waiting.
    "retries": int(os.environ.get("AIMASS_TASK_RETRIES", "2")),
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=20),
    "execution_timeout": timedelta(hours=1),
    "on_failure_callback": on_failure,
}

DAG_DEFAULTS = {
    "start_date": START_DATE,
    "catchup": False,
    "max_active_runs": 1,
    "dagrun_timeout": timedelta(hours=3),
    "default_args": DEFAULT_ARGS,
}
