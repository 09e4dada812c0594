"""Shared DAG defaults: owner, retries, timeouts, and the failure callback every DAG uses."""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from datetime import timedelta

import pendulum

log = logging.getLogger(__name__)

OWNER = "aimass"
# `AIMASS_DAILY_SCHEDULE=none` turns the timetables off (manual and API triggers only),
# e.g. for a test server that must run only the runs it triggers.
DAILY_SCHEDULE = (
    None
    if os.environ.get("AIMASS_DAILY_SCHEDULE", "@daily").lower() == "none"
    else os.environ.get("AIMASS_DAILY_SCHEDULE", "@daily")
)
# Weekly work (model retraining) follows the same switch.
WEEKLY_SCHEDULE = None if DAILY_SCHEDULE is None else "@weekly"
START_DATE = pendulum.datetime(2026, 7, 1, tz="UTC")


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
