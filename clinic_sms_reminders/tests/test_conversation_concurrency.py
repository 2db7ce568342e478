"""R-9.2: two free-text replies of one patient received at the same moment by
two Odoo processes land in ONE thread with two unread replies (the unique
index on clinic and patient and the upsert decide; the loser's request is
retried like any serialization failure of an HTTP request).

Plain pytest test, like test_waitlist_concurrency.py: the processes commit for
real on a copy of the test database, dropped at the end."""

from pathlib import Path

import psycopg2
import pytest

from .odoo_processes import (
    addons_path,
    copy_database,
    database_name,
    drop_database,
    race,
    source_database,
    start_worker,
    worker_result,
)

WORKER = Path(__file__).resolve().parent / "conversation_worker.py"
TIMEOUT = 120


@pytest.fixture
def database():
    source = source_database()
    if not source:
        pytest.skip("needs the test database with the addon installed")
    name = database_name("conversation")
    try:
        copy_database(source, name, TIMEOUT)
        yield name
    finally:
        drop_database(name)


def test_two_processes_receive_replies_of_one_patient(database):
    cfg = {"db": database, "addons_path": addons_path()}
    setup = worker_result(start_worker(WORKER, "setup", cfg), TIMEOUT)
    texts = ["Je serai en retard de 10 minutes", "Et je viens avec ma fille"]
    results = race(
        WORKER,
        "reply",
        [
            dict(
                cfg,
                provider=setup["provider"],
                number=setup["number"],
                text=text,
                id=f"tilleuls-{index}",
            )
            for index, text in enumerate(texts)
        ],
        TIMEOUT,
    )

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
