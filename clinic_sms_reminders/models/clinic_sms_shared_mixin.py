from odoo import api, models
from odoo.exceptions import AccessError


class ClinicSmsSharedMixin(models.AbstractModel):
    """Records shared by all clinics (no ``company_id``: default templates, the
    sandbox provider...) are changed only by an administrator of every clinic
    (R-8.2): a manager of one clinic would otherwise change what every other
    clinic sends, or where it sends it. A clinic that wants its own version
    duplicates the shared record: the copy belongs to the clinic."""

    _name = "clinic.sms.shared.mixin"
    _description = "Clinic SMS record that may be shared by all clinics"

    @api.model
    def _clinic_sms_is_admin_of_every_clinic(self):
        """The system, an Odoo administrator, or an SMS manager who belongs to
        every clinic of the database."""
        if self.env.su:
            return True
        user = self.env.user
        if user.has_group("base.group_system"):
            return True
        if not user.has_group("clinic_sms_reminders.group_clinic_sms_manager"):
            return False
        companies = self.env["res.company"].sudo().with_context(active_test=False)
        return not companies.search_count(
            [("id", "not in", user.sudo().company_ids.ids)], limit=1
        )

    def _clinic_sms_check_shared(self, vals=None):
        """Refuse to change (or create) shared records unless the user is an
        administrator of every clinic. ``vals``: the values of a write, to also
        refuse turning a clinic's record into a shared one."""
        to_shared = vals is not None and "company_id" in vals and not vals["company_id"]
        shared = self.sudo().filtered(lambda record: not record.company_id)
        if not (shared or to_shared) or self._clinic_sms_is_admin_of_every_clinic():
            return
        raise AccessError(
            self.env._(
                "%(record)s is shared by all clinics: only an administrator of "
                "every clinic can change it. Duplicate it to make a copy for "
                "your clinic.",
                record=(shared[:1] or self[:1]).display_name or self._description,
            )
        )

    @api.model
    def default_get(self, fields_list):
        """A clinic's manager creates records of their clinic, not shared
        ones (which they could not save)."""
        values = super().default_get(fields_list)
        if (
            "company_id" in fields_list
            and not values.get("company_id")
            and not self._clinic_sms_is_admin_of_every_clinic()
        ):
            values["company_id"] = self.env.company.id
        return values

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        records._clinic_sms_check_shared()
        return records

    def write(self, vals):
        self._clinic_sms_check_shared(vals)
        return super().write(vals)

    def unlink(self):
        self._clinic_sms_check_shared()
        return super().unlink()

    def _update_field_translations(
        self, field_name, translations, digest=None, source_lang=""
    ):
        # the web client's translation dialog does not go through write()
        self._clinic_sms_check_shared()
        return super()._update_field_translations(
            field_name, translations, digest=digest, source_lang=source_lang
        )

    def copy_data(self, default=None):
        """A clinic's manager duplicating a shared record gets a copy of their
        own clinic (the current one), which they may then change."""
        vals_list = super().copy_data(default=default)
        if default and "company_id" in default:
            return vals_list
        if self._clinic_sms_is_admin_of_every_clinic():
            return vals_list
        for record, vals in zip(self, vals_list, strict=True):
            if not record.company_id:
                vals["company_id"] = self.env.company.id
        return vals_list
