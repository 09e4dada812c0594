"""Registers the AI Mass page in the Airflow web UI: a nav entry and a tab on every DAG page."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from aimass.ui.app import app


class AimassUiPlugin(AirflowPlugin):
    name = "aimass"
    fastapi_apps = [{"app": app, "url_prefix": "/aimass", "name": "AI Mass"}]
    external_views = [
        {"name": "AI Mass", "href": "aimass/", "url_route": "aimass", "destination": "nav"},
        {
            "name": "AI Mass",
            "href": "aimass/?dag_id={DAG_ID}",
            "url_route": "aimass-dag",
            "destination": "dag",
        },
    ]
