"""Marketing hold (R-11.1, R-11.2): which queued marketing messages may go
out now, which wait for an allowed day and hour or for the caps, and which
are no longer worth sending, decided set-wise for the dispatcher and the
planners."""

from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools import compliance

# marketing messages that count against the caps: on their way or out
CAPPED_STATES = ("sending", "sent", "delivered")


class ClinicSmsMessage(models.Model):
    _inherit = "clinic.sms.message"  # pylint: disable=consider-merging-classes-inherited

    def _clinic_hold_marketing(self, now):
        """Apply R-11.1/R-11.2 to these queued messages at once and return
        the ones that may go out now: a marketing message due at a forbidden
        moment stays queued with its new time and the reason it waits, one
        that is no longer worth sending is skipped with the reason. For the
        dispatcher (on a claimed batch) and the planners (on the rows they
        just queued). Two queries for the history and holidays, one UPDATE."""
        reasons = {}
        holds = self.env["res.company"]._clinic_marketing_hold(self, now, reasons)
        rows = {}
        for message in self:
            status, value = holds.get(message.id, (compliance.OK, None))
            if status == compliance.WAIT:
                rows[message.id] = ("queued", value, reasons[message.id])
            elif status == compliance.SKIP:
                rows[message.id] = ("skipped", message.scheduled_at, value)
        if rows:
            self.flush_recordset()
            ids = list(rows)
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE clinic_sms_message AS m
                       SET state = v.state, scheduled_at = v.scheduled_at,
                           reason = v.reason, write_uid = %(uid)s,
                           write_date = %(now)s
                      FROM unnest(%(ids)s::int[], %(states)s::varchar[],
                                  %(times)s::timestamp[], %(reasons)s::varchar[])
                           AS v(id, state, scheduled_at, reason)
                     WHERE m.id = v.id
                    """,
                    uid=self.env.uid,
                    now=fields.Datetime.now(),
                    ids=ids,
                    states=[rows[i][0] for i in ids],
                    times=[rows[i][1] for i in ids],
                    reasons=[rows[i][2] for i in ids],
                )
            )
            self.browse(ids).invalidate_recordset(["state", "scheduled_at", "reason"])
        return self.browse(
            [message_id for message_id in self.ids if message_id not in rows]
        )


class ResCompany(models.Model):
    _inherit = "res.company"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _clinic_holidays(self, companies, low, high):
        """{company id: local dates of the global time off of its working
        hours calendar} between ``low`` and ``high`` (naive UTC), one query."""
        calendars = companies.resource_calendar_id
        leaves = (
            self.env["resource.calendar.leaves"]
            .sudo()
            .search_read(
                [
                    ("calendar_id", "in", calendars.ids),
                    ("resource_id", "=", False),
                    ("date_to", ">=", low),
                    ("date_from", "<=", high),
                ],
                ["calendar_id", "date_from", "date_to"],
            )
        )
        by_calendar = {}
        for leave in leaves:
            by_calendar.setdefault(leave["calendar_id"][0], []).append(
                (leave["date_from"], leave["date_to"])
            )
        return {
            company.id: compliance.holiday_dates(
                by_calendar.get(company.resource_calendar_id.id, []),
                company.resource_calendar_id.tz or company.clinic_sms_tz or "UTC",
            )
            for company in companies
        }

    @api.model
    def _clinic_marketing_hold(self, messages, now, wait_reasons=None):
        """The single entry point of R-11.1/R-11.2 for the dispatcher (at send
        time) and the planners: for each marketing message of ``messages``
        (other messages are absent from the result), ``("ok", None)``,
        ``("wait", next allowed naive UTC datetime)`` or ``("skip", reason
        code)``. A message is due at ``max(its scheduled time, now)``.

        Set-wise: a handful of queries whatever the number of messages
        (messages and partners read in batches, one query for the history of
        marketing messages, one for the holidays). Messages of one patient in
        the same call are counted against each other in order of due time.
        ``wait_reasons``, when given, is filled with the reason of each wait
        (``marketing_quiet`` or ``marketing_cap``)."""
        messages = messages.filtered(
            lambda m: compliance.is_marketing(m.kind, m.purpose)
        )
        if not messages:
            return {}
        companies = messages.company_id
        horizon = max(
            compliance.DEFAULT_HORIZON_DAYS, *compliance.HORIZON_DAYS.values()
        )
        holidays = self._clinic_holidays(
            companies, now - timedelta(days=1), now + timedelta(days=horizon + 1)
        )
        history = self._clinic_marketing_history(messages, now)
        result = {}
        ordered = messages.sorted(lambda m: (max(m.scheduled_at, now), m.id))
        for message in ordered:
            company = message.company_id
            tz_name = message._clinic_recipient_tz()
            policy = company._clinic_marketing_policy(
                holidays[company.id],
                compliance.HORIZON_DAYS.get(
                    message.kind, compliance.DEFAULT_HORIZON_DAYS
                ),
            )
            key = (company.id, message.partner_id.id or message.phone)
            sent = history.setdefault(key, [])
            due = max(message.scheduled_at, now)
            status, value = compliance.hold(due, tz_name, sent, policy)
            result[message.id] = (status, value)
            if status == compliance.WAIT and wait_reasons is not None:
                wait_reasons[message.id] = compliance.wait_reason(
                    due, tz_name, value, policy
                )
            if status != compliance.SKIP:
                sent.append(due if status == compliance.OK else value)
        return result

    @api.model
    def _clinic_marketing_history(self, messages, now):
        """{(company id, partner id or phone): [send times]} of the marketing
        messages of the last 7 days (and planned ones already on their way),
        other than ``messages``, in one query."""
        kinds = list(compliance.MARKETING_KINDS)
        messages.flush_recordset()
        self.env.cr.execute(
            SQL(
                """
                SELECT company_id, COALESCE(partner_id::text, phone),
                       COALESCE(sent_at, scheduled_at)
                  FROM clinic_sms_message
                 WHERE company_id = ANY(%(companies)s)
                   AND (partner_id = ANY(%(partners)s) OR phone = ANY(%(phones)s))
                   AND state IN %(states)s
                   AND (purpose = 'marketing' OR kind = ANY(%(kinds)s))
                   AND COALESCE(sent_at, scheduled_at) >= %(since)s
                   AND NOT id = ANY(%(ids)s)
                """,
                companies=messages.company_id.ids,
                partners=messages.partner_id.ids,
                phones=[m.phone for m in messages if m.phone and not m.partner_id],
                states=CAPPED_STATES,
                kinds=kinds,
                since=now - timedelta(days=8),
                ids=messages.ids,
            )
        )
        history = {}
        for company_id, who, moment in self.env.cr.fetchall():
            key = (company_id, int(who) if who.isdigit() else who)
            history.setdefault(key, []).append(moment)
        return history
