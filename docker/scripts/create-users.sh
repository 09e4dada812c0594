#!/usr/bin/env bash
# Create the named Airflow UI users (FAB auth manager) from the environment.
#
#   AIRFLOW_ADMIN_*     role Admin  - the platform owner: users, connections, configuration
#   AIRFLOW_OPERATOR_*  role Op     - operators: trigger, clear and pause DAG runs, read logs
#   AIRFLOW_ANALYST_*   role Viewer - analysts: read-only view of DAGs, runs and logs
#
# Each needs <PREFIX>_USERNAME, <PREFIX>_PASSWORD (12+ characters, not a default or well-known
# password) and <PREFIX>_EMAIL.
# A user that already exists is left as it is; change a password with
# `airflow users reset-password --username NAME --password ...`.
set -euo pipefail

MIN_PASSWORD_LENGTH=12
WELL_KNOWN_PASSWORDS="admin|administrator|airflow|password|passwd|pass|changeme|secret|letmein|qwerty|welcome|default|root|postgres|test|user|abc"

create_user() {
  local role="$1" prefix="$2"
  local user_var="${prefix}_USERNAME" pass_var="${prefix}_PASSWORD" email_var="${prefix}_EMAIL"
  local username="${!user_var:-}" password="${!pass_var:-}" email="${!email_var:-}"
  if [[ -z "$username" || -z "$password" || -z "$email" ]]; then
    echo "create-users: set ${user_var}, ${pass_var} and ${email_var} (see docker/.env.example)." >&2
    exit 2
  fi
  if (( ${#password} < MIN_PASSWORD_LENGTH )); then
    echo "create-users: ${pass_var} is shorter than ${MIN_PASSWORD_LENGTH} characters; choose a longer one." >&2
    exit 2
  fi
  # Default and well-known passwords, padded with digits or symbols ("Password1234!"), repeated
  # ("adminadminadmin") or equal to the user name, are refused.
  local letters="${password,,}"
  letters="${letters//[^a-z]/}"
  if [[ -z "$letters" || "$letters" =~ ^(${WELL_KNOWN_PASSWORDS})+$ || "${password,,}" == *"${username,,}"* ]]; then
    echo "create-users: ${pass_var} is a default or well-known password (like admin, airflow," \
      "password, changeme or the user name); choose a random one, e.g. openssl rand -base64 18." >&2
    exit 2
  fi
  airflow users create \
    --role "$role" \
    --username "$username" \
    --email "$email" \
    --firstname "$username" \
    --lastname "$role" \
    --password "$password"
}

create_user Admin AIRFLOW_ADMIN
create_user Op AIRFLOW_OPERATOR
create_user Viewer AIRFLOW_ANALYST
