#!/usr/bin/env bash
# Build (once) a demo database with the addon, its demo data and the sandbox
# provider, English and French active, and serve it on http://localhost:8069
# (login admin / admin).
set -euo pipefail
source "$(dirname "$0")/common.sh"

require_odoo
pip_install
start_postgresql
cd "$ROOT"

DB=${CLINIC_DEMO_DB:-clinic_sms_demo}
if ! psql -d postgres -tAc "select 1 from pg_database where datname = '$DB'" | grep -q 1; then
    echo "== building demo database $DB"
    "${ODOO_BIN[@]}" -d "$DB" --addons-path="$ADDONS_PATH" -i clinic_sms_reminders \
        --with-demo --load-language=en_US,fr_FR --stop-after-init --no-http --log-level=warn
fi
echo "== serving $DB on http://localhost:8069 (admin / admin)"
exec "${ODOO_BIN[@]}" -d "$DB" --addons-path="$ADDONS_PATH" --db-filter="^$DB\$" \
    --http-interface=127.0.0.1 --http-port=8069 "$@"
