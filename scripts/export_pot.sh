#!/usr/bin/env bash
# Regenerate clinic_sms_reminders/i18n/clinic_sms_reminders.pot from the code
# (updates the addon in a scratch database first) and merge it into fr.po,
# leaving new French entries empty for a translator.
set -euo pipefail
source "$(dirname "$0")/common.sh"
require_odoo
start_postgresql
cd "$ROOT"
DB=${CLINIC_I18N_DB:-clinic_sms_i18n}
"${ODOO_BIN[@]}" -d "$DB" --addons-path="$ADDONS_PATH" -i clinic_sms_reminders -u clinic_sms_reminders \
    --stop-after-init --no-http --log-level=warn
"${ODOO_BIN[@]}" --addons-path="$ADDONS_PATH" i18n export -d "$DB" clinic_sms_reminders
"$PYTHON" - <<'PY'
import polib
path = "clinic_sms_reminders/i18n/"
po = polib.pofile(path + "fr.po")
po.merge(polib.pofile(path + "clinic_sms_reminders.pot"))
for entry in [e for e in po if e.obsolete]:
    po.remove(entry)
po.save(path + "fr.po")
print("untranslated:", [e.msgid for e in po if not e.msgstr])
PY
