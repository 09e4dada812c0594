"""AI Mass: platform code (settings, warehouse, simulator, ingestion, quality, Airflow glue)."""
