from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError


class ClinicSmsWallet(models.Model):
    """Prepaid message units of one clinic (R-6.1).

    ``balance`` is the lockable counter; ``move_ids`` is the ledger that explains
    it (top-ups, debits per batch and kind, refunds). Every change of the balance
    goes through one SQL statement that also keeps ``balance >= 0`` (R-6.3)."""

    _name = "clinic.sms.wallet"
    _inherit = ["mail.thread", "mail.activity.mixin"]  # noqa: RUF012
    _description = "SMS Wallet"
    _rec_name = "company_id"

    company_id = fields.Many2one(
        "res.company", string="Clinic", required=True, ondelete="cascade"
    )
    balance = fields.Integer(readonly=True, help="Message units left to spend.")
    move_ids = fields.One2many("clinic.sms.wallet.move", "wallet_id", string="Ledger")
    low_balance_threshold = fields.Integer(
        related="company_id.clinic_sms_low_balance_threshold"
    )
    is_low = fields.Boolean(compute="_compute_is_low", string="Low Balance")
    low_balance_alerted = fields.Boolean(
        readonly=True, help="Managers were alerted; reset by the next top-up."
    )

    _company_unique = models.UniqueIndex(
        "(company_id)", "A clinic has exactly one SMS wallet."
    )
    _balance_not_negative = models.Constraint(
        "CHECK (balance >= 0)", "The SMS balance cannot go below zero."
    )

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get("balance") for vals in vals_list):
            self._refuse_balance_write()
        return super().create(vals_list)

    def write(self, vals):
        if "balance" in vals:
            self._refuse_balance_write()
        if "company_id" in vals and any(
            wallet.company_id.id != vals["company_id"] for wallet in self
        ):
            raise AccessError(
                self.env._("An SMS wallet belongs to its clinic for good.")
            )
        return super().write(vals)

    def _refuse_balance_write(self):
        """The balance changes only through the ledger (R-6.2): top-ups,
        debits and refunds update it in SQL next to their ledger line, never a
        direct write, whoever asks."""
        raise AccessError(
            self.env._(
                "The SMS balance cannot be changed directly: replenish the "
                "wallet, every change is then recorded in its ledger."
            )
        )

    @api.depends("balance", "low_balance_threshold")
    def _compute_is_low(self):
        for wallet in self:
            wallet.is_low = wallet.balance < wallet.low_balance_threshold

    @api.model
    def _ensure_for_companies(self, companies):
        """{company id: wallet}, creating the missing wallets (safe under
        concurrency: ON CONFLICT). Existing wallets are not touched: an upsert
        would conflict with a concurrent balance update."""
        wallets = self._get_for_companies(companies)
        missing = companies.filtered(lambda company: not wallets[company.id])
        if not missing:
            return wallets
        self.env.cr.execute(
            """
            INSERT INTO clinic_sms_wallet
                (company_id, balance, create_uid, create_date, write_uid, write_date)
            SELECT c.id, 0, %(uid)s, now() at time zone 'UTC',
                   %(uid)s, now() at time zone 'UTC'
              FROM res_company c
             WHERE c.id = ANY(%(ids)s)
            ON CONFLICT (company_id) DO NOTHING
            """,
            {"ids": missing.ids, "uid": self.env.uid},
        )
        return self._get_for_companies(companies)

    @api.model
    def _get_for_companies(self, companies):
        """{company id: wallet} for ``companies`` (empty recordset when missing)."""
        wallets = self.search([("company_id", "in", companies.ids)])
        by_company = {wallet.company_id.id: wallet for wallet in wallets}
        return {
            company.id: by_company.get(company.id, self.browse())
            for company in companies
        }

    def _lock_balance(self):
        """Row-lock the wallet and return its current balance."""
        self.ensure_one()
        # a serialization failure here is retried by the caller: not an ERROR
        self.env.cr.execute(
            "SELECT balance FROM clinic_sms_wallet WHERE id = %s FOR UPDATE",
            [self.id],
            log_exceptions=False,
        )
        self.invalidate_recordset(["balance"])
        return self.env.cr.fetchone()[0]

    def _add_units(self, units):
        """Change the balance by ``units`` atomically; False when it would go < 0."""
        self.ensure_one()
        self.env.cr.execute(
            """
            UPDATE clinic_sms_wallet
               SET balance = balance + %(units)s,
                   write_date = now() at time zone 'UTC', write_uid = %(uid)s
             WHERE id = %(id)s AND balance + %(units)s >= 0
            RETURNING balance
            """,
            {"units": units, "id": self.id, "uid": self.env.uid},
            log_exceptions=False,  # conflicts are retried by the caller
        )
        self.invalidate_recordset(["balance"])
        return bool(self.env.cr.fetchone())

    def _reserve_units(self, needs):
        """Reserve units for as many of ``needs`` (list of unit counts, in send
        order) as the balance allows, in one locked step.

        Returns how many leading items of ``needs`` are paid for."""
        self.ensure_one()
        balance = self._lock_balance()
        paid, total = 0, 0
        for units in needs:
            if total + units > balance:
                break
            total += units
            paid += 1
        if total:
            self._add_units(-total)
        return paid

    def _check_low_balance(self):
        """Alert the clinic's SMS managers once when the balance falls below the
        threshold (R-6.3); the alert is re-armed by the next top-up."""
        self.ensure_one()
        if self.low_balance_alerted or self.balance >= self.low_balance_threshold:
            return
        managers = self.env.ref(
            "clinic_sms_reminders.group_clinic_sms_manager"
        ).all_user_ids
        managers = managers.filtered(
            lambda user: self.company_id in user.company_ids and not user.share
        )
        for user in managers:
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._("SMS balance is low"),
                note=self.env._(
                    "%(balance)s units left for %(clinic)s: replenish the wallet so "
                    "that automatic messages keep going out.",
                    balance=self.balance,
                    clinic=self.company_id.name,
                ),
                user_id=user.id,
            )
        self.low_balance_alerted = True

    def _log_moves(self, messages, move_type):
        """One ledger line per message kind for ``messages`` (debit or refund)."""
        self.ensure_one()
        sign = -1 if move_type == "debit" else 1
        vals_list = [
            {
                "wallet_id": self.id,
                "move_type": move_type,
                "units": sign * sum(kind_messages.mapped("units")),
                "message_kind": kind,
                "message_count": len(kind_messages),
                "user_id": self.env.uid,
            }
            for kind, kind_messages in messages.grouped("kind").items()
        ]
        return self.env["clinic.sms.wallet.move"].sudo().create(vals_list)

    def _top_up(self, units, note=False):
        """Add purchased units (R-6.2); managers only."""
        self.ensure_one()
        if not self.env.user.has_group("clinic_sms_reminders.group_clinic_sms_manager"):
            raise AccessError(
                self.env._("Only SMS managers can replenish the SMS wallet.")
            )
        # a manager of one clinic never replenishes another clinic's wallet:
        # the record rules decide, as for any write
        self.check_access("write")
        if units <= 0:
            raise UserError(self.env._("Enter a positive number of units to add."))
        self.sudo()._add_units(units)
        self.sudo().low_balance_alerted = False
        move = (
            self.env["clinic.sms.wallet.move"]
            .sudo()
            .create(
                {
                    "wallet_id": self.id,
                    "move_type": "topup",
                    "units": units,
                    "note": note,
                    "user_id": self.env.uid,
                }
            )
        )
        self._log_top_up(units, note)
        return move

    def _log_top_up(self, units, note=False):
        """A note on the wallet's chatter for a top-up, in the clinic's
        language: "250 units added by Claire Dubois (Invoice 42)"."""
        self.ensure_one()
        lang = self.company_id.partner_id.lang or self.env.lang or "en_US"
        clinic = self.with_context(lang=lang)
        body = clinic.env._(
            "%(units)s units added by %(user)s",
            units=units,
            user=self.env.user.name,
        )
        if note:
            body = f"{body} ({note})"
        self.message_post(
            body=body,
            subtype_xmlid="mail.mt_note",
            author_id=self.env.user.partner_id.id,
        )

    def action_replenish(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Replenish SMS Units"),
            "res_model": "clinic.sms.replenish.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_wallet_id": self.id},
        }

    @api.model
    def _load_demo_units(self, units):
        """Demo data: credit the current clinic's wallet as a top-up would."""
        wallet = self._ensure_for_companies(self.env.company)[self.env.company.id]
        return wallet._top_up(units, note="Demo")
