from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.misc import format_datetime

from ..tools import quiet_hours

# Planning limits (clinic_sms_rule_planning.py).
# Reminders are planned this long before they are due, so they are visible in the
# history and a short outage of the planner loses nothing.
PLANNING_HORIZON = timedelta(days=2)
# Patients planned per step: memory stays flat whatever the number of
# appointments (a step holds its candidate rows and one INSERT statement).
PLANNING_CHUNK = 5000


class ClinicSmsRule(models.Model):
    """When to remind patients of an appointment (R-2.1, R-2.2)."""

    _name = "clinic.sms.rule"
    _inherit = "clinic.sms.clinic.mixin"
    _description = "Appointment Reminder Rule"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    template_id = fields.Many2one(
        "clinic.sms.template",
        required=True,
        domain="[('kind', '=', 'reminder'), ('company_id', 'in', [company_id, False])]",
    )
    trigger = fields.Selection(
        [
            ("before_start", "Before the start"),
            ("on_create", "On creation"),
            ("after_create", "After creation"),
        ],
        required=True,
        default="before_start",
    )
    delay = fields.Integer(
        default=24, help="How long before the start or after creation."
    )
    delay_unit = fields.Selection(
        [("minutes", "Minutes"), ("hours", "Hours"), ("days", "Days")],
        required=True,
        default="hours",
    )
    apply_scheduled = fields.Boolean(string="Scheduled", default=True)
    apply_confirmed = fields.Boolean(string="Confirmed", default=True)
    apply_out_of_reach = fields.Boolean(string="Out of reach", default=True)
    service_ids = fields.Many2many(
        "product.product",
        string="Services",
        help="Only appointments with one of these services (all when empty).",
    )
    practitioner_ids = fields.Many2many(
        "res.partner",
        "clinic_sms_rule_practitioner_rel",
        string="Practitioners",
        help="Only appointments with one of these practitioners (all when empty).",
    )
    resend_on_reschedule = fields.Boolean(
        help="Send this reminder again when an appointment that already got it is "
        "moved to another time."
    )
    message_ids = fields.One2many("clinic.sms.message", "rule_id", string="Messages")

    _check_delay = models.Constraint(
        "CHECK (delay >= 0)", "The delay of a reminder rule cannot be negative."
    )

    @api.constrains(
        "apply_scheduled", "apply_confirmed", "apply_out_of_reach", "trigger", "delay"
    )
    def _check_statuses(self):
        for rule in self:
            if not rule._statuses():
                raise ValidationError(
                    self.env._(
                        "Rule %(name)s must apply to at least one status.",
                        name=rule.name,
                    )
                )
            if rule.trigger == "before_start" and not rule.delay:
                raise ValidationError(
                    self.env._(
                        "Rule %(name)s: a reminder before the start needs a delay.",
                        name=rule.name,
                    )
                )

    def _statuses(self):
        self.ensure_one()
        return [
            status
            for status, applies in (
                ("scheduled", self.apply_scheduled),
                ("confirmed", self.apply_confirmed),
                ("out_of_reach", self.apply_out_of_reach),
            )
            if applies
        ]

    def _applies_to(self, event):
        """Whether this rule applies to ``event`` (R-2.2)."""
        self.ensure_one()
        return bool(
            self.active
            and event.clinic_patient_id
            and event.clinic_status in self._statuses()
            and (not self.service_ids or self.service_ids & event.clinic_service_ids)
            and (
                not self.practitioner_ids
                or event.clinic_practitioner_id in self.practitioner_ids
            )
        )

    def _plan_line(self, event, now=None):
        """One line of the appointment's "Planned Reminders": when this rule's
        reminder is due, and its state when it is already planned (also when
        it is beyond the planning horizon, or skipped with its reason)."""
        self.ensure_one()
        now = now or fields.Datetime.now()
        Message = self.env["clinic.sms.message"].sudo()
        message = Message.search(
            [
                ("rule_id", "=", self.id),
                ("appointment_id", "=", event.id),
                ("state", "!=", "cancelled"),
            ],
            order="id desc",
            limit=1,
        )
        states = dict(Message._fields["state"]._description_selection(self.env))
        reasons = dict(Message._fields["reason"]._description_selection(self.env))
        if message:
            when = message.scheduled_at
            status = states.get(message.state, message.state)
            if message.reason:
                status = f"{status}: {reasons.get(message.reason, message.reason)}"
        else:
            company = self.company_id
            patient_tz = event.clinic_patient_id.tz
            if not patient_tz or not quiet_hours.is_known_zone(patient_tz):
                patient_tz = company.clinic_sms_tz or "UTC"
            window = company._clinic_sms_window()
            planned = self._send_time(
                event.start, event.create_date or now, event._clinic_tz()
            )
            when = quiet_hours.shift_into_window(
                planned,
                patient_tz,
                window[0],
                window[1],
                min(now, planned),
                event.start,
            )
            if event.start <= now:
                return False
            if not when:
                status = reasons["no_allowed_minute"]
                when = planned
            elif planned < (event.create_date or now):
                status = reasons["due_before_booking"]
            else:
                status = self.env._("planned")
        return self.env._(
            "%(rule)s: %(when)s (%(status)s)",
            rule=self.name,
            when=format_datetime(self.env, when, dt_format="short"),
            status=status,
        )

    def _delay_delta(self):
        return timedelta(**{self.delay_unit: self.delay})

    def _send_time(self, start, create_date, tz_name):
        """When the rule wants its reminder, before quiet hours; ``tz_name`` is
        the appointment's time zone, whose wall clock "N hours/days before"
        counts on (R-2.1)."""
        if self.trigger == "before_start":
            return quiet_hours.reminder_time(
                start, self.delay, self.delay_unit, tz_name
            )
        if self.trigger == "on_create":
            return create_date
        return create_date + self._delay_delta()
