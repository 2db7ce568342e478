"""Rendering of SMS templates (R-2.7, R-3.3 to R-3.6): the values of the
placeholders for a patient and an appointment, the text fitted to the
clinic's part limit, and the opt-out mention of marketing texts."""

from odoo import api, models

from ..tools import placeholders, segments
from .clinic_sms_template import MARKETING_KINDS, _date_locale, _format_start, _locale

# Key in ``cr.cache`` of what a batch rendering computes once for many
# messages (a clinic's own values, translated wordings); it lives only for
# one ``_render_messages`` call.
RENDER_MEMO = "clinic_sms_render_memo"


class ClinicSmsTemplate(models.Model):
    _inherit = "clinic.sms.template"  # pylint: disable=consider-merging-classes-inherited

    def _render_for(self, message):
        """Text of ``message`` (clinic.sms.message) in its patient's language."""
        self.ensure_one()
        return self._render(
            message.partner_id,
            message.appointment_id,
            message.company_id,
            marketing=message.purpose == "marketing" or message.kind in MARKETING_KINDS,
        )

    @api.model
    def _render_messages(self, messages, fitted=False):
        """{message id: text, or the ValueError that prevented it} for
        ``messages`` (clinic.sms.message), in each patient's language; one
        template environment per template and language, not per message. A
        patient's own data is written in GSM-7 look-alikes, then cut, when it
        would make the message too long (R-3.3). With ``fitted``, the
        :class:`placeholders.Fitted` renderings instead of their texts (their
        counted parts spare a second count)."""
        result = {}
        groups = {}
        # the patients' and appointments' values in one query (their ORM
        # records are read only by addons that extend the placeholders)
        partners, events = self._render_rows(messages)
        for message in messages:
            partner, company = message.partner_id, message.company_id
            row = partners.get(partner.id)
            key = (
                message.template_id,
                (row.lang if row else False)
                or self._patient_lang(partner.browse(), company),
                company,
                message.purpose == "marketing" or message.kind in MARKETING_KINDS,
            )
            groups.setdefault(key, []).append(message)
        self.env.cr.cache[RENDER_MEMO] = {"partners": partners, "events": events}
        try:
            for (template, lang, company, marketing), group in groups.items():
                template = template.with_context(lang=lang)
                mention = template._opt_out_mention(company) if marketing else ""
                definitions = template._placeholder_definitions()
                for message in group:
                    try:
                        rendering = template._fit(
                            message.partner_id,
                            message.appointment_id,
                            company,
                            mention,
                            definitions=definitions,
                        )
                    except ValueError as error:
                        result[message.id] = error
                        continue
                    result[message.id] = rendering if fitted else rendering.text
        finally:
            self.env.cr.cache.pop(RENDER_MEMO, None)
        return result

    def _render_row(self, record):
        """The row of ``record`` (a patient or an appointment) read for the
        batch being rendered (clinic_sms_template_rows.py), else None."""
        memo = self.env.cr.cache.get(RENDER_MEMO)
        if memo is None or not record:
            return None
        rows = memo["partners" if record._name == "res.partner" else "events"]
        return rows.get(record.id)

    def _render_memo(self, key, compute):
        """``compute()``, kept for the rest of a batch rendering under ``key``
        (computed each time outside ``_render_messages``)."""
        memo = self.env.cr.cache.get(RENDER_MEMO)
        if memo is None:
            return compute()
        if key not in memo:
            memo[key] = compute()
        return memo[key]

    def _units(self, text, company):
        """Message units (SMS parts) ``text`` costs for ``company``."""
        return segments.count(text or "", smart=company.clinic_sms_smart_encoding).parts

    def _render(self, partner, event, company, marketing=None, body=None):
        """Text for ``partner`` in their language; marketing texts (by default:
        templates of a marketing kind) end with the opt-out mention (R-3.6).
        ``body`` renders that text instead of the template's translation in
        the patient's language (the preview of a text being edited)."""
        self.ensure_one()
        if marketing is None:
            marketing = self.kind in MARKETING_KINDS
        template = self.with_context(lang=self._patient_lang(partner, company))
        mention = template._opt_out_mention(company) if marketing else ""
        return template._fit(partner, event, company, mention, body=body).text

    def _fit(self, partner, event, company, mention="", body=None, definitions=None):
        """:class:`placeholders.Fitted` rendering of this template (in the
        context language) for ``partner`` and ``event``, within the clinic's
        part limit (R-3.3); ``mention`` is the opt-out mention of marketing
        texts, appended after a space; ``body`` replaces the template's text;
        ``definitions``: ``_placeholder_definitions()`` when already known
        (one lookup per batch, not per message)."""
        self.ensure_one()
        if definitions is None:
            definitions = self._placeholder_definitions()
        values = self._placeholder_values(partner, event, company)
        return placeholders.render_to_fit(
            (self.body if body is None else body) or "",
            values,
            definitions,
            allowed=tuple(definitions),
            max_parts=company.clinic_sms_max_parts,
            smart=company.clinic_sms_smart_encoding,
            suffix=f" {mention}" if mention else "",
        )

    def _missing_values(self, partner, event, company):
        """Placeholders of this template that have no value for ``partner``
        and ``event`` (e.g. {date} without an appointment, R-5.5)."""
        self.ensure_one()
        definitions = self._placeholder_definitions()
        values = self._placeholder_values(partner, event, company)
        names = placeholders.parse(self.body or "", tuple(definitions))
        optional = self._optional_placeholders()
        return [
            name
            for name in dict.fromkeys(names)
            if name not in optional and not str(values.get(name) or "").strip()
        ]

    @api.model
    def _optional_placeholders(self):
        """Placeholders whose empty value reads right (they carry their own
        wording), so a text with them is never refused for that."""
        return {"with_practitioner", "office"}

    @api.model
    def _patient_lang(self, partner, company):
        """The patient's language, else the clinic's own (R-2.7)."""
        return partner.lang or company.partner_id.lang or self.env.lang or "en_US"

    def _opt_out_mention(self, company):
        """How to opt out, in the context language (R-3.6)."""
        number = company.clinic_sms_short_number
        if number:
            return self.env._("STOP to %(number)s", number=number)
        return self.env._("Reply STOP to opt out")

    @api.model
    def _appointment_tz(self, event, company):
        """Time zone of an appointment's date and time (R-2.7): the event's
        own, else the clinic's; never the patient's home zone."""
        # calendar's ``event_tz`` is computed (with every recurrence field)
        # on each read and is only ever set on recurrent events: read the
        # recurrence's own, stored, instead
        event_tz = event.recurrence_id.event_tz if event and event.recurrency else False
        return event_tz or company.clinic_sms_tz or "UTC"

    def _placeholder_values(self, partner, event, company):
        """Values of the placeholders, in the patient's language, the date and
        time in the appointment's time zone (R-2.7). An addon extends it::

            def _placeholder_values(self, partner, event, company):
                values = super()._placeholder_values(partner, event, company)
                values["pet_name"] = partner.x_pet_name or ""
                return values
        """
        lang = self.env.lang or "en_US"
        patient = self._render_row(partner)
        name = (patient.name if patient else partner.name) or ""
        values = dict(
            self._render_memo(
                ("clinic", company.id, lang),
                lambda: {
                    "clinic_name": company.name or "",
                    "clinic_phone": company.phone or "",
                    "confirm_keyword": "OUI"
                    if _locale(lang).language == "fr"
                    else "YES",
                    "booking_link": company.website or "",
                },
            ),
            patient_name=name,
            patient_first_name=name.split(" ")[0],
        )
        if event:
            country = (
                (patient.country_code if patient else partner.country_id.code)
                or company.country_id.code
                or False
            )
            row = self._render_row(event)
            if row:
                start = row.start
                tz_name = row.recurrence_tz or company.clinic_sms_tz or "UTC"
                practitioner, office = row.practitioner or "", row.office or ""
                services = self.env["product.product"].browse(row.service_ids)
            else:
                start, tz_name = event.start, self._appointment_tz(event, company)
                practitioner = event.clinic_practitioner_id.name or ""
                office = event.clinic_office or ""
                # named in the patient's language, not the caller's
                services = event.clinic_service_ids.with_env(self.env)
            date, time = _format_start(start, tz_name, _date_locale(lang, country))
            values.update(
                date=date,
                time=time,
                practitioner=practitioner,
                with_practitioner=self._render_memo(
                    ("with", lang, practitioner),
                    lambda: (
                        self.env._("with %(practitioner)s", practitioner=practitioner)
                        if practitioner
                        else ""
                    ),
                ),
                office=office,
                service=self._render_memo(
                    ("services", lang, services._ids),
                    # in the order and with the filter of reading the field
                    lambda: ", ".join(
                        (
                            services.search([("id", "in", services.ids)])
                            if row
                            else services
                        ).mapped("name")
                    ),
                ),
            )
        return values
