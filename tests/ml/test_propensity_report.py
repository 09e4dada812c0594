"""The HTML report per version: stored in the registry, self-contained, writable to a file."""

from __future__ import annotations

from html import escape

from ml.pipeline import score
from ml.registry import get_model
from ml.report import write_report


def test_report_is_stored_with_charts_and_comparisons(champion_db):
    conn, summary = champion_db
    html = get_model(conn, "propensity", summary["model_version"], with_artifact=False).report_html
    assert html.startswith("<!DOCTYPE html>")
    for part in (
        "ROC curve",
        "Cumulative gains",
        "Calibration",
        "Purchase rate per decile",
        "Feature importance",
        "logistic regression",
        "RFM rule",
        "simulator oracle",
        "of the simulator oracle",
        escape(summary["verdict"]),
    ):
        assert part in html, part
    assert html.count("<svg") >= 5
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")  # self-contained
    assert "No scoring run monitored yet" in html


def test_report_written_to_a_file_includes_drift_after_scoring(champion_db, marts, tmp_path):
    conn, summary = champion_db
    score(conn, score_date=marts.cutoff)
    path = write_report(conn, "propensity", summary["model_version"], tmp_path / "r" / "m.html")
    html = path.read_text()
    assert "Drift and realized performance (latest)" in html
    assert "psi_max" in html
    stored = get_model(conn, "propensity", summary["model_version"], with_artifact=False)
    assert stored.report_html == html
