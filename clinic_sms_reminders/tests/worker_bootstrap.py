"""Start of every ``*_worker.py`` script (the Odoo side of the tests that run
Odoo in separate processes). Plain Python, imported by the scripts by its
file name (their folder is on ``sys.path``), never by Odoo's test loader."""

import contextlib
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


@contextlib.contextmanager
def transaction(cfg):
    """A superuser environment in a new transaction on ``cfg["db"]``,
    committed when the block ends."""
    registry = open_registry(cfg)
    with registry.cursor() as cr:
        yield environment(cr)


def run_mode(modes):
    """``python3 WORKER.py MODE CONFIG_JSON``: run ``modes[MODE](config)``."""
    modes[sys.argv[1]](json.loads(sys.argv[2]))


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


def sandbox_clinic(env, name, provider_name, **values):
    """A French clinic (``res.company``) sending through its own sandbox
    provider."""
    company = env["res.company"].create(
        {"name": name, "country_id": env.ref("base.fr").id, **values}
    )
    provider = env["clinic.sms.provider"].create(
        {"name": provider_name, "company_id": company.id}
    )
    company.clinic_sms_provider_id = provider
    return company, provider


def retried_at_barrier(cfg, prepare, work):
    """The racing modes of the workers: open a transaction and take its
    snapshot (``prepare(env)``), say "ready", wait for the barrier, then run
    ``work(env, prepared)`` the way Odoo runs a request: through ``retrying``
    (a serialization failure rolls back and tries again), and commit.
    Returns the registry, what ``prepare`` and ``work`` returned and how many
    tries it took."""
    registry = open_registry(cfg)
    from odoo.service.model import retrying

    tries = []
    with registry.cursor() as cr:
        env = environment(cr)
        prepared = prepare(env)
        ready_then_wait(cfg)

        def attempt():
            tries.append(time.time())
            return work(env, prepared)

        result = retrying(attempt, env)
    # leaving the block committed the transaction
    return registry, prepared, result, len(tries)
