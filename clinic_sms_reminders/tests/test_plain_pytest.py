"""Odoo's own runner (``odoo --test-tags /clinic_sms_reminders``) reaches the
plain pytest modules of this folder too: the pure ``tools/`` tests and the
tests that run Odoo, Kannel or several workers in processes of their own.
Each module found here that ``tests/__init__.py`` does not import is run by
pytest (with pytest-odoo, on the database under test) in a subprocess, one
test per module, and must pass.

Under pytest those modules are collected directly, so this wrapper skips
itself there instead of running them twice."""

import ast
import os
import subprocess
import sys
from pathlib import Path

from odoo.tests import BaseCase, tagged
from odoo.tools import config

from .odoo_processes import REPO, addons_path

HERE = Path(__file__).resolve().parent
TIMEOUT = 1800


def plain_modules():
    """test_*.py modules of this folder that Odoo's runner does not import."""
    tree = ast.parse((HERE / "__init__.py").read_text())
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    return sorted(
        path.stem for path in HERE.glob("test_*.py") if path.stem not in imported
    )


def _make_test(module):
    def test(self):
        if os.environ.get("PYTEST_CURRENT_TEST"):
            self.skipTest("collected directly by pytest")
        ap = addons_path()
        database = config["db_name"]
        if isinstance(database, list | tuple):  # Odoo 19: -d takes a list
            database = database[0]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-p",
                "no:cacheprovider",
                "-q",
                f"--odoo-database={database}",
                f"--odoo-addons-path={ap}",
                str(HERE / f"{module}.py"),
            ],
            cwd=REPO,
            env={**os.environ, "CLINIC_ADDONS_PATH": ap},
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        self.assertEqual(
            done.returncode, 0, f"{module}:\n{done.stdout[-6000:]}{done.stderr[-3000:]}"
        )

    test.__name__ = f"test_{module.removeprefix('test_')}"
    test.__doc__ = f"pytest {module}.py passes"
    return test


@tagged("post_install", "-at_install")
class TestPlainPytestModules(BaseCase):
    """The plain pytest modules, as Odoo's runner sees them."""


for _module in plain_modules():
    _test = _make_test(_module)
    setattr(TestPlainPytestModules, _test.__name__, _test)
