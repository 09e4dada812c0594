"""The daily pipeline's task functions on the tiny simulated shop, run, re-run and run twice at
once against one warehouse, compared table by table (md5 over sorted rows, without the columns
that record when a row was written):

- a run for day D changes nothing of day D-1; a second run of D leaves every table identical;
- two runs of D at once leave the same tables as one run (the second waits);
- a reader polling every mart during a rebuild never sees an empty or missing mart;
- scoring killed mid-write (SIGKILL) leaves the published scores as they were;
- no clear-text email, phone, IP or device id in any staging, mart or ml column; the analyst
  role (a real login) reads marts and the public ml tables and nothing else.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql
from psycopg2.extensions import make_dsn, parse_dsn

from aimass.contracts import load_contracts
from aimass.testing import run_concurrently, temporary_database
from aimass.warehouse import ANALYST_ROLE, ML_PUBLIC_TABLES
from tests.reliability.pipeline import (
    LAST_DAY,
    ingest_all,
    relation_digest,
    relations,
    run_day,
    warehouse_digests,
)

pytestmark = pytest.mark.slow

DAY = LAST_DAY
DAY_BEFORE = DAY - timedelta(days=1)
REPO_ROOT = Path(__file__).resolve().parents[2]
SHORT_HISTORY = REPO_ROOT / "ml" / "conf" / "propensity_short_history.yml"
PRIVATE_SCHEMAS = ("raw", "quarantine", "staging", "intermediate", "audit", "sim_truth")


class Shop:
    def __init__(self, url: str, home: Path):
        self.url, self.home = url, home

    def connect(self):
        return psycopg2.connect(self.url)

    def fetch(self, statement: str, params=()) -> list[tuple]:
        with psycopg2.connect(self.url) as conn, conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall()


@pytest.fixture(scope="module")
def shop():
    """A fresh warehouse and landing area; the model trains with the short-history settings
    (the tiny shop has 40 days)."""
    patch = pytest.MonkeyPatch()
    with (
        temporary_database("aimass_rel") as url,
        tempfile.TemporaryDirectory(prefix="aimass-rel-") as home,
    ):
        patch.setenv("AIMASS_HOME", home)
        patch.setenv("AIMASS_LANDING_URI", Path(home, "landing").as_uri())
        patch.setenv("AIMASS_PROPENSITY_CONFIG", str(SHORT_HISTORY))
        try:
            yield Shop(url, Path(home))
        finally:
            patch.undo()


# Late events may arrive up to this many days after their day (sources.yml), so a run for
# day D may still revise what depends on days D - 3 and later.
LATE_DAYS = max(c.late_arrival_days for c in load_contracts().values())
HORIZON_DAYS = 7


def day_slice(shop: Shop, day, snapshots: frozenset[str] = frozenset()) -> dict[str, tuple]:
    """Digests of what a run for `day + 1` must leave as it is: raw and quarantine rows of days
    up to `day`; scores of dates up to `day + 1`; rows of the as-of marts that no event arriving
    with `day + 1` can touch (as-of dates up to `day + 1 - LATE_DAYS`; labels whose whole
    horizon lies before that). Marts that keep only their latest as-of date (`snapshots`) are
    rebuilt by design and left out."""
    settled = day + timedelta(days=1 - LATE_DAYS)
    out = {}
    with shop.connect() as conn:
        for relation in relations(conn):
            schema, name = relation.split(".", 1)
            columns = {
                c
                for (c,) in shop.fetch(
                    "select column_name from information_schema.columns "
                    "where table_schema = %s and table_name = %s",
                    (schema, name),
                )
            }
            if relation in snapshots:
                continue
            if "_ds" in columns:
                where = f"where _ds <= '{day}'"
            elif "score_date" in columns:
                where = f"where score_date <= '{day + timedelta(days=1)}'"
            elif "labels" in name and "as_of_date" in columns:
                where = f"where as_of_date + {HORIZON_DAYS} <= '{settled}'"
            elif "as_of_date" in columns:
                where = f"where as_of_date <= '{settled}'"
            else:
                continue
            out[relation] = relation_digest(conn, relation, where)
    return out


def latest_only_marts(shop: Shop) -> frozenset[str]:
    """Marts with an as_of_date or score_date column that hold a single date: the latest
    (`mart_user_segments`, the scorecards, `propensity_latest`)."""
    found = set()
    for schema, name, column in shop.fetch(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema = 'marts' and column_name in ('as_of_date', 'score_date')"
    ):
        [(dates,)] = shop.fetch(f'select count(distinct "{column}") from "{schema}"."{name}"')
        if dates <= 1:
            found.add(f"{schema}.{name}")
    return frozenset(found)


@pytest.fixture(scope="module")
def day_before(shop):
    run_day(shop.url, DAY_BEFORE)
    snapshots = latest_only_marts(shop)
    return {"slice": day_slice(shop, DAY_BEFORE, snapshots), "snapshots": snapshots}


@pytest.fixture(scope="module")
def first_run(shop, day_before):
    run = run_day(shop.url, DAY)
    with shop.connect() as conn:
        digests = warehouse_digests(conn)
    day_slice_after = day_slice(shop, DAY_BEFORE, day_before["snapshots"])
    return {"run": run, "digests": digests, "day_before": day_slice_after}


class MartReader(threading.Thread):
    """Counts the rows of every mart over and over; records empty or missing marts."""

    def __init__(self, url: str, marts: list[str]):
        super().__init__(daemon=True)
        self.url, self.marts = url, marts
        self.stop = threading.Event()
        self.polls, self.problems = 0, []

    def run(self):
        conn = psycopg2.connect(self.url)
        conn.autocommit = True
        try:
            while not self.stop.is_set():
                for mart in self.marts:
                    try:
                        with conn.cursor() as cur:
                            cur.execute(
                                sql.SQL("select count(*) from {}").format(
                                    sql.Identifier(*mart.split("."))
                                )
                            )
                            if cur.fetchone()[0] == 0:
                                self.problems.append(f"{mart}: no rows")
                    except psycopg2.Error as exc:
                        self.problems.append(f"{mart}: {type(exc).__name__}: {exc}".strip())
                self.polls += 1
        finally:
            conn.close()


@pytest.fixture(scope="module")
def rerun(shop, first_run):
    """The same day again, with a reader polling every non-empty mart all along."""
    marts = [m for m, (rows, _) in first_run["digests"].items() if m.startswith("marts.") and rows]
    reader = MartReader(shop.url, marts)
    reader.start()
    try:
        run = run_day(shop.url, DAY)
    finally:
        reader.stop.set()
        reader.join(timeout=60)
    with shop.connect() as conn:
        digests = warehouse_digests(conn)
    return {"run": run, "digests": digests, "reader": reader, "marts": marts}


def test_a_run_for_a_day_changes_nothing_of_the_day_before(first_run, day_before):
    kept = day_before["slice"]
    assert len(kept) >= 30  # raw and quarantine of every source, as-of marts, scores
    assert "marts.fct_user_features_daily" in kept and kept["ml.propensity_scores"][0] > 0
    assert first_run["day_before"] == kept


def test_two_runs_of_one_day_leave_identical_tables(first_run, rerun):
    first, again = first_run["digests"], rerun["digests"]
    assert len(first) >= 50
    assert {r for r in first if r.startswith("marts.")} and first["ml.propensity_scores"][0] > 0
    differing = {r: (first.get(r), again.get(r)) for r in first.keys() | again.keys()}
    assert {r: v for r, v in differing.items() if v[0] != v[1]} == {}


def test_a_reader_never_sees_an_empty_or_missing_mart_during_a_rebuild(rerun):
    reader = rerun["reader"]
    assert len(rerun["marts"]) >= 10
    assert reader.polls >= 3, "the reader did not poll during the rebuild"
    assert reader.problems == []


def test_two_runs_of_one_day_at_once_leave_no_duplicates(shop, first_run, rerun):
    """Two triggers of the same day: ingestion and `dbt build` twice in parallel."""

    def trigger():
        ingest_all(shop.url, DAY)
        from aimass.orchestration import daily

        daily.build_marts(shop.url, DAY)

    assert run_concurrently(trigger, timeout_s=1800) == []
    with shop.connect() as conn:
        digests = warehouse_digests(conn)
    assert {r: v for r, v in digests.items() if first_run["digests"].get(r) != v} == {}


SCORE_AND_STALL = """
import sys, time
from datetime import date
from pathlib import Path
import psycopg2
import ml.score

url, score_date, marker = sys.argv[1], date.fromisoformat(sys.argv[2]), Path(sys.argv[3])
original = ml.score.copy_score_batch

def copy_then_stall(cur, rows):
    original(cur, rows)
    marker.write_text("first batch written")
    time.sleep(600)

ml.score.copy_score_batch = copy_then_stall
ml.score.score_propensity(psycopg2.connect(url), score_date, batch_size=50)
"""


def test_scoring_killed_mid_write_keeps_the_published_scores(shop, first_run, tmp_path):
    score_date = DAY + timedelta(days=1)
    published = "select * from marts.propensity_latest order by user_id"
    before = shop.fetch(published)
    with shop.connect() as conn:
        scores_before = relation_digest(conn, "ml.propensity_scores", exclude=())
    assert before and str(before[0][1]) == str(score_date)
    marker = tmp_path / "marker"
    scorer = subprocess.Popen(
        [sys.executable, "-c", SCORE_AND_STALL, shop.url, score_date.isoformat(), str(marker)],
        env=os.environ.copy(),
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert scorer.poll() is None, scorer.stderr.read().decode()[-3000:]
            assert time.monotonic() < deadline, "scoring never wrote its first batch"
            time.sleep(0.1)
        os.kill(scorer.pid, signal.SIGKILL)
        scorer.wait(timeout=60)
    finally:
        if scorer.poll() is None:
            scorer.kill()
    assert scorer.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 60
    while shop.fetch(
        "select count(*) from pg_stat_activity where datname = current_database() "
        "and pid <> pg_backend_pid() and state <> 'idle'"
    ) != [(0,)]:
        assert time.monotonic() < deadline, "the killed session never ended"
        time.sleep(0.1)
    assert shop.fetch(published) == before
    with shop.connect() as conn:
        assert relation_digest(conn, "ml.propensity_scores", exclude=()) == scores_before


# --- privacy and access ---------------------------------------------------------------------

EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+"
PHONE = r"\+[0-9]{1,3}( ?[0-9]){6,}"
IPV4 = r"(^|[^0-9.])([0-9]{1,3}\.){3}[0-9]{1,3}($|[^0-9.])"
PII_PATTERNS = {"email": EMAIL, "phone": PHONE, "IPv4 address": IPV4}
SCANNED_SCHEMAS = ("staging", "intermediate", "marts", "ml")
TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb")
PII_COLUMNS = {
    "users": ("email", "phone"),
    "suppliers": ("contact_email",),
    "devices": ("device_id", "ip_address"),
}


def text_columns(shop: Shop, schemas) -> list[tuple[str, str, str]]:
    return shop.fetch(
        "select c.table_schema, c.table_name, c.column_name from information_schema.columns c "
        "where c.table_schema = any(%s) and c.data_type = any(%s) order by 1, 2, 3",
        (list(schemas), list(TEXT_TYPES)),
    )


def pii_findings(shop: Shop, schemas, clear_values: list[str]) -> list[str]:
    """Columns holding values that look like (or are) clear-text personal data."""
    found = []
    with shop.connect() as conn, conn.cursor() as cur:
        for schema, table, column in text_columns(shop, schemas):
            col = sql.Identifier(column)
            rel = sql.Identifier(schema, table)
            for label, pattern in PII_PATTERNS.items():
                cur.execute(
                    sql.SQL("select {c}::text from {r} where {c}::text ~ %s limit 1").format(
                        c=col, r=rel
                    ),
                    (pattern,),
                )
                hit = cur.fetchone()
                if hit:
                    found.append(f"{schema}.{table}.{column}: {label} like {hit[0][:80]!r}")
            cur.execute(
                sql.SQL("select {c}::text from {r} where {c}::text = any(%s) limit 1").format(
                    c=col, r=rel
                ),
                (clear_values,),
            )
            hit = cur.fetchone()
            if hit:
                found.append(f"{schema}.{table}.{column}: clear value {hit[0][:80]!r}")
    return found


def landed_clear_values(home: Path) -> list[str]:
    """The clear-text PII values of the simulated shop's landing files."""
    values: set[str] = set()
    for source, columns in PII_COLUMNS.items():
        for path in (home / "landing" / source).rglob("*.csv"):
            with open(path, newline="", encoding="utf-8") as fh:
                for row in csv.DictReader(fh):
                    values.update(row[c] for c in columns if row.get(c))
    return sorted(values)


def test_no_clear_text_pii_in_staging_marts_or_ml(shop, first_run):
    clear = landed_clear_values(shop.home)
    assert len(clear) >= 300 and any("@" in v for v in clear)
    columns = text_columns(shop, SCANNED_SCHEMAS)
    assert len(columns) >= 100
    assert pii_findings(shop, SCANNED_SCHEMAS, clear) == []


def test_the_pii_scan_finds_planted_clear_text(shop, first_run):
    clear = landed_clear_values(shop.home)
    email = next(v for v in clear if "@" in v)
    with shop.connect() as conn, conn.cursor() as cur:
        cur.execute("create schema if not exists pii_probe")
        cur.execute(
            "create table pii_probe.leaky as select %s::text as contact, "
            "'call +49 1512345678'::text as note, '{\"ip\": \"10.1.2.3\"}'::jsonb as meta, "
            "%s::text as device",
            (email, next(v for v in clear if v.count("-") == 4)),
        )
    try:
        found = pii_findings(shop, ("pii_probe",), clear)
    finally:
        with shop.connect() as conn, conn.cursor() as cur:
            cur.execute("drop schema pii_probe cascade")
    labels = {f.split(": ", 1)[1].split(" ")[0] for f in found}
    assert {"email", "phone", "IPv4", "clear"} <= labels, found


@pytest.fixture
def analyst(shop, first_run):
    """An autocommit connection as a fresh login role in the analyst group."""
    role = f"aimass_rel_analyst_{os.getpid()}"
    with shop.connect() as conn, conn.cursor() as cur:
        cur.execute(
            sql.SQL("create role {} login in role {}").format(
                sql.Identifier(role), sql.Identifier(ANALYST_ROLE)
            )
        )
    conn = psycopg2.connect(make_dsn(**{**parse_dsn(shop.url), "user": role}))
    conn.autocommit = True
    try:
        yield conn
    finally:
        conn.close()
        with shop.connect() as owner, owner.cursor() as cur:
            cur.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


def _denied(conn, statement) -> bool:
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
    except psycopg2.errors.InsufficientPrivilege:
        return True
    return False


def test_the_analyst_reads_every_mart_and_public_ml_table_and_nothing_private(shop, analyst):
    readable = [r for r in relations(analyst, ("marts",)) if not _denied(analyst, _select_one(r))]
    with shop.connect() as conn:
        marts = relations(conn, ("marts",))
        private = relations(conn, PRIVATE_SCHEMAS)
        ml_tables = relations(conn, ("ml",))
    assert len(marts) >= 10 and readable == marts
    public = [f"ml.{t}" for t in ML_PUBLIC_TABLES if f"ml.{t}" in ml_tables]
    assert "ml.propensity_scores" in public and "ml.model_registry" in public
    assert [t for t in public if _denied(analyst, _select_one(t))] == []
    hidden = [t for t in ml_tables if t not in public] + private
    assert len(private) >= 30
    assert [t for t in hidden if not _denied(analyst, _select_one(t))] == []
    writes = [
        "truncate marts.fct_orders",
        "delete from ml.propensity_scores",
        "update ml.model_registry set status = 'retired'",
        "insert into marts.dim_users (user_id) values ('x')",
        "drop table marts.dim_users",
    ]
    assert [w for w in writes if not _denied(analyst, w)] == []


def _select_one(relation: str) -> str:
    schema, name = relation.split(".", 1)
    return f'select 1 from "{schema}"."{name}" limit 1'


def test_a_mart_built_later_is_readable_by_the_analyst(shop, analyst):
    with shop.connect() as conn, conn.cursor() as cur:
        cur.execute("create table marts.mart_built_later as select 1 as x")
    try:
        assert not _denied(analyst, "select x from marts.mart_built_later")
    finally:
        with shop.connect() as conn, conn.cursor() as cur:
            cur.execute("drop table marts.mart_built_later")


def test_task_results_carry_no_credentials(shop, first_run):
    """What each task returns is what Airflow stores as its XCom."""
    text = repr(first_run["run"]["outputs"])
    params = parse_dsn(shop.url)
    assert shop.url not in text
    assert os.environ["AIMASS_PII_KEY"] not in text
    assert f"dbname={params['dbname']}" not in text and "password" not in text.lower()
