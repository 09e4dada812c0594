"""Which errors fail a task at once and which keep its retries."""

from __future__ import annotations

import psycopg2
import pytest
from airflow.sdk.exceptions import AirflowFailException

from aimass.ingest.errors import (
    MissingPartitionError,
    SchemaDriftError,
    ShrinkingDeliveryError,
    SourceUnavailableError,
    TooManyBadRowsError,
    UnreadableFileError,
    WarehouseConnectionLostError,
)
from aimass.orchestration.fail_fast import fail_fast, is_deterministic
from aimass.settings import ConfigError


@pytest.mark.parametrize(
    "error",
    [
        SchemaDriftError("x.csv: required columns missing"),
        TooManyBadRowsError("80% bad"),
        UnreadableFileError("x.xlsx: not a data file"),
        ShrinkingDeliveryError("would drop 100%"),
        ConfigError("AIMASS_PII_KEY is missing"),
        ValueError("the simulated shop covers 2026-01-01 to 2026-02-01"),
    ],
)
def test_input_errors_fail_at_once(error):
    assert is_deterministic(error)
    with pytest.raises(AirflowFailException, match="not retried") as caught:
        with fail_fast():
            raise error
    assert caught.value.__cause__ is error


@pytest.mark.parametrize(
    "error",
    [
        WarehouseConnectionLostError("connection lost"),
        SourceUnavailableError("API down"),
        MissingPartitionError("the export has not landed"),
        psycopg2.errors.LockNotAvailable("lock timeout"),
        OSError("network"),
    ],
)
def test_transient_errors_keep_their_retries(error):
    assert not is_deterministic(error)
    with pytest.raises(type(error)):
        with fail_fast():
            raise error


def test_a_source_failing_for_mixed_reasons_is_retried():
    first = SchemaDriftError("day 1 drifted")
    first.errors = [first, WarehouseConnectionLostError("day 2 lost the connection")]
    assert not is_deterministic(first)
    first.errors = [first, TooManyBadRowsError("day 2 bad")]
    assert is_deterministic(first)
