#!/usr/bin/env bash
# `make run`: a project-local PostgreSQL (unless DATABASE_URL is set), migrations, demo data, then
# gunicorn with the development settings on http://127.0.0.1:APP_PORT. Ctrl-C stops the app server;
# `make db-stop` stops the database.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${DATABASE_URL:-}" ]]; then
  DATABASE_URL="$(python3 deploy/local/postgres.py start)"
  export DATABASE_URL
fi
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.local}"
# The Makefile passes the defaults of deploy/defaults.env (APP_PORT, WEB_CONCURRENCY, SEED_*).
export GUNICORN_BIND="${GUNICORN_BIND:-127.0.0.1:${APP_PORT:?run it with make run}}"
export WEB_CONCURRENCY="${WEB_CONCURRENCY:?run it with make run}"

.venv/bin/python app/manage.py migrate --noinput
.venv/bin/python app/manage.py seed_demo --users "${SEED_USERS:?}" --posts "${SEED_POSTS:?}" \
  --comments "${SEED_COMMENTS:?}" --seed "${SEED:?}"

echo
echo "Scaleboard: http://${GUNICORN_BIND}/   (log in as demo1 / demo-password; Ctrl-C to stop)"
echo
cd app && exec ../.venv/bin/gunicorn -c gunicorn.conf.py --reload
