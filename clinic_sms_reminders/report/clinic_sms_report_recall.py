from odoo import fields, models
from odoo.tools import SQL, frozendict

from .sql_view import replace_view

# A recalled patient converts when they book within this many days.
CONVERSION_DAYS = 30


class ClinicSmsReportRecall(models.Model):
    """Recall conversion (R-10.2): each recall message that went out, and
    whether its patient booked an appointment within 30 days of it."""

    _name = "clinic.sms.report.recall"
    _description = "Recall Conversion"
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
                "partner_id",
                "recall_id",
                "channel",
            ),
            "calendar.event": ("clinic_patient_id", "active", "create_date"),
        }
    )

    message_id = fields.Many2one("clinic.sms.message", readonly=True)
    date = fields.Datetime(string="Recalled on", readonly=True)
    company_id = fields.Many2one("res.company", string="Clinic", readonly=True)
    partner_id = fields.Many2one(
        "res.partner", string="Patient", readonly=True, aggregator="count_distinct"
    )
    recall_id = fields.Many2one(
        "clinic.sms.recall", string="Recall Campaign", readonly=True
    )
    channel = fields.Selection([("sms", "SMS"), ("email", "Email")], readonly=True)
    booked = fields.Boolean(
        string="Booked within 30 days",
        readonly=True,
        help="The patient booked an appointment in the 30 days after the recall.",
    )
    recall_count = fields.Integer(string="Recalls", readonly=True)
    booked_count = fields.Integer(string="Booked", readonly=True)
    conversion_rate = fields.Float(
        string="Conversion Rate (%)", aggregator="avg", readonly=True
    )

    def init(self):
        replace_view(
            self,
            SQL(
                """
            SELECT m.id,
                   m.id AS message_id,
                   COALESCE(m.sent_at, m.scheduled_at) AS date,
                   m.company_id,
                   m.partner_id,
                   m.recall_id,
                   m.channel,
                   booking.found AS booked,
                   1 AS recall_count,
                   CASE WHEN booking.found THEN 1 ELSE 0 END AS booked_count,
                   CASE WHEN booking.found THEN 100.0 ELSE 0.0 END
                       AS conversion_rate
              FROM clinic_sms_message m
             CROSS JOIN LATERAL (
                    SELECT EXISTS (
                        SELECT 1
                          FROM calendar_event e
                         WHERE e.clinic_patient_id = m.partner_id
                           AND e.active
                           AND e.create_date >= COALESCE(m.sent_at, m.scheduled_at)
                           AND e.create_date < COALESCE(m.sent_at, m.scheduled_at)
                               + %(days)s * interval '1 day'
                    ) AS found
             ) booking
             WHERE m.kind = 'recall'
               AND m.state IN ('sent', 'delivered')
               AND m.partner_id IS NOT NULL
            """,
                days=CONVERSION_DAYS,
            ),
        )
