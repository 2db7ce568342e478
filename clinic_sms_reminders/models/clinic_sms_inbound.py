from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.tools.misc import format_datetime

from ..tools import keywords, phone

REPLY_ACTIONS = [
    ("confirm", "Confirmed the appointment"),
    ("cancel", "Cancellation request"),
    ("stop", "Opted out (STOP)"),
    ("start", "Subscribed again (START)"),
    ("help", "Asked for help (HELP)"),
    ("logged", "Logged on the patient"),
    ("unmatched", "Unknown sender"),
]
# statuses a patient's reply may still act on
OPEN_STATUSES = ("scheduled", "confirmed", "out_of_reach")
# message states in which a message has reached the provider
REACHED_STATES = ("sending", "sent", "delivered", "failed")


class ClinicSmsInbound(models.Model):
    """SMS received from patients (R-7.6, R-4.2), kept as history.

    A reply acts on one clinic only: the provider's clinic, or for a provider
    shared by several clinics, the clinic of the latest message sent to that
    number through it. Only that clinic's patients and appointments are
    touched (issue 16: a reply on a shared provider acted on every clinic)."""

    _name = "clinic.sms.inbound"
    _description = "Received SMS"
    _order = "received_at desc, id desc"
    _rec_name = "from_number"

    provider_id = fields.Many2one("clinic.sms.provider", required=True, index=True)
    company_id = fields.Many2one("res.company", string="Clinic", index=True)
    external_id = fields.Char(help="The gateway's id of the SMS, to refuse replays.")
    from_number = fields.Char(string="From", required=True)
    to_number = fields.Char(string="To")
    text = fields.Text()
    received_at = fields.Datetime(required=True, default=fields.Datetime.now)
    partner_id = fields.Many2one(
        "res.partner", string="Patient", index="btree_not_null"
    )
    appointment_id = fields.Many2one("calendar.event", ondelete="set null")
    action = fields.Selection(REPLY_ACTIONS)

    _external_unique = models.UniqueIndex(
        "(provider_id, external_id) WHERE external_id IS NOT NULL",
        "This SMS was already received.",
    )

    @api.model
    def _receive(self, provider, values):
        """Record and act on one received SMS; None when it is a replay."""
        if values.get("external_id"):
            self.env.cr.execute(
                """
                INSERT INTO clinic_sms_inbound
                    (provider_id, external_id, from_number, received_at, create_uid,
                     write_uid, create_date, write_date)
                VALUES (%(provider)s, %(external)s, %(from)s, now() at time zone 'UTC',
                        %(uid)s, %(uid)s, now() at time zone 'UTC',
                        now() at time zone 'UTC')
                ON CONFLICT (provider_id, external_id) WHERE external_id IS NOT NULL
                DO NOTHING RETURNING id
                """,
                {
                    "provider": provider.id,
                    "external": values["external_id"],
                    "from": values["from"],
                    "uid": self.env.uid,
                },
            )
            row = self.env.cr.fetchone()
            if not row:
                return None
            inbound = self.browse(row[0])
        else:
            inbound = self.create(
                {"provider_id": provider.id, "from_number": values["from"]}
            )
        number, _reason = phone.normalize_mobile(values["from"], None)
        last_message = self._last_message_to(provider, number)
        inbound.write(
            {
                "from_number": number or values["from"],
                "to_number": values.get("to"),
                "text": values.get("text") or "",
                "company_id": (provider.company_id or last_message.company_id).id,
            }
        )
        inbound._act(number, last_message)
        inbound._clinic_file_in_conversation()
        return inbound

    @api.model
    def _last_message_to(self, provider, number):
        """The latest message sent to ``number`` through ``provider``: it tells
        which clinic the patient is answering."""
        if not number:
            return self.env["clinic.sms.message"]
        return (
            self.env["clinic.sms.message"]
            .sudo()
            .search(
                [
                    ("provider_id", "=", provider.id),
                    ("phone", "=", number),
                    ("state", "in", REACHED_STATES),
                ],
                order="id desc",
                limit=1,
            )
        )

    def _patients(self, number):
        """The contacts of the reply's clinic with this number (its own and
        the shared ones), never another clinic's: a family may share a phone,
        so all of them."""
        self.ensure_one()
        partners = self.env["res.partner"].sudo()
        if not number or not self.company_id:
            return partners
        return partners.search(
            [
                ("clinic_mobile", "=", number),
                ("company_id", "in", [self.company_id.id, False]),
            ]
        )

    def _next_appointment(self, patients, last_message=None):
        """The appointment the reply is about: the one of the last message
        when it is still open and ahead, else the patients' next open
        appointment in this clinic."""
        now = fields.Datetime.now()
        event = last_message.appointment_id if last_message else None
        if (
            event
            and event.clinic_patient_id in patients
            and event.clinic_status in OPEN_STATUSES
            and event.start > now
            and event.clinic_company_id == self.company_id
        ):
            return event
        return (
            self.env["calendar.event"]
            .sudo()
            .search(
                [
                    ("clinic_patient_id", "in", patients.ids),
                    ("clinic_company_id", "=", self.company_id.id),
                    ("start", ">", now),
                    ("clinic_status", "in", OPEN_STATUSES),
                ],
                order="start",
                limit=1,
            )
        )

    def _act(self, number, last_message):
        self.ensure_one()
        patients = self._patients(number)
        if last_message.partner_id in patients:
            # the patient the clinic wrote to comes first
            patients = last_message.partner_id | patients
        reply = keywords.classify_reply(self.text)
        if reply == "stop":
            self._opt_out(number, patients)
            return
        if reply == "start":
            self._opt_in(number, patients)
            return
        if reply == "help":
            self._help(number, patients)
            return
        if not patients:
            self.action = "unmatched"
            return
        self.partner_id = patients[:1]
        appointment = self._next_appointment(patients, last_message)
        # a yes to a waitlist offer when the offer is what the clinic
        # wrote last, or when there is no appointment of theirs to confirm
        if (
            reply == "confirm"
            and (not appointment or last_message.kind == "waitlist_offer")
            and self._clinic_waitlist_accept(number)
        ):
            self._log_on_patients(patients)
            return
        if reply == "confirm" and appointment:
            appointment.clinic_status = "confirmed"
            self.write({"action": "confirm", "appointment_id": appointment.id})
        elif reply == "cancel" and appointment:
            self._request_cancellation(appointment)
        else:
            self.action = "logged"
        self._log_on_patients(patients)

    def _request_cancellation(self, appointment):
        """Cancellation keywords: an activity for the reception, or cancel at
        once when the clinic chose so (R-7.6)."""
        company = appointment._clinic_company()
        self.write({"action": "cancel", "appointment_id": appointment.id})
        if company.clinic_sms_auto_cancel:
            appointment.clinic_status = "cancelled"
            return
        appointment.clinic_patient_id.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Patient asks to cancel by SMS"),
            # the note is HTML: the patient's words are shown, never interpreted
            note=escape(
                self.env._(
                    "Reply %(text)s received for the appointment %(name)s.",
                    text=self.text,
                    name=appointment.display_name,
                )
            ),
            user_id=appointment.user_id.id or self.env.ref("base.user_admin").id,
        )

    def _log_on_patients(self, patients):
        """Case note: who received what kind of reply, when. The text stays
        in the clinic's Received SMS, which other clinics cannot read (a
        patient's chatter is shared by every clinic that sees the contact)."""
        if not patients:
            return
        actions = dict(self._fields["action"]._description_selection(self.env))
        tz = self.company_id.clinic_sms_tz or "UTC"
        body = Markup("<p><b>%s</b> (%s, %s): %s</p>") % (
            self.env._("SMS received"),
            self.company_id.name or "",
            format_datetime(self.env, self.received_at, tz=tz, dt_format="short"),
            self.env._("free text, to read in SMS > History > Conversations")
            if self.action == "logged"
            else actions.get(self.action, ""),
        )
        patients.sudo()._message_log_batch({patient.id: body for patient in patients})
