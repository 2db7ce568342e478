"""The thread of a conversation (R-9.2): the patient's replies and the
clinic's messages, oldest first, rendered for the inbox's form."""

from markupsafe import Markup

from odoo import models
from odoo.tools.misc import format_datetime

from .clinic_sms_conversation import THREAD_LIMIT


class ClinicSmsConversationThread(models.Model):
    _inherit = "clinic.sms.conversation"  # pylint: disable=consider-merging-classes-inherited

    def _sent_messages(self):
        self.ensure_one()
        return self.env["clinic.sms.message"].search(
            [
                ("partner_id", "=", self.partner_id.id),
                ("company_id", "=", self.company_id.id),
                ("channel", "=", "sms"),
            ],
            order="id desc",
            limit=THREAD_LIMIT,
        )

    def _received_messages(self):
        self.ensure_one()
        return self.env["clinic.sms.inbound"].search(
            [
                ("partner_id", "=", self.partner_id.id),
                ("company_id", "=", self.company_id.id),
            ],
            order="received_at desc, id desc",
            limit=THREAD_LIMIT,
        )

    def _thread_entries(self):
        """(date, direction, text, status) of the thread, oldest first."""
        self.ensure_one()
        if not (self.partner_id and self.company_id):
            return []
        states = dict(
            self.env["clinic.sms.message"]
            ._fields["state"]
            ._description_selection(self.env)
        )
        entries = [
            (inbound.received_at, "in", inbound.text or "", "")
            for inbound in reversed(self._received_messages())
        ]
        entries += [
            (
                message.sent_at or message.scheduled_at,
                "out",
                message.body or message.template_id.name or "",
                states.get(message.state, ""),
            )
            for message in reversed(self._sent_messages())
        ]
        # stable: same-second entries keep the order they were recorded in
        entries.sort(key=lambda entry: entry[0])
        return entries[-THREAD_LIMIT:]

    def _render_thread(self):
        entries = self._thread_entries()
        if not entries:
            return Markup("<p class='text-muted'>%s</p>") % self.env._(
                "No message yet."
            )
        tz = self.company_id.clinic_sms_tz or self.env.user.tz or "UTC"
        rows = []
        for date, direction, text, status in entries:
            when = format_datetime(self.env, date, tz=tz, dt_format="short")
            meta = f"{when} · {status}" if status else when
            side = "o_clinic_sms_in" if direction == "in" else "o_clinic_sms_out"
            align = "me-5" if direction == "in" else "ms-5 text-end"
            color = "bg-light" if direction == "in" else "bg-info-subtle"
            # the patient's words are escaped: shown, never interpreted
            rows.append(
                Markup(
                    "<div class='%s %s mb-2'><div class='d-inline-block rounded "
                    "p-2 %s text-start' style='white-space: pre-wrap'>%s</div>"
                    "<div class='small text-muted'>%s</div></div>"
                )
                % (side, align, color, text, meta)
            )
        return Markup("<div class='o_clinic_sms_thread'>%s</div>") % Markup("").join(
            rows
        )
