"""Scoring: idempotent writes, the latest view and its grant, backfills, reasons, and no partial
scores after a failure."""

from __future__ import annotations

from datetime import timedelta

import psycopg2.extensions
import pytest

import ml.score
from ml.features import FeatureMismatchError
from ml.pipeline import train_and_register
from ml.registry import get_champion
from ml.score import score_propensity

ROW_QUERY = (
    "select score_date, user_id, model_name, model_version, probability, decile, "
    "reason_1, reason_2, reason_3 from ml.propensity_scores "
    "where score_date = %s order by user_id"
)


def _rows(conn, score_date):
    with conn.cursor() as cur:
        cur.execute(ROW_QUERY, (score_date,))
        return cur.fetchall()


def _users(marts, day):
    return int((marts.features["as_of_date"] == day).sum())


def test_scoring_twice_gives_identical_rows_without_duplicates(champion_db, marts):
    conn, summary = champion_db
    day = marts.cutoff
    assert score_propensity(conn, day) == _users(marts, day)
    first = _rows(conn, day)
    assert score_propensity(conn, day) == _users(marts, day)
    second = _rows(conn, day)
    assert first == second
    assert len({row[1] for row in second}) == len(second) == _users(marts, day)
    assert {row[3] for row in second} == {summary["model_version"]}
    deciles = [row[5] for row in second]
    assert set(deciles) == set(range(1, 11))
    # decile 10 holds the highest probabilities
    top = min(r[4] for r in second if r[5] == 10)
    assert all(r[4] <= top for r in second if r[5] < 10)


def test_reasons_are_marketer_words_for_positive_contributions(champion_db, marts):
    conn, _ = champion_db
    score_propensity(conn, marts.cutoff)
    rows = _rows(conn, marts.cutoff)
    top = [r for r in rows if r[5] == 10]
    assert all(r[6] for r in top)  # high scorers have at least one reason
    phrases = {r[i] for r in rows for i in (6, 7, 8) if r[i]}
    assert any(p.startswith(("ordered", "last ordered")) for p in phrases), phrases
    assert not any("_" in p for p in phrases)  # no raw column names


def test_latest_view_has_one_row_per_user_and_is_granted(champion_db, marts):
    conn, summary = champion_db
    old_day = marts.grid_date_before(marts.cutoff - timedelta(days=20))
    assert score_propensity(conn, old_day) == _users(marts, old_day)  # backfill a past date
    score_propensity(conn, marts.cutoff)
    with conn.cursor() as cur:
        cur.execute(
            "select count(*), count(distinct user_id), min(score_date), max(score_date), "
            "min(model_version) from marts.propensity_latest"
        )
        count, users, first_day, last_day, version = cur.fetchone()
        cur.execute(
            "select has_table_privilege('aimass_analyst', 'marts.propensity_latest', 'select'), "
            "has_table_privilege('aimass_analyst', 'ml.propensity_scores', 'select')"
        )
        granted = cur.fetchone()
    assert count == users == _users(marts, marts.cutoff)
    assert first_day == last_day == marts.cutoff
    assert version == summary["model_version"]
    assert granted == (True, True)
    assert len(_rows(conn, old_day)) == _users(marts, old_day)


def test_a_crash_mid_scoring_leaves_the_previous_scores(champion_db, marts, monkeypatch):
    conn, _ = champion_db
    day = marts.grid_date_before(marts.cutoff - timedelta(days=1))
    score_propensity(conn, day, batch_size=100)
    before = _rows(conn, day)
    written = []
    original = ml.score.copy_score_batch

    def failing_copy(cur, rows):
        if written:
            raise RuntimeError("injected failure after the first batch")
        written.append(len(rows))
        original(cur, rows)

    monkeypatch.setattr(ml.score, "copy_score_batch", failing_copy)
    with pytest.raises(RuntimeError, match="injected failure"):
        score_propensity(conn, day, batch_size=100)
    assert written == [100]
    assert conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE
    assert _rows(conn, day) == before


def test_a_missing_feature_column_fails_scoring_and_keeps_scores(marts_db, marts, config):
    train_and_register(marts_db, as_of=marts.cutoff, config=config)
    score_propensity(marts_db, marts.cutoff)
    before = _rows(marts_db, marts.cutoff)
    with marts_db.cursor() as cur:
        cur.execute("alter table marts.fct_user_features_daily drop column orders_30d")
    marts_db.commit()
    with pytest.raises(FeatureMismatchError, match="orders_30d"):
        score_propensity(marts_db, marts.cutoff)
    assert _rows(marts_db, marts.cutoff) == before


def test_scoring_without_champion_or_rows_says_what_to_do(warehouse, champion_db, marts):
    with pytest.raises(ValueError, match="No champion for model propensity"):
        score_propensity(warehouse, marts.cutoff)
    conn, _ = champion_db
    with pytest.raises(ValueError, match="has no rows for as_of_date 2030-01-01"):
        score_propensity(conn, marts.cutoff.replace(year=2030, month=1, day=1))
    assert get_champion(conn, "propensity") is not None
