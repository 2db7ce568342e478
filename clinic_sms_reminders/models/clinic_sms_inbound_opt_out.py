"""STOP, START and HELP replies (R-4.2, R-11.3): blacklist or lift the
number, withdraw or give back the patients' consents with a chained proof row,
and queue the one automatic answer through the outbox."""

from odoo import fields, models

from ..tools import segments


class ClinicSmsInbound(models.Model):
    _inherit = "clinic.sms.inbound"  # pylint: disable=consider-merging-classes-inherited

    def _is_blacklisted(self, number):
        return bool(
            number
            and self.env["phone.blacklist"]
            .sudo()
            .search_count([("number", "=", number)], limit=1)
        )

    def _opt_out(self, number, patients):
        """STOP: blacklist the number, withdraw the clinic's patients' recall
        and marketing consent with a chained proof row, and queue ONE short
        confirmation (only when the number was not opted out yet: a second
        STOP, or an auto-responder answering it, gets no answer)."""
        newly = bool(number) and not self._is_blacklisted(number)
        if number:
            self.env["phone.blacklist"].sudo()._add(
                [number], message=self.env._("Opted out by SMS reply")
            )
        answer = newly and self._queue_answer("stop_reply", number, patients)
        self._log_event(patients, False, answer)
        patients.with_context(
            clinic_consent_source="sms_reply",
            clinic_consent_company_id=self.company_id.id,
            clinic_consent_inbound_id=self.id,
            clinic_consent_note=self.env._("STOP received: number blacklisted"),
        ).write({"clinic_consent_recall": False, "clinic_consent_marketing": False})
        self.write({"action": "stop", "partner_id": patients[:1].id})
        self._log_on_patients(patients)

    def _opt_in(self, number, patients):
        """START/UNSTOP: lift the opt-out, give back what the last STOP
        withdrew, record it and confirm."""
        was_blacklisted = self._is_blacklisted(number)
        if was_blacklisted:
            self.env["phone.blacklist"].sudo()._remove(
                [number], message=self.env._("Subscribed again by SMS reply")
            )
        answer = self._queue_answer("start_reply", number, patients)
        if was_blacklisted or patients:
            self._log_event(patients, True, answer)
            self._restore_consents(patients)
        self.write({"action": "start", "partner_id": patients[:1].id})
        self._log_on_patients(patients)

    def _restore_consents(self, patients):
        logs = self.env["clinic.sms.consent.log"].sudo()
        for patient in patients:
            last_stop = logs.search(
                [
                    ("partner_id", "=", patient.id),
                    ("purpose", "=", "all"),
                    ("inbound_id", "!=", False),
                    ("granted", "=", False),
                ],
                order="id desc",
                limit=1,
            )
            if not last_stop:
                continue
            withdrawn = logs.search(
                [
                    ("partner_id", "=", patient.id),
                    ("inbound_id", "=", last_stop.inbound_id.id),
                    ("purpose", "in", ("recall", "marketing")),
                    ("granted", "=", False),
                ]
            )
            values = {f"clinic_consent_{log.purpose}": True for log in withdrawn}
            if values:
                patient.with_context(
                    clinic_consent_source="sms_reply",
                    clinic_consent_company_id=self.company_id.id,
                    clinic_consent_inbound_id=self.id,
                    clinic_consent_note=self.env._("START received"),
                ).write(values)

    def _help(self, number, patients):
        """HELP/AIDE: answer with the clinic's name and phone (never to an
        opted-out number: the blacklist wins)."""
        if not self._is_blacklisted(number):
            self._queue_answer("help_reply", number, patients)
        self.write({"action": "help", "partner_id": patients[:1].id})
        self._log_on_patients(patients)

    def _log_event(self, patients, granted, answer):
        """One chained consent row per patient for a STOP or START, keeping
        the SMS received and the answer sent (R-11.3)."""
        if not patients:
            return
        wording = self.env._("SMS received: %(text)s", text=self.text or "")
        if answer:
            wording += "\n" + self.env._("Answer: %(text)s", text=answer)
        self.env["clinic.sms.consent.log"].sudo().create(
            [
                {
                    "partner_id": patient.id,
                    "company_id": self.company_id.id,
                    "purpose": "all",
                    "granted": granted,
                    "source": "sms_reply",
                    "wording": wording,
                    "inbound_id": self.id,
                    "note": self.env._("START received: number subscribed again")
                    if granted
                    else self.env._("STOP received: number blacklisted"),
                }
                for patient in patients
            ]
        )

    def _answer_text(self, kind, lang):
        """The automatic answer in ``lang``, cut to one SMS part by shortening
        the clinic's name."""
        company = self.company_id
        env = self.with_context(lang=lang).env
        name = company.name or ""
        phone_number = company.phone or ""
        while True:
            if kind == "stop_reply":
                text = env._(
                    "%(clinic)s: you will not receive any more SMS from us. "
                    "Reply START to subscribe again.",
                    clinic=name,
                )
            elif kind == "start_reply":
                text = env._(
                    "%(clinic)s: you will receive our SMS again. "
                    "Reply STOP to opt out.",
                    clinic=name,
                )
            elif phone_number:
                text = env._(
                    "%(clinic)s: call us on %(phone)s. Reply STOP to opt out.",
                    clinic=name,
                    phone=phone_number,
                )
            else:
                text = env._("%(clinic)s. Reply STOP to opt out.", clinic=name)
            if segments.count(text, smart=True).parts <= 1 or not name:
                return text
            name = name[:-1]

    def _queue_answer(self, kind, number, patients):
        """Queue an automatic answer through the outbox like any message
        (essential, billed, logged); returns its text, or False when no clinic
        can send it. Once per received SMS; HELP at most once an hour per
        number, so two auto-responders cannot talk for ever."""
        company = self.company_id
        if not number or not company:
            return False
        patient = patients[:1]
        lang = patient.lang or company.partner_id.lang or "en_US"
        text = self._answer_text(kind, lang)
        now = fields.Datetime.now()
        trigger = now.strftime("%Y%m%d%H") if kind == "help_reply" else self.id
        self.env["clinic.sms.message"].sudo()._insert_queued(
            [
                {
                    "kind": kind,
                    "purpose": "essential",
                    "company_id": company.id,
                    "partner_id": patient.id,
                    "phone": number,
                    "body": text,
                    "idempotency_key": f"{kind}:{company.id}:{number}:{trigger}",
                    "scheduled_at": now,
                    "state": "queued",
                }
            ]
        )
        return text
