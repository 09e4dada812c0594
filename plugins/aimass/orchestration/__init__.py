"""Airflow glue: shared DAG defaults, the connection inventory, and the task bodies DAGs wire."""
