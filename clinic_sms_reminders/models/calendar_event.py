from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools import quiet_hours

CLINIC_STATUSES = [
    ("scheduled", "Scheduled"),
    ("confirmed", "Confirmed"),
    ("out_of_reach", "Out of reach"),
    ("done", "Done"),
    ("no_show", "No-show"),
    ("cancelled", "Cancelled"),
]


class CalendarEvent(models.Model):
    """A calendar event with a patient is a clinic appointment (R-1.1); events
    without a patient behave exactly as in standard Odoo."""

    _inherit = "calendar.event"

    clinic_patient_id = fields.Many2one(
        "res.partner", string="Patient", index="btree_not_null", ondelete="restrict"
    )
    clinic_practitioner_id = fields.Many2one(
        "res.partner",
        string="Practitioner",
        index="btree_not_null",
        help="Staff member seeing the patient; never receives patient messages.",
    )
    clinic_office = fields.Char(string="Office", help="Office or room number.")
    clinic_service_ids = fields.Many2many(
        "product.product",
        "calendar_event_product_product_rel",
        "calendar_event_id",
        "product_product_id",
        string="Services",
    )
    clinic_status = fields.Selection(
        CLINIC_STATUSES,
        default="scheduled",
        index=True,
        tracking=True,
        copy=False,
    )
    clinic_company_id = fields.Many2one(
        "res.company",
        string="Clinic",
        default=lambda self: self.env.company,
        index=True,
    )
    is_clinic_appointment = fields.Boolean(
        compute="_compute_is_clinic_appointment",
        search="_search_is_clinic_appointment",
    )
    clinic_sms_message_ids = fields.One2many(
        "clinic.sms.message", "appointment_id", string="SMS Messages"
    )
    clinic_sms_message_count = fields.Integer(
        compute="_compute_clinic_sms_message_count"
    )
    clinic_sms_warning = fields.Char(
        compute="_compute_clinic_sms_plan",
        string="SMS Warning",
        help="Why the patient will not receive the messages of this appointment.",
    )
    clinic_sms_plan = fields.Text(
        compute="_compute_clinic_sms_plan",
        string="Planned Reminders",
        help="Every reminder rule that applies, with when it is due, also "
        "beyond the planning horizon.",
    )

    @api.depends("clinic_patient_id")
    def _compute_is_clinic_appointment(self):
        for event in self:
            event.is_clinic_appointment = bool(event.clinic_patient_id)

    def _search_is_clinic_appointment(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Unsupported search on clinic appointments."))
        positive = (operator == "=") == value
        return [("clinic_patient_id", "!=" if positive else "=", False)]

    def _compute_clinic_sms_message_count(self):
        counts = dict(
            self.env["clinic.sms.message"]._read_group(
                [("appointment_id", "in", self.ids)], ["appointment_id"], ["__count"]
            )
        )
        for event in self:
            event.clinic_sms_message_count = counts.get(event, 0)

    def _clinic_company(self):
        self.ensure_one()
        return self.clinic_company_id or self.env.company

    def _clinic_tz(self):
        """The appointment's time zone: its own, else the clinic's (R-2.7)."""
        self.ensure_one()
        for tz_name in (self.event_tz, self._clinic_company().clinic_sms_tz):
            if tz_name and quiet_hours.is_known_zone(tz_name):
                return tz_name
        return "UTC"

    @api.depends(
        "clinic_patient_id",
        "clinic_patient_id.clinic_mobile",
        "clinic_patient_id.clinic_consent_appointment",
        "start",
        "clinic_status",
        "clinic_company_id",
        "clinic_service_ids",
        "clinic_practitioner_id",
        "event_tz",
    )
    def _compute_clinic_sms_plan(self):
        Rule = self.env["clinic.sms.rule"].sudo()
        errors = dict(
            self.env["res.partner"]
            ._fields["clinic_mobile_error"]
            ._description_selection(self.env)
        )
        for event in self:
            patient = event.clinic_patient_id
            event.clinic_sms_warning = False
            event.clinic_sms_plan = False
            if not patient:
                continue
            if not patient.clinic_mobile:
                event.clinic_sms_warning = self.env._(
                    "%(patient)s has no valid mobile number (%(error)s): no SMS "
                    "will be sent for this appointment.",
                    patient=patient.display_name,
                    error=errors.get(patient.clinic_mobile_error)
                    or errors.get("missing"),
                )
            elif not patient.clinic_consent_appointment:
                event.clinic_sms_warning = self.env._(
                    "%(patient)s refused appointment messages: no SMS will be "
                    "sent for this appointment.",
                    patient=patient.display_name,
                )
            if not event.start:
                continue
            company = event._clinic_company()
            rules = Rule.search([("company_id", "=", company.id)])
            lines = [
                rule._plan_line(event)
                for rule in rules
                if rule._applies_to(event) and rule.trigger == "before_start"
            ]
            event.clinic_sms_plan = "\n".join(line for line in lines if line) or False

    @api.onchange("clinic_patient_id", "clinic_service_ids")
    def _onchange_clinic_subject(self):
        patient = self.clinic_patient_id
        automatic = not self.name or (
            patient
            and (
                self.name == patient.name or self.name.startswith(f"{patient.name} - ")
            )
        )
        if patient and automatic:
            self.name = self._clinic_subject(
                self.clinic_patient_id, self.clinic_service_ids
            )

    @api.model
    def _clinic_subject(self, patient, services):
        """Subject of an appointment booked without one: patient - services."""
        names = ", ".join(services.mapped("name"))
        return f"{patient.name} - {names}" if names else patient.name

    # ------------------------------------------------------------------
    # calendar_sms: no double SMS for clinic appointments
    # ------------------------------------------------------------------
    def _skip_send_mail_status_update(self):
        """Clinic appointments are announced by SMS (R-1.2): Odoo does not also
        email its calendar invitations to the patient and practitioner that
        attend them."""
        return bool(self.clinic_patient_id) or super()._skip_send_mail_status_update()

    def _do_sms_reminder(self, alarms):
        others = self.filtered(lambda event: not event.clinic_patient_id)
        return super(CalendarEvent, others)._do_sms_reminder(alarms)

    # ------------------------------------------------------------------
    # Status buttons
    # ------------------------------------------------------------------
    def _clinic_set_status(self, status):
        if not all(self.mapped("clinic_patient_id")):
            raise UserError(
                self.env._("Only appointments with a patient have a clinic status.")
            )
        self.write({"clinic_status": status})
        return True

    def action_clinic_confirm(self):
        return self._clinic_set_status("confirmed")

    def action_clinic_out_of_reach(self):
        return self._clinic_set_status("out_of_reach")

    def action_clinic_done(self):
        return self._clinic_set_status("done")

    def action_clinic_no_show(self):
        return self._clinic_set_status("no_show")

    def action_clinic_cancel(self):
        return self._clinic_set_status("cancelled")

    def action_clinic_reset(self):
        return self._clinic_set_status("scheduled")

    def action_clinic_sms_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "clinic_sms_reminders.clinic_sms_message_action"
        )
        action["domain"] = [("appointment_id", "=", self.id)]
        return action
