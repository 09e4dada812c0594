"""FastAPI app behind the AI Mass page; every route needs an authenticated Airflow user."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg2
from airflow.api_fastapi.core_api.security import requires_authenticated
from fastapi import Depends, FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from aimass.settings import load_settings
from aimass.ui import overview

templates = Environment(
    loader=PackageLoader("aimass.ui", "templates"), autoescape=select_autoescape(["html"])
)
app = FastAPI(
    title="AI Mass",
    description="Models, data quality, scores and campaigns of the AI Mass platform.",
    dependencies=[Depends(requires_authenticated())],
)


def _warehouse_dsn() -> str:
    from aimass.orchestration.connections import warehouse_dsn

    return warehouse_dsn()


def _read(fn, *args):
    conn = psycopg2.connect(_warehouse_dsn(), connect_timeout=5)
    try:
        return fn(conn, *args)
    finally:
        conn.close()


def _data_docs_dir() -> Path:
    return load_settings().home / "gx" / "data_docs"


@app.get("/", response_class=HTMLResponse)
async def page(dag_id: str | None = None) -> str:
    data = await asyncio.to_thread(_read, overview.overview)
    has_docs = (_data_docs_dir() / "index.html").exists()
    return templates.get_template("page.html").render(dag_id=dag_id, has_docs=has_docs, **data)


@app.get("/api/overview")
async def overview_json() -> dict:
    return await asyncio.to_thread(_read, overview.overview)


@app.get("/reports/{model_name}/{version}", response_class=HTMLResponse)
async def report(model_name: str, version: str) -> str:
    html = await asyncio.to_thread(_read, overview.model_report, model_name, version)
    if not html:
        raise HTTPException(404, f"no report for {model_name} {version}")
    return html


@app.get("/data-docs/{path:path}")
async def data_docs(path: str = "index.html") -> FileResponse:
    root = _data_docs_dir().resolve()
    target = (root / (path or "index.html")).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise HTTPException(404, "no such Data Docs page; run the pipeline to build them")
    return FileResponse(target)
