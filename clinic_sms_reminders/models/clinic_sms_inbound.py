from markupsafe import Markup, escape

from odoo import api, fields, models

from ..tools import keywords, phone

REPLY_ACTIONS = [
    ("confirm", "Confirmed the appointment"),
    ("cancel", "Cancellation request"),
    ("stop", "Opted out (STOP)"),
    ("logged", "Logged on the patient"),
    ("unmatched", "Unknown sender"),
]
# statuses a patient's reply may still act on
OPEN_STATUSES = ("scheduled", "confirmed", "out_of_reach")


class ClinicSmsInbound(models.Model):
    """SMS received from patients (R-7.6, R-4.2), kept as history."""

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
        inbound.write(
            {
                "from_number": number or values["from"],
                "to_number": values.get("to"),
                "text": values.get("text") or "",
                "company_id": provider.company_id.id,
            }
        )
        inbound._act(number)
        return inbound

    def _patients(self, number):
        domain = [("clinic_mobile", "=", number)]
        if self.company_id:
            domain += [("company_id", "in", [self.company_id.id, False])]
        return (
            self.env["res.partner"].search(domain)
            if number
            else self.env["res.partner"]
        )

    def _next_appointment(self, patients):
        return self.env["calendar.event"].search(
            [
                ("clinic_patient_id", "in", patients.ids),
                ("start", ">", fields.Datetime.now()),
                ("clinic_status", "in", OPEN_STATUSES),
            ],
            order="start",
            limit=1,
        )

    def _act(self, number):
        self.ensure_one()
        patients = self._patients(number)
        reply = keywords.classify_reply(self.text)
        if reply == "stop":
            self._opt_out(number, patients)
            return
        if not patients:
            self.action = "unmatched"
            return
        self.partner_id = patients[:1]
        appointment = self._next_appointment(patients)
        if reply == "confirm" and appointment:
            appointment.clinic_status = "confirmed"
            self.write({"action": "confirm", "appointment_id": appointment.id})
        elif reply == "cancel" and appointment:
            self._request_cancellation(appointment)
        else:
            self.action = "logged"
        self._log_on_patients(patients)

    def _opt_out(self, number, patients):
        """STOP: blacklist the number and record the withdrawal (R-4.2)."""
        if number:
            self.env["phone.blacklist"].sudo()._add(
                [number], message=self.env._("Opted out by SMS reply")
            )
        patients.with_context(clinic_consent_source="sms_reply").write(
            {"clinic_consent_recall": False, "clinic_consent_marketing": False}
        )
        log = self.env["clinic.sms.consent.log"].sudo()
        log.create(
            [
                {
                    "partner_id": patient.id,
                    "purpose": "appointment",
                    "granted": False,
                    "source": "sms_reply",
                    "note": self.env._("STOP received: number blacklisted"),
                }
                for patient in patients
            ]
        )
        self.write({"action": "stop", "partner_id": patients[:1].id})
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
        body = Markup("<p><b>%s</b></p><p>%s</p>") % (
            self.env._("SMS received"),
            self.text,
        )
        patients.sudo()._message_log_batch({patient.id: body for patient in patients})
