"""Pure Python helpers of clinic_sms_reminders, without any Odoo import, so
that the rules that decide what a patient receives are fast to unit-test."""

from . import (
    grouping,
    gsm7_alphabet,
    gsm7_lookalike,
    keywords,
    phone,
    placeholder_catalog,
    placeholder_fit,
    placeholder_parser,
    placeholder_render,
    placeholders,
    quiet_hours,
    segments,
    signatures,
    tz_offsets,
    window_search,
)

__all__ = [
    "grouping",
    "gsm7_alphabet",
    "gsm7_lookalike",
    "keywords",
    "phone",
    "placeholder_catalog",
    "placeholder_fit",
    "placeholder_parser",
    "placeholder_render",
    "placeholders",
    "quiet_hours",
    "segments",
    "signatures",
    "tz_offsets",
    "window_search",
]
