"""Bad exports on a real PostgreSQL: rows dated after today, a day both in `history/` and a
daily partition, a file without a header row each stop the import with one message before
anything is written, so what an earlier import loaded stays exactly as it was; a history too
short to train on is loaded and built, and the command ends saying training needs more days."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg2
import pytest

from aimass.contracts import load_contracts
from aimass.history import ExportError, import_history, steps
from aimass.testing import temporary_database
from aimass.warehouse import connect, ensure_layout
from tests.history.export_fixture import LAST_HISTORY_DAY, history_export
from tests.ingest.helpers import table_digest

ORDERS_HEADER = (
    "order_id,user_id,order_ts,status,total_amount,discount_amount,coupon_id,device_id,updated_at"
)
TABLES = [f"{schema}.{name}" for name in load_contracts() for schema in ("raw", "quarantine")]


def digests(url: str) -> dict[str, str]:
    with psycopg2.connect(url) as conn:
        out = {table: table_digest(conn, table) for table in TABLES}
        out["raw._load_log"] = table_digest(
            conn, "raw._load_log", exclude=("batch_id", "started_at", "finished_at", "duration_s")
        )
        return out


@pytest.fixture
def loaded(warehouse_url, tmp_path, monkeypatch):
    """A 2017 export whose every source is loaded (as a first import's loads leave it)."""
    landing = tmp_path / "landing"
    history_export(landing)
    monkeypatch.setenv("AIMASS_LANDING_URI", landing.as_uri())
    for source in load_contracts():
        steps.load_source(warehouse_url, source, landing.as_uri(), LAST_HISTORY_DAY)
    return {"url": warehouse_url, "landing": landing, "before": digests(warehouse_url)}


def _refused(loaded) -> ExportError:
    with pytest.raises(ExportError) as caught:
        import_history(loaded["url"], str(loaded["landing"]))
    assert "Nothing was loaded" in str(caught.value)
    assert digests(loaded["url"]) == loaded["before"]
    return caught.value


def test_rows_dated_after_today_are_refused_and_nothing_changes(loaded):
    path = loaded["landing"] / "orders" / "history" / "part-0001.csv"
    path.write_text(f"{ORDERS_HEADER}\nf1,u1,2099-03-01T10:00:00Z,completed,5,,,,\n")
    (problem,) = _refused(loaded).problems
    assert "1 rows of the history export have order_ts after today" in problem
    assert "up to 2099-03-01" in problem


def test_a_day_in_history_and_in_a_daily_partition_is_refused_and_nothing_changes(loaded):
    day = loaded["landing"] / "orders" / "2017-02-20"
    day.mkdir()
    (day / "part-0000.csv").write_text(
        f"{ORDERS_HEADER}\nd1,u1,2017-02-20T10:00:00Z,completed,5,,,,\n"
    )
    (problem,) = _refused(loaded).problems
    assert "1 day(s) are both in" in problem and "2017-02-20" in problem


def test_a_file_without_header_is_refused_and_nothing_changes(loaded):
    path = loaded["landing"] / "events" / "history" / "part-0001.csv"
    path.write_text("e1,2017-02-01T10:00:00Z,u1,view,i1,m1,,d1,s1\n")
    (problem,) = _refused(loaded).problems
    assert problem.startswith("events: ") and "needs a header row" in problem


@pytest.mark.slow
def test_a_history_too_short_to_train_is_imported_and_says_what_training_needs():
    """Twelve days of history, the default model settings: loaded and built, not trained, no
    traceback, exit code 0; the message comes from the training guards."""
    with (
        temporary_database("aimass_short") as url,
        tempfile.TemporaryDirectory(prefix="aimass-short-") as home,
    ):
        landing = Path(home) / "landing"
        history_export(landing, history_days=12)
        with connect(url) as conn:
            ensure_layout(conn)
        env = {k: v for k, v in os.environ.items() if k != "AIMASS_PROPENSITY_CONFIG"}
        env |= {"AIMASS_HOME": home, "AIMASS_WAREHOUSE_URL": url}
        proc = subprocess.run(
            [sys.executable, "-m", "aimass.history", "--landing", str(landing)],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert "Traceback" not in proc.stderr
        assert "Propensity: NOT trained" in proc.stdout, proc.stdout[-3000:]
        assert "Scores: none written: there is no champion propensity model yet" in proc.stdout
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute("select count(*) from marts.fct_user_features_daily")
            assert cur.fetchone()[0] > 0
            cur.execute("select to_regclass('ml.propensity_scores')")
            (scores,) = cur.fetchone()
            if scores is not None:
                cur.execute("select count(*) from ml.propensity_scores")
                assert cur.fetchone()[0] == 0
