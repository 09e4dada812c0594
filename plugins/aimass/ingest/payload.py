"""`Payload`: the bytes of one landed file (or one API/SQL extract) and where they came from."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Payload:
    uri: str
    format: str
    data: bytes

    @property
    def name(self) -> str:
        return self.uri.rstrip("/").rsplit("/", 1)[-1]


def unit_checksum(payloads: Iterable[Payload], pii_key: bytes | None = None) -> str:
    """sha256 over the (name, sha256 of content) of every file of a load unit, by name, and
    the fingerprint of the PII key: a unit is unchanged only if its files and the key are, so
    a new `AIMASS_PII_KEY` reloads it with the new pseudonyms."""
    outer = hashlib.sha256()
    for payload in sorted(payloads, key=lambda p: p.uri):
        outer.update(payload.name.encode("utf-8") + b"\0")
        outer.update(hashlib.sha256(payload.data).digest())
    if pii_key is not None:
        outer.update(b"pii-key\0" + key_fingerprint(pii_key))
    return outer.hexdigest()


def key_fingerprint(key: bytes) -> bytes:
    """An HMAC of a constant under `key`: tells keys apart without revealing the key."""
    return hmac.digest(bytes(key), b"aimass.pii-key-fingerprint", "sha256")
