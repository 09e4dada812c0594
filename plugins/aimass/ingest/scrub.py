"""Personal data inside free text (`pii: scrub` columns): found by pattern, pseudonymised.

E-mail addresses, IPv4 addresses, card-like numbers (13 to 19 digits, spaces or dashes
between them allowed) and phone numbers (8 to 15 digits, optionally with `+`, spaces,
dots, dashes or brackets; not dates) are each replaced by `[<kind>:<pseudonym>]`, the first 16 hex
characters of `hmac_sha256(key, match)`: the same value gives the same token, the clear
text is gone. The rest of the text stays as written.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from aimass.ingest.pii import pseudonymise_value

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
PATTERNS = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+",
    "ip": rf"(?<![\d.]){_OCTET}(?:\.{_OCTET}){{3}}(?![\d.])",
    "card": r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])",
    "phone": r"(?<![\w+])\+?(?:\(?\d[\d\s().-]{6,}\d)(?!\w)",
}
_ANY = re.compile("|".join(f"(?P<{kind}>{p})" for kind, p in PATTERNS.items()))
# RE2 prefilter: text without '@' or a digit holds none of the patterns
_CANDIDATE = r"[@0-9]"
PHONE_DIGITS = range(8, 16)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{2}[./-]\d{2}[./-]\d{4}")


def scrub_text(key: bytes, text: str) -> str:
    """`text` with every e-mail, IP address, card-like and phone number pseudonymised."""

    def replace(match: re.Match) -> str:
        kind, value = match.lastgroup, match.group()
        if kind == "phone" and (
            sum(c.isdigit() for c in value) not in PHONE_DIGITS or _DATE.fullmatch(value.strip())
        ):
            return value
        return f"[{kind}:{pseudonymise_value(key, value)[:16]}]"

    return _ANY.sub(replace, text)


def scrub_array(key: bytes, values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """`scrub_text` over a string array; each distinct candidate value is scrubbed once."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = values.cast(pa.string())
    candidates = pc.fill_null(pc.match_substring_regex(values, _CANDIDATE), False)
    if not pc.any(candidates).as_py():
        return values
    encoded = values.dictionary_encode()
    scrubbed = pa.array(
        [None if v is None else scrub_text(key, v) for v in encoded.dictionary.to_pylist()],
        pa.string(),
    )
    return pc.take(scrubbed, encoded.indices)
