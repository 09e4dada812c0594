"""Fail fast on bad input: an error a retry cannot fix fails its task at once.

Deterministic errors (the delivered data is wrong: `InputError` — schema drift, too many bad
rows, an unreadable file, a shrinking re-delivery; a failed data-quality gate; a bad
parameter or setting) are re-raised as Airflow's `AirflowFailException`, which fails the
task without its retries. Everything else (a lost connection, a lock timeout, a source that
is down, a day whose export has not landed yet) keeps the task's retries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from aimass.ingest.errors import IngestError, InputError
from aimass.settings import ConfigError


def is_deterministic(exc: BaseException) -> bool:
    """True when retrying cannot help: every failure `exc` stands for (`errors`, as
    `sync_source` collects them) is an input error, a failed gate or a bad parameter."""
    from aimass.quality.gate import DataQualityError

    def one(error: BaseException) -> bool:
        if isinstance(error, InputError | DataQualityError | ConfigError):
            return True
        return isinstance(error, ValueError) and not isinstance(error, IngestError)

    return all(one(e) for e in getattr(exc, "errors", None) or [exc])


@contextmanager
def fail_fast() -> Iterator[None]:
    """Run a task body; a deterministic error fails the task without retries."""
    try:
        yield
    except Exception as exc:
        if not is_deterministic(exc):
            raise
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(
            f"{exc} (not retried: the same input fails the same way)"
        ) from exc
