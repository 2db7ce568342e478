from odoo import fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    clinic_recall_ids = fields.Many2many(
        "clinic.sms.recall",
        compute="_compute_clinic_recall_ids",
        string="Recall Campaigns",
        help="Recall campaigns triggered by this service (R-5.1).",
    )

    def _compute_clinic_recall_ids(self):
        recalls = (
            self.env["clinic.sms.recall"]
            .with_context(active_test=False)
            .search([("service_ids.product_tmpl_id", "in", self.ids)])
        )
        for template in self:
            template.clinic_recall_ids = recalls.filtered(
                lambda recall, t=template: t in recall.service_ids.product_tmpl_id
            )
