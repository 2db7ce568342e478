from datetime import timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError


class ClinicSmsSchedule(models.Model):
    """Scheduled reminder (R-5.6, RxKonet): one client or a client group, a
    template or a custom text, a date and time, days prior and an optional
    recurrence every N days."""

    _name = "clinic.sms.schedule"
    _inherit = "clinic.sms.clinic.mixin"
    _description = "Scheduled SMS Reminder"
    _order = "next_send_at, id"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
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

    def _who(self):
        return self.partner_id.name or ", ".join(self.category_ids.mapped("name"))

    def _local_date_time(self, value):
        """``value`` (naive UTC) in the clinic's time zone, naive."""
        try:
            zone = pytz.timezone(self.company_id.clinic_sms_tz or "UTC")
        except pytz.UnknownTimeZoneError:
            zone = pytz.utc
        return pytz.utc.localize(value).astimezone(zone).replace(tzinfo=None)

    def _format_local(self, value):
        """``value`` (naive UTC) at the clinic's wall time, written as the
        user's language writes a date and a time (without seconds)."""
        if not value:
            return ""
        lang = self.env["res.lang"]._get_data(code=self.env.lang or "en_US")
        date_format = lang.date_format or "%m/%d/%Y"
        time_format = (lang.time_format or "%H:%M:%S").replace(":%S", "")
        return self._local_date_time(value).strftime(f"{date_format} {time_format}")

    @api.depends("partner_id", "category_ids", "date_time", "company_id.clinic_sms_tz")
    def _compute_name(self):
        # stored and searched: the clinic's wall time, the same in every language
        for schedule in self:
            when = (
                schedule._local_date_time(schedule.date_time).strftime("%Y-%m-%d %H:%M")
                if schedule.date_time
                else ""
            )
            schedule.name = f"{schedule._who()} - {when}"

    @api.depends("partner_id", "category_ids", "date_time", "company_id.clinic_sms_tz")
    @api.depends_context("lang")
    def _compute_display_name(self):
        """Who, and when at the clinic's wall time in the reader's format
        ("Jeanne Martin - 20/03/2026 10:00"), never the stored UTC value."""
        for schedule in self:
            when = schedule._format_local(schedule.date_time)
            schedule.display_name = " - ".join(
                part for part in (schedule._who(), when) if part
            ) or self.env._("New scheduled reminder")

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
        """Stop sending (R-5.6): what is queued is cancelled; Resume puts the
        schedule back while its next time is still ahead."""
        self.write({"state": "stopped"})
        # _set_state cancels them whatever the user's rights on the history
        self.message_ids.filtered(lambda m: m.state == "queued")._set_state(
            "cancelled", "stopped"
        )
        return True

    def action_resume(self):
        """The way back from Stop: a stopped schedule is pending again when
        its next sending time is still ahead; otherwise the user is told to
        set a later date and time first."""
        return self._resume(fields.Datetime.now())

    def _resume(self, now):
        for schedule in self.filtered(lambda s: s.state == "stopped"):
            next_at = (
                schedule.next_send_at
                if schedule.occurrence
                else schedule._first_send_at()
            )
            if next_at <= now:
                raise UserError(
                    self.env._(
                        "The reminder of %(name)s was due on %(when)s, which has "
                        "passed: set a later date and time (or fewer days prior), "
                        "then resume it.",
                        name=schedule._who(),
                        when=schedule._format_local(next_at),
                    )
                )
            schedule.write({"state": "pending", "next_send_at": next_at})
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
