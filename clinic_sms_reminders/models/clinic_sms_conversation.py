import uuid

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import format_datetime

from ..tools import segments
from .clinic_sms_message import CONSENT_FIELD

# what a reply from the inbox must have: the patient's consent to be written
# to about their care, like any appointment message (never "essential")
REPLY_PURPOSE = "appointment"
# entries shown in a thread (the latest ones)
THREAD_LIMIT = 100
PREVIEW_LENGTH = 80


class ClinicSmsConversation(models.Model):
    """Conversations inbox (R-9.2, R-7.6): one thread per patient and clinic.

    Free-text replies (the ones no keyword handles) open the thread, or
    reopen it, and count as unread; keyword replies (OUI, STOP, ...) are
    handled automatically: they show in an existing thread but never count as
    unread nor reopen it. The reception answers from the thread; the answer is
    queued in the outbox like any message (counted, billed, consent and
    opt-out checked again when it goes out)."""

    _name = "clinic.sms.conversation"
    _description = "SMS Conversation"
    _order = "has_unread desc, last_message_date desc, id desc"
    _rec_name = "partner_id"

    company_id = fields.Many2one(
        "res.company", string="Clinic", required=True, readonly=True, index=True
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Patient",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    phone = fields.Char(readonly=True, help="The number the patient wrote from.")
    state = fields.Selection(
        [("open", "Open"), ("closed", "Closed")],
        required=True,
        default="open",
        index=True,
    )
    user_id = fields.Many2one(
        "res.users",
        string="Assigned To",
        index="btree_not_null",
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
    )
    unread_count = fields.Integer(
        string="Unread Replies",
        readonly=True,
        help="Replies received and not read yet.",
    )
    has_unread = fields.Boolean(compute="_compute_has_unread", store=True)
    last_message_date = fields.Datetime(string="Last Message", readonly=True)
    last_message_preview = fields.Char(string="Preview", readonly=True)
    inbound_ids = fields.One2many(
        "clinic.sms.inbound", "conversation_id", string="Replies", readonly=True
    )
    thread_html = fields.Html(
        compute="_compute_thread_html", string="Thread", sanitize=False
    )
    reply_text = fields.Text(
        string="Answer", help="Free text sent to the patient, as typed."
    )
    reply_length = fields.Integer(compute="_compute_reply_counter", string="Characters")
    reply_parts = fields.Integer(compute="_compute_reply_counter", string="Units")
    reply_chars_left = fields.Integer(
        compute="_compute_reply_counter", string="Characters Left"
    )
    reply_encoding = fields.Selection(
        [("gsm7", "GSM-7"), ("ucs2", "Unicode (UCS-2)")],
        compute="_compute_reply_counter",
        string="Encoding",
    )
    wallet_balance = fields.Integer(
        compute="_compute_reply_counter", string="Units Available"
    )
    reply_problem = fields.Char(
        compute="_compute_reply_counter",
        string="Cannot Answer",
        help="Why an answer cannot be sent to this patient now.",
    )

    _company_partner_unique = models.UniqueIndex(
        "(company_id, partner_id)",
        "A patient has one conversation per clinic.",
    )

    @api.depends("unread_count")
    def _compute_has_unread(self):
        for conversation in self:
            conversation.has_unread = conversation.unread_count > 0

    @api.depends("reply_text", "company_id", "partner_id")
    def _compute_reply_counter(self):
        """Live counter of the answer and what it costs (R-5.5, R-6.2)."""
        for conversation in self:
            company = conversation.company_id
            info = segments.count(
                (conversation.reply_text or "").strip(),
                smart=company.clinic_sms_smart_encoding,
            )
            conversation.reply_length = info.length
            conversation.reply_parts = info.parts
            conversation.reply_chars_left = info.chars_left
            conversation.reply_encoding = info.encoding
            conversation.wallet_balance = company.clinic_sms_wallet_id.balance
            conversation.reply_problem = conversation._recipient_problem() or False

    @api.depends("inbound_ids", "partner_id", "company_id", "last_message_date")
    def _compute_thread_html(self):
        for conversation in self:
            conversation.thread_html = conversation._render_thread()

    def write(self, vals):
        if not self.env.su and {"company_id", "partner_id"} & set(vals):
            # a thread stays the patient's and the clinic's
            raise UserError(
                self.env._("A conversation cannot move to another patient or clinic.")
            )
        return super().write(vals)

    def web_read(self, specification):
        # the inbox's form opens a thread: its replies are read by now
        if self.env.context.get("clinic_conversation_open") and len(self) == 1:
            self.filtered("has_unread").action_mark_read()
        return super().web_read(specification)

    @api.model
    def web_search_read(self, *args, **kwargs):
        # a list of threads (which reads them through web_read) reads none
        return super(
            ClinicSmsConversation, self.with_context(clinic_conversation_open=False)
        ).web_search_read(*args, **kwargs)

    # ------------------------------------------------------------------
    # Received replies (hook of clinic.sms.inbound)
    # ------------------------------------------------------------------
    @api.model
    def _clinic_attach_inbound(self, inbound):
        """File a received SMS in its thread. A free-text reply creates or
        reopens the thread and counts as unread, in one statement that two
        workers receiving replies of the same patient cannot duplicate; a
        keyword reply only shows in a thread that already exists."""
        if not (inbound.partner_id and inbound.company_id):
            # unknown senders stay in Received SMS: a thread is a patient's
            return self.browse()
        free_text = inbound.action == "logged"
        params = {
            "company": inbound.company_id.id,
            "partner": inbound.partner_id.id,
            "phone": inbound.from_number,
            "date": inbound.received_at,
            "preview": (inbound.text or "")[:PREVIEW_LENGTH],
            "unread": 1 if free_text else 0,
            "uid": self.env.uid,
            "now": fields.Datetime.now(),
        }
        # a close or an assignment still in the cache must not be written
        # back over what the statement does
        self.flush_model()
        if free_text:
            self.env.cr.execute(
                """
                INSERT INTO clinic_sms_conversation AS c
                    (company_id, partner_id, phone, state, unread_count, has_unread,
                     last_message_date, last_message_preview,
                     create_uid, write_uid, create_date, write_date)
                VALUES (%(company)s, %(partner)s, %(phone)s, 'open', 1, true,
                        %(date)s, %(preview)s, %(uid)s, %(uid)s, %(now)s, %(now)s)
                ON CONFLICT (company_id, partner_id) DO UPDATE
                   SET state = 'open',
                       unread_count = c.unread_count + 1,
                       has_unread = true,
                       phone = EXCLUDED.phone,
                       last_message_date = GREATEST(c.last_message_date,
                                                    EXCLUDED.last_message_date),
                       last_message_preview = EXCLUDED.last_message_preview,
                       write_uid = EXCLUDED.write_uid,
                       write_date = EXCLUDED.write_date
                RETURNING id
                """,
                params,
            )
        else:
            self.env.cr.execute(
                """
                UPDATE clinic_sms_conversation
                   SET last_message_date = GREATEST(last_message_date, %(date)s),
                       last_message_preview = %(preview)s,
                       write_uid = %(uid)s, write_date = %(now)s
                 WHERE company_id = %(company)s AND partner_id = %(partner)s
                RETURNING id
                """,
                params,
            )
        row = self.env.cr.fetchone()
        self.invalidate_model()
        if not row:
            return self.browse()
        inbound.conversation_id = row[0]
        return self.browse(row[0])

    # ------------------------------------------------------------------
    # The thread
    # ------------------------------------------------------------------
    def _sent_messages(self):
        self.ensure_one()
        return self.env["clinic.sms.message"].search(
            [
                ("partner_id", "=", self.partner_id.id),
                ("company_id", "=", self.company_id.id),
                ("channel", "=", "sms"),
            ],
            order="id desc",
            limit=THREAD_LIMIT,
        )

    def _received_messages(self):
        self.ensure_one()
        return self.env["clinic.sms.inbound"].search(
            [
                ("partner_id", "=", self.partner_id.id),
                ("company_id", "=", self.company_id.id),
            ],
            order="received_at desc, id desc",
            limit=THREAD_LIMIT,
        )

    def _thread_entries(self):
        """(date, direction, text, status) of the thread, oldest first."""
        self.ensure_one()
        if not (self.partner_id and self.company_id):
            return []
        states = dict(
            self.env["clinic.sms.message"]
            ._fields["state"]
            ._description_selection(self.env)
        )
        entries = [
            (inbound.received_at, "in", inbound.text or "", "")
            for inbound in reversed(self._received_messages())
        ]
        entries += [
            (
                message.sent_at or message.scheduled_at,
                "out",
                message.body or message.template_id.name or "",
                states.get(message.state, ""),
            )
            for message in reversed(self._sent_messages())
        ]
        # stable: same-second entries keep the order they were recorded in
        entries.sort(key=lambda entry: entry[0])
        return entries[-THREAD_LIMIT:]

    def _render_thread(self):
        entries = self._thread_entries()
        if not entries:
            return Markup("<p class='text-muted'>%s</p>") % self.env._(
                "No message yet."
            )
        tz = self.company_id.clinic_sms_tz or self.env.user.tz or "UTC"
        rows = []
        for date, direction, text, status in entries:
            when = format_datetime(self.env, date, tz=tz, dt_format="short")
            meta = f"{when} · {status}" if status else when
            side = "o_clinic_sms_in" if direction == "in" else "o_clinic_sms_out"
            align = "me-5" if direction == "in" else "ms-5 text-end"
            color = "bg-light" if direction == "in" else "bg-info-subtle"
            # the patient's words are escaped: shown, never interpreted
            rows.append(
                Markup(
                    "<div class='%s %s mb-2'><div class='d-inline-block rounded "
                    "p-2 %s text-start' style='white-space: pre-wrap'>%s</div>"
                    "<div class='small text-muted'>%s</div></div>"
                )
                % (side, align, color, text, meta)
            )
        return Markup("<div class='o_clinic_sms_thread'>%s</div>") % Markup("").join(
            rows
        )

    # ------------------------------------------------------------------
    # Answer from the thread
    # ------------------------------------------------------------------
    def _recipient_problem(self):
        """Why the patient cannot be answered now, or None: no mobile, opted
        out (blacklisted), no consent."""
        self.ensure_one()
        partner = self.partner_id
        if not partner:
            return None
        number = partner.clinic_mobile
        if not number:
            return self.env._(
                "%(patient)s has no valid mobile number.", patient=partner.name
            )
        if self.env["clinic.sms.message"]._blacklisted_numbers({number}):
            return self.env._(
                "%(number)s has opted out (STOP): the clinic cannot write to "
                "this number any more, unless the patient replies START.",
                number=number,
            )
        if not partner[CONSENT_FIELD[REPLY_PURPOSE]]:
            return self.env._(
                "%(patient)s has not given consent to receive appointment SMS: "
                "record their consent on the patient before answering.",
                patient=partner.name,
            )
        return None

    def action_send_reply(self):
        """Queue the typed answer through the outbox, authored by the user,
        after checking the number, opt-out, consent, length and wallet."""
        self.ensure_one()
        self.check_access("write")
        text = (self.reply_text or "").strip()
        if not text:
            raise UserError(self.env._("Write the answer first."))
        problem = self._recipient_problem()
        if problem:
            raise UserError(problem)
        company = self.company_id
        info = segments.count(text, smart=company.clinic_sms_smart_encoding)
        if info.parts > company.clinic_sms_max_parts:
            raise UserError(
                self.env._(
                    "This answer takes %(parts)s SMS parts; the clinic allows "
                    "%(max)s. Shorten it.",
                    parts=info.parts,
                    max=company.clinic_sms_max_parts,
                )
            )
        balance = company.clinic_sms_wallet_id.balance
        if info.parts > balance:
            raise UserError(
                self.env._(
                    "This answer needs %(needed)s units but the clinic has "
                    "%(balance)s. Ask an SMS manager to replenish the wallet.",
                    needed=info.parts,
                    balance=balance,
                )
            )
        now = fields.Datetime.now()
        # as the user: the message is theirs (create_uid); a raw insert that
        # the dispatcher picks up, checks again and bills like any message
        self.env["clinic.sms.message"]._insert_queued(
            [
                {
                    "kind": "conversation",
                    "purpose": REPLY_PURPOSE,
                    "company_id": company.id,
                    "partner_id": self.partner_id.id,
                    "phone": self.partner_id.clinic_mobile,
                    "body": text,
                    "idempotency_key": f"conversation:{self.id}:{uuid.uuid4().hex}",
                    "scheduled_at": now,
                    "state": "queued",
                }
            ]
        )
        self.write(
            {
                "reply_text": False,
                "unread_count": 0,
                "last_message_date": now,
                "last_message_preview": text[:PREVIEW_LENGTH],
            }
        )
        self.env.ref(
            "clinic_sms_reminders.ir_cron_clinic_sms_dispatch"
        ).sudo()._trigger()
        return True

    def action_mark_read(self):
        self.write({"unread_count": 0})
        return True

    def action_assign_me(self):
        self.write({"user_id": self.env.user.id})
        return True

    def action_close(self):
        self.write({"state": "closed", "unread_count": 0})
        return True

    def action_reopen(self):
        self.write({"state": "open"})
        return True

    @api.model
    def clinic_unread_count(self):
        """Threads with unread replies in the user's clinics (systray)."""
        return self.search_count([("has_unread", "=", True), ("state", "=", "open")])


class ClinicSmsInbound(models.Model):
    _inherit = "clinic.sms.inbound"  # pylint: disable=consider-merging-classes-inherited

    conversation_id = fields.Many2one(
        "clinic.sms.conversation",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
    )

    def _clinic_file_in_conversation(self):
        """Hook of _receive: the reply goes to its patient's thread (R-9.2)."""
        conversations = self.env["clinic.sms.conversation"].sudo()
        for inbound in self.sudo():
            conversations._clinic_attach_inbound(inbound)


class ClinicSmsMessage(models.Model):
    _inherit = "clinic.sms.message"  # pylint: disable=consider-merging-classes-inherited

    kind = fields.Selection(
        selection_add=[("conversation", "Answer from the inbox")],
        ondelete={"conversation": lambda records: records.write({"kind": "private"})},
    )


class ClinicSmsWalletMove(models.Model):
    _inherit = "clinic.sms.wallet.move"  # pylint: disable=consider-merging-classes-inherited

    message_kind = fields.Selection(
        selection_add=[("conversation", "Answer from the inbox")],
        ondelete={"conversation": "set null"},
    )
