"""What a batch rendering reads of its patients and appointments, in one
query (R-7.1): the values of ``_placeholder_values`` for hundreds of
messages without an ORM read of every field of every patient and
appointment (clinic_sms_template_render.py uses them while
``_render_messages`` runs; outside it the records are read as usual)."""

from collections import namedtuple

from odoo import api, models
from odoo.tools import SQL

RenderPartner = namedtuple("RenderPartner", ["name", "lang", "country_code"])
RenderEvent = namedtuple(
    "RenderEvent",
    [
        "start",
        "recurrence_tz",
        "practitioner",
        "office",
        "patient_id",
        "service_ids",
    ],
)


class ClinicSmsTemplate(models.Model):
    _inherit = "clinic.sms.template"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _render_rows(self, messages):
        """({partner id: RenderPartner}, {event id: RenderEvent}) of the
        patients and appointments of ``messages`` (clinic.sms.message), as
        stored now; the time zone of an appointment is its recurrence's
        (``_appointment_tz``), None for a single appointment."""
        self.env["res.partner"].flush_model(["name", "lang", "country_id"])
        self.env["calendar.event"].flush_model(
            [
                "start",
                "recurrency",
                "recurrence_id",
                "clinic_practitioner_id",
                "clinic_office",
                "clinic_patient_id",
                "clinic_service_ids",
            ]
        )
        self.env["calendar.recurrence"].flush_model(["event_tz"])
        self.env.cr.execute(
            SQL(
                """
                SELECT p.id, p.name, p.lang, c.code
                  FROM res_partner p
             LEFT JOIN res_country c ON c.id = p.country_id
                 WHERE p.id = ANY(%(ids)s)
                """,
                ids=messages.partner_id.ids,
            )
        )
        partners = {row[0]: RenderPartner(*row[1:]) for row in self.env.cr.fetchall()}
        self.env.cr.execute(
            SQL(
                """
                SELECT e.id, e.start,
                       CASE WHEN e.recurrency THEN r.event_tz END,
                       pr.name, e.clinic_office, e.clinic_patient_id,
                       ARRAY(SELECT s.product_product_id
                               FROM calendar_event_product_product_rel s
                              WHERE s.calendar_event_id = e.id
                           ORDER BY s.product_product_id)
                  FROM calendar_event e
             LEFT JOIN calendar_recurrence r ON r.id = e.recurrence_id
             LEFT JOIN res_partner pr ON pr.id = e.clinic_practitioner_id
                 WHERE e.id = ANY(%(ids)s)
                """,
                ids=messages.appointment_id.ids,
            )
        )
        events = {
            row[0]: RenderEvent(*row[1:6], tuple(row[6]))
            for row in self.env.cr.fetchall()
        }
        return partners, events
