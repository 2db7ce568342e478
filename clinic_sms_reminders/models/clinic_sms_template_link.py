from odoo import api, models

from .calendar_event_link import LINK_CODE_LENGTH

# One file per inherited model (DESIGN.md); pylint-odoo would have the
# classes of one model merged, which the integration of branches may do.


class ClinicSmsTemplate(models.Model):
    """The ``{appointment_link}`` placeholder (R-9.1), added by inheritance."""

    _inherit = "clinic.sms.template"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _appointment_link_length(self):
        """Length of every short link of this database: the link tracker's
        host, ``/r/`` and a code of fixed length (the worst case is exact)."""
        return len(self.env["link.tracker"].get_base_url() + "/r/") + LINK_CODE_LENGTH

    @api.model
    def _placeholder_definitions(self):
        return {
            **super()._placeholder_definitions(),
            "appointment_link": self._appointment_link_length(),
        }

    @api.model
    def _placeholder_labels(self):
        return {
            **super()._placeholder_labels(),
            "appointment_link": self.env._("Personal appointment link"),
        }

    def _placeholder_values(self, partner, event, company):
        values = super()._placeholder_values(partner, event, company)
        # only texts that use it create the link (one per appointment)
        uses_link = self._render_memo(
            ("uses_link", self._ids, self.env.lang),
            lambda: "appointment_link" in "".join(self.mapped("body") or [""]),
        )
        row = self._render_row(event)
        patient_id = row.patient_id if row else event.clinic_patient_id.id
        if event and patient_id and uses_link:
            values["appointment_link"] = event._clinic_link_short_url()
        else:
            values["appointment_link"] = ""
        return values
