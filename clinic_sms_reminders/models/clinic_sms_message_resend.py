from odoo import fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

# a manager may send again what did not reach the patient, or may not have
RESENDABLE_STATES = ("unknown", "failed")


class ClinicSmsMessage(models.Model):
    """History list (R-7.8): sent messages first, and a manager's Resend of
    the selected messages that failed or whose outcome is unknown (R-7.3)."""

    _inherit = "clinic.sms.message"  # pylint: disable=consider-merging-classes-inherited

    body_preview = fields.Char(
        string="Text",
        compute="_compute_body_preview",
        help="The text on one line; the whole of it on hover or in the form.",
    )

    # the History list's order (sent_at desc, scheduled_at desc, id desc, the
    # never-sent rows after the sent ones) read from an index, not sorted
    _history_order_index = models.Index(
        "(sent_at DESC NULLS LAST, scheduled_at DESC, id DESC)"
    )

    def _compute_body_preview(self):
        # a char, not a text: the list keeps it on one line and shows the
        # whole of it on hover
        for message in self:
            message.body_preview = " ".join((message.body or "").split())

    def _order_field_to_sql(self, alias, field_name, direction, nulls, query):
        # a message never sent has no sent_at: listed after the sent ones in
        # both directions (PostgreSQL puts NULL first when descending), and
        # the web client cannot say NULLS LAST in a list's default_order
        if field_name == "sent_at" and not nulls.code:
            nulls = SQL("NULLS LAST")
        return super()._order_field_to_sql(alias, field_name, direction, nulls, query)

    def action_resend_selected(self):
        """Send again the selected messages (History list or form): each one
        failed or has an unknown outcome and was not resent yet; a new queued
        message per one, through the same path as ``action_resend`` (consent,
        blacklist and wallet are checked again when it is dispatched)."""
        if not self.env.user.has_group("clinic_sms_reminders.group_clinic_sms_manager"):
            raise AccessError(self.env._("Only an SMS manager can resend a message."))
        if not self:
            raise UserError(self.env._("Select the messages to send again."))
        # the clinic rules decide whose messages this manager may resend
        self.check_access("read")
        wrong = self.filtered(lambda message: message.state not in RESENDABLE_STATES)
        if wrong:
            raise UserError(
                self.env._(
                    "Only a message that failed or whose outcome is unknown can be "
                    "resent. Not resent: %(messages)s.",
                    messages=self._resend_labels(wrong),
                )
            )
        already = self.filtered("resent_by_id")
        if already:
            raise UserError(
                self.env._(
                    "These messages were already sent again: %(messages)s.",
                    messages=self._resend_labels(already),
                )
            )
        self.env["clinic.sms.outcome"]._resend(self)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "%(count)s message(s) queued to be sent again.", count=len(self)
                ),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _resend_labels(self, messages):
        """'Recipient (state)' of a few messages, for an error message."""
        states = dict(self._fields["state"]._description_selection(self.env))
        labels = [
            f"{message.partner_id.display_name or message.phone or message.id}"
            f" ({states[message.state]})"
            for message in messages[:5]
        ]
        if len(messages) > 5:
            labels.append("…")
        return ", ".join(labels)
