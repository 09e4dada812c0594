#!/usr/bin/env bash
# One-off initialisation of an AI Mass deployment, run before the Airflow services start:
# migrate the Airflow metadata database (FAB tables included), create the Airflow pools the DAGs
# use (sized from AIMASS_WAREHOUSE_POOL_SLOTS), create the named UI users, and create the
# warehouse layout (schemas, raw tables, the read-only analyst grants).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ "${AIRFLOW__CORE__AUTH_MANAGER:-}" != *FabAuthManager ]]; then
  echo "airflow-init: AIRFLOW__CORE__AUTH_MANAGER must be the FAB auth manager" \
    "(airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager)." >&2
  exit 2
fi
placeholders="$(env | grep -E '^[A-Z0-9_]+=.*CHANGE_ME' | cut -d= -f1 | sort -u | tr '\n' ' ' || true)"
if [[ -n "$placeholders" ]]; then
  echo "airflow-init: replace the CHANGE_ME placeholders of: ${placeholders}(docker/.env)." >&2
  exit 2
fi
if [[ -z "${AIMASS_WAREHOUSE_URL:-}" ]]; then
  echo "airflow-init: AIMASS_WAREHOUSE_URL is not set (the warehouse database URL)." >&2
  exit 2
fi

echo "airflow-init: migrating the Airflow metadata database"
airflow db migrate

echo "airflow-init: creating the Airflow pools"
python -m aimass.orchestration.pools

echo "airflow-init: creating the named users"
"${here}/create-users.sh"

echo "airflow-init: creating the warehouse layout"
python - <<'PY'
import os

import psycopg2
from aimass.warehouse import ensure_layout

conn = psycopg2.connect(os.environ["AIMASS_WAREHOUSE_URL"])
try:
    ensure_layout(conn)
finally:
    conn.close()
PY
echo "airflow-init: done"
