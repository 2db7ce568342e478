"""Pure Python helpers of clinic_sms_reminders, without any Odoo import, so
that the rules that decide what a patient receives are fast to unit-test."""

from . import grouping, keywords, phone, placeholders, quiet_hours, segments, signatures

__all__ = [
    "grouping",
    "keywords",
    "phone",
    "placeholders",
    "quiet_hours",
    "segments",
    "signatures",
]
