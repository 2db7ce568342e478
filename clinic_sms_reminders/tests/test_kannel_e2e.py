"""End to end through a real SMS gateway: Kannel (bearerbox, smsbox, fakesmsc)
on 127.0.0.1, driven by an Odoo server on a fresh database (R-7.2, R-7.5,
R-7.6, R-4.2, R-3.3, R-7.7).

Plain pytest test: it runs real ``odoo`` and Kannel processes, not inside a
test transaction, and talks to Odoo over XML-RPC like an integrator would.
Nothing leaves the machine: fakesmsc stands in for the operator's SMSC."""

import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xmlrpc.client
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from .kannel_harness import (
    KannelError,
    KannelStack,
    free_port,
    normalize_number,
    wait_for,
)
from .odoo_processes import ADDON, database_name, drop_database, install, odoo_command

PATIENT_PHONE = "+33612345678"
SENDER = "CliniqueTst"
# UCS-2 (the emoji and "ê" are not GSM-7); at most 70 units with every
# placeholder at its maximum length, so one SMS part as the clinic allows
UCS2_BODY = "{patient_first_name}, RDV {date} à {time}. Fête 🎉"
# GSM-7 only ("à" and "é" are in the GSM 03.38 table)
GSM7_BODY = "Bonjour {patient_first_name}, RDV le {date} à {time}. Répondez OUI"
INSTALL_TIMEOUT = 120  # the install takes about 25 s here
WAIT = 30  # seconds for Odoo or Kannel to act on something
LOG_RECORD_START = re.compile(
    r"^(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ )", re.MULTILINE
)
LOG_PROBLEM = re.compile(r"^\S+ \S+ \d+ (ERROR|CRITICAL) ")
# a delivery report that races the dispatch transaction: PostgreSQL refuses
# one of them, Odoo logs the query as an ERROR and retries the request
SERIALIZATION = "could not serialize access due to concurrent update"


def _log_problems(text):
    """(ERROR/CRITICAL records of an Odoo log, serialization failures retried)."""
    problems, retried = [], 0
    for record in LOG_RECORD_START.split(text):
        if not LOG_PROBLEM.match(record):
            continue
        if SERIALIZATION in record:
            retried += 1
        else:
            problems.append(record[:3000])
    return problems, retried


@pytest.fixture
def database():
    """A fresh database with the addon installed (no demo data), dropped after."""
    name = database_name("kannel")
    try:
        output = install(name, timeout=INSTALL_TIMEOUT)
        assert not _log_problems(output)[0], output[-4000:]
        yield name
    finally:
        drop_database(name)


class OdooServer:
    """``odoo`` serving one database on 127.0.0.1 (no cron thread)."""

    def __init__(self, db, log_path):
        self.db = db
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process = None

    def __enter__(self):
        command = odoo_command(
            self.db,
            "--http-interface=127.0.0.1",
            f"--http-port={self.port}",
            "--max-cron-threads=0",
            f"--db-filter=^{re.escape(self.db)}$",
            "--log-level=info",
            # Odoo 19 warns on every XML-RPC call (deprecated for Odoo 20)
            "--log-handler=odoo.addons.rpc.controllers.xmlrpc:ERROR",
        )
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_for(self._ready, 60, "Odoo's /web/login", diagnostics=self.log_tail)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _ready(self):
        if self.process.poll() is not None:
            raise AssertionError(f"Odoo exited early:\n{self.log_tail()}")
        try:
            with urllib.request.urlopen(f"{self.url}/web/login", timeout=5) as answer:
                return answer.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def stop(self):
        if not self.process or self.process.poll() is not None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout=20)
                return
            except subprocess.TimeoutExpired:
                continue

    def log_tail(self, size=6000):
        try:
            text = Path(self.log_path).read_text("utf-8", "replace")
            return text[-size:] if size else text
        except OSError:
            return ""


class _Transport(xmlrpc.client.Transport):
    """XML-RPC with a timeout, so that no call can hang the test."""

    def make_connection(self, host):
        connection = super().make_connection(host)
        connection.timeout = 60
        return connection


class Rpc:
    """admin's XML-RPC session on the test server."""

    def __init__(self, server):
        self.server = server
        common = xmlrpc.client.ServerProxy(
            f"{server.url}/xmlrpc/2/common", transport=_Transport()
        )
        self.uid = common.authenticate(server.db, "admin", "admin", {})
        assert self.uid, "admin/admin could not log in"
        self.models = xmlrpc.client.ServerProxy(
            f"{server.url}/xmlrpc/2/object", transport=_Transport(), allow_none=True
        )

    def __call__(self, model, method, *args, **kwargs):
        try:
            return self.models.execute_kw(
                self.server.db, self.uid, "admin", model, method, list(args), kwargs
            )
        except xmlrpc.client.Fault as fault:
            raise AssertionError(
                f"{model}.{method} failed: {fault.faultString[-3000:]}\n"
                f"--- Odoo log ---\n{self.server.log_tail(3000)}"
            ) from None

    def xmlid(self, module, name):
        rows = self(
            "ir.model.data",
            "search_read",
            [("module", "=", module), ("name", "=", name)],
            fields=["res_id"],
        )
        assert rows, f"{module}.{name} not found"
        return rows[0]["res_id"]

    def messages(self, domain):
        return self(
            "clinic.sms.message",
            "search_read",
            domain,
            fields=["kind", "state", "reason", "reason_detail", "body", "phone"]
            + ["encoding", "units", "reference", "provider_message_id"],
            order="id",
        )


def _at_10_utc(days):
    day = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=days)
    return day.replace(hour=10, minute=0, second=0, microsecond=0)


def _appointment(rpc, name, patient_id, days):
    start = _at_10_utc(days)
    return rpc(
        "calendar.event",
        "create",
        {
            "name": name,
            "start": start.strftime("%Y-%m-%d %H:%M:%S"),
            "stop": (start + timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M:%S"),
            "clinic_patient_id": patient_id,
        },
    )


def _dispatch(rpc, cron_id):
    """Run the dispatch cron now, in the server (it calls Kannel)."""
    result = rpc("ir.cron", "method_direct_trigger", [cron_id])
    if isinstance(result, dict) and result.get("type") == "ir.actions.client":
        raise AssertionError(f"the dispatch cron failed: {result}")


def _wait_message(rpc, message_id, what, predicate, stack):
    def check():
        rows = rpc.messages([("id", "=", message_id)])
        return rows if predicate(rows[0]) else None

    try:
        return wait_for(check, WAIT, what)[0]
    except KannelError as error:
        row = rpc.messages([("id", "=", message_id)])
        raise AssertionError(
            f"{error}\nmessage: {row}\n--- Kannel ---\n{stack.diagnostics()}\n"
            f"--- Odoo log ---\n{rpc.server.log_tail()}"
        ) from None


def _configure(rpc, secret):
    """The Kannel provider, the main clinic's sender and wallet; the default
    reminder rules are switched off so that the confirmations are the only
    messages in play."""
    france = rpc("res.country", "search", [("code", "=", "FR")], limit=1)
    company_id = rpc.xmlid("base", "main_company")
    provider_id = rpc(
        "clinic.sms.provider",
        "create",
        {
            "name": "Kannel",
            "provider_type": "http",
            "http_flavor": "kannel",
            "api_url": "http://127.0.0.1:9/cgi-bin/sendsms",  # set once Kannel runs
            "webhook_secret": secret,
            "callback_base_url": rpc.server.url,
            "timeout": 15.0,
        },
    )
    rpc(
        "res.company",
        "write",
        [company_id],
        {
            "clinic_sms_provider_id": provider_id,
            "clinic_sms_sender_name": SENDER,
            # the runs dispatch at once: no undo window
            "clinic_sms_undo_minutes": 0,
        },
    )
    rules = rpc("clinic.sms.rule", "search", [])
    if rules:
        rpc("clinic.sms.rule", "write", rules, {"active": False})
    wallet = rpc("clinic.sms.wallet", "search", [("company_id", "=", company_id)])
    assert wallet, "the main clinic has no SMS wallet"
    wizard = rpc(
        "clinic.sms.replenish.wizard", "create", {"wallet_id": wallet[0], "units": 100}
    )
    rpc("clinic.sms.replenish.wizard", "action_replenish", [wizard])
    patient_id = rpc(
        "res.partner",
        "create",
        {
            "name": "Jeanne Test",
            "phone": PATIENT_PHONE,
            "lang": "en_US",
            "tz": "Europe/Paris",
            "country_id": france[0],
        },
    )
    return provider_id, patient_id


def _send_confirmation(rpc, stack, patient_id, body, days, sent_before):
    """Set the confirmation template's body, book an appointment (which
    queues its confirmation), dispatch, and check what the phone got."""
    template_id = rpc.xmlid(ADDON, "template_confirmation")
    rpc("clinic.sms.template", "write", [template_id], {"body": body})
    event_id = _appointment(rpc, f"Check-up in {days} days", patient_id, days)
    queued = rpc.messages([("appointment_id", "=", event_id)])
    assert [(m["kind"], m["state"]) for m in queued] == [("confirmation", "queued")]
    _dispatch(rpc, rpc.xmlid(ADDON, "ir_cron_clinic_sms_dispatch"))
    message = rpc.messages([("id", "=", queued[0]["id"])])[0]
    assert message["state"] in ("sent", "delivered"), (
        f"{message}\n--- Kannel ---\n{stack.diagnostics()}\n"
        f"--- Odoo log ---\n{rpc.server.log_tail()}"
    )
    got = stack.wait_received(sent_before + 1, WAIT)
    assert len(got) == sent_before + 1, got
    sms = got[-1]
    assert normalize_number(sms["to"]) == PATIENT_PHONE, sms
    assert sms["from"] == SENDER, sms
    assert sms["text"] == message["body"], (sms, message)
    assert sms["parts"] == message["units"] == 1, (sms, message)
    # Kannel was told the coding the text needs
    assert sms["coding"] == message["encoding"], (sms, message)
    # the delivery report (Kannel status 1) reaches Odoo, in any order
    # with the "accepted by the SMSC" report (8)
    delivered = _wait_message(
        rpc,
        message["id"],
        "the delivery report",
        lambda m: m["state"] == "delivered",
        stack,
    )
    return event_id, sms, delivered


def _reply(rpc, stack, text):
    """The patient answers ``text``; returns Kannel's log of the forward."""
    before = len(stack.inbound_calls())
    stack.inject(PATIENT_PHONE, SENDER, text)
    calls = wait_for(
        lambda: stack.inbound_calls()[before:],
        WAIT,
        f"smsbox to forward {text!r} to Odoo",
        diagnostics=stack.diagnostics,
    )
    assert "reply: 200" in calls[0], (
        f"Odoo refused the reply {text!r}: {calls[0]}\n"
        f"--- Odoo log ---\n{rpc.server.log_tail()}"
    )
    return calls[0]


def test_kannel_end_to_end(database, tmp_path, capsys):
    """R-7.2 R-7.5 R-7.6 R-4.2 R-3.3 R-7.7: through a real Kannel gateway, an
    appointment's confirmation reaches the phone (UCS-2 when the text needs
    it, GSM-7 otherwise) from the clinic's sender name, with the exact
    rendered text; the delivery report marks it delivered; the patient's "OUI"
    confirms the appointment; "STOP" blacklists the number and the next
    message is skipped, never sent to the gateway."""
    started = time.monotonic()
    secret = secrets.token_hex(16)
    with OdooServer(database, tmp_path / "odoo.log") as server:
        rpc = Rpc(server)
        provider_id, patient_id = _configure(rpc, secret)
        with KannelStack(server.port, provider_id, secret) as stack:
            rpc(
                "clinic.sms.provider",
                "write",
                [provider_id],
                {
                    "api_url": stack.sendsms_url,
                    "username": stack.username,
                    "password": stack.password,
                },
            )
            # 1. UCS-2 confirmation, delivered
            first_event, ucs2, first = _send_confirmation(
                rpc, stack, patient_id, UCS2_BODY, 3, 0
            )
            assert ucs2["coding"] == "ucs2" and "🎉" in ucs2["text"], ucs2
            # 2. GSM-7 confirmation of a later appointment, delivered
            second_event, gsm7, _second = _send_confirmation(
                rpc, stack, patient_id, GSM7_BODY, 5, 1
            )
            assert gsm7["coding"] == "gsm7" and "à" in gsm7["text"], gsm7

            # 3. "OUI" confirms the appointment the patient is answering: the
            # one of the last message sent to them, not the earlier one
            _reply(rpc, stack, "OUI")

            def statuses():
                rows = rpc(
                    "calendar.event",
                    "read",
                    [first_event, second_event],
                    fields=["clinic_status"],
                )
                return {row["id"]: row["clinic_status"] for row in rows}

            wait_for(
                lambda: statuses()[second_event] == "confirmed",
                WAIT,
                "the appointment to be confirmed",
            )
            assert statuses()[first_event] == "scheduled", statuses()

            # 4. "STOP" blacklists the number ...
            _reply(rpc, stack, "STOP")
            blacklisted = wait_for(
                lambda: rpc(
                    "phone.blacklist",
                    "search_read",
                    [("number", "=", PATIENT_PHONE), ("active", "=", True)],
                    fields=["number"],
                ),
                WAIT,
                "the number in phone.blacklist",
            )
            assert blacklisted, blacklisted
            # ... gets its one confirmation, the only message a
            # blacklisted number still receives ...
            sent_before = len(stack.received())
            _dispatch(rpc, rpc.xmlid(ADDON, "ir_cron_clinic_sms_dispatch"))
            [stop_reply] = rpc.messages([("kind", "=", "stop_reply")])
            assert stop_reply["state"] in ("sent", "delivered"), stop_reply
            answer = wait_for(
                lambda: stack.received()[sent_before:],
                WAIT,
                "the STOP confirmation at the phone",
            )
            assert len(answer) == 1 and "START" in answer[0]["text"], answer
            # ... and the next message is skipped, never handed to Kannel
            sent_before = len(stack.received())
            requests_before = stack.sendsms_requests()
            third_event = _appointment(rpc, "Follow-up", patient_id, 7)
            queued = rpc.messages([("appointment_id", "=", third_event)])
            assert [m["kind"] for m in queued] == ["confirmation"], queued
            _dispatch(rpc, rpc.xmlid(ADDON, "ir_cron_clinic_sms_dispatch"))
            skipped = rpc.messages([("id", "=", queued[0]["id"])])[0]
            assert (skipped["state"], skipped["reason"]) == (
                "skipped",
                "blacklisted",
            ), skipped
            assert stack.sendsms_requests() == requests_before
            time.sleep(2)  # fakesmsc reads its socket at least every second
            received = stack.received()
            assert len(received) == sent_before, received
        problems, retried = _log_problems(server.log_tail(size=None))
        assert not problems, "\n".join(problems)
    elapsed = time.monotonic() - started
    with capsys.disabled():
        sys.stdout.write(
            f"\nKANNEL e2e: sent={len(received)} coding={ucs2['coding']}"
            f"+{gsm7['coding']} dlr={first['state']} confirm=ok stop=ok "
            f"serialization_retries={retried} ({elapsed:.0f}s)\n"
        )
