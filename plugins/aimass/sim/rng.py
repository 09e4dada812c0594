"""Seeded random generators: one independent stream per (seed, day, purpose).

A day's draws depend only on the seed, the day index and the purpose name, so simulating more
days never changes earlier days, and adding a purpose never shifts another one's draws.
"""

from __future__ import annotations

import zlib

import numpy as np

_STATIC = 0
_DAILY = 1


def _purpose_key(purpose: str) -> int:
    return zlib.crc32(purpose.encode("utf-8"))


def static_rng(seed: int, purpose: str) -> np.random.Generator:
    """Generator for the world that exists independently of days (entities, traits)."""
    return np.random.default_rng([seed, _STATIC, _purpose_key(purpose)])


def day_rng(seed: int, day_index: int, purpose: str) -> np.random.Generator:
    """Generator for one purpose on one simulated day."""
    return np.random.default_rng([seed, _DAILY, day_index, _purpose_key(purpose)])
