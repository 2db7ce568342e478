import hashlib
import hmac
import secrets
import string
from datetime import timedelta

from markupsafe import Markup

from odoo import SUPERUSER_ID, api, fields, models

# The short link's code: fixed length, so the worst case of a template counts
# the link exactly, and long enough (62^16, about 95 bits) that the short link
# is as unguessable as the page it leads to.
LINK_CODE_LENGTH = 16
LINK_CODE_ALPHABET = string.ascii_letters + string.digits
LINK_ROUTE = "/clinic_sms/appointment/"
LINK_TOKEN_MAX = 64
LINK_REQUEST_MAX = 500
OPEN_STATUSES = ("scheduled", "confirmed", "out_of_reach")

# One file per inherited model (DESIGN.md); pylint-odoo would have the
# classes of one model merged, which the integration of branches may do.


class CalendarEvent(models.Model):
    """The patient's personal link to an appointment (R-9.1): a page without
    login, reached through a short link of Odoo's ``link_tracker``, that
    shows the appointment and lets the patient confirm, cancel until the
    clinic's cut-off, or ask for another time."""

    _inherit = "calendar.event"  # pylint: disable=consider-merging-classes-inherited

    # only a digest of the token is kept on the appointment
    clinic_link_token_hash = fields.Char(
        copy=False, index="btree_not_null", groups="base.group_system"
    )
    clinic_link_tracker_id = fields.Many2one(
        "link.tracker",
        string="Personal Link",
        copy=False,
        ondelete="set null",
        groups="base.group_system",
    )
    clinic_link_clicks = fields.Integer(
        compute="_compute_clinic_link_clicks",
        string="Personal Link Clicks",
        help="How many times the patient's personal link was opened "
        "(counted by the link tracker).",
    )

    def _compute_clinic_link_clicks(self):
        for event in self:
            event.clinic_link_clicks = event.sudo().clinic_link_tracker_id.count

    def write(self, vals):
        if "clinic_patient_id" not in vals:
            return super().write(vals)
        before = {event.id: event.clinic_patient_id for event in self}
        res = super().write(vals)
        # a link sent to the former patient no longer opens the appointment
        self.sudo().filtered(
            lambda e: e.clinic_link_token_hash and e.clinic_patient_id != before[e.id]
        ).write({"clinic_link_token_hash": False, "clinic_link_tracker_id": False})
        return res

    # ------------------------------------------------------------------
    # Token and short link
    # ------------------------------------------------------------------
    @api.model
    def _clinic_link_digest(self, token):
        """HMAC-SHA256 of a token with the database secret."""
        secret = self.env["ir.config_parameter"].sudo().get_param("database.secret")
        return hmac.new(
            (secret or "").encode(), token.encode(), hashlib.sha256
        ).hexdigest()

    def _clinic_link_short_url(self):
        """The short link of this appointment's page, created the first time
        a message is rendered for it (one per appointment, also when two
        workers render at once)."""
        self.ensure_one()
        event = self.sudo()
        if not event.clinic_link_tracker_id:
            self.env.cr.execute(
                "SELECT id FROM calendar_event WHERE id = %s FOR NO KEY UPDATE",
                [event.id],
            )
            event.invalidate_recordset(
                ["clinic_link_tracker_id", "clinic_link_token_hash"]
            )
        if not event.clinic_link_tracker_id:
            token = secrets.token_urlsafe(24)
            tracker = (
                self.env["link.tracker"]
                .sudo()
                .create(
                    {
                        "url": f"{event.get_base_url()}{LINK_ROUTE}{token}",
                        # a title avoids fetching the page for a preview
                        "title": f"Appointment {event.id}",
                    }
                )
            )
            tracker.code = "".join(
                secrets.choice(LINK_CODE_ALPHABET) for _i in range(LINK_CODE_LENGTH)
            )
            event.write(
                {
                    "clinic_link_token_hash": self._clinic_link_digest(token),
                    "clinic_link_tracker_id": tracker.id,
                }
            )
        return event.clinic_link_tracker_id.short_url

    @api.model
    def _clinic_link_find(self, token):
        """The appointment a personal link token opens, or an empty recordset
        when the token is wrong, or the appointment is over, archived or
        without patient. Read as superuser: the caller is a public visitor."""
        empty = self.browse()
        if not token or len(token) > LINK_TOKEN_MAX:
            return empty
        digest = self._clinic_link_digest(token)
        event = (
            self.sudo().search([("clinic_link_token_hash", "=", digest)], limit=1)
            if digest
            else empty
        )
        if not event or not hmac.compare_digest(
            event.clinic_link_token_hash or "", digest
        ):
            return empty
        if not event.clinic_patient_id or event.stop <= fields.Datetime.now():
            return empty
        return event

    # ------------------------------------------------------------------
    # What the patient may do
    # ------------------------------------------------------------------
    def _clinic_link_cutoff(self):
        """Last moment the patient may cancel through the link."""
        self.ensure_one()
        hours = max(self._clinic_company().clinic_sms_link_cutoff_hours, 0)
        return self.start - timedelta(hours=hours)

    def _clinic_link_can_confirm(self):
        self.ensure_one()
        return (
            self.clinic_status in ("scheduled", "out_of_reach")
            and self.start > fields.Datetime.now()
        )

    def _clinic_link_can_cancel(self):
        self.ensure_one()
        return (
            self.clinic_status in OPEN_STATUSES
            and fields.Datetime.now() < self._clinic_link_cutoff()
        )

    def _clinic_link_can_ask(self):
        self.ensure_one()
        return (
            self.clinic_status in OPEN_STATUSES and self.start > fields.Datetime.now()
        )

    def _clinic_link_system(self):
        """This appointment in the clinic's language, as the system: the
        patient acts, no user does (chatter and tracking read OdooBot, the
        note names the patient)."""
        self.ensure_one()
        company = self._clinic_company()
        lang = company.partner_id.lang or "en_US"
        return self.with_user(SUPERUSER_ID).sudo().with_context(lang=lang)

    def _clinic_link_log(self, body):
        self.ensure_one()
        self.message_post(
            body=body,
            author_id=self.clinic_patient_id.id,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )

    def _clinic_link_confirm(self):
        """The patient confirms: the clinic status is Confirmed, the reminders
        of rules that stop at confirmation are cancelled (R-2.4)."""
        self.ensure_one()
        if not self._clinic_link_can_confirm():
            return False
        event = self._clinic_link_system()
        event.action_clinic_confirm()
        event._clinic_link_log(
            Markup("<p>%s</p>")
            % event.env._("The patient confirmed through their personal link.")
        )
        return True

    def _clinic_link_cancel(self):
        """The patient cancels before the cut-off: the appointment is cancelled
        as by the reception (queued reminders cancelled, cancellation message
        on its normal path)."""
        self.ensure_one()
        if not self._clinic_link_can_cancel():
            return False
        event = self._clinic_link_system()
        event.action_clinic_cancel()
        event._clinic_link_log(
            Markup("<p>%s</p>")
            % event.env._("The patient cancelled through their personal link.")
        )
        return True

    def _clinic_link_ask(self, text):
        """The patient asks for another time: an activity for the reception,
        with the patient's words shown, never interpreted."""
        self.ensure_one()
        if not self._clinic_link_can_ask():
            return False
        text = " ".join((text or "").split())[:LINK_REQUEST_MAX]
        event = self._clinic_link_system()
        note = Markup("<p>%s</p>") % event.env._(
            "The patient asks for another time through their personal link."
        )
        if text:
            note += Markup("<p>%s</p>") % text
        # appointments have no activities of their own: the reception's to-do
        # is on the patient, as for a cancellation asked by SMS
        event.clinic_patient_id.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=event.env._("Patient asks for another time"),
            note=Markup("<p>%s</p>")
            % event.env._("For the appointment %(name)s.", name=event.display_name)
            + note,
            user_id=event.user_id.id or self.env.ref("base.user_admin").id,
        )
        event._clinic_link_log(note)
        return True
