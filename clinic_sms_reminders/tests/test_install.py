"""Install and uninstall the addon in separate Odoo processes on fresh databases
(R-8.4): next to calendar_sms, next to common business addons, without demo
data, and a clean uninstall.

Plain pytest tests: they run real ``odoo`` commands, not inside a test
transaction."""

import os
import re
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest

from .odoo_processes import addons_path

ADDON = "clinic_sms_reminders"
REPO = Path(__file__).resolve().parents[2]
LOG_PROBLEM = re.compile(r"^\d{4}-\d\d-\d\d \S+ \d+ (ERROR|CRITICAL) ", re.MULTILINE)
TIMEOUT = 600


def _odoo(db, *args, stdin=None):
    command = [
        sys.executable,
        "-m",
        "odoo",
        *(["shell"] if stdin else []),
        "-d",
        db,
        f"--addons-path={addons_path()}",
        "--log-level=warn",
        "--http-interface=127.0.0.1",
        *args,
    ]
    done = subprocess.run(
        command,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    problems = [m.group(0) for m in LOG_PROBLEM.finditer(output)]
    assert not problems, output[-4000:]
    return output


def _psql(db, query):
    return subprocess.run(
        ["psql", "-d", db, "-tAc", query], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def database():
    name = f"inst_{uuid.uuid4().hex[:8]}"
    yield name
    subprocess.run(["dropdb", "--if-exists", name], check=False, capture_output=True)


def _state(db, module):
    return _psql(db, f"SELECT state FROM ir_module_module WHERE name = '{module}'")


def _uninstall(database):
    """Uninstall the addon as a user would (Apps > Uninstall), in an Odoo shell."""
    _odoo(
        database,
        "--no-http",
        stdin=(
            f"env['ir.module.module'].search([('name', '=', '{ADDON}')])"
            ".button_immediate_uninstall()\n"
        ),
    )


def test_install_next_to_calendar_sms_then_uninstall(database):
    """R-8.4 R-2.6: installs on a database that already has calendar_sms (with
    demo data), then uninstalls cleanly; calendar_sms stays installed."""
    _odoo(database, "-i", "calendar_sms", "--with-demo", "--stop-after-init")
    assert _state(database, "calendar_sms") == "installed"
    _odoo(database, "-i", ADDON, "--stop-after-init")
    assert _state(database, ADDON) == "installed"
    assert int(_psql(database, "SELECT count(*) FROM clinic_sms_provider")) >= 1
    _uninstall(database)
    assert _state(database, ADDON) == "uninstalled"
    assert _state(database, "calendar_sms") == "installed"
    assert _psql(database, "SELECT to_regclass('clinic_sms_message')") == ""
    columns = _psql(
        database,
        "SELECT count(*) FROM information_schema.columns "
        "WHERE table_name = 'calendar_event' AND column_name LIKE 'clinic_%'",
    )
    assert columns == "0"


# Common addons of a clinic's database that touch what this addon extends
# (res.partner, calendar.event, product, sms, phone_validation, menus,
# settings). About one minute to install on two cores, without demo data.
OTHER_ADDONS = ("contacts", "crm", "sale_management", "hr", "mass_mailing_sms")

# Run in `odoo shell` after the uninstall: every other addon still works
# (records created through their own flows, their views and menus load).
OTHERS_STILL_WORK = """
env['res.lang']._activate_lang('en_US')
partner = env['res.partner'].create(
    {'name': 'After uninstall', 'phone': '+33612345678'}
)
lead = env['crm.lead'].create({'name': 'Lead', 'partner_id': partner.id})
lead.action_set_won()
product = env['product.product'].create({'name': 'Service', 'type': 'service'})
order = env['sale.order'].create({
    'partner_id': partner.id,
    'order_line': [(0, 0, {'product_id': product.id, 'product_uom_qty': 1})],
})
order.action_confirm()
employee = env['hr.employee'].create(
    {'name': 'Employee', 'work_contact_id': partner.id}
)
mailing = env['mailing.mailing'].create({
    'subject': 'Hello', 'mailing_type': 'sms', 'body_plaintext': 'Hello',
    'mailing_model_id': env['ir.model']._get_id('res.partner'),
})
event = env['calendar.event'].create({
    'name': 'Meeting', 'start': '2030-01-01 10:00:00', 'stop': '2030-01-01 11:00:00',
    'partner_ids': [(4, partner.id)],
})
for model in ('res.partner', 'calendar.event', 'crm.lead', 'sale.order', 'hr.employee',
              'mailing.mailing', 'product.template', 'res.config.settings'):
    env[model].get_views([(False, 'form'), (False, 'list'), (False, 'search')])
menus = env['ir.ui.menu'].with_user(env.ref('base.user_admin')).load_menus(False)
result = (lead.won_status, order.state, bool(employee), bool(mailing), bool(event),
          len(menus) > 10)
env.cr.rollback()
print('OTHERS_OK', *result)
"""

# What the addon owns, by name: nothing of it may remain after the uninstall.
LEFTOVERS = {
    "models": "SELECT count(*) FROM ir_model WHERE model LIKE 'clinic.%'",
    "fields": "SELECT count(*) FROM ir_model_fields WHERE name LIKE 'clinic\\_%' "
    "OR model LIKE 'clinic.%'",
    "tables": "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'clinic\\_%'",
    "columns": "SELECT count(*) FROM information_schema.columns "
    "WHERE table_schema = 'public' AND column_name LIKE 'clinic\\_%'",
    "xml ids": f"SELECT count(*) FROM ir_model_data WHERE module = '{ADDON}'",
    "views": "SELECT count(*) FROM ir_ui_view "
    "WHERE arch_db::text LIKE '%clinic\\_sms%' OR model LIKE 'clinic.%'",
    "actions": "SELECT count(*) FROM ir_act_window WHERE res_model LIKE 'clinic.%'",
    "server actions and crons": "SELECT count(*) FROM ir_act_server "
    "WHERE name::text ILIKE '%clinic sms%' OR code LIKE '%clinic.sms%'",
    "settings": "SELECT count(*) FROM ir_config_parameter WHERE key LIKE 'clinic_sms%'",
}


def test_install_and_uninstall_next_to_other_addons(database):
    """R-8.4: on a database where contacts, CRM, Sales, Employees and SMS
    marketing are installed, the addon installs without error, then
    uninstalls leaving none of its models, tables, columns, menus, views,
    actions, crons, groups or rules; the other addons stay installed and keep
    working (records created through their own flows, views and menus load)."""
    _odoo(database, "-i", ",".join(OTHER_ADDONS), "--stop-after-init", "--no-http")
    _odoo(database, "-i", ADDON, "--stop-after-init", "--no-http")
    assert _state(database, ADDON) == "installed"
    # its views combine with the other addons' inherited views
    installed = _odoo(
        database,
        "--no-http",
        stdin=(
            "for model in ('res.partner', 'calendar.event', 'product.template', "
            "'res.config.settings'):\n"
            "    env[model].get_views([(False, 'form'), (False, 'list')])\n"
            "print('VIEWS_OK', env['ir.ui.menu'].search_count("
            f"[('parent_id', '=', env.ref('{ADDON}.menu_clinic_sms_root').id)]))\n"
        ),
    )
    assert re.search(r"^VIEWS_OK [1-9]", installed, re.MULTILINE), installed[-2000:]
    # every record the addon owns by XML id (menus, views, actions, groups,
    # rules, access rights, crons...), to look for after the uninstall
    owned = [
        line.split("|")
        for line in _psql(
            database,
            "SELECT model, string_agg(res_id::text, ',') FROM ir_model_data "
            f"WHERE module = '{ADDON}' GROUP BY model",
        ).splitlines()
    ]
    assert {"ir.ui.menu", "ir.ui.view", "res.groups", "ir.rule"} <= {
        model for model, _ids in owned
    }
    _uninstall(database)
    assert _state(database, ADDON) == "uninstalled"
    for module in OTHER_ADDONS + ("calendar", "calendar_sms", "sms"):
        assert _state(database, module) == "installed", module
    leftovers = {name: _psql(database, query) for name, query in LEFTOVERS.items()}
    for model, ids in owned:
        if model in ("ir.model", "ir.model.fields"):
            # shared: Odoo gives an XML id to every module that extends a
            # model or overrides a field (res.partner, calendar.event...);
            # the addon's own ones are checked by name above
            continue
        table = model.replace(".", "_")
        if _psql(database, f"SELECT to_regclass('{table}')"):
            leftovers[model] = _psql(
                database, f"SELECT count(*) FROM {table} WHERE id IN ({ids})"
            )
    assert leftovers == dict.fromkeys(leftovers, "0")
    still = _odoo(database, "--no-http", stdin=OTHERS_STILL_WORK)
    assert "OTHERS_OK won sale True True True True" in still, still[-2000:]


def test_install_without_demo_data(database):
    """R-8.4: installs on a fresh database without demo data; the main clinic
    gets its wallet, the sandbox provider and the default rules."""
    _odoo(database, "-i", ADDON, "--stop-after-init")
    assert _state(database, ADDON) == "installed"
    assert _psql(database, "SELECT count(*) FROM clinic_sms_wallet") == "1"
    assert _psql(database, "SELECT provider_type FROM clinic_sms_provider") == "sandbox"
    assert _psql(database, "SELECT count(*) FROM clinic_sms_rule") == "2"
    assert (
        _psql(
            database,
            "SELECT count(*) FROM calendar_event WHERE clinic_patient_id IS NOT NULL",
        )
        == "0"
    )


def test_setup_py_builds_an_odoo_addon_distribution(tmp_path):
    """R-8.4: setup.py packages the addon as odoo.addons.clinic_sms_reminders."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        timeout=TIMEOUT,
    )
    wheels = list(tmp_path.glob("odoo_addon_clinic_sms_reminders-19.0.1.0.0-*.whl"))
    assert len(wheels) == 1
    names = set(zipfile.ZipFile(wheels[0]).namelist())
    for expected in (
        "odoo/addons/clinic_sms_reminders/__manifest__.py",
        "odoo/addons/clinic_sms_reminders/models/clinic_sms_message.py",
        "odoo/addons/clinic_sms_reminders/tools/segments.py",
        "odoo/addons/clinic_sms_reminders/views/menus.xml",
        "odoo/addons/clinic_sms_reminders/security/ir.model.access.csv",
        "odoo/addons/clinic_sms_reminders/i18n/fr.po",
        "odoo/addons/clinic_sms_reminders/static/description/icon.png",
    ):
        assert expected in names, expected
    # installed, the addon imports as an Odoo addon package
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(wheels[0]),
        ],
        check=True,
        capture_output=True,
        timeout=TIMEOUT,
    )
    imported = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import odoo.addons.{ADDON}.tools.segments as s; print(s.__file__)",
        ],
        env={**os.environ, "PYTHONPATH": str(target)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert imported.stdout.startswith(str(target)), imported.stdout
