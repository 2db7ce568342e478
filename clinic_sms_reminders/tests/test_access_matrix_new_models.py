"""The RPC access matrix (R-8.2) of the models added after the first one:
conversations (R-9.2), waitlist (R-9.3), reports (R-10), GDPR export and
consent proof (R-11.3), compliance and waitlist settings (R-11.1), personal
link requests (R-9.1) and the consent log; same profiles, same clinics, same
JSON-2 client as test_access_matrix, whose machinery it reuses."""

import base64
import itertools
import json
from datetime import datetime, timedelta

from odoo import fields
from odoo.tests import tagged

from .test_access_matrix import INTERNAL, MANAGER, RPC_PROFILES, USER, RpcMatrixCase

# model -> minimum level per operation (None: nobody, whatever the clinic),
# the values a write sets, which clinics. Threads, offers, slots and
# statistics are made by the system; the reception works its clinic's inbox
# and waitlist; the consent log and the link requests are the system's only.
NOBODY_WRITES = {"write": None, "create": None, "unlink": None}
# read by the reception of the clinic, never written by anyone
MADE_BY_THE_SYSTEM = dict(NOBODY_WRITES, read=USER)
NEW_MODELS = {
    "clinic.sms.conversation": dict(
        NOBODY_WRITES, read=USER, write=USER, vals={"state": "closed"}
    ),
    "clinic.sms.waitlist": {
        "read": USER,
        "write": USER,
        "create": USER,
        "unlink": USER,
        "vals": {"note": "Mornings only"},
    },
    "clinic.sms.waitlist.slot": dict(MADE_BY_THE_SYSTEM, vals={"office": "Room 2"}),
    "clinic.sms.waitlist.offer": dict(MADE_BY_THE_SYSTEM, vals={"state": "accepted"}),
    "clinic.sms.report.message": dict(MADE_BY_THE_SYSTEM, vals={"state": "delivered"}),
    "clinic.sms.report.attendance": dict(
        MADE_BY_THE_SYSTEM, vals={"clinic_status": "confirmed"}
    ),
    "clinic.sms.report.recall": dict(MADE_BY_THE_SYSTEM, vals={"booked": True}),
    # an export row is made by the export button only (never by hand: no
    # made-up export); the file is never rewritten
    "clinic.sms.gdpr.export": dict(
        NOBODY_WRITES, read=MANAGER, vals={"filename": "forged.json"}
    ),
    "clinic.sms.consent.log": dict(
        NOBODY_WRITES, read=INTERNAL, vals={"granted": False}, shared=True
    ),
    # no clinic: requests on personal links, for the administrators only
    "clinic.sms.link.attempt": dict(
        NOBODY_WRITES, read=None, vals={"failed": False}, clinics=("global",)
    ),
    # compliance and waitlist settings of a clinic: Settings (administrators)
    "res.company": {
        "write": None,
        "vals": {
            "clinic_sms_marketing_daily_cap": 9,
            "clinic_sms_marketing_sundays": True,
            "clinic_sms_waitlist_offer_count": 9,
        },
    },
}

BOTH = ("own", "other")
# action -> (minimum level, clinics it runs on)
# the reception's buttons of the inbox and the waitlist
RECEPTION_BUTTONS = (
    "conversation_reply",
    "conversation_assign",
    "conversation_mark_read",
    "conversation_close",
    "conversation_reopen",
    "waitlist_cancel",
    "waitlist_reset",
    "waitlist_accept",
    "waitlist_offer_on_cancel",
)
NEW_ACTIONS = {
    **dict.fromkeys(RECEPTION_BUTTONS, (USER, BOTH)),
    # the form of a new entry, from an appointment the user may read
    "waitlist_add_from_appointment": (INTERNAL, BOTH),
    "gdpr_export": (MANAGER, BOTH),
    "verify_consent": (MANAGER, BOTH),
    # Settings are Odoo's administrators' (base.group_system) only
    "compliance_settings": (None, BOTH),
}
SETTINGS = {
    "clinic_sms_marketing_daily_cap": 9,
    "clinic_sms_marketing_weekly_cap": 9,
    "clinic_sms_waitlist_offer_count": 9,
}


@tagged("post_install", "-at_install")
class TestRpcAccessMatrixNewModels(RpcMatrixCase):
    """R-8.2 R-9.2 R-9.3 R-10.2 R-11.3: profiles x (CRUD of the inbox,
    waitlist, statistics, GDPR exports, consent log, link requests, clinic
    settings, and their buttons) x own / other / shared clinic, over JSON-2."""

    MODELS = NEW_MODELS
    ACTIONS = NEW_ACTIONS
    BOOKING_ACTIONS = frozenset({"waitlist_offer_on_cancel"})
    _serial = itertools.count(1)

    # -- records of a clinic, made by the system -----------------------------
    def _patient(self, company):
        """A new patient of ``company`` (False: of no clinic)."""
        return self.env["res.partner"].create(
            {
                "name": f"Patient {next(self._serial)}",
                "phone": "06 12 34 56 78",
                "country_id": self.env.ref("base.fr").id,
                "lang": "en_US",
                "company_id": company.id if company else False,
            }
        )

    def _conversation(self, company, **values):
        vals = {
            "company_id": company.id,
            "partner_id": self._patient(company).id,
            "phone": "+33612345678",
            "unread_count": 1,
            "last_message_date": fields.Datetime.now(),
            "last_message_preview": "Can I come at 11 instead?",
        }
        return self.env["clinic.sms.conversation"].create(dict(vals, **values))

    def _entry(self, company, practitioner=None, **values):
        vals = {
            "partner_id": self._patient(company).id,
            "company_id": company.id,
            "practitioner_id": (practitioner or self.practitioner).id,
        }
        return self.env["clinic.sms.waitlist"].create(dict(vals, **values))

    def _slot_vals(self, company):
        start = datetime.now().replace(microsecond=0) + timedelta(
            days=5, minutes=next(self._serial)
        )
        return {
            "company_id": company.id,
            "start": fields.Datetime.to_string(start),
            "stop": fields.Datetime.to_string(start + timedelta(minutes=30)),
            "practitioner_id": self.practitioner.id,
            "user_id": self.env.ref("base.user_admin").id,
        }

    def _offer(self, company):
        entry = self._entry(company, state="offered")
        slot = self.env["clinic.sms.waitlist.slot"].create(self._slot_vals(company))
        return self.env["clinic.sms.waitlist.offer"].create(
            {
                "slot_id": slot.id,
                "waitlist_id": entry.id,
                "partner_id": entry.partner_id.id,
                "phone": "+33612345678",
            }
        )

    def _message(self, company, **values):
        vals = {
            "kind": "private",
            "company_id": company.id,
            "partner_id": self.patient.id,
            "phone": "+33612345678",
            "idempotency_key": f"rpc-new:{next(self._serial)}",
            "body": "Your results are ready.",
        }
        return self.env["clinic.sms.message"].create(dict(vals, **values))

    def _vals(self, model, company):
        cid = company.id if company else False
        if model == "clinic.sms.waitlist.offer":
            offer = self._offer(company)
            entry = self._entry(company)
            return {
                "slot_id": offer.slot_id.id,
                "waitlist_id": entry.id,
                "partner_id": entry.partner_id.id,
            }
        if model == "clinic.sms.conversation":
            return {"company_id": cid, "partner_id": self._patient(company).id}
        if model == "clinic.sms.waitlist":
            return {
                "partner_id": self._patient(company).id,
                "company_id": cid,
                "practitioner_id": self.practitioner.id,
            }
        if model == "clinic.sms.waitlist.slot":
            return self._slot_vals(company)
        if model == "clinic.sms.gdpr.export":
            return {
                "partner_id": self._patient(company).id,
                "company_id": cid,
                "filename": "sms-record.json",
            }
        if model == "clinic.sms.consent.log":
            return {
                "partner_id": self._patient(company).id,
                "company_id": cid,
                "purpose": "marketing",
                "granted": True,
            }
        if model == "clinic.sms.link.attempt":
            return {"ip": "192.0.2.1", "failed": True}
        # the statistics: SQL views
        return {"company_id": cid}

    def _make(self, model, company):
        env = self.env
        if model == "res.company":
            return company
        if model == "clinic.sms.conversation":
            return self._conversation(company)
        if model == "clinic.sms.waitlist":
            return self._entry(company)
        if model == "clinic.sms.waitlist.offer":
            return self._offer(company)
        if model == "clinic.sms.report.message":
            message = self._message(company)
            env.flush_all()
            return env[model].browse(message.id)
        if model == "clinic.sms.report.recall":
            message = self._message(
                company, kind="recall", state="sent", sent_at=fields.Datetime.now()
            )
            env.flush_all()
            return env[model].browse(message.id)
        if model == "clinic.sms.report.attendance":
            event = self._appointment(company)
            env.flush_all()
            return env[model].search([("event_id", "=", event.id)])
        return env[model].create(self._vals(model, company))

    def _state_of(self, company):
        """What a refused action must leave untouched in a clinic."""
        self.env.invalidate_all()
        domain = [("company_id", "=", company.id)]
        env = self.env(su=True)
        return {
            "threads": env["clinic.sms.conversation"].search_read(
                domain, ["state", "user_id", "unread_count"], order="id"
            ),
            "answers": env["clinic.sms.message"].search_count(
                domain + [("kind", "=", "conversation")]
            ),
            "waitlist": env["clinic.sms.waitlist"].search_read(
                domain, ["state"], order="id"
            ),
            "offers": env["clinic.sms.waitlist.offer"].search_read(
                domain, ["state"], order="id"
            ),
            "appointments": env["calendar.event"]
            .with_context(active_test=False)
            .search_read(
                [("clinic_company_id", "=", company.id)],
                ["clinic_status"],
                order="id",
            ),
            "exports": env["clinic.sms.gdpr.export"].search_count([]),
            "settings": company.sudo().read(list(SETTINGS)),
        }

    # -- the inbox (R-9.2) -----------------------------------------------------
    def _prepare_conversation_reply(self, company):
        return self._conversation(company)

    def _action_conversation_reply(self, profile, company, thread):
        """Type an answer in the thread, then Send Answer."""
        text = {"reply_text": "Yes, 11:00 is fine."}
        answer = self.rpc(profile, thread._name, "write", ids=thread.ids, vals=text)
        if answer[0] == 200:
            answer = self.rpc(
                profile, thread._name, "action_send_reply", ids=thread.ids
            )

        def check():
            message = self.env["clinic.sms.message"].search(
                [
                    ("kind", "=", "conversation"),
                    ("partner_id", "=", thread.partner_id.id),
                ]
            )
            self.assertEqual(
                (message.company_id, message.body, message.create_uid),
                (company, "Yes, 11:00 is fine.", self.users[profile]),
            )
            self.assertEqual(thread.unread_count, 0)

        return answer, check

    def _button(self, profile, record, method, **expected):
        """A button of ``record``'s form: (answer, check that ``record`` has
        the ``expected`` values)."""
        answer = self.rpc(profile, record._name, method, ids=record.ids)
        return answer, lambda: self.assertEqual(
            {name: record[name] for name in expected}, expected
        )

    _prepare_conversation_assign = _prepare_conversation_reply
    _prepare_conversation_mark_read = _prepare_conversation_reply
    _prepare_conversation_close = _prepare_conversation_reply

    def _action_conversation_assign(self, profile, company, thread):
        # (the public user has no account here: that cell is refused)
        user = self.users.get(profile)
        return self._button(profile, thread, "action_assign_me", user_id=user)

    def _action_conversation_mark_read(self, profile, company, thread):
        return self._button(profile, thread, "action_mark_read", unread_count=0)

    def _action_conversation_close(self, profile, company, thread):
        return self._button(
            profile, thread, "action_close", state="closed", unread_count=0
        )

    def _prepare_conversation_reopen(self, company):
        return self._conversation(company, state="closed", unread_count=0)

    def _action_conversation_reopen(self, profile, company, thread):
        return self._button(profile, thread, "action_reopen", state="open")

    # -- the waitlist (R-9.3) --------------------------------------------------
    def _prepare_waitlist_add_from_appointment(self, company):
        return self._appointment(company)

    def _action_waitlist_add_from_appointment(self, profile, company, event):
        """Add to Waitlist on an appointment: the form of a new entry for its
        patient, clinic, practitioner."""
        answer = self.rpc(
            profile, "calendar.event", "action_clinic_waitlist_add", ids=event.ids
        )

        def check():
            context = answer[1]["context"]
            self.assertEqual(
                (context["default_partner_id"], context["default_company_id"]),
                (self.patient.id, company.id),
            )

        return answer, check

    def _prepare_waitlist_cancel(self, company):
        return self._entry(company)

    def _action_waitlist_cancel(self, profile, company, entry):
        return self._button(profile, entry, "action_cancel", state="cancelled")

    def _prepare_waitlist_reset(self, company):
        return self._entry(company, state="cancelled")

    def _action_waitlist_reset(self, profile, company, entry):
        return self._button(profile, entry, "action_reset", state="waiting")

    def _prepare_waitlist_accept(self, company):
        return self._offer(company)

    def _action_waitlist_accept(self, profile, company, offer):
        """Accepted by phone: the slot is booked for the patient."""
        answer = self.rpc(
            profile, "clinic.sms.waitlist.offer", "action_accept", ids=offer.ids
        )

        def check():
            self.assertEqual(offer.state, "accepted")
            self.assertEqual(
                (offer.booked_event_id.clinic_company_id, offer.waitlist_id.state),
                (company, "booked"),
            )

        return answer, check

    def _prepare_waitlist_offer_on_cancel(self, company):
        practitioner = self.env["res.partner"].create(
            {"name": f"Dr {next(self._serial)}"}
        )
        event = self._appointment(company)
        event.clinic_practitioner_id = practitioner
        return event, self._entry(company, practitioner)

    def _action_waitlist_offer_on_cancel(self, profile, company, prepared):
        """Cancel an appointment: its slot is offered to the waiting patient."""
        event, entry = prepared
        answer = self.rpc(
            profile, "calendar.event", "action_clinic_cancel", ids=event.ids
        )

        def check():
            self.assertEqual(entry.state, "offered")
            self.assertEqual(
                (entry.offer_ids.slot_id.source_event_id, entry.offer_ids.company_id),
                (event, company),
            )

        return answer, check

    # -- GDPR access request and consent proof (R-11.3) ------------------------
    def _prepare_gdpr_export(self, company):
        patient = self._patient(company)
        self._message(company, partner_id=patient.id, body="Export me")
        return patient

    def _action_gdpr_export(self, profile, company, patient):
        """Export SMS record (GDPR) on the patient, in that clinic."""
        answer = self.rpc(
            profile,
            "res.partner",
            "action_clinic_gdpr_export",
            ids=patient.ids,
            companies=company,
        )

        def check():
            export = self.env["clinic.sms.gdpr.export"].search(
                [("partner_id", "=", patient.id)]
            )
            self.assertEqual(
                (export.company_id, export.company_ids, export.user_id),
                (company, company, self.users[profile]),
            )
            self.assertIn(f"/clinic.sms.gdpr.export/{export.id}/", answer[1]["url"])
            record = json.loads(base64.b64decode(export.data))
            self.assertEqual(
                [m["text"] for m in record["messages"]], ["Export me"], record
            )

        return answer, check

    def _prepare_verify_consent(self, company):
        return self._patient(company)

    def _action_verify_consent(self, profile, company, patient):
        verify = "action_clinic_verify_consent_chain"
        answer = self.rpc(profile, "res.partner", verify, ids=patient.ids)

        def check():
            params = answer[1]["params"]
            self.assertEqual(params["type"], "success")
            self.assertIn(patient.name, params["message"])

        return answer, check

    # -- compliance and waitlist settings (R-11.1, R-11.2, R-9.3) --------------
    def _action_compliance_settings(self, profile, company):
        """Settings, in that clinic: caps and waitlist offers."""
        answer = self.rpc_create_then(
            profile, "res.config.settings", SETTINGS, "execute", companies=company
        )
        return answer, lambda: self.assertEqual(
            company.sudo().read(list(SETTINGS))[0], dict(SETTINGS, id=company.id)
        )

    def test_rpc_matrix_new_models(self):
        """R-8.2 R-9.2 R-9.3 R-10.2 R-11.3: every profile x every operation of
        the later models and their buttons x own / other / shared clinic, over
        JSON-2; prints the size of the matrix."""
        cells, operations = self._run_matrix()
        self.assertEqual(len(RPC_PROFILES), 7)
        self.assertEqual(operations, 41)
        # 7 profiles x (37 operations x own/other + 4 on shared consent rows
        # + 4 on link requests of no clinic; 13 actions x own/other)
        self.assertEqual(cells, {"crud": 7 * (37 * 2 + 4 + 4), "actions": 7 * (13 * 2)})

    def test_waitlist_holds_the_clinics_own_people(self):
        """R-9.3 R-8.2: clinic A's reception cannot put a contact of clinic B
        on A's waitlist, nor tie an entry to B's appointment or practitioner
        (A's freed slots would be offered by SMS to B's patient, and A would
        read the number the offer went to); its own people it can."""
        own_event = self._appointment(self.company_a)
        contact_b = self._patient(self.company_b)
        practitioner_b = self.env["res.partner"].create(
            {"name": "Dr Anne Curie", "company_id": self.company_b.id}
        )
        valid = {
            "company_id": self.company_a.id,
            "partner_id": self.patient.id,
            "practitioner_id": self.practitioner.id,
            "appointment_id": own_event.id,
        }
        forged = {
            "contact of B": {"partner_id": contact_b.id},
            "appointment of B": {
                "appointment_id": self._appointment(self.company_b).id
            },
            "practitioner of B": {"practitioner_id": practitioner_b.id},
        }
        Waitlist = self.env["clinic.sms.waitlist"]
        for label, values in forged.items():
            with self.subTest(label):
                status, result = self.rpc(
                    "sms_user",
                    "clinic.sms.waitlist",
                    "create",
                    vals_list=[dict(valid, **values)],
                )
                self.assertIn(status, (403, 422), result)
        self.assertFalse(Waitlist.search([("company_id", "=", self.company_a.id)]))
        entry_ids = self.assertAllowed(
            self.rpc("sms_user", "clinic.sms.waitlist", "create", vals_list=[valid])
        )
        for label, values in forged.items():
            with self.subTest(f"moved to the {label}"):
                status, result = self.rpc(
                    "sms_user",
                    "clinic.sms.waitlist",
                    "write",
                    ids=entry_ids,
                    vals=values,
                )
                self.assertIn(status, (403, 422), result)
        self.assertEqual(
            Waitlist.browse(entry_ids).read(list(valid))[0],
            {
                "id": entry_ids[0],
                "company_id": (self.company_a.id, self.company_a.name),
                "partner_id": (self.patient.id, self.patient.display_name),
                "practitioner_id": (
                    self.practitioner.id,
                    self.practitioner.display_name,
                ),
                "appointment_id": (own_event.id, own_event.display_name),
            },
        )
