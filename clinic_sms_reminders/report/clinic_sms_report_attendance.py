from odoo import fields, models
from odoo.tools import SQL, frozendict

from ..models.calendar_event import CLINIC_STATUSES
from .sql_view import replace_view


class ClinicSmsReportAttendance(models.Model):
    """Clinic appointments with their outcome (R-10.2): confirmation,
    cancellation and no-show rates per month, practitioner and service, for
    appointments that got a reminder and those that did not. An appointment
    with several services gives one row per service."""

    _name = "clinic.sms.report.attendance"
    _description = "Attendance Statistics"
    _auto = False
    _rec_name = "start"
    _order = "start desc"
    _depends = frozendict(
        {
            "calendar.event": (
                "start",
                "active",
                "user_id",
                "clinic_company_id",
                "clinic_patient_id",
                "clinic_practitioner_id",
                "clinic_service_ids",
                "clinic_status",
            ),
            "clinic.sms.message": ("appointment_id", "kind", "state"),
            "clinic.sms.inbound": ("action", "appointment_id"),
        }
    )

    event_id = fields.Many2one(
        "calendar.event",
        string="Appointment",
        readonly=True,
        aggregator="count_distinct",
    )
    start = fields.Datetime(readonly=True)
    company_id = fields.Many2one("res.company", string="Clinic", readonly=True)
    patient_id = fields.Many2one("res.partner", readonly=True)
    practitioner_id = fields.Many2one("res.partner", readonly=True)
    service_id = fields.Many2one("product.product", readonly=True)
    clinic_status = fields.Selection(CLINIC_STATUSES, string="Status", readonly=True)
    got_reminder = fields.Boolean(
        string="Reminded", readonly=True, help="A reminder SMS was sent for it."
    )
    appointment_count = fields.Integer(string="Appointments", readonly=True)
    confirmed_rate = fields.Float(
        string="Confirmation Rate (%)",
        aggregator="avg",
        readonly=True,
        help="Confirmed by the patient (status Confirmed, or a confirmation reply).",
    )
    cancelled_rate = fields.Float(
        string="Cancellation Rate (%)", aggregator="avg", readonly=True
    )
    no_show_rate = fields.Float(
        string="No-show Rate (%)", aggregator="avg", readonly=True
    )

    def init(self):
        replace_view(
            self,
            SQL(
                """
            SELECT row_number() OVER (ORDER BY e.id, rel.product_product_id) AS id,
                   e.id AS event_id,
                   e.start,
                   COALESCE(e.clinic_company_id, u.company_id) AS company_id,
                   e.clinic_patient_id AS patient_id,
                   e.clinic_practitioner_id AS practitioner_id,
                   rel.product_product_id AS service_id,
                   e.clinic_status,
                   reminded.event_id IS NOT NULL AS got_reminder,
                   1 AS appointment_count,
                   CASE WHEN e.clinic_status = 'confirmed'
                             OR confirmed.event_id IS NOT NULL
                        THEN 100.0 ELSE 0.0 END AS confirmed_rate,
                   CASE WHEN e.clinic_status = 'cancelled'
                        THEN 100.0 ELSE 0.0 END AS cancelled_rate,
                   CASE WHEN e.clinic_status = 'no_show'
                        THEN 100.0 ELSE 0.0 END AS no_show_rate
              FROM calendar_event e
              LEFT JOIN res_users u ON u.id = e.user_id
              LEFT JOIN calendar_event_product_product_rel rel
                     ON rel.calendar_event_id = e.id
              LEFT JOIN (
                    SELECT DISTINCT appointment_id AS event_id
                      FROM clinic_sms_message
                     WHERE kind = 'reminder'
                       AND state IN ('sent', 'delivered')
                       AND appointment_id IS NOT NULL
              ) reminded ON reminded.event_id = e.id
              LEFT JOIN (
                    SELECT DISTINCT appointment_id AS event_id
                      FROM clinic_sms_inbound
                     WHERE action = 'confirm' AND appointment_id IS NOT NULL
              ) confirmed ON confirmed.event_id = e.id
             WHERE e.clinic_patient_id IS NOT NULL AND e.active
            """,
            ),
        )
