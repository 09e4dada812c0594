"""`LoadResult`: what one load unit (source, day) did."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

STATUSES = ("loaded", "skipped", "missing", "absent", "failed")


@dataclass(frozen=True)
class LoadResult:
    """Outcome of one load unit; `rows_in == rows_loaded + rows_rejected` when loaded."""

    source: str
    ds: date | None
    batch_id: str | None
    status: str
    rows_in: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    checksum: str | None = None
    duration_s: float = 0.0
    top_reasons: tuple[tuple[str, int], ...] = ()
    source_uri: str | None = None
    message: str = ""
    warnings: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {STATUSES}")
