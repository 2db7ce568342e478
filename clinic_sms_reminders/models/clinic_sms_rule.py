from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL
from odoo.tools.misc import format_datetime

from ..tools import grouping, quiet_hours

# Reminders are planned this long before they are due, so they are visible in the
# history and a short outage of the planner loses nothing.
PLANNING_HORIZON = timedelta(days=2)
# Patients planned per step: memory stays flat whatever the number of
# appointments (a step holds its candidate rows and one INSERT statement).
PLANNING_CHUNK = 5000


class ClinicSmsRule(models.Model):
    """When to remind patients of an appointment (R-2.1, R-2.2)."""

    _name = "clinic.sms.rule"
    _description = "Appointment Reminder Rule"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        "res.company",
        string="Clinic",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
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

    # ------------------------------------------------------------------
    # Planning
    # ------------------------------------------------------------------
    @api.model
    def _cron_plan_reminders(self):
        rules = self.search([("active", "=", True)])
        for done, rule in enumerate(rules, start=1):
            rule._plan_reminders()
            self.env["ir.cron"]._commit_progress(1, remaining=len(rules) - done)

    def _plan_reminders(self, now=None, events=None):
        """Turn rules into queued messages, set-wise: one candidate query and one
        insert per rule, whatever the number of appointments. ``events`` limits
        the planning to the patients of some appointments (after a create or a
        reschedule).

        Appointments of one patient closer than the clinic's grouping gap get
        ONE reminder, for the first of them (R-2.5). Returns the number of
        messages planned."""
        now = now or fields.Datetime.now()
        self.env.flush_all()
        planned = 0
        for rule in self:
            after = 0
            while True:
                rows = rule._plan_candidates(now, events, after, PLANNING_CHUNK)
                if not rows:
                    break
                planned += rule._insert_planned(rows, now)
                patients = {row[4] for row in rows}
                if len(patients) < PLANNING_CHUNK:
                    break
                after = max(patients)
        return planned

    def _key_sql(self):
        key = SQL(
            "concat('reminder:', %s::int, ':', e.id, ':', e.clinic_patient_id)", self.id
        )
        if self.resend_on_reschedule:
            key = SQL("concat(%s, ':', to_char(e.start, 'YYYYMMDDHH24MISS'))", key)
        return key

    def _plan_candidates(self, now, events, after=0, limit=PLANNING_CHUNK):
        """The appointments the rule applies to in the planning window, with
        whether their reminder already exists, for the next ``limit`` patients
        whose id is above ``after`` (a patient's appointments are never split
        between two steps: grouping needs them together)."""
        self.ensure_one()
        company = self.company_id
        conditions = [
            SQL("e.active"),
            SQL("e.clinic_patient_id IS NOT NULL"),
            SQL("e.clinic_company_id = %s", company.id),
            SQL("e.clinic_status = ANY(%s)", self._statuses()),
            SQL("e.start > %s", now),
        ]
        if self.trigger == "before_start":
            # a day of margin covers DST and moves into the sending window
            horizon = now + PLANNING_HORIZON + self._delay_delta() + timedelta(days=1)
            conditions.append(SQL("e.start <= %s", horizon))
        else:
            conditions.append(SQL("e.create_date >= %s", self.create_date))
        if events is not None:
            patients = events.clinic_patient_id.ids
            conditions.append(SQL("e.clinic_patient_id = ANY(%s)", patients))
        if self.service_ids:
            conditions.append(
                SQL(
                    """EXISTS (SELECT 1 FROM calendar_event_product_product_rel r
                        WHERE r.calendar_event_id = e.id
                          AND r.product_product_id = ANY(%s))""",
                    self.service_ids.ids,
                )
            )
        if self.practitioner_ids:
            conditions.append(
                SQL("e.clinic_practitioner_id = ANY(%s)", self.practitioner_ids.ids)
            )
        key = self._key_sql()
        where = SQL(" AND ").join(conditions)
        self.env.cr.execute(
            SQL(
                """
                WITH step AS (
                    SELECT DISTINCT e.clinic_patient_id AS id
                      FROM calendar_event e
                     WHERE %(where)s AND e.clinic_patient_id > %(after)s
                     ORDER BY 1
                     LIMIT %(limit)s
                )
                SELECT e.id, e.start, e.stop, e.create_date, e.clinic_patient_id,
                       p.clinic_mobile,
                       COALESCE(NULLIF(p.tz, ''), %(company_tz)s), %(key)s,
                       EXISTS (SELECT 1 FROM clinic_sms_message m
                                WHERE m.idempotency_key = %(key)s
                                  AND m.state != 'cancelled'),
                       COALESCE((SELECT NULLIF(rec.event_tz, '')
                                   FROM calendar_recurrence rec
                                  WHERE rec.id = e.recurrence_id AND e.recurrency),
                                %(company_tz)s)
                  FROM calendar_event e
                  JOIN step ON step.id = e.clinic_patient_id
                  JOIN res_partner p ON p.id = e.clinic_patient_id
                 WHERE %(where)s
                """,
                company_tz=company.clinic_sms_tz or "UTC",
                key=key,
                where=where,
                after=after,
                limit=limit,
            )
        )
        return self.env.cr.fetchall()

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

    def _insert_planned(self, rows, now):
        """Plan one reminder per group of appointments and cancel the queued
        reminders of appointments that are no longer first of their group."""
        self.ensure_one()
        company = self.company_id
        window = company._clinic_sms_window()
        gap = timedelta(hours=company.clinic_sms_group_gap_hours)
        by_id = {row[0]: row for row in rows}
        groups = grouping.group_appointments(
            [(row[4], row[1], row[2], row[0]) for row in rows], gap
        )
        to_insert, grouped_ids = [], []
        for group in groups:
            grouped_ids += [item[3] for item in group[1:]]
            (
                event_id,
                start,
                _stop,
                create_date,
                partner_id,
                mobile,
                tz_name,
                key,
                exists,
                event_tz,
            ) = by_id[group[0][3]]
            if exists:
                continue
            company_tz = company.clinic_sms_tz or "UTC"
            if not quiet_hours.is_known_zone(tz_name):
                tz_name = company_tz
            if not quiet_hours.is_known_zone(event_tz):
                event_tz = company_tz
            row = {
                "kind": "reminder",
                "purpose": "appointment",
                "company_id": company.id,
                "rule_id": self.id,
                "template_id": self.template_id.id,
                "appointment_id": event_id,
                "appointment_start": start,
                "partner_id": partner_id,
                "phone": mobile,
                "idempotency_key": key,
                "scheduled_at": now,
                "state": "queued",
            }
            planned = self._send_time(start, create_date, event_tz)
            if planned < create_date:
                # booked after this reminder was due: a visible row says so
                # its key names the start, so a later move of the
                # appointment is planned again
                row.update(
                    idempotency_key=f"{key}:skipped:{start:%Y%m%d%H%M%S}",
                    scheduled_at=planned,
                    state="skipped",
                    reason="due_before_booking",
                )
                to_insert.append(row)
                continue
            send_at = quiet_hours.shift_into_window(
                planned, tz_name, window[0], window[1], now, start
            )
            if send_at:
                row["scheduled_at"] = send_at
            else:
                row.update(state="skipped", reason="no_allowed_minute")
            to_insert.append(row)
        Message = self.env["clinic.sms.message"]
        if grouped_ids:
            Message.search(
                [
                    ("rule_id", "=", self.id),
                    ("state", "=", "queued"),
                    ("appointment_id", "in", grouped_ids),
                ]
            )._set_state("cancelled", "grouped")
            self.env.flush_all()
        return Message._insert_queued(to_insert)
