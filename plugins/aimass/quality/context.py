"""The GX data context of one gate run: in memory, except what people look at afterwards.

Suites and validation results are kept as JSON beside the Data Docs directory
(`<parent>/expectations`, `<parent>/validations`) so the Data Docs index lists every run,
not only the latest; datasources, validation definitions and checkpoints live in memory.
"""

from __future__ import annotations

from pathlib import Path

from psycopg2.extensions import parse_dsn

DATA_DOCS_SITE = "aimass"
DATASOURCE = "warehouse"
# Validation results the Data Docs index lists (newest first); older pages stay on disk.
INDEX_VALIDATION_LIMIT = 500


def sqlalchemy_url(warehouse_url: str) -> str:
    """A SQLAlchemy psycopg2 URL for a libpq DSN or a postgresql:// URL."""
    from sqlalchemy.engine import URL

    params = parse_dsn(warehouse_url)
    host = params.pop("host", None)
    query = {}
    if host and host.startswith("/"):  # a unix socket directory
        query["host"], host = host, None
    port = params.pop("port", None)
    url = URL.create(
        "postgresql+psycopg2",
        username=params.pop("user", None),
        password=params.pop("password", None),
        host=host,
        port=int(port) if port else None,
        database=params.pop("dbname", None),
        query={**query, **params},
    )
    return url.render_as_string(hide_password=False)


def _filesystem_store(class_name: str, directory: Path) -> dict:
    return {
        "class_name": class_name,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(directory),
        },
    }


def _memory_store(class_name: str) -> dict:
    return {"class_name": class_name, "store_backend": {"class_name": "InMemoryStoreBackend"}}


def build_context(data_docs_dir: Path):
    """An ephemeral GX context whose Data Docs site is `data_docs_dir`."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    state_dir = data_docs_dir.parent
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        stores={
            "expectations_store": _filesystem_store(
                "ExpectationsStore", state_dir / "expectations"
            ),
            "validation_results_store": _filesystem_store(
                "ValidationResultsStore", state_dir / "validations"
            ),
            "checkpoint_store": _memory_store("CheckpointStore"),
            "validation_definition_store": _memory_store("ValidationDefinitionStore"),
        },
        data_docs_sites={
            DATA_DOCS_SITE: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(data_docs_dir),
                },
                "site_index_builder": {
                    "class_name": "DefaultSiteIndexBuilder",
                    "validation_results_limit": INDEX_VALIDATION_LIMIT,
                },
            }
        },
    )
    return gx.get_context(mode="ephemeral", project_config=config)
