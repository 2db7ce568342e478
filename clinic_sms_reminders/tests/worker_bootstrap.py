"""Start of every ``*_worker.py`` script (the Odoo side of the tests that run
Odoo in separate processes). Plain Python, imported by the scripts by its
file name (their folder is on ``sys.path``), never by Odoo's test loader."""

import json
import os
import sys
import threading
import time


def open_registry(cfg, *options):
    """Odoo's configuration for ``cfg["db"]`` (no HTTP, no cron thread) and
    that database's registry."""
    from odoo.tools import config

    config.parse_config(
        [
            "-d",
            cfg["db"],
            f"--addons-path={cfg['addons_path']}",
            "--log-level=warn",
            "--max-cron-threads=0",
            "--no-http",
            *options,
        ],
        setup_logging=True,
    )
    from odoo.modules.registry import Registry

    threading.current_thread().dbname = cfg["db"]
    return Registry(cfg["db"])


def environment(cr, **context):
    from odoo import SUPERUSER_ID, api

    return api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True, **context})


def emit(result):
    """One JSON line on stdout."""
    sys.stdout.write(json.dumps(result, default=str) + "\n")
    sys.stdout.flush()


def wait_for_file(path, timeout, step=0.02):
    deadline = time.time() + timeout
    while not os.path.exists(path):
        if time.time() > deadline:
            raise TimeoutError(f"{path} did not appear within {timeout} s")
        time.sleep(step)


def ready_then_wait(cfg, timeout=30):
    """Say "ready" through the file ``cfg["ready"]``, then wait for the
    barrier file ``cfg["barrier"]``."""
    with open(cfg["ready"], "w", encoding="utf-8") as ready:
        ready.write(str(os.getpid()))
    wait_for_file(cfg["barrier"], timeout, step=0.005)
