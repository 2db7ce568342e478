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


# Dates and times of the placeholders (clinic_sms_template_render.py) are
# formatted here: tests patch ``format_time`` in this module.
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
