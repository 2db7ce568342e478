"""R-9.3: two patients accept two offers of the same freed slot at the same
moment, in two separate Odoo processes: exactly one appointment is booked, the
other patient's offer is 'taken' (the slot's row lock decides).

Plain pytest test, not an Odoo test class: the processes (``waitlist_worker.py``)
commit for real, on a database of their own (a copy of the test database when
it has the addon, else a fresh install without demo data), dropped at the end.
"""

import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import psycopg2
import pytest

from .odoo_processes import addons_path

HERE = Path(__file__).resolve().parent
WORKER = HERE / "waitlist_worker.py"
ADDON = "clinic_sms_reminders"
TIMEOUT = 120


def _source_database():
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


@pytest.fixture
def database():
    name = f"ci_waitlist_{uuid.uuid4().hex[:8]}"
    source = _source_database()
    if source:
        subprocess.run(["createdb", name], check=True, capture_output=True)
        dump = subprocess.Popen(["pg_dump", "-Fc", source], stdout=subprocess.PIPE)
        subprocess.run(
            ["pg_restore", "--no-owner", "-d", name],
            stdin=dump.stdout,
            check=True,
            capture_output=True,
            timeout=TIMEOUT,
        )
        dump.stdout.close()
        assert dump.wait(timeout=TIMEOUT) == 0
    else:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "odoo",
                "-d",
                name,
                f"--addons-path={addons_path()}",
                "-i",
                ADDON,
                "--stop-after-init",
                "--no-http",
                "--log-level=warn",
            ],
            check=True,
            capture_output=True,
            timeout=TIMEOUT * 3,
        )
    yield name
    subprocess.run(["dropdb", "--if-exists", name], check=False, capture_output=True)


def _worker(mode, cfg):
    return subprocess.Popen(
        [sys.executable, str(WORKER), mode, json.dumps(cfg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _result(process):
    out, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def _wait_for(paths, processes, timeout):
    import time

    deadline = time.time() + timeout
    while not all(os.path.exists(path) for path in paths):
        for process in processes:
            if process.poll() is not None:
                raise AssertionError(process.stderr.read()[-3000:])
        assert time.time() < deadline, "the workers did not get ready"
        time.sleep(0.02)


def test_two_processes_accept_the_same_slot(database):
    cfg = {"db": database, "addons_path": addons_path()}
    setup = _result(_worker("setup", cfg))
    assert len(setup["offers"]) == 2

    with tempfile.TemporaryDirectory(prefix="h6_waitlist_") as folder:
        barrier = os.path.join(folder, "go")
        readies = [os.path.join(folder, f"ready{i}") for i in range(2)]
        workers = [
            _worker(
                "accept",
                dict(cfg, offer=offer, ready=ready, barrier=barrier),
            )
            for offer, ready in zip(setup["offers"], readies, strict=True)
        ]
        try:
            _wait_for(readies, workers, TIMEOUT)
            # both transactions are open, with their snapshots: release them
            Path(barrier).touch()
            results = [_result(worker) for worker in workers]
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()

    assert [r["before"] for r in results] == ["offered", "offered"]
    winners = [r for r in results if r["booked"]]
    losers = [r for r in results if not r["booked"]]
    assert len(winners) == 1 and len(losers) == 1, results
    assert winners[0]["state"] == "accepted"
    assert losers[0]["state"] == "taken"
    # the loser's snapshot predates the winner's commit: its lock attempt was
    # refused (serialization failure) and the retry saw the slot booked
    assert losers[0]["tries"] >= 2, results

    with psycopg2.connect(dbname=database) as conn, conn.cursor() as cr:
        cr.execute(
            "SELECT count(*) FROM calendar_event WHERE clinic_patient_id = ANY(%s) "
            "AND active",
            [setup["patients"]],
        )
        assert cr.fetchone()[0] == 1
        cr.execute(
            "SELECT state, booked_event_id FROM clinic_sms_waitlist_slot WHERE id = %s",
            [setup["slot"]],
        )
        state, booked = cr.fetchone()
        assert state == "booked" and booked == winners[0]["booked"][0]
        cr.execute(
            "SELECT kind, count(*) FROM clinic_sms_message "
            "WHERE company_id = %s AND kind LIKE 'waitlist%%' GROUP BY kind",
            [setup["company"]],
        )
        # two offers, and one "taken" message for the patient who lost
        assert dict(cr.fetchall()) == {"waitlist_offer": 2, "waitlist_taken": 1}
    conn.close()
