"""R-7.1, R-7.10: a cron run dispatches over several lanes, and several cron
workers of one clinic do not redo each other's batches.

Two Odoo processes (``lanes_worker.py``), each a cron worker with the addon's
default lanes, dispatch the same clinic's backlog at the same moment:
~600 patients of the multilingual names corpus, texts rendered at sending.
Every message goes out once, each batch is prepared once (at REPEATABLE READ
the second reservation of the same wallet fails and its worker prepared the
whole batch again), each process's lanes ran at the same time, and the
wallet's balance and ledger match what was sent.

Plain pytest test, not an Odoo test class: the processes commit for real, on
a database of their own (a copy of the test database when it has the addon,
else a fresh install without demo data), dropped at the end.
"""

from collections import Counter
from itertools import combinations
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

WORKER = Path(__file__).resolve().parent / "lanes_worker.py"
TIMEOUT = 300
BATCH = 40


@pytest.fixture
def database():
    with own_database("lanes", TIMEOUT) as name:
        yield name


def overlapping(calls):
    """Whether two calls of different threads ran at the same time."""
    return any(
        a["thread"] != b["thread"] and a["start"] < b["end"] and b["start"] < a["end"]
        for a, b in combinations(calls, 2)
    )


def test_two_cron_workers_over_lanes_send_each_message_once(database):
    cfg = {"db": database, "addons_path": addons_path(), "batch_size": BATCH}
    setup = worker_result(start_worker(WORKER, "setup", cfg), TIMEOUT)
    total = setup["inserted"]
    assert total == len(setup["patients"]) >= 500

    results = race(WORKER, "dispatch", [cfg, cfg], TIMEOUT)

    assert [r["lanes"] for r in results] == [2, 2]  # the addon's default
    ids = set(setup["messages"])
    # (the copied database may hold other clinics' due messages: sent too)
    assert sum(r["processed"] for r in results) >= total
    prepared = Counter(i for r in results for call in r["calls"] for i in call["ids"])
    # every message prepared by exactly one lane of one worker, once
    assert ids <= prepared.keys()
    assert set(prepared.values()) == {1}, prepared.most_common(3)
    for result in results:
        batches = [call for call in result["batches"] if ids & set(call["ids"])]
        threads = {call["thread"] for call in batches}
        assert len(threads) == 2, threads
        assert overlapping(batches), "the lanes of a worker never ran at the same time"

    with psycopg2.connect(dbname=database) as conn, conn.cursor() as cr:
        cr.execute(
            "SELECT m.state, count(*), sum(m.units),"
            "       count(*) FILTER (WHERE position(split_part(p.name, ' ', 1)"
            "                        IN m.body) > 0)"
            "  FROM clinic_sms_message m JOIN res_partner p ON p.id = m.partner_id"
            " WHERE m.company_id = %s GROUP BY m.state",
            [setup["company"]],
        )
        states = {state: (count, units, named) for state, count, units, named in cr}
        # the sandbox provider reports each message delivered (its default)
        assert set(states) == {"delivered"}, states
        count, units, named = states["delivered"]
        assert count == named == total  # each text has its patient's first name
        cr.execute(
            "SELECT balance FROM clinic_sms_wallet WHERE id = %s", [setup["wallet"]]
        )
        assert cr.fetchone()[0] == setup["balance"] - units
        cr.execute(
            "SELECT move_type, sum(units), sum(message_count)"
            "  FROM clinic_sms_wallet_move"
            " WHERE wallet_id = %s AND move_type != 'topup' GROUP BY 1",
            [setup["wallet"]],
        )
        assert {kind: (u, n) for kind, u, n in cr} == {"debit": (-units, total)}
        cr.execute(
            "SELECT count(*), count(DISTINCT res_id) FROM mail_message"
            " WHERE model = 'res.partner' AND res_id = ANY(%s)",
            [[int(i) for i in setup["patients"]]],
        )
        assert cr.fetchone() == (total, total)  # one case note each


def test_planning_over_lanes_plans_what_one_lane_plans(database):
    cfg = {"db": database, "addons_path": addons_path()}
    result = worker_result(start_worker(WORKER, "plan", cfg), TIMEOUT)
    over_lanes, over_one = result["plans"]
    # one reminder per patient, the second appointment of every tenth one
    # grouped with the first, whichever lane planned it
    assert len(over_lanes) == result["patients"]
    assert over_lanes == over_one
    assert len({row[1] for row in over_lanes}) == result["patients"]
    first, second = result["lanes"][:2], result["lanes"][2:]
    assert sorted(lane for _thread, lane, _count in first) == [[0, 2], [1, 2]]
    assert all(count > 0 for _thread, _lane, count in first)
    assert len({thread for thread, _lane, _count in first}) == 2
    assert second == [["MainThread", None, len(over_one)]]
