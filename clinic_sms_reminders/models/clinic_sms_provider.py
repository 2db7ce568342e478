from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import gateways


class ClinicSmsProvider(models.Model):
    """A way out for SMS: its configuration. Sending, status lookups and
    webhooks belong to its gateway class (``gateways/``), picked by
    ``_get_gateway_class``; integrators add a type with ``selection_add`` and
    a gateway class (see readme/CONFIGURE.rst)."""

    _name = "clinic.sms.provider"
    _inherit = ["clinic.sms.shared.mixin"]  # noqa: RUF012
    _description = "SMS Provider"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    provider_type = fields.Selection(
        [
            ("sandbox", "Sandbox (sends nothing)"),
            ("iap", "Odoo SMS (IAP)"),
            ("http", "HTTP gateway"),
        ],
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
    http_flavor = fields.Selection(
        [
            ("twilio", "Twilio"),
            ("kannel", "Kannel"),
            ("json", "Generic JSON"),
            ("form", "Generic form POST"),
        ],
        string="Gateway",
        default="json",
    )
    api_url = fields.Char(
        string="API URL",
        help="Twilio: https://api.twilio.com; Kannel: "
        "http://host:13013/cgi-bin/sendsms; generic: the URL messages are posted to.",
    )
    username = fields.Char(help="Twilio Account SID, Kannel user, or generic API user.")
    password = fields.Char(
        groups="clinic_sms_reminders.group_clinic_sms_manager",
        help="Twilio Auth Token, Kannel password, or generic API key. Never shown to "
        "receptionists, never put in a URL or a log.",
    )
    webhook_secret = fields.Char(
        groups="clinic_sms_reminders.group_clinic_sms_manager",
        help="Shared secret that signs delivery reports and authenticates replies.",
    )
    callback_base_url = fields.Char(
        string="Callback Base URL",
        help="Address of this Odoo as the gateway reaches it, for delivery reports and "
        "replies; the database's web.base.url when empty.",
    )
    from_number = fields.Char(
        help="Sender number when the clinic has no alphanumeric sender name (Twilio).",
    )
    max_attempts = fields.Integer(
        default=5, help="Tries before a temporary failure becomes final."
    )
    max_connections = fields.Integer(
        string="Concurrent Connections",
        default=20,
        help="HTTP gateways that take one message per request: how many requests "
        "are in flight at once, per worker.",
    )
    rate_limit = fields.Float(
        string="Rate Limit (messages/s)",
        default=0.0,
        help="Most messages per second sent through this provider, by all workers "
        "together; 0 for no limit. A gateway answering HTTP 429 is always honoured "
        "(Retry-After).",
    )
    throttle_next_at = fields.Float(
        copy=False,
        readonly=True,
        groups="base.group_system",
        help="Technical: epoch second of the next free send slot, shared by all "
        "workers (updated in SQL only).",
    )

    _check_batch_size = models.Constraint(
        "CHECK (batch_size > 0)", "The batch size of a provider must be positive."
    )
    _check_max_attempts = models.Constraint(
        "CHECK (max_attempts > 0)", "A provider needs at least one attempt."
    )
    _check_timeout = models.Constraint(
        "CHECK (timeout > 0)", "The timeout of a provider must be positive."
    )
    _check_max_connections = models.Constraint(
        "CHECK (max_connections BETWEEN 1 AND 200)",
        "A provider uses between 1 and 200 concurrent connections.",
    )
    _check_rate_limit = models.Constraint(
        "CHECK (rate_limit >= 0)", "The rate limit of a provider cannot be negative."
    )

    def write(self, vals):
        result = super().write(vals)
        if "company_id" in vals:
            # record rules are checked before a write only: check them again so
            # that a provider cannot be handed to a clinic of others
            self.check_access("write")
        return result

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

    def _lane_connections(self):
        """This worker's share of the provider's ``max_connections``: a cron
        run sending over several lanes (clinic_sms_dispatch_lanes.py) opens
        no more connections in all than the provider allows."""
        self.ensure_one()
        lanes = max(int(self.env.context.get("clinic_sms_lanes") or 1), 1)
        return max(1, -(-max(self.max_connections or 1, 1) // lanes))

    def _callback_url(self, kind):
        """Public URL of this provider's webhook (kind: dlr or inbound)."""
        self.ensure_one()
        base = self.callback_base_url or self.env[
            "ir.config_parameter"
        ].sudo().get_param("web.base.url")
        return f"{base.rstrip('/')}/clinic_sms/{kind}/{self.id}"

    # ------------------------------------------------------------------
    # Gateway: the class that speaks this provider's transport
    # ------------------------------------------------------------------

    def _get_gateway_class(self):
        """The gateway class of this provider, or None. Integrators override
        it for their own ``provider_type`` and call ``super()`` otherwise."""
        self.ensure_one()
        if self.provider_type == "http":
            return gateways.HTTP_GATEWAYS.get(self.http_flavor)
        return gateways.GATEWAYS.get(self.provider_type)

    def _get_gateway(self):
        self.ensure_one()
        gateway_class = self._get_gateway_class()
        if gateway_class is None:
            raise UserError(
                self.env._(
                    "The SMS provider type %(type)s cannot send messages.",
                    type=self.provider_type,
                )
            )
        return gateway_class(self)

    def _send_batch(self, messages, deadline=None):
        """Hand ``messages`` (clinic.sms.message, already rendered and paid for)
        to the provider.

        Returns a dict {message id: result} where result is a dict with keys
        ``state`` ('sent', 'delivered', 'retry', 'failed' or 'unknown' when the
        request may have reached the gateway without an answer: never re-sent
        blindly), ``provider_message_id``, ``reason`` (a human sentence) and,
        for a gateway asking to slow down, ``retry_after`` (seconds).
        ``deadline`` (a ``time.monotonic()`` value): no request starts after
        it; the messages not attempted are absent from the result.
        """
        self.ensure_one()
        if self._is_real_provider_type(self.provider_type) and self.env[
            "ir.config_parameter"
        ].sudo().get_param("database.is_neutralized"):
            # a copied, neutralised database never reaches real phones
            return {
                message.id: {
                    "state": "failed",
                    "reason": self.env._(
                        "This database is neutralised: only the sandbox sends."
                    ),
                }
                for message in messages
            }
        return self._get_gateway().send(messages, deadline=deadline)

    def _can_fetch_status(self):
        """Whether ``_fetch_status`` can ask the provider about messages."""
        self.ensure_one()
        gateway_class = self._get_gateway_class()
        return bool(gateway_class and gateway_class.can_fetch_status)

    def _fetch_status(self, messages):
        """What the provider knows of ``messages`` whose outcome is unknown,
        in the shape of ``_send_batch``; messages it could not look up are
        absent ({} for providers without a status API)."""
        self.ensure_one()
        if not messages or not self._can_fetch_status():
            return {}
        return self._get_gateway().fetch_status(messages)

    def action_view_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "clinic_sms_reminders.clinic_sms_message_action"
        )
        action["domain"] = [("provider_id", "=", self.id)]
        return action

    # ------------------------------------------------------------------
    # Webhooks: delivery reports and replies, by the gateway
    # ------------------------------------------------------------------

    def _accepts_webhooks(self):
        self.ensure_one()
        gateway_class = self._get_gateway_class()
        return bool(self.active and gateway_class and gateway_class.webhooks)

    def _webhook_params(self, httprequest):
        """The parameters of a webhook call its signature covers."""
        return self._get_gateway().webhook_params(httprequest)

    def _webhook_verify(self, kind, data):
        """Constant-time check of the caller: signature or shared secret."""
        return self._get_gateway().verify(kind, data)

    def _webhook_dlr_events(self, data):
        """[{reference and/or provider_message_id, status, refund, detail}]"""
        return self._get_gateway().dlr_events(data)

    def _webhook_inbound_values(self, data):
        """{external_id, from, to, text} of a received SMS."""
        return self._get_gateway().inbound_values(data)

    def _webhook_dlr(self, data):
        """Apply delivery reports; returns how many messages they matched."""
        return self.env["clinic.sms.message"]._apply_delivery_reports(
            self, self._webhook_dlr_events(data)
        )

    def _webhook_inbound(self, data):
        return self.env["clinic.sms.inbound"]._receive(
            self, self._webhook_inbound_values(data)
        )
