"""SQL connector: incremental extract from a real OLTP database by `updated_at` watermark."""

from __future__ import annotations

import dataclasses
import socket
from datetime import UTC, date, datetime

import pandas as pd
import psycopg2
import pytest

from aimass.ingest import IngestError, SourceUnavailableError, run_source
from aimass.ingest.pii import pseudonymise_value
from aimass.ingest.sql_source import get_watermark
from aimass.settings import Settings
from aimass.sim.oltp import write_oltp
from aimass.testing import temporary_database
from tests.ingest.helpers import PII_KEY, rows

D1, D2 = date(2024, 3, 1), date(2024, 3, 2)
SETTINGS = Settings(home=None, warehouse_url=None, landing_uri="unused", pii_key=PII_KEY.decode())


def users_frame(updates: dict[str, str] | None = None, extra: bool = False) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "user_id": ["u1", "u2", "u3", "u4"],
            "email": ["a@example.com", "b@example.com", None, "d@example.com"],
            "phone": [None, "+1 555 0100", None, None],
            "signup_at": pd.to_datetime(["2023-01-01 00:00"] * 4, utc=True),
            "country": ["DE", "FR", "GB", "NL"],
            "city": ["Berlin", "Paris", "Leeds", "Delft"],
            "gender": ["f", "m", "f", "m"],
            "birth_year": pd.array([1980, None, 1999, 2001], dtype="Int64"),
            "updated_at": pd.to_datetime(
                ["2024-02-28 10:00", "2024-02-29 11:00", "2024-03-01 09:00", "2024-03-01 23:59"],
                utc=True,
            ),
        }
    )
    for user_id, city in (updates or {}).items():
        frame.loc[frame.user_id == user_id, ["city", "updated_at"]] = [
            city,
            pd.Timestamp("2024-03-02 08:00", tz="UTC"),
        ]
    if extra:
        new = frame.iloc[[0]].assign(
            user_id="u5",
            email="e@example.com",
            updated_at=pd.Timestamp("2024-03-02 09:00", tz="UTC"),
        )
        frame = pd.concat([frame, new], ignore_index=True)
    return frame


@pytest.fixture
def shop_db():
    """An OLTP database holding schema `shop` (created and dropped by the test)."""
    with temporary_database("aimass_test_shop") as url:
        yield url


@pytest.fixture
def users_sql(contracts):
    return dataclasses.replace(contracts["users"], kind="sql")


def test_write_oltp_is_idempotent(shop_db):
    assert write_oltp(shop_db, {"users": users_frame()}) == {"users": 4}
    assert write_oltp(shop_db, {"users": users_frame()}) == {"users": 0}
    assert write_oltp(shop_db, {"users": users_frame({"u2": "Lyon"})}) == {"users": 1}
    with psycopg2.connect(shop_db) as conn, conn.cursor() as cur:
        cur.execute("select user_id, city from shop.users order by 1")
        assert cur.fetchall() == [
            ("u1", "Berlin"),
            ("u2", "Lyon"),
            ("u3", "Leeds"),
            ("u4", "Delft"),
        ]
    conn.close()


def test_second_extract_picks_up_only_changed_rows(warehouse, shop_db, users_sql):
    write_oltp(shop_db, {"users": users_frame()})
    first = run_source(warehouse, users_sql, D1, SETTINGS, source_dsn=shop_db)
    assert [(r.ds, r.rows_loaded) for r in first] == [
        (date(2024, 2, 28), 1),
        (date(2024, 2, 29), 1),
        (D1, 2),
    ]
    assert get_watermark(warehouse, "users") == datetime(2024, 3, 2, tzinfo=UTC)

    write_oltp(shop_db, {"users": users_frame({"u1": "Hamburg", "u3": "York"}, extra=True)})
    second = run_source(warehouse, users_sql, D2, SETTINGS, source_dsn=shop_db)
    assert [(r.ds, r.rows_in, r.rows_loaded) for r in second] == [(D2, 3, 3)]
    assert rows(
        warehouse, "select user_id, city from raw.users where _ds = %s order by 1", (D2,)
    ) == [("u1", "Hamburg"), ("u3", "York"), ("u5", "Hamburg")]
    assert rows(warehouse, "select count(*) from raw.users") == [(7,)]
    assert rows(warehouse, "select email from raw.users where user_id = 'u5'") == [
        (pseudonymise_value(PII_KEY, "e@example.com"),)
    ]

    (again,) = run_source(warehouse, users_sql, D2, SETTINGS, source_dsn=shop_db)
    assert again.status == "skipped"
    forced = run_source(warehouse, users_sql, D2, SETTINGS, source_dsn=shop_db, force=True)
    # u1 and u3 moved to D2: their old days lose them, as in one first extract
    assert [(r.ds, r.rows_loaded) for r in forced] == [
        (date(2024, 2, 28), 0),
        (date(2024, 2, 29), 1),
        (D1, 1),
        (D2, 3),
    ]
    assert rows(warehouse, "select user_id, _ds from raw.users order by 1") == [
        ("u1", D2),
        ("u2", date(2024, 2, 29)),
        ("u3", D2),
        ("u4", D1),
        ("u5", D2),
    ]


def test_source_database_down_is_a_clear_error(warehouse, users_sql):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dsn = f"postgresql://postgres@127.0.0.1:{port}/shop"
    with pytest.raises(
        SourceUnavailableError,
        match=rf"cannot reach the source database at postgresql://127.0.0.1:{port}"
        r"/shop .*AIMASS_SHOP_DB_URL",
    ):
        run_source(warehouse, users_sql, D1, SETTINGS, source_dsn=dsn)


def test_missing_source_table_says_which(warehouse, shop_db, users_sql):
    with pytest.raises(IngestError, match="table shop.users does not exist"):
        run_source(warehouse, users_sql, D1, SETTINGS, source_dsn=shop_db)


def test_dsn_comes_from_the_environment(warehouse, shop_db, users_sql, monkeypatch):
    write_oltp(shop_db, {"users": users_frame()})
    monkeypatch.setenv("AIMASS_SHOP_DB_URL", shop_db)
    results = run_source(warehouse, users_sql, D1, SETTINGS)
    assert sum(r.rows_loaded for r in results) == 4
