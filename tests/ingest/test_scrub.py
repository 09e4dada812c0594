"""Personal data inside free text (`pii: scrub`) never reaches raw or quarantine in clear."""

from __future__ import annotations

import dataclasses
import re

import pytest

from aimass.ingest import Payload, load_unit
from aimass.ingest.scrub import scrub_text
from tests.ingest.helpers import DAY, PII_KEY, rows

# the patterns of the pipeline's PII scan (tests/reliability), plus card-like numbers
SCAN = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+",
    "phone": r"\+[0-9]{1,3}( ?[0-9]){6,}",
    "IPv4 address": r"(^|[^0-9.])([0-9]{1,3}\.){3}[0-9]{1,3}($|[^0-9.])",
    "card number": r"(^|[^0-9a-f])[0-9]{4}([ -]?[0-9]{4}){3}($|[^0-9a-f])",
}
HEADER = "feedback_id,feedback_ts,user_id,kind,rating,order_id,item_id,review_text"
TEXTS = [
    "Great shoes! Mail me at jane.doe@example.com if they restock.",
    "Call +44 20 7946 0958 or (030) 1234-5678, the courier never came",
    "Charged twice on 4111 1111 1111 1111, refund please",
    "Logged in from 203.0.113.7 and the cart was empty",
    "jane.doe@example.com again: ordered 2024-03-01, size 42, 3 pairs",
]


def feedback_csv(texts: list[str], bad_text: str) -> bytes:
    lines = [
        f'f{i},2024-03-02 10:00:00Z,u{i},review,5,o{i},i{i},"{t}"' for i, t in enumerate(texts)
    ]
    lines.append(f'fx,not-a-time,u9,review,5,o9,i9,"{bad_text}"')  # quarantined
    return ("\n".join([HEADER, *lines]) + "\n").encode()


def scan(text: str) -> list[str]:
    return [label for label, pattern in SCAN.items() if re.search(pattern, text)]


def test_scrub_replaces_each_kind_by_a_stable_token():
    out = [scrub_text(PII_KEY, t) for t in TEXTS]
    assert all(scan(t) == [] for t in out), out
    assert out[0].startswith("Great shoes! Mail me at [email:") and "if they restock." in out[0]
    assert out[1].count("[phone:") == 2 and out[2].count("[card:") == 1
    assert "[ip:" in out[3]
    email_token = re.search(r"\[email:[0-9a-f]{16}\]", out[0]).group()
    assert out[4].startswith(email_token) and "2024-03-01, size 42, 3 pairs" in out[4]


def test_free_text_pii_reaches_neither_raw_nor_quarantine(warehouse, contracts):
    feedback = dataclasses.replace(contracts["feedback"], max_bad_fraction=0.5)
    assert feedback.column("review_text").scrub
    data = feedback_csv(TEXTS, "reach me at bob@example.org, +1 555 010 9999")
    result = load_unit(
        warehouse,
        feedback,
        [Payload("mem://feedback.csv", "csv", data)],
        ds=DAY,
        pii_key=PII_KEY,
        unit_uri="mem://feedback",
    )
    assert (result.rows_loaded, result.rows_rejected) == (5, 1)
    dump = rows(
        warehouse,
        "select string_agg(r::text, ' ') from (select review_text::text from raw.feedback "
        "union all select _raw_line from quarantine.feedback) r",
    )[0][0]
    assert scan(dump) == [] and "example" not in dump
    assert "[email:" in dump and "the courier never came" in dump


def test_scrub_is_only_for_text_columns(tmp_path):
    from aimass.contracts import load_contracts

    config = tmp_path / "sources.yml"
    config.write_text(
        "sources:\n  s:\n    primary_key: [a]\n    columns: {a: {type: integer, pii: scrub}}\n"
    )
    with pytest.raises(ValueError, match="pii 'scrub' is not true, false or scrub"):
        load_contracts(config)
