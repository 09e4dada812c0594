"""The failure callback logs one line with the cause and posts it to the configured webhook."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace

from aimass.orchestration.defaults import on_failure


def _context():
    ti = SimpleNamespace(dag_id="aimass_marts", task_id="build_marts")
    return {"task_instance": ti, "ds": "2026-09-28", "exception": ValueError("dbt failed\nmore")}


def test_failure_callback_logs_the_cause(caplog, monkeypatch):
    monkeypatch.delenv("AIMASS_ALERT_WEBHOOK_URL", raising=False)
    with caplog.at_level(logging.ERROR):
        on_failure(_context())
    assert "aimass failure: aimass_marts.build_marts for 2026-09-28: dbt failed" in caplog.text


def test_failure_callback_posts_to_the_webhook(monkeypatch):
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    monkeypatch.setenv("AIMASS_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/hook")
    on_failure(_context())
    thread.join(timeout=10)
    server.server_close()
    assert received == [
        {"text": "aimass failure: aimass_marts.build_marts for 2026-09-28: dbt failed"}
    ]
