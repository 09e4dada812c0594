"""`python -m ml` drives training, scoring, reports, promotion and rollback from a shell."""

from __future__ import annotations

import json
import subprocess
import sys

import psycopg2

from ml.__main__ import main
from tests.ml.factories import load_marts


def _run(capsys, *argv) -> tuple[int, object, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, (json.loads(out.out) if out.out.strip() else None), out.err


def test_cli_round_trip(warehouse_url, marts, capsys, tmp_path):
    with psycopg2.connect(warehouse_url) as conn:
        load_marts(conn, marts)
    db = ("--database-url", warehouse_url)

    code, trained, _ = _run(capsys, *db, "train", "--as-of", str(marts.cutoff))
    assert code == 0 and trained["status"] == "champion"
    code, scored, _ = _run(capsys, *db, "score", "--score-date", str(marts.cutoff))
    assert code == 0 and scored["rows"] > 0
    assert scored["model_version"] == trained["model_version"]
    code, listed, _ = _run(capsys, *db, "list")
    assert [m["model_version"] for m in listed] == [trained["model_version"]]
    code, report, _ = _run(capsys, *db, "report", "--out", str(tmp_path / "report.html"))
    assert code == 0 and (tmp_path / "report.html").read_text().startswith("<!DOCTYPE html>")

    code, _, err = _run(capsys, *db, "rollback")
    assert code == 1 and "no earlier champion" in err
    code, _, err = _run(capsys, *db, "promote", "--version", "20000101-00000000")
    assert code == 1 and "not in ml.model_registry" in err


def test_cli_needs_a_database(monkeypatch, capsys):
    monkeypatch.delenv("AIMASS_WAREHOUSE_URL", raising=False)
    code, _, err = _run(capsys, "rollback")
    assert code == 1 and "AIMASS_WAREHOUSE_URL" in err


def test_module_entry_point_runs():
    result = subprocess.run(
        [sys.executable, "-m", "ml", "--help"], capture_output=True, text=True, check=True
    )
    assert "train" in result.stdout and "rollback" in result.stdout
