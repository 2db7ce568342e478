import functools

import pytz
from babel.dates import format_date, format_time

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
    """(date, time) of an appointment start (naive UTC) in the patient's time
    zone and language: appointments share a few slots, so a batch formats
    each slot once."""
    try:
        zone = pytz.timezone(tz_name)
    except pytz.UnknownTimeZoneError:
        zone = pytz.utc
    local = pytz.utc.localize(start).astimezone(zone)
    locale = _locale(lang)
    # recent CLDR data puts (narrow) no-break spaces in dates and times
    # ("9:30\u202fAM"): outside GSM-7 they would double the price of a message
    return tuple(
        text.replace("\u202f", " ").replace("\xa0", " ")
        for text in (
            format_date(local, format="short", locale=locale),
            format_time(local, format="short", locale=locale),
        )
    )


# Texts that are not about a booked appointment always end with how to opt out.
MARKETING_KINDS = ("recall", "birthday", "mass")

# The "Elements" a receptionist can insert; labels are translated in the editor.
PLACEHOLDER_SELECTION = [
    ("patient_name", "Patient name"),
    ("patient_first_name", "Patient first name"),
    ("date", "Date"),
    ("time", "Time"),
    ("practitioner", "Practitioner"),
    ("office", "Office"),
    ("clinic_name", "Clinic name"),
    ("clinic_phone", "Clinic phone"),
    ("service", "Service"),
    ("confirm_keyword", "Confirmation keyword"),
    ("booking_link", "Booking link"),
]


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
        PLACEHOLDER_SELECTION,
        string="Elements",
        store=False,
        help="Pick an element to append it to the text.",
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

    @api.model
    def _placeholder_limits(self):
        """Maximum length per placeholder (R-3.2); override to customise."""
        return dict(placeholders.PLACEHOLDERS)

    @api.depends("body", "company_id", "kind")
    @api.depends_context("company")
    def _compute_counter(self):
        limits = self._placeholder_limits()
        for template in self:
            company = template._company()
            template.max_parts = company.clinic_sms_max_parts
            template.counter_error = False
            try:
                worst = template._worst_text(limits)
            except placeholders.PlaceholderError as error:
                worst = template.body or ""
                template.counter_error = str(error)
            info = segments.count(worst, smart=company.clinic_sms_smart_encoding)
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
        limits = self._placeholder_limits()
        for template in self:
            try:
                worst = template._worst_text(limits)
            except placeholders.PlaceholderError as error:
                raise ValidationError(
                    self.env._(
                        "Template %(name)s: %(error)s", name=template.name, error=error
                    )
                ) from error
            company = template._company()
            info = segments.count(worst, smart=company.clinic_sms_smart_encoding)
            if info.parts > company.clinic_sms_max_parts:
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
                template.preview_body = template._render(
                    event.clinic_patient_id, event, event._clinic_company()
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
        template environment per template and language, not per message."""
        result = {}
        limits = self._placeholder_limits()

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
            body = template.body or ""
            mention = template._opt_out_mention(company) if marketing else ""
            for message in group:
                try:
                    values = template._placeholder_values(
                        message.partner_id, message.appointment_id, company
                    )
                    text = placeholders.render(body, values, limits)
                except ValueError as error:
                    result[message.id] = error
                    continue
                result[message.id] = f"{text} {mention}" if marketing else text
        return result

    def _units(self, text, company):
        """Message units (SMS parts) ``text`` costs for ``company``."""
        return segments.count(text or "", smart=company.clinic_sms_smart_encoding).parts

    def _render(self, partner, event, company, marketing=None):
        """Text for ``partner`` in their language; marketing texts (by default:
        templates of a marketing kind) end with the opt-out mention (R-3.6)."""
        self.ensure_one()
        if marketing is None:
            marketing = self.kind in MARKETING_KINDS
        template = self.with_context(lang=self._patient_lang(partner, company))
        values = template._placeholder_values(partner, event, company)
        text = placeholders.render(
            template.body or "", values, self._placeholder_limits()
        )
        if marketing:
            text = f"{text} {template._opt_out_mention(company)}"
        return text

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

    def _worst_text(self, limits):
        """The longest text this template can produce: placeholders at their
        maximum length, plus the longest opt-out mention for marketing."""
        self.ensure_one()
        worst = placeholders.worst_case(self.body or "", limits)
        if self.kind in MARKETING_KINDS:
            company = self._company()
            # English is the source text even when not installed
            langs = {code for code, _name in self.env["res.lang"].get_installed()}
            mentions = [
                self.with_context(lang=code)._opt_out_mention(company)
                for code in langs | {"en_US"}
            ]
            worst = f"{worst} {max(mentions, key=len)}"
        return worst

    def _placeholder_values(self, partner, event, company):
        """Values of the placeholders, formatted in the patient's language and
        time zone (R-2.7); integrators extend this dict."""
        lang = self.env.lang or "en_US"
        locale = _locale(lang)
        tz = partner.tz or company.clinic_sms_tz or "UTC"
        values = {
            "patient_name": partner.name or "",
            "patient_first_name": (partner.name or "").split(" ")[0],
            "clinic_name": company.name or "",
            "clinic_phone": company.phone or "",
            "confirm_keyword": "OUI" if locale.language == "fr" else "YES",
            "booking_link": company.website or "",
        }
        if event:
            date, time = _format_start(event.start, tz, lang)
            values.update(
                date=date,
                time=time,
                practitioner=event.clinic_practitioner_id.name or "",
                office=event.clinic_office or "",
                service=", ".join(event.clinic_service_ids.mapped("name")),
            )
        return values
