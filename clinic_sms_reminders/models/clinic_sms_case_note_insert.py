"""Case notes written set-wise (R-5.7, R-7.1): what
``mail.thread._message_log_batch`` writes, in one INSERT per batch.

See clinic_sms_case_note.py for why and for what was measured."""

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.mail import generate_tracking_message_id

# columns set per note, or by the INSERT itself
PER_NOTE = ("res_id", "body")
LOG_COLUMNS = ("create_uid", "create_date", "write_uid", "write_date")


class MailMessage(models.Model):
    _inherit = "mail.message"

    @api.model
    def _clinic_sms_log_values(self, model, author):
        """The values ``_message_log_batch`` gives every note of a batch."""
        email_from = author.email_formatted or False
        return {
            "author_id": author.id,
            "email_from": email_from,
            "model": model,
            "record_alias_domain_id": False,
            "record_company_id": False,
            "message_type": "notification",
            "is_internal": True,
            "subject": False,
            "subtype_id": self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note"),
            "email_add_signature": False,
            "message_id": generate_tracking_message_id("message-notify"),
            "reply_to": self.env["mail.thread"]._notify_get_reply_to(
                default=email_from, author_id=author.id
            )[False],
        }

    @api.model
    def _clinic_sms_insert_notes(self, model, bodies, author):
        """Internal notes on the records ``bodies`` names ({res_id: Markup
        built from escaped parts, so nothing to sanitise}), authored by
        ``author``; returns the notes. Every other stored column gets the
        default ``create`` would give it (other addons' fields too)."""
        if not bodies:
            return self.browse()
        values = self._clinic_sms_log_values(model, author)
        stored = [
            name
            for name, field in self._fields.items()
            if field.store
            and field.column_type
            and name not in values
            and name not in PER_NOTE
            and name not in LOG_COLUMNS
            and name != "id"
            and not field.compute
        ]
        values.update(self.default_get(stored))
        columns = [
            name
            for name, value in values.items()
            if name in self._fields and self._fields[name].column_type
        ]
        empty = self.browse()
        constants = []
        for name in columns:
            field = self._fields[name]
            value = field.convert_to_column(values[name], empty, validate=False)
            constants.append(SQL(f"%s::{field.column_type[1]}", value))
        now = fields.Datetime.now()
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO mail_message (
                    %(columns)s, res_id, body,
                    create_uid, create_date, write_uid, write_date)
                SELECT %(constants)s, note.res_id, note.body,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM unnest(%(res_ids)s::int4[], %(bodies)s::text[])
                       AS note(res_id, body)
             RETURNING id
                """,
                columns=SQL(", ").join(SQL.identifier(name) for name in columns),
                constants=SQL(", ").join(constants),
                uid=self.env.uid,
                now=now,
                res_ids=list(bodies),
                bodies=[str(body) for body in bodies.values()],
            )
        )
        notes = self.browse([row[0] for row in self.env.cr.fetchall()])
        # stored computed fields (other addons may add some) as create would
        for field in self._fields.values():
            if field.store and field.compute:
                self.env.add_to_compute(field, notes)
        self.env[model].browse(list(bodies)).invalidate_recordset(
            ["message_ids", "message_needaction", "message_needaction_counter"]
        )
        notes._clinic_sms_case_notes_logged()
        return notes

    def _clinic_sms_case_notes_logged(self):
        """Extension point: called with the case notes just written (sudo).
        Addons that act on new ``mail.message`` rows (``create`` is not
        called for these notes) override this."""
        return True
