"""Ingestion errors: each says what was wrong and what to do about it."""

from __future__ import annotations


class IngestError(ValueError):
    """Base class of every ingestion failure."""


class SchemaDriftError(IngestError):
    """The shape of a landed file no longer matches its source contract."""


class TooManyBadRowsError(IngestError):
    """More rows than the contract's `max_bad_fraction` were rejected; nothing was loaded."""


class MissingPartitionError(IngestError):
    """An expected landing partition (or a required source's landing folder) is not there."""


class SourceUnavailableError(IngestError):
    """A source system (HTTP API, OLTP database) could not be reached or refused access."""


class ConnectionStateError(IngestError):
    """The warehouse connection handed to the loader is not in a usable state."""


class WarehouseConnectionLostError(IngestError):
    """The warehouse connection broke during a load (server restart, network); nothing of the
    unit was committed, so a retry loads it again."""
