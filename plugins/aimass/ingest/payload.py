"""`Payload`: the bytes of one landed file (or one API/SQL extract) and where they came from."""

from __future__ import annotations

import hashlib
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


def unit_checksum(payloads: Iterable[Payload]) -> str:
    """sha256 over the (name, sha256 of content) of every file of a load unit, by name."""
    outer = hashlib.sha256()
    for payload in sorted(payloads, key=lambda p: p.uri):
        outer.update(payload.name.encode("utf-8") + b"\0")
        outer.update(hashlib.sha256(payload.data).digest())
    return outer.hexdigest()
