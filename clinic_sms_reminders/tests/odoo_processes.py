"""Shared by the tests that run Odoo in separate processes (install, Kannel
end to end, reliability stress)."""

import os
from pathlib import Path

import pytest

import odoo

REPO = Path(__file__).resolve().parents[2]


def addons_path():
    """Core addons (found next to the imported odoo package) and this repository,
    or CLINIC_ADDONS_PATH when the test runner sets it."""
    if os.environ.get("CLINIC_ADDONS_PATH"):
        return os.environ["CLINIC_ADDONS_PATH"]
    for path in odoo.__path__:
        core = Path(path).resolve().parent / "addons"
        if (core / "calendar" / "__manifest__.py").is_file():
            return f"{core},{REPO}"
    pytest.fail("Odoo's core addons folder was not found next to the odoo package")
