"""Pieces of the self-contained HTML report every model version has (stored in the registry)."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from pathlib import Path

from ml.core.registry import RegisteredModel, get_model, set_report

STYLE = """
body{font-family:sans-serif;margin:24px;color:#222;max-width:1400px}
table{border-collapse:collapse;margin:8px 0 20px}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right;font-size:13px}
th{background:#f3f3f3} td:first-child,th:first-child{text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:16px}
.verdict{padding:10px;border-left:4px solid #1f77b4;background:#f5f9ff}
.warn{background:#fff4d6}.fail{background:#ffd9d9}
"""


def fmt(value, pattern: str) -> str:
    """`value` formatted with `pattern`; "–" for None, the escaped text when it does not fit."""
    if value is None:
        return "–"
    try:
        return pattern.format(value)
    except (TypeError, ValueError):
        return escape(str(value))


def table(header: list[str], rows: list[list[str]], row_classes: list[str] | None = None) -> str:
    """An HTML table; cells are HTML already, header names are escaped."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def page(title: str, body: str) -> str:
    """The whole HTML document."""
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )


def store_report(
    conn, model_name: str, model_version: str, render: Callable[[RegisteredModel], str]
) -> str:
    """Render the report of a registered version and store it in its registry row."""
    html = render(get_model(conn, model_name, model_version, with_artifact=False))
    set_report(conn, model_name, model_version, html)
    return html


def write_file(path: str | Path, text: str) -> Path:
    """Write a report (or chart) file, creating its folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
