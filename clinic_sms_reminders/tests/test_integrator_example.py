"""An integrator's provider type, added by inheritance only (R-7.2, R-7.5):
``test_addons/clinic_sms_integrator_example`` (under 50 lines of Python)
adds the type ``acme`` with ``selection_add`` and its gateway class, and the
placeholder ``{patient_ref}`` (the patient's file number), and a column
of its own on ``mail.message`` that the case notes get, seen by its override
of ``_clinic_sms_case_notes_logged``. It is installed on
a fresh database in a separate Odoo process, a confirmation whose template
uses the placeholder is sent through it to a loopback stand-in of the
gateway, and the gateway's signed delivery report reaches the webhook.

Plain pytest: it runs real ``odoo`` processes. The database name starts with
``CLINIC_TEST_DB_PREFIX`` (default ``clinic_``) and a random part, so that
runs side by side never collide."""

import hashlib
import hmac
import json
import secrets
import urllib.error
import urllib.request

import pytest

from .odoo_processes import REPO, addons_path, database_name, drop_database, install
from .test_gateways import StandIn, accepted
from .test_kannel_e2e import OdooServer, Rpc, _appointment, _configure, _dispatch

EXAMPLE = "clinic_sms_integrator_example"
TIMEOUT = 900


@pytest.fixture
def database(monkeypatch):
    monkeypatch.setenv("CLINIC_ADDONS_PATH", f"{addons_path()},{REPO / 'test_addons'}")
    name = database_name("integrator")
    try:
        output = install(name, EXAMPLE, timeout=TIMEOUT)
        assert " ERROR " not in output and " CRITICAL " not in output, output[-4000:]
        yield name
    finally:
        drop_database(name)


def _post(url, body, signature):
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "X-Acme-Signature": signature},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_integrator_provider_type_sends_and_takes_signed_reports(database, tmp_path):
    secret = secrets.token_hex(16)
    with StandIn(accepted) as acme, OdooServer(database, tmp_path / "odoo.log") as srv:
        rpc = Rpc(srv)
        _kannel_id, patient_id = _configure(rpc, "unused")
        provider_id = rpc(
            "clinic.sms.provider",
            "create",
            {
                "name": "Acme",
                "provider_type": "acme",
                "api_url": f"{acme.url}/messages",
                "webhook_secret": secret,
                "callback_base_url": srv.url,
            },
        )
        company_id = rpc.xmlid("base", "main_company")
        rpc(
            "res.company",
            "write",
            [company_id],
            {"clinic_sms_provider_id": provider_id},
        )
        # the integrator's placeholder, accepted by the save-time check
        template_id = rpc.xmlid("clinic_sms_reminders", "template_confirmation")
        rpc(
            "clinic.sms.template",
            "write",
            [template_id],
            {"body": "File {patient_ref}: {date} at {time} is booked."},
        )
        rpc("res.partner", "write", [patient_id], {"ref": "DOS-4711"})
        event_id = _appointment(rpc, "Check-up", patient_id, 3)
        [queued] = rpc.messages([("appointment_id", "=", event_id)])
        _dispatch(rpc, rpc.xmlid("clinic_sms_reminders", "ir_cron_clinic_sms_dispatch"))
        [message] = rpc.messages([("id", "=", queued["id"])])
        assert message["state"] == "sent", (message, srv.log_tail())
        # the case note has the other addon's default and went through its
        # override of the extension point
        notes = rpc(
            "mail.message",
            "search_read",
            [
                ("model", "=", "res.partner"),
                ("res_id", "=", patient_id),
                ("subtype_id", "=", rpc.xmlid("mail", "mt_note")),
                ("body", "ilike", "SMS"),
            ],
            fields=["acme_channel", "acme_seen"],
        )
        assert [(n["acme_channel"], n["acme_seen"]) for n in notes] == [
            ("chatter", True)
        ], (notes, srv.log_tail())
        [(method, path, body)] = acme.requests
        payload = json.loads(body)
        assert (method, path) == ("POST", "/messages")
        assert payload["reference"] == message["reference"]
        assert (payload["to"], payload["text"]) == (message["phone"], message["body"])
        assert payload["text"].startswith("File DOS-4711: "), payload["text"]
        assert payload["callback"] == f"{srv.url}/clinic_sms/dlr/{provider_id}"

        report = json.dumps(
            {"reference": message["reference"], "status": "DELIVRD"}
        ).encode()
        forged = hmac.new(b"guess", report, hashlib.sha256).hexdigest()
        assert _post(payload["callback"], report, forged) == 403
        [message] = rpc.messages([("id", "=", queued["id"])])
        assert message["state"] == "sent"
        good = hmac.new(secret.encode(), report, hashlib.sha256).hexdigest()
        assert _post(payload["callback"], report, good) == 200, srv.log_tail()
        [message] = rpc.messages([("id", "=", queued["id"])])
        assert message["state"] == "delivered"
