"""Packages the addon as an Odoo addon distribution (setuptools-odoo style).

``pip install .`` makes it importable as ``odoo.addons.clinic_sms_reminders``;
metadata (version, summary, license, Python dependencies) comes from the manifest.
"""

import ast
from pathlib import Path

from setuptools import setup

ADDON = "clinic_sms_reminders"
HERE = Path(__file__).resolve().parent
MANIFEST = ast.literal_eval((HERE / ADDON / "__manifest__.py").read_text())
SERIES = ".".join(MANIFEST["version"].split(".")[:2])
PACKAGE = f"odoo.addons.{ADDON}"


def _subpackages():
    for init in sorted((HERE / ADDON).rglob("__init__.py")):
        relative = init.parent.relative_to(HERE / ADDON)
        yield ".".join((PACKAGE, *relative.parts)) if relative.parts else PACKAGE


setup(
    name=f"odoo-addon-{ADDON}",
    version=MANIFEST["version"],
    description=MANIFEST["summary"],
    long_description=(HERE / "README.rst").read_text(encoding="utf-8"),
    long_description_content_type="text/x-rst",
    author=MANIFEST["author"],
    url=MANIFEST["website"],
    license="LGPL-3",
    packages=list(_subpackages()),
    package_dir={PACKAGE: ADDON},
    package_data={PACKAGE: ["**/*"]},
    include_package_data=True,
    install_requires=[
        f"odoo>={SERIES}a,<{SERIES}.1dev",
        *MANIFEST["external_dependencies"]["python"],
    ],
    python_requires=">=3.10",
    classifiers=[
        "Programming Language :: Python",
        "Framework :: Odoo",
        f"Framework :: Odoo :: {SERIES}",
        "License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)",
    ],
)
