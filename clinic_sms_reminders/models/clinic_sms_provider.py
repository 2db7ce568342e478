import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)


class ClinicSmsProvider(models.Model):
    """A way out for SMS. Integrators add a type with ``selection_add`` and
    implement ``_<type>_send_batch`` (see readme/CONFIGURE.md)."""

    _name = "clinic.sms.provider"
    _description = "SMS Provider"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    provider_type = fields.Selection(
        [("sandbox", "Sandbox (sends nothing)")],
        string="Type",
        required=True,
        default="sandbox",
    )
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        "res.company",
        string="Clinic",
        index=True,
        help="Leave empty to share this provider between all clinics.",
    )
    batch_size = fields.Integer(
        default=500, help="Messages handed to the provider per call."
    )
    timeout = fields.Float(
        string="Timeout (seconds)", default=10.0, help="Network timeout per call."
    )
    sandbox_auto_deliver = fields.Boolean(
        string="Simulate Delivery Reports",
        default=True,
        help="Sandbox only: mark accepted messages as delivered at once.",
    )
    message_count = fields.Integer(compute="_compute_message_count")

    _check_batch_size = models.Constraint(
        "CHECK (batch_size > 0)", "The batch size of a provider must be positive."
    )
    _check_timeout = models.Constraint(
        "CHECK (timeout > 0)", "The timeout of a provider must be positive."
    )

    def _compute_message_count(self):
        counts = dict(
            self.env["clinic.sms.message"]._read_group(
                [("provider_id", "in", self.ids)], ["provider_id"], ["__count"]
            )
        )
        for provider in self:
            provider.message_count = counts.get(provider, 0)

    @api.model
    def _is_real_provider_type(self, provider_type):
        """Types that reach real phones; neutralised databases never use them."""
        return provider_type != "sandbox"

    def _send_batch(self, messages):
        """Hand ``messages`` (clinic.sms.message, already rendered and paid for)
        to the provider.

        Returns a dict {message id: result} where result is a dict with keys
        ``state`` ('sent', 'delivered', 'retry' or 'failed'), ``provider_message_id``
        and ``reason`` (a human sentence for retry/failed).
        """
        self.ensure_one()
        method = getattr(self, f"_{self.provider_type}_send_batch", None)
        if method is None:
            raise UserError(
                self.env._(
                    "The SMS provider type %(type)s cannot send messages.",
                    type=self.provider_type,
                )
            )
        return method(messages)

    def _sandbox_send_batch(self, messages):
        """Deliver nowhere: the outbox row itself is the record of what was sent."""
        state = "delivered" if self.sandbox_auto_deliver else "sent"
        _logger.info("SMS sandbox %s accepted %d message(s)", self.id, len(messages))
        return {
            message.id: {
                "state": state,
                "provider_message_id": f"sandbox-{message.reference}",
                "reason": False,
            }
            for message in messages
        }

    def action_view_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "clinic_sms_reminders.clinic_sms_message_action"
        )
        action["domain"] = [("provider_id", "=", self.id)]
        return action
