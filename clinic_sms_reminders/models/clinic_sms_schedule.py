from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ClinicSmsSchedule(models.Model):
    """Scheduled reminder (R-5.6, RxKonet): one client or a client group, a
    template or a custom text, a date and time, days prior and an optional
    recurrence every N days."""

    _name = "clinic.sms.schedule"
    _description = "Scheduled SMS Reminder"
    _order = "next_send_at, id"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one(
        "res.company",
        string="Clinic",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    partner_id = fields.Many2one("res.partner", string="Client", check_company=True)
    category_ids = fields.Many2many(
        "res.partner.category",
        string="Client Group",
        help="Every client with one of these tags.",
    )
    template_id = fields.Many2one("clinic.sms.template", check_company=True)
    custom_text = fields.Char(
        size=160, help="Used when no template is chosen (160 characters)."
    )
    date_time = fields.Datetime(string="Date and Time", required=True)
    days_prior = fields.Integer(help="Send this many days before the date and time.")
    recurrence_days = fields.Integer(
        string="Repeat Every (days)",
        help="0: send once. Otherwise repeat every N days.",
    )
    end_date = fields.Date(string="Repeat Until")
    next_send_at = fields.Datetime(readonly=True, index=True, copy=False)
    occurrence = fields.Integer(readonly=True, copy=False)
    state = fields.Selection(
        [("pending", "Pending"), ("sent", "Sent"), ("stopped", "Stopped")],
        default="pending",
        required=True,
        readonly=True,
        copy=False,
    )
    message_ids = fields.One2many(
        "clinic.sms.message", "schedule_id", string="Messages"
    )
    preview = fields.Text(compute="_compute_preview")

    @api.depends("partner_id", "category_ids", "date_time")
    def _compute_name(self):
        for schedule in self:
            who = schedule.partner_id.name or ", ".join(
                schedule.category_ids.mapped("name")
            )
            schedule.name = f"{who} - {schedule.date_time or ''}"

    @api.constrains(
        "partner_id", "category_ids", "template_id", "custom_text", "days_prior"
    )
    def _check_schedule(self):
        for schedule in self:
            if not schedule.partner_id and not schedule.category_ids:
                raise ValidationError(self.env._("Choose a client or a client group."))
            if not schedule.template_id and not (schedule.custom_text or "").strip():
                raise ValidationError(
                    self.env._("Choose a template or write a message.")
                )
            if schedule.days_prior < 0 or schedule.recurrence_days < 0:
                raise ValidationError(
                    self.env._("Days prior and recurrence cannot be negative.")
                )

    @api.model_create_multi
    def create(self, vals_list):
        schedules = super().create(vals_list)
        for schedule in schedules:
            schedule.next_send_at = schedule._first_send_at()
        return schedules

    def write(self, vals):
        res = super().write(vals)
        if {"date_time", "days_prior"} & set(vals):
            for schedule in self.filtered(
                lambda s: s.state == "pending" and not s.occurrence
            ):
                schedule.next_send_at = schedule._first_send_at()
        return res

    def _first_send_at(self):
        return self.date_time - timedelta(days=self.days_prior)

    def _recipients(self):
        partners = self.partner_id
        if self.category_ids:
            # a client group holds the clinic's clients only, also
            # when the cron (a superuser) runs the schedule
            partners |= self.company_id._clinic_sms_search_partners(
                [("category_id", "in", self.category_ids.ids)]
            )
        return partners

    def _render(self, partner):
        if self.template_id:
            return self.template_id._render(
                partner, self.env["calendar.event"], self.company_id
            )
        return self.custom_text or ""

    @api.depends("template_id", "custom_text", "partner_id", "category_ids")
    def _compute_preview(self):
        for schedule in self:
            partner = schedule._recipients()[:1] if schedule.id else schedule.partner_id
            schedule.preview = schedule._render(partner) if partner else False

    @api.model
    def _cron_run_schedules(self, now=None):
        """Queue the due occurrences; one key per (schedule, occurrence, client)."""
        now = now or fields.Datetime.now()
        due = self.search([("state", "=", "pending"), ("next_send_at", "<=", now)])
        rows = []
        for schedule in due:
            for partner in schedule._recipients():
                rows.append(
                    {
                        "kind": "scheduled",
                        "purpose": "appointment",
                        "company_id": schedule.company_id.id,
                        "template_id": schedule.template_id.id,
                        "partner_id": partner.id,
                        "phone": partner.clinic_mobile,
                        "idempotency_key": (
                            f"schedule:{schedule.id}:{schedule.occurrence}:{partner.id}"
                        ),
                        "scheduled_at": now,
                        "state": "queued",
                        "schedule_id": schedule.id,
                        "body": schedule._render(partner),
                    }
                )
            schedule._advance()
        self.env.flush_all()
        return self.env["clinic.sms.message"]._insert_queued(rows)

    def _advance(self):
        self.ensure_one()
        following = self.next_send_at + timedelta(days=self.recurrence_days)
        if not self.recurrence_days or (
            self.end_date and following.date() > self.end_date
        ):
            self.write({"state": "sent", "occurrence": self.occurrence + 1})
        else:
            self.write({"next_send_at": following, "occurrence": self.occurrence + 1})

    def action_stop(self):
        self.write({"state": "stopped"})
        self.message_ids.filtered(lambda m: m.state == "queued")._set_state(
            "cancelled", "stopped"
        )
        return True

    @api.model
    def _cron_run_campaigns(self):
        """Scheduled reminders, birthday greetings and recall campaigns, each
        step committed on its own."""
        cron = self.env["ir.cron"]
        self._cron_run_schedules()
        cron._commit_progress(1, remaining=2)
        self.env["res.company"].search(
            [("clinic_sms_birthday_active", "=", True)]
        )._clinic_plan_birthdays()
        cron._commit_progress(1, remaining=1)
        self.env["clinic.sms.recall"].search([("active", "=", True)])._plan_recalls()
        cron._commit_progress(1, remaining=0)
