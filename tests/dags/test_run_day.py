"""The day a run works on, for each way a run can start."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from aimass.orchestration.run_day import day_extra, run_day, triggering_days


def _events(*days):
    return {"marts.x": [SimpleNamespace(extra=day_extra(date.fromisoformat(d))) for d in days]}


def test_param_wins_over_events_and_logical_date():
    context = {
        "params": {"day": "2026-09-01"},
        "triggering_asset_events": _events("2026-09-05"),
        "ds": "2026-09-10",
    }
    assert run_day(context) == date(2026, 9, 1)


def test_asset_triggered_run_takes_the_newest_event_day():
    context = {
        "params": {"day": None},
        "triggering_asset_events": _events("2026-09-03", "2026-09-05"),
    }
    assert run_day(context) == date(2026, 9, 5)


def test_events_without_a_day_fall_back_to_the_logical_date():
    events = {"marts.x": [SimpleNamespace(extra={}), SimpleNamespace(extra=None)]}
    assert triggering_days(events) == []
    assert run_day({"triggering_asset_events": events, "ds": "2026-09-28"}) == date(2026, 9, 28)


def test_no_day_at_all_is_refused_with_what_to_do():
    with pytest.raises(ValueError, match="Trigger it with a `day`"):
        run_day({"params": {}, "triggering_asset_events": {}})
