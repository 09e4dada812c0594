"""Ingestion into `raw` (placeholder docstring, replaced below)."""

from aimass.ingest.sync import sync_source  # noqa: E402
