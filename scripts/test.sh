#!/usr/bin/env bash
# Run every check and test of the project on a fresh database:
# ruff, pylint-odoo, then the whole suite with pytest (pytest-odoo).
set -euo pipefail
source "$(dirname "$0")/common.sh"

require_odoo
pip_install
start_postgresql
# the browser for UI tours and the real SMS gateway for the end-to-end test
apt_install chromium kannel kannel-extras
cd "$ROOT"

echo "== ruff"
"$PYTHON" -m ruff check clinic_sms_reminders
"$PYTHON" -m ruff format --check clinic_sms_reminders
echo "== pylint-odoo"
"$PYTHON" -m pylint --rcfile=.pylintrc clinic_sms_reminders
echo "== README up to date"
"$PYTHON" scripts/gen_readme.py --check

DB=${CLINIC_TEST_DB:-clinic_sms_test}
echo "== fresh database $DB"
dropdb --if-exists "$DB"
"${ODOO_BIN[@]}" -d "$DB" --addons-path="$ADDONS_PATH" -i clinic_sms_reminders \
    --with-demo --stop-after-init --no-http --log-level=warn --load-language=fr_FR

echo "== tests"
export CLINIC_ADDONS_PATH="$ADDONS_PATH"
"$PYTHON" -m pytest -p no:cacheprovider --odoo-http --odoo-database="$DB" \
    --odoo-addons-path="$ADDONS_PATH" clinic_sms_reminders/tests "$@"
