"""Install and uninstall the addon in separate Odoo processes on fresh databases
(R-8.4): next to calendar_sms, without demo data, and a clean uninstall.

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
    name = f"clinic_install_{uuid.uuid4().hex[:8]}"
    yield name
    subprocess.run(["dropdb", "--if-exists", name], check=False, capture_output=True)


def _state(db, module):
    return _psql(db, f"SELECT state FROM ir_module_module WHERE name = '{module}'")


def test_install_next_to_calendar_sms_then_uninstall(database):
    """R-8.4 R-2.6: installs on a database that already has calendar_sms (with
    demo data), then uninstalls cleanly; calendar_sms stays installed."""
    _odoo(database, "-i", "calendar_sms", "--with-demo", "--stop-after-init")
    assert _state(database, "calendar_sms") == "installed"
    _odoo(database, "-i", ADDON, "--stop-after-init")
    assert _state(database, ADDON) == "installed"
    assert int(_psql(database, "SELECT count(*) FROM clinic_sms_provider")) >= 1
    _odoo(
        database,
        "--no-http",
        stdin=(
            f"env['ir.module.module'].search([('name', '=', '{ADDON}')])"
            ".button_immediate_uninstall()\n"
        ),
    )
    assert _state(database, ADDON) == "uninstalled"
    assert _state(database, "calendar_sms") == "installed"
    assert _psql(database, "SELECT to_regclass('clinic_sms_message')") == ""
    columns = _psql(
        database,
        "SELECT count(*) FROM information_schema.columns "
        "WHERE table_name = 'calendar_event' AND column_name LIKE 'clinic_%'",
    )
    assert columns == "0"


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
