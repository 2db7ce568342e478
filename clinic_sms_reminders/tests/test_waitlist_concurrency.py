"""R-9.3: two patients accept two offers of the same freed slot at the same
moment, in two separate Odoo processes: exactly one appointment is booked, the
other patient's offer is 'taken' (the slot's row lock decides).

Plain pytest test, not an Odoo test class: the processes (``waitlist_worker.py``)
commit for real, on a database of their own (a copy of the test database when
it has the addon, else a fresh install without demo data), dropped at the end.
"""

from pathlib import Path

import psycopg2
import pytest

from .odoo_processes import (
    addons_path,
    own_database,
    race,
    start_worker,
    worker_result,
)

WORKER = Path(__file__).resolve().parent / "waitlist_worker.py"
TIMEOUT = 120


@pytest.fixture
def database():
    with own_database("waitlist", TIMEOUT) as name:
        yield name


def test_two_processes_accept_the_same_slot(database):
    cfg = {"db": database, "addons_path": addons_path()}
    setup = worker_result(start_worker(WORKER, "setup", cfg), TIMEOUT)
    assert len(setup["offers"]) == 2

    results = race(
        WORKER, "accept", [dict(cfg, offer=offer) for offer in setup["offers"]], TIMEOUT
    )

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
