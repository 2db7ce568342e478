"""Shared by the tests that run Odoo in separate processes (install, Kannel
end to end, integrator example, reliability stress, the concurrency tests):
database names, install, copy and drop, and the worker processes that meet
at a barrier file."""

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg2
import pytest

import odoo

REPO = Path(__file__).resolve().parents[2]
ADDON = "clinic_sms_reminders"


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


# ----------------------------------------------------------------------
# databases
# ----------------------------------------------------------------------
def database_name(kind):
    """``CLINIC_TEST_DB_PREFIX`` (default ``clinic_``), the kind and a random
    part: runs side by side never collide."""
    prefix = os.environ.get("CLINIC_TEST_DB_PREFIX", "clinic_")
    return f"{prefix}{kind}_{uuid.uuid4().hex[:8]}"


def odoo_command(db, *args):
    """``python3 -m odoo`` on one database, with this repository's addons."""
    return [
        sys.executable,
        "-m",
        "odoo",
        "-d",
        db,
        f"--addons-path={addons_path()}",
        *args,
    ]


def install(db, module=ADDON, timeout=900, **run):
    """Install ``module`` on a new database ``db`` in a separate process;
    asserts it succeeded and returns its log."""
    done = subprocess.run(
        odoo_command(
            db, "-i", module, "--stop-after-init", "--no-http", "--log-level=warn"
        ),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **run,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    return output


def drop_database(name):
    subprocess.run(
        ["dropdb", "--if-exists", "--force", name],
        check=False,
        capture_output=True,
        timeout=60,
    )


def source_database():
    """The database the test session runs on, when it holds the addon."""
    from odoo.tools import config

    names = config.get("db_name") or []
    if isinstance(names, str):
        names = [name for name in names.split(",") if name]
    for name in names:
        try:
            conn = psycopg2.connect(dbname=name)
        except psycopg2.Error:
            continue
        try:
            with conn.cursor() as cr:
                cr.execute(
                    "SELECT 1 FROM ir_module_module WHERE name = %s "
                    "AND state = 'installed'",
                    [ADDON],
                )
                if cr.fetchone():
                    return name
        except psycopg2.Error:
            continue
        finally:
            conn.close()
    return None


@contextlib.contextmanager
def own_database(kind, timeout):
    """A database of its own for a test's worker processes, dropped at the
    end: a copy of the test database when it has the addon, else a fresh
    install without demo data."""
    name = database_name(kind)
    try:
        source = source_database()
        if source:
            copy_database(source, name, timeout)
        else:
            install(name, timeout=timeout * 3)
        yield name
    finally:
        drop_database(name)


def copy_database(source, name, timeout):
    """A new database ``name`` holding what ``source`` holds."""
    subprocess.run(["createdb", name], check=True, capture_output=True)
    dump = subprocess.Popen(["pg_dump", "-Fc", source], stdout=subprocess.PIPE)
    subprocess.run(
        ["pg_restore", "--no-owner", "-d", name],
        stdin=dump.stdout,
        check=True,
        capture_output=True,
        timeout=timeout,
    )
    dump.stdout.close()
    assert dump.wait(timeout=timeout) == 0


# ----------------------------------------------------------------------
# worker processes (the ``*_worker.py`` scripts)
# ----------------------------------------------------------------------
def start_worker(script, mode, cfg):
    """``python3 SCRIPT MODE CONFIG_JSON``, its output piped."""
    return subprocess.Popen(
        [sys.executable, str(script), mode, json.dumps(cfg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def worker_result(process, timeout):
    """The last JSON line a worker printed, once it ended well."""
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def wait_for_files(paths, processes, timeout):
    deadline = time.time() + timeout
    while not all(os.path.exists(path) for path in paths):
        for process in processes:
            if process.poll() is not None:
                raise AssertionError(process.stderr.read()[-3000:])
        assert time.time() < deadline, "the workers did not get ready"
        time.sleep(0.02)


def race(script, mode, configs, timeout):
    """One worker ``script MODE`` per config, each told (``ready``, ``barrier``
    files) to open its transaction, say it is ready and wait at a common
    barrier; once all are ready the barrier is raised and their results are
    returned in order. A worker still running at the end is killed."""
    with tempfile.TemporaryDirectory(prefix="clinic_race_") as folder:
        barrier = os.path.join(folder, "go")
        readies = [os.path.join(folder, f"ready{i}") for i in range(len(configs))]
        workers = []
        try:
            for cfg, ready in zip(configs, readies, strict=True):
                workers.append(
                    start_worker(script, mode, dict(cfg, ready=ready, barrier=barrier))
                )
            wait_for_files(readies, workers, timeout)
            # all transactions are open, with their snapshots: release them
            Path(barrier).touch()
            return [worker_result(worker, timeout) for worker in workers]
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()
