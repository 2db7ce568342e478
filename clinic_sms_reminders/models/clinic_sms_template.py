import functools
import re

import pytz
from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton, format_time

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.misc import babel_locale_parse

from ..tools import placeholders, segments
from .clinic_sms_message import MESSAGE_KINDS


@functools.lru_cache(maxsize=64)
def _locale(lang):
    return babel_locale_parse(lang)


@functools.lru_cache(maxsize=4096)
def _format_start(start, tz_name, lang):
    """(date, time) of an appointment start (naive UTC) in the appointment's
    time zone and the patient's locale (R-2.7): appointments share a few
    slots, so a batch formats each slot once. The date is unambiguous: the
    locale's short date when it has a four-digit year (fr: 14/01/2026, en_GB:
    14/01/2026), else its month name and four-digit year (en_US: Jan 14,
    2026)."""
    try:
        zone = pytz.timezone(tz_name)
    except pytz.UnknownTimeZoneError:
        zone = pytz.utc
    local = pytz.utc.localize(start).astimezone(zone)
    locale = _locale(lang)
    years = re.findall(r"y+", locale.date_formats["short"].pattern)
    if years and all(len(run) != 2 for run in years):
        date = format_date(local, format="short", locale=locale)
    else:
        date = format_skeleton("yMMMd", local, locale=locale)
    # recent CLDR data puts (narrow) no-break spaces in dates and times
    # ("9:30\u202fAM"): outside GSM-7 they would double the price of a message
    return tuple(
        text.replace("\u202f", " ").replace("\xa0", " ")
        for text in (date, format_time(local, format="short", locale=locale))
    )


@functools.lru_cache(maxsize=256)
def _date_locale(lang, country_code):
    """Locale of dates for a patient's language and country: English dates
    follow the patient's country (en_GB order for British patients, and for
    any English reader outside the United States when the country has no
    English locale of its own)."""
    if not lang.startswith("en") or not country_code or country_code == "US":
        return lang
    if lang != "en_US":
        return lang
    candidate = f"en_{country_code}"
    try:
        Locale.parse(candidate)
    except (ValueError, UnknownLocaleError):
        return "en_GB"
    return candidate


# Texts that are not about a booked appointment always end with how to opt out.
MARKETING_KINDS = ("recall", "birthday", "mass")


class ClinicSmsTemplate(models.Model):
    """SMS text with named placeholders (R-3.1 to R-3.5)."""

    _name = "clinic.sms.template"
    _inherit = ["clinic.sms.shared.mixin"]  # noqa: RUF012
    _description = "Clinic SMS Template"
    _order = "kind, sequence, id"

    name = fields.Char(required=True, translate=True)
    kind = fields.Selection(MESSAGE_KINDS, required=True, default="reminder")
    body = fields.Text(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        "res.company",
        string="Clinic",
        index=True,
        help="Leave empty to offer this template to every clinic.",
    )
    insert_placeholder = fields.Selection(
        "_selection_placeholders",
        string="Elements",
        store=False,
        help="Pick an element to insert it at the cursor of the text.",
    )
    worst_length = fields.Integer(
        compute="_compute_counter",
        string="Worst-case Length",
        help="Length with every element at its maximum length.",
    )
    worst_parts = fields.Integer(compute="_compute_counter", string="Parts")
    worst_chars_left = fields.Integer(
        compute="_compute_counter", string="Characters Left"
    )
    worst_encoding = fields.Selection(
        [("gsm7", "GSM-7"), ("ucs2", "Unicode (UCS-2)")],
        compute="_compute_counter",
        string="Encoding",
    )
    max_parts = fields.Integer(compute="_compute_counter", string="Maximum Parts")
    counter_error = fields.Char(compute="_compute_counter")
    preview_event_id = fields.Many2one(
        "calendar.event",
        string="Preview on",
        store=False,
        domain="[('clinic_patient_id', '!=', False)]",
    )
    preview_body = fields.Text(compute="_compute_preview_body", string="Preview")

    def _company(self):
        return self.company_id or self.env.company

    # ------------------------------------------------------------------
    # Placeholders: the registry an addon extends by inheritance
    # ------------------------------------------------------------------
    @api.model
    def _placeholder_definitions(self):
        """{name: maximum length} of every placeholder, in the order of the
        editor's "Elements" list (R-3.1, R-3.2). An addon adds one with::

            def _placeholder_definitions(self):
                return {**super()._placeholder_definitions(), "pet_name": 20}

        and gives its value in :meth:`_placeholder_values`. The save-time
        check, the live counter, the worst case and the renderer all read it."""
        return dict(placeholders.PLACEHOLDERS)

    @api.model
    def _placeholder_labels(self):
        """{name: label} of the "Elements" list; a placeholder without a label
        shows its name."""
        return {
            "patient_name": self.env._("Patient name"),
            "patient_first_name": self.env._("Patient first name"),
            "date": self.env._("Date"),
            "time": self.env._("Time"),
            "practitioner": self.env._("Practitioner"),
            "with_practitioner": self.env._("With practitioner (empty without one)"),
            "office": self.env._("Office"),
            "clinic_name": self.env._("Clinic name"),
            "clinic_phone": self.env._("Clinic phone"),
            "service": self.env._("Service"),
            "confirm_keyword": self.env._("Confirmation keyword"),
            "booking_link": self.env._("Booking link"),
        }

    @api.model
    def _selection_placeholders(self):
        labels = self._placeholder_labels()
        return [
            (name, labels.get(name, name)) for name in self._placeholder_definitions()
        ]

    def _counted_worst(self, definitions):
        """The worst case of this template once made to fit (R-3.3, R-3.4)."""
        self.ensure_one()
        company = self._company()
        return placeholders.worst_case_fitted(
            self.body or "",
            definitions,
            allowed=tuple(definitions),
            max_parts=company.clinic_sms_max_parts,
            smart=company.clinic_sms_smart_encoding,
            suffix=self._worst_suffix(),
        )

    @api.depends("body", "company_id", "kind")
    @api.depends_context("company")
    def _compute_counter(self):
        definitions = self._placeholder_definitions()
        for template in self:
            company = template._company()
            template.max_parts = company.clinic_sms_max_parts
            template.counter_error = False
            try:
                info = template._counted_worst(definitions).info
            except placeholders.PlaceholderError as error:
                template.counter_error = str(error)
                info = segments.count(
                    template.body or "", smart=company.clinic_sms_smart_encoding
                )
            template.worst_length = info.length
            template.worst_parts = info.parts
            template.worst_chars_left = info.chars_left
            template.worst_encoding = info.encoding

    @api.onchange("insert_placeholder")
    def _onchange_insert_placeholder(self):
        if self.insert_placeholder:
            body = self.body or ""
            separator = "" if not body or body.endswith((" ", "\n")) else " "
            self.body = f"{body}{separator}{{{self.insert_placeholder}}}"
            self.insert_placeholder = False

    @api.constrains("body", "company_id", "kind")
    def _check_body(self):
        definitions = self._placeholder_definitions()
        for template in self:
            try:
                fitted = template._counted_worst(definitions)
            except placeholders.PlaceholderError as error:
                raise ValidationError(
                    self.env._(
                        "Template %(name)s: %(error)s", name=template.name, error=error
                    )
                ) from error
            company = template._company()
            if not fitted.fits:
                info = fitted.info
                raise ValidationError(
                    self.env._(
                        "Template %(name)s may need %(parts)s SMS parts when every "
                        "element is at its maximum length (%(length)s characters, "
                        "%(encoding)s), but the clinic allows %(max)s. Shorten the "
                        "text or allow more parts in the settings.",
                        name=template.name,
                        parts=info.parts,
                        length=info.length,
                        encoding=info.encoding,
                        max=company.clinic_sms_max_parts,
                    )
                )

    @api.depends("body", "preview_event_id")
    def _compute_preview_body(self):
        for template in self:
            event = template.preview_event_id
            if not event or not template.body:
                template.preview_body = False
                continue
            try:
                # the text being edited (an onchange's), in the patient's
                # language: not the saved translation of that language
                template.preview_body = template._render(
                    event.clinic_patient_id,
                    event,
                    event._clinic_company(),
                    body=template.body,
                )
            except placeholders.PlaceholderError as error:
                template.preview_body = str(error)

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
    def _render_messages(self, messages):
        """{message id: text, or the ValueError that prevented it} for
        ``messages`` (clinic.sms.message), in each patient's language; one
        template environment per template and language, not per message. A
        patient's own data is written in GSM-7 look-alikes, then cut, when it
        would make the message too long (R-3.3)."""
        result = {}

        def key(message):
            return (
                message.template_id,
                self._patient_lang(message.partner_id, message.company_id),
                message.company_id,
                message.purpose == "marketing" or message.kind in MARKETING_KINDS,
            )

        for (template, lang, company, marketing), group in messages.grouped(
            key
        ).items():
            template = template.with_context(lang=lang)
            mention = template._opt_out_mention(company) if marketing else ""
            for message in group:
                try:
                    result[message.id] = template._fit(
                        message.partner_id, message.appointment_id, company, mention
                    ).text
                except ValueError as error:
                    result[message.id] = error
        return result

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

    def _fit(self, partner, event, company, mention="", body=None):
        """:class:`placeholders.Fitted` rendering of this template (in the
        context language) for ``partner`` and ``event``, within the clinic's
        part limit (R-3.3); ``mention`` is the opt-out mention of marketing
        texts, appended after a space; ``body`` replaces the template's text."""
        self.ensure_one()
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

    def _worst_suffix(self):
        """The longest opt-out mention for marketing kinds (R-3.6), else ""."""
        self.ensure_one()
        if self.kind not in MARKETING_KINDS:
            return ""
        company = self._company()
        # English is the source text even when not installed
        langs = {code for code, _name in self.env["res.lang"].get_installed()}
        mentions = [
            self.with_context(lang=code)._opt_out_mention(company)
            for code in langs | {"en_US"}
        ]
        return f" {max(mentions, key=len)}"

    @api.model
    def _appointment_tz(self, event, company):
        """Time zone of an appointment's date and time (R-2.7): the event's
        own, else the clinic's; never the patient's home zone."""
        event_tz = event.event_tz if event else False
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
        locale = _locale(lang)
        name = partner.name or ""
        values = {
            "patient_name": name,
            "patient_first_name": name.split(" ")[0],
            "clinic_name": company.name or "",
            "clinic_phone": company.phone or "",
            "confirm_keyword": "OUI" if locale.language == "fr" else "YES",
            "booking_link": company.website or "",
        }
        if event:
            country = partner.country_id.code or company.country_id.code or False
            date, time = _format_start(
                event.start,
                self._appointment_tz(event, company),
                _date_locale(lang, country),
            )
            practitioner = event.clinic_practitioner_id.name or ""
            values.update(
                date=date,
                time=time,
                practitioner=practitioner,
                with_practitioner=(
                    self.env._("with %(practitioner)s", practitioner=practitioner)
                    if practitioner
                    else ""
                ),
                office=event.clinic_office or "",
                service=", ".join(event.clinic_service_ids.mapped("name")),
            )
        return values
