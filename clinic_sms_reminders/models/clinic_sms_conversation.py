"""The conversations inbox (R-9.2): a thread's record and state, and the
filing of received replies in their thread. The thread's rendering is in
clinic_sms_conversation_thread.py, answering from it in
clinic_sms_conversation_reply.py."""

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..tools import segments

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
    # Inbox actions
    # ------------------------------------------------------------------
    @api.constrains("user_id", "company_id")
    def _check_assignee_of_the_clinic(self):
        """A thread is assigned to someone of its clinic's staff only: the
        form's domain is not a rule (RPC ignores it)."""
        for thread in self.filtered("user_id"):
            user = thread.user_id.sudo()
            if user.share or thread.company_id not in user.company_ids:
                raise ValidationError(
                    self.env._(
                        "%(user)s does not work at %(clinic)s: a conversation is "
                        "assigned to someone of its clinic.",
                        user=user.name,
                        clinic=thread.company_id.name,
                    )
                )

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
