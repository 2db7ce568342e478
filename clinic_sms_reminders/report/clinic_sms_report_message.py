from odoo import fields, models
from odoo.tools import SQL, frozendict

from .sql_view import replace_view

# Attempted messages: the provider was asked, so they count in the rates.
ATTEMPTED = ("sent", "delivered", "failed", "unknown")


class ClinicSmsReportMessage(models.Model):
    """Messages per day, kind, provider and state (R-10.1), for graph and pivot
    views. Rates are averages of 0/100 values over the attempted messages, so
    that a pivot gives the delivery and failure rates of any group."""

    _name = "clinic.sms.report.message"
    _description = "SMS Statistics"
    _auto = False
    _rec_name = "date"
    _order = "date desc"
    _depends = frozendict(
        {
            "clinic.sms.message": (
                "sent_at",
                "scheduled_at",
                "company_id",
                "kind",
                "state",
                "provider_id",
                "partner_id",
                "units",
                "body",
            ),
        }
    )

    date = fields.Datetime(readonly=True, help="Sending time, else the planned time.")
    company_id = fields.Many2one("res.company", string="Clinic", readonly=True)
    kind = fields.Selection(
        selection=lambda self: (
            self.env["clinic.sms.message"]
            ._fields["kind"]
            ._description_selection(self.env)
        ),
        readonly=True,
    )
    state = fields.Selection(
        selection=lambda self: (
            self.env["clinic.sms.message"]
            ._fields["state"]
            ._description_selection(self.env)
        ),
        readonly=True,
    )
    provider_id = fields.Many2one("clinic.sms.provider", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Recipient", readonly=True)
    message_count = fields.Integer(string="Messages", readonly=True)
    units = fields.Integer(string="Units Spent", readonly=True)
    planned_units = fields.Integer(
        string="Units (estimated)",
        readonly=True,
        help="Units debited, or for planned messages an estimate from the text "
        "(one unit when not rendered yet).",
    )
    delivered_rate = fields.Float(
        string="Delivery Rate (%)", aggregator="avg", readonly=True
    )
    failure_rate = fields.Float(
        string="Failure Rate (%)", aggregator="avg", readonly=True
    )

    def init(self):
        replace_view(
            self,
            SQL(
                """
            SELECT m.id,
                   COALESCE(m.sent_at, m.scheduled_at) AS date,
                   m.company_id,
                   m.kind,
                   m.state,
                   m.provider_id,
                   m.partner_id,
                   1 AS message_count,
                   COALESCE(m.units, 0) AS units,
                   CASE
                       WHEN COALESCE(m.units, 0) > 0 THEN m.units
                       WHEN m.body IS NULL OR length(m.body) <= 160 THEN 1
                       ELSE ceil(length(m.body) / 153.0)::int
                   END AS planned_units,
                   CASE WHEN m.state IN %(attempted)s
                        THEN CASE WHEN m.state = 'delivered' THEN 100.0 ELSE 0.0 END
                   END AS delivered_rate,
                   CASE WHEN m.state IN %(attempted)s
                        THEN CASE WHEN m.state = 'failed' THEN 100.0 ELSE 0.0 END
                   END AS failure_rate
              FROM clinic_sms_message m
            """,
                attempted=ATTEMPTED,
            ),
        )
