#!/usr/bin/env bash
# `make run`: a project-local PostgreSQL (unless DATABASE_URL is set), migrations, demo data, then
# gunicorn with the development settings on http://127.0.0.1:8000. Ctrl-C stops the app server;
# `make db-stop` stops the database.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${DATABASE_URL:-}" ]]; then
  DATABASE_URL="$(python3 deploy/local/postgres.py start)"
  export DATABASE_URL
fi
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.local}"
export GUNICORN_BIND="${GUNICORN_BIND:-127.0.0.1:8000}"
export WEB_CONCURRENCY="${WEB_CONCURRENCY:-2}"

.venv/bin/python app/manage.py migrate --noinput
.venv/bin/python app/manage.py seed_demo --users "${SEED_USERS:-50}" --posts "${SEED_POSTS:-500}" \
  --comments "${SEED_COMMENTS:-1500}" --seed "${SEED:-1}"

echo
echo "Scaleboard: http://${GUNICORN_BIND}/   (log in as demo1 / demo-password; Ctrl-C to stop)"
echo
cd app && exec ../.venv/bin/gunicorn -c gunicorn.conf.py --reload
