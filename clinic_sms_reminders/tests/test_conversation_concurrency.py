"""R-9.2: two free-text replies of one patient received at the same moment by
two Odoo processes land in ONE thread with two unread replies (the unique
index on clinic and patient and the upsert decide; the loser's request is
retried like any serialization failure of an HTTP request).

Plain pytest test, like test_waitlist_concurrency.py: the processes commit for
real on a copy of the test database, dropped at the end."""

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
from .test_waitlist_concurrency import TIMEOUT, _result, _source_database, _wait_for

HERE = Path(__file__).resolve().parent
WORKER = HERE / "conversation_worker.py"


@pytest.fixture
def database():
    source = _source_database()
    if not source:
        pytest.skip("needs the test database with the addon installed")
    prefix = os.environ.get("CLINIC_TEST_DB_PREFIX", "ci")
    name = f"{prefix}_conversation_{uuid.uuid4().hex[:8]}"
    subprocess.run(["createdb", name], check=True, capture_output=True)
    try:
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
        yield name
    finally:
        subprocess.run(
            ["dropdb", "--if-exists", name], check=False, capture_output=True
        )


def _worker(mode, cfg):
    return subprocess.Popen(
        [sys.executable, str(WORKER), mode, json.dumps(cfg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=HERE,
        env=dict(os.environ, PYTHONPATH=str(HERE)),
    )


def test_two_processes_receive_replies_of_one_patient(database):
    cfg = {"db": database, "addons_path": addons_path()}
    setup = _result(_worker("setup", cfg))
    texts = ["Je serai en retard de 10 minutes", "Et je viens avec ma fille"]
    with tempfile.TemporaryDirectory(prefix="conversation_") as folder:
        barrier = os.path.join(folder, "go")
        readies = [os.path.join(folder, f"ready{i}") for i in range(2)]
        workers = [
            _worker(
                "reply",
                dict(
                    cfg,
                    provider=setup["provider"],
                    number=setup["number"],
                    text=text,
                    id=f"tilleuls-{index}",
                    ready=ready,
                    barrier=barrier,
                ),
            )
            for index, (text, ready) in enumerate(zip(texts, readies, strict=True))
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

    assert results[0]["conversation"] == results[1]["conversation"], results
    # the second one's snapshot predates the first one's commit: its upsert
    # was refused (serialization failure) and the retry found the thread
    assert sorted(result["tries"] for result in results)[1] >= 2, results
    with psycopg2.connect(dbname=database) as conn, conn.cursor() as cr:
        cr.execute(
            "SELECT id, state, unread_count, has_unread FROM clinic_sms_conversation"
            " WHERE company_id = %s AND partner_id = %s",
            [setup["company"], setup["patient"]],
        )
        assert cr.fetchall() == [(results[0]["conversation"], "open", 2, True)]
        cr.execute(
            "SELECT text FROM clinic_sms_inbound WHERE conversation_id = %s"
            " ORDER BY text",
            [results[0]["conversation"]],
        )
        assert [row[0] for row in cr.fetchall()] == sorted(texts)
    conn.close()
