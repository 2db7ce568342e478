from datetime import timedelta

from odoo import api, fields, models

LINK_WINDOW = timedelta(minutes=15)
# wrong or expired tokens from one address before it only gets the neutral page
LINK_MAX_FAILED_PER_IP = 10
# requests on one valid link (page views and actions) within the window
LINK_MAX_PER_TOKEN = 30


class ClinicSmsLinkAttempt(models.Model):
    """Requests on personal links (R-9.1), kept in PostgreSQL so that every
    worker applies the same limits: wrong tokens per address, requests per
    link. Only digests of tokens are stored."""

    _name = "clinic.sms.link.attempt"
    _description = "Personal Link Request"
    _log_access = False
    _order = "id desc"

    ip = fields.Char(required=True, index=True)
    token_digest = fields.Char(index="btree_not_null")
    failed = fields.Boolean()
    at = fields.Datetime(required=True, default=fields.Datetime.now, index=True)

    @api.model
    def _ip_blocked(self, ip):
        since = fields.Datetime.now() - LINK_WINDOW
        return (
            self.sudo().search_count(
                [("ip", "=", ip), ("failed", "=", True), ("at", ">=", since)],
                limit=LINK_MAX_FAILED_PER_IP,
            )
            >= LINK_MAX_FAILED_PER_IP
        )

    @api.model
    def _token_busy(self, digest):
        since = fields.Datetime.now() - LINK_WINDOW
        return (
            self.sudo().search_count(
                [("token_digest", "=", digest), ("at", ">=", since)],
                limit=LINK_MAX_PER_TOKEN,
            )
            >= LINK_MAX_PER_TOKEN
        )

    @api.model
    def _record(self, ip, digest=False, failed=False):
        self.sudo().create({"ip": ip, "token_digest": digest, "failed": failed})

    @api.autovacuum
    def _gc_attempts(self):
        self.sudo().search(
            [("at", "<", fields.Datetime.now() - timedelta(days=1))]
        ).unlink()
