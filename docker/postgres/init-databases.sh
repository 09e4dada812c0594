#!/usr/bin/env bash
# First-start initialisation of the PostgreSQL server (run by the postgres image from
# /docker-entrypoint-initdb.d, as the superuser): one login role and one database for the
# Airflow metadata, one for the AI Mass warehouse (its owner is the pipeline role), and a
# read-only analyst login that is a member of the `aimass_analyst` group role (the warehouse
# layout grants that group read access to the marts and the public ml tables).
set -euo pipefail

require() {
  local name
  for name in "$@"; do
    if [[ -z "${!name:-}" ]]; then
      echo "init-databases: ${name} is not set; set it in docker/.env (see docker/.env.example)." >&2
      exit 2
    fi
  done
}

require AIRFLOW_DB_USER AIRFLOW_DB_PASSWORD AIMASS_DB_USER AIMASS_DB_PASSWORD \
  AIMASS_ANALYST_DB_USER AIMASS_ANALYST_DB_PASSWORD

for name in POSTGRES_PASSWORD AIRFLOW_DB_PASSWORD AIMASS_DB_PASSWORD AIMASS_ANALYST_DB_PASSWORD; do
  if [[ "${!name:-}" == "CHANGE_ME" ]]; then
    echo "init-databases: ${name} is still the CHANGE_ME placeholder; set a real one in docker/.env." >&2
    exit 2
  fi
done

psql -v ON_ERROR_STOP=1 \
  --username "${POSTGRES_USER:-postgres}" \
  --dbname "${POSTGRES_DB:-postgres}" \
  -v airflow_db="${AIRFLOW_DB_NAME:-airflow}" \
  -v airflow_user="$AIRFLOW_DB_USER" \
  -v airflow_password="$AIRFLOW_DB_PASSWORD" \
  -v warehouse_db="${AIMASS_WAREHOUSE_DB:-aimass}" \
  -v pipeline_user="$AIMASS_DB_USER" \
  -v pipeline_password="$AIMASS_DB_PASSWORD" \
  -v analyst_group="${AIMASS_ANALYST_GROUP:-aimass_analyst}" \
  -v analyst_user="$AIMASS_ANALYST_DB_USER" \
  -v analyst_password="$AIMASS_ANALYST_DB_PASSWORD" \
  <<'SQL'
-- login roles: created once, password (re)set on every run
select format('create role %I login', :'airflow_user')
where not exists (select from pg_roles where rolname = :'airflow_user') \gexec
select format('alter role %I with login password %L', :'airflow_user', :'airflow_password') \gexec

select format('create role %I login', :'pipeline_user')
where not exists (select from pg_roles where rolname = :'pipeline_user') \gexec
select format('alter role %I with login password %L', :'pipeline_user', :'pipeline_password') \gexec

select format('create role %I nologin', :'analyst_group')
where not exists (select from pg_roles where rolname = :'analyst_group') \gexec
select format('create role %I login', :'analyst_user')
where not exists (select from pg_roles where rolname = :'analyst_user') \gexec
select format('alter role %I with login password %L', :'analyst_user', :'analyst_password') \gexec
select format('grant %I to %I', :'analyst_group', :'analyst_user') \gexec

-- databases, each owned by the role that writes it
select format('create database %I owner %I', :'airflow_db', :'airflow_user')
where not exists (select from pg_database where datname = :'airflow_db') \gexec
select format('create database %I owner %I', :'warehouse_db', :'pipeline_user')
where not exists (select from pg_database where datname = :'warehouse_db') \gexec

-- nobody but the owner connects unless granted
select format('revoke all on database %I from public', :'airflow_db') \gexec
select format('revoke all on database %I from public', :'warehouse_db') \gexec
select format('grant connect on database %I to %I', :'warehouse_db', :'analyst_group') \gexec
SQL
echo "init-databases: databases ${AIRFLOW_DB_NAME:-airflow} and ${AIMASS_WAREHOUSE_DB:-aimass} are ready."
