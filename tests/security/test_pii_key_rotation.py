"""Pseudonyms follow the PII key: the same key gives the same pseudonyms run after run, and a
new key reloads every landing partition, even those whose files did not change."""

from __future__ import annotations

from datetime import date

import pytest

from aimass.contracts import load_contracts
from aimass.ingest import pseudonymise_value, sync_source
from tests.ingest.helpers import OTHER_KEY, PII_KEY, rows, write_partition
from tests.ingest.test_pii import DEVICES, USERS

DAYS = (date(2024, 3, 1), date(2024, 3, 2))


@pytest.fixture
def contracts():
    return load_contracts()


@pytest.fixture
def landing(tmp_path):
    path = tmp_path / "landing"
    path.mkdir()
    return path


def _land(landing):
    for day in DAYS:
        write_partition(landing, "users", day, USERS.encode())
        write_partition(landing, "devices", day, DEVICES.encode())


def _sync(conn, contracts, landing, key: bytes) -> dict[str, list[str]]:
    return {
        source: [
            r.status
            for r in sync_source(
                conn, contracts[source], landing.as_uri(), up_to=DAYS[-1], pii_key=key
            )
        ]
        for source in ("users", "devices")
    }


def _pseudonyms(conn) -> list[tuple]:
    return rows(
        conn,
        "select _ds, email, phone, null from raw.users union all "
        "select _ds, device_id, ip_address, null from raw.devices order by 1, 2",
    )


def test_same_key_skips_and_keeps_pseudonyms_a_new_key_reloads(warehouse, contracts, landing):
    _land(landing)
    assert _sync(warehouse, contracts, landing, PII_KEY) == {
        "users": ["loaded", "loaded"],
        "devices": ["loaded", "loaded"],
    }
    first = _pseudonyms(warehouse)
    assert (DAYS[0], pseudonymise_value(PII_KEY, "ada@example.com")) in [r[:2] for r in first]

    assert _sync(warehouse, contracts, landing, PII_KEY) == {
        "users": ["skipped", "skipped"],
        "devices": ["skipped", "skipped"],
    }
    assert _pseudonyms(warehouse) == first

    assert _sync(warehouse, contracts, landing, OTHER_KEY) == {
        "users": ["loaded", "loaded"],
        "devices": ["loaded", "loaded"],
    }
    rotated = _pseudonyms(warehouse)
    assert len(rotated) == len(first)
    old = {v for r in first for v in r[1:3] if v}
    assert old.isdisjoint(v for r in rotated for v in r[1:3] if v)
    for day in DAYS:
        assert (day, pseudonymise_value(OTHER_KEY, "ada@example.com")) in [r[:2] for r in rotated]
        assert (day, pseudonymise_value(OTHER_KEY, "DEV-AAA")) in [r[:2] for r in rotated]
    # and a rotated key is stable again
    assert _sync(warehouse, contracts, landing, OTHER_KEY)["users"] == ["skipped", "skipped"]


def test_the_load_log_never_stores_the_key(warehouse, contracts, landing):
    _land(landing)
    _sync(warehouse, contracts, landing, PII_KEY)
    dump = " ".join(r[0] for r in rows(warehouse, "select l::text from raw._load_log l"))
    assert PII_KEY.decode() not in dump
    assert PII_KEY.hex() not in dump
