"""The AI Mass page inside the Airflow web UI (a FastAPI app registered by an Airflow plugin)."""
