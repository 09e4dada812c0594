"""PII columns reach raw only as keyed pseudonyms: stable per key, different across keys."""

from __future__ import annotations

import hashlib
import hmac

import pyarrow as pa
import pytest

from aimass.ingest import Payload, load_unit, pseudonymise_value
from aimass.ingest.pii import pseudonymise_array
from tests.ingest.helpers import DAY, OTHER_KEY, PII_KEY, rows

USERS = (
    "user_id,email,phone,signup_at,country,city,gender,birth_year,updated_at\n"
    "u1,ada@example.com,+44 20 7946 0000,2023-01-01 00:00:00Z,GB,London,f,1985.0,"
    "2024-03-01 10:00:00Z\n"
    "u2,,,2023-02-01 00:00:00Z,DE,Berlin,m,,2024-03-02 10:00:00Z\n"
)
DEVICES = (
    "device_id,user_id,os,browser,app_version,model,screen_resolution,ip_address,country,city,"
    "first_seen_at,updated_at\n"
    "DEV-AAA,u1,ios,safari,1.0,x,1x1,203.0.113.7,GB,London,2024-01-01 00:00:00Z,"
    "2024-03-02 00:00:00Z\n"
)


def load(conn, contract, text: str, key: bytes = PII_KEY):
    return load_unit(
        conn,
        contract,
        [Payload("mem://p.csv", "csv", text.encode())],
        ds=DAY,
        pii_key=key,
        unit_uri="mem://p",
    )


def test_pseudonym_is_hmac_sha256_hex():
    expected = hmac.new(PII_KEY, b"ada@example.com", hashlib.sha256).hexdigest()
    assert pseudonymise_value(PII_KEY, "ada@example.com") == expected
    hashed = pseudonymise_array(PII_KEY, pa.array(["ada@example.com", None, "", "ada@example.com"]))
    assert hashed.to_pylist() == [expected, None, None, expected]


def test_a_short_key_is_refused():
    with pytest.raises(ValueError, match="16 bytes"):
        pseudonymise_array(b"short", pa.array(["x"]))


def test_raw_never_holds_clear_text_pii(warehouse, contracts):
    load(warehouse, contracts["users"], USERS)
    load(warehouse, contracts["devices"], DEVICES)
    assert rows(
        warehouse, "select user_id, email, phone, birth_year from raw.users order by 1"
    ) == [
        (
            "u1",
            pseudonymise_value(PII_KEY, "ada@example.com"),
            pseudonymise_value(PII_KEY, "+44 20 7946 0000"),
            1985,
        ),
        ("u2", None, None, None),
    ]
    assert rows(warehouse, "select device_id, ip_address from raw.devices") == [
        (pseudonymise_value(PII_KEY, "DEV-AAA"), pseudonymise_value(PII_KEY, "203.0.113.7"))
    ]
    dump = " ".join(
        r[0]
        for r in rows(
            warehouse, "select r::text from raw.users r union all select r::text from raw.devices r"
        )
    )
    for clear in ("ada@example.com", "7946", "DEV-AAA", "203.0.113.7"):
        assert clear not in dump


def test_pseudonyms_are_stable_and_change_with_the_key(warehouse, contracts):
    load(warehouse, contracts["users"], USERS)
    first = rows(warehouse, "select email from raw.users where user_id = 'u1'")
    load(warehouse, contracts["users"], USERS)
    assert rows(warehouse, "select email from raw.users where user_id = 'u1'") == first
    load(warehouse, contracts["users"], USERS, key=OTHER_KEY)
    rotated = rows(warehouse, "select email from raw.users where user_id = 'u1'")
    assert rotated != first
    assert rotated == [(pseudonymise_value(OTHER_KEY, "ada@example.com"),)]
