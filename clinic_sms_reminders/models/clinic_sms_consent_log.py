import hashlib
import json

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

CONSENT_PURPOSES = [
    ("appointment", "Appointment messages"),
    ("recall", "Recall campaigns"),
    ("marketing", "Marketing"),
    ("all", "Every message (STOP/START)"),
]
CONSENT_SOURCES = [
    ("user", "User"),
    ("import", "Import"),
    ("sms_reply", "SMS reply"),
    ("portal", "Portal"),
    ("system", "System"),
]
# the fields a link of the chain covers, in this order
CHAINED_FIELDS = (
    "partner_id",
    "company_id",
    "purpose",
    "granted",
    "source",
    "date",
    "user_id",
    "wording",
    "note",
    "inbound_id",
)


def _canonical(value):
    if isinstance(value, models.BaseModel):
        return value.id or None
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ")
    if value is False:
        return None
    return value


class ClinicSmsConsentLog(models.Model):
    """Proof of consent (R-4.1, R-11.3): one row per change of a patient's
    consent or STOP/START, written by the system only and never changed.

    Each row keeps the wording the patient saw or sent and a SHA-256 hash of
    its own fields and of the previous row of the same patient, so removing,
    editing or inserting a row breaks the chain (:meth:`_verify_chain`)."""

    _name = "clinic.sms.consent.log"
    _description = "SMS Consent Change"
    _order = "date desc, id desc"

    partner_id = fields.Many2one(
        "res.partner",
        string="Patient",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    company_id = fields.Many2one(
        "res.company",
        string="Clinic",
        default=lambda self: self.env.company,
        index=True,
        readonly=True,
    )
    purpose = fields.Selection(CONSENT_PURPOSES, required=True, readonly=True)
    granted = fields.Boolean(
        readonly=True, help="True when consent was given, False when withdrawn."
    )
    source = fields.Selection(
        CONSENT_SOURCES, required=True, default="user", readonly=True
    )
    date = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True)
    user_id = fields.Many2one(
        "res.users",
        string="Recorded By",
        default=lambda self: self.env.user,
        readonly=True,
    )
    note = fields.Char(readonly=True)
    wording = fields.Text(
        readonly=True,
        help="What the patient saw or sent: the label of the consent, or the SMS "
        "received and the answer sent.",
    )
    inbound_id = fields.Many2one(
        "clinic.sms.inbound", string="SMS Received", readonly=True, ondelete="set null"
    )
    previous_hash = fields.Char(
        readonly=True, help="Hash of the patient's previous row."
    )
    hash = fields.Char(readonly=True, help="SHA-256 of this row and the previous hash.")

    # one successor per row and one first row per patient: the chain cannot fork
    _chain_unique = models.UniqueIndex(
        "(partner_id, previous_hash)",
        "Two consent rows cannot follow the same row.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        """Rows are written by the addon's own code (with ``sudo()``), never by
        a user, and always dated now by the user who caused them."""
        if not self.env.su:
            raise AccessError(
                self.env._("The consent log is written by the system only.")
            )
        now = fields.Datetime.now()
        for vals in vals_list:
            vals.update(date=now, user_id=self.env.uid)
            vals.pop("hash", None)
            vals.pop("previous_hash", None)
        partner_ids = sorted({vals["partner_id"] for vals in vals_list})
        # one writer per patient's chain at a time, across workers: touching
        # the patient's row makes a concurrent writer wait, then fail with a
        # serialization error (retried by Odoo) instead of reading a stale
        # last hash from its snapshot
        self.env["res.partner"].flush_model(["write_date"])
        self.env.cr.execute(
            SQL(
                "UPDATE res_partner SET write_date = write_date WHERE id = ANY(%s)",
                partner_ids,
            )
        )
        last = self._last_hashes(partner_ids)
        records = self.browse()
        for vals in vals_list:
            vals["previous_hash"] = last.get(vals["partner_id"], "")
            record = super().create([vals])
            digest = record._compute_chain_hash()
            # not through write(): nothing may write on a row once created
            record.flush_recordset()
            self.env.cr.execute(
                SQL(
                    "UPDATE clinic_sms_consent_log SET hash = %s WHERE id = %s",
                    digest,
                    record.id,
                )
            )
            record.invalidate_recordset(["hash"])
            last[vals["partner_id"]] = digest
            records |= record
        return records

    def _last_hashes(self, partner_ids):
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT DISTINCT ON (partner_id) partner_id, hash
                  FROM clinic_sms_consent_log
                 WHERE partner_id = ANY(%s)
                 ORDER BY partner_id, id DESC
                """,
                list(partner_ids),
            )
        )
        return dict(self.env.cr.fetchall())

    def write(self, vals):
        if vals:
            raise AccessError(self.env._("The consent log cannot be changed."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        # rows go only with their patient (ON DELETE CASCADE in PostgreSQL)
        # or with the addon's tables when it is uninstalled
        raise AccessError(self.env._("The consent log cannot be deleted."))

    def _compute_chain_hash(self):
        """SHA-256 of the canonical JSON of the row's fields and the previous
        row's hash."""
        self.ensure_one()
        payload = {
            fname: bool(self[fname])
            if self._fields[fname].type == "boolean"
            else _canonical(self[fname])
            for fname in CHAINED_FIELDS
        }
        payload["previous_hash"] = self.previous_hash or ""
        text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @api.model
    def _verify_chain(self, partners):
        """Check the chain of each patient of ``partners``: {partner id: None
        when intact, else (first broken row, why)}. Read as the system, so a
        row of another clinic counts too."""
        logs = self.sudo().search(
            [("partner_id", "in", partners.ids)], order="partner_id, id"
        )
        result = dict.fromkeys(partners.ids)
        previous = {}
        for log in logs:
            partner_id = log.partner_id.id
            if result[partner_id] is not None:
                continue
            expected_previous = previous.get(partner_id, "")
            if (log.previous_hash or "") != expected_previous:
                result[partner_id] = (log, "previous_hash")
            elif log.hash != log._compute_chain_hash():
                result[partner_id] = (log, "hash")
            previous[partner_id] = log.hash
        return result
