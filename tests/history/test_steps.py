"""Small pieces of the history import: where the export lies, and what a guard's message says."""

from __future__ import annotations

from pathlib import Path

from aimass.history.steps import landing_uri_of, more_days_needed


def test_a_local_path_becomes_an_absolute_file_uri_as_the_daily_runs_use(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert landing_uri_of("exports/landing") == (tmp_path / "exports" / "landing").as_uri()
    assert landing_uri_of(str(tmp_path)) == tmp_path.as_uri()


def test_a_uri_is_kept_and_an_empty_value_means_the_configured_landing(monkeypatch):
    assert landing_uri_of("s3://bucket/shop/landing") == "s3://bucket/shop/landing"
    assert landing_uri_of("file:///data/landing") == "file:///data/landing"
    monkeypatch.setenv("AIMASS_LANDING_URI", "file:///configured")
    assert (
        landing_uri_of("") == landing_uri_of(None) == landing_uri_of("  ") == "file:///configured"
    )


def test_the_days_a_history_guard_says_are_missing():
    message = (
        "Not enough history to train with cut-off 2017-02-02: it needs 60 days of data (look-back "
        "14 + at least 4 training dates + validation, calibration and test windows + label "
        "horizon 7), the data starts 2017-01-21 (12 days). Load more history, ..."
    )
    assert more_days_needed(message) == 48
    assert more_days_needed("The train window has 12 rows, fewer than 1000. Load more") is None


def test_the_home_relative_path_is_expanded(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert landing_uri_of("~/landing") == Path(tmp_path, "landing").as_uri()
