"""Mobile number normalisation (R-1.7).

Numbers are typed by receptionists in every shape ("06 12 34 56 78",
"(06) 12.34.56.78", "0033612345678", "+33 6-12-34-56-78"). Sending, billing,
the opt-out list and duplicate detection all need one form, E.164, and a
number that cannot receive SMS (landline, invalid, unknown country) must be
excluded with a reason the receptionist can act on, never sent to.
"""

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

MISSING = "missing"
NO_REGION = "no_region"
INVALID = "invalid"
TOO_SHORT = "too_short"
TOO_LONG = "too_long"
NOT_MOBILE = "not_mobile"

REASON_LABELS = {
    MISSING: "The contact has no phone number.",
    NO_REGION: "The number has no international prefix and no country is known to "
    "read it: write it as +33 6 12 34 56 78 or set the contact's country.",
    INVALID: "The phone number is not a valid number.",
    TOO_SHORT: "The phone number is too short.",
    TOO_LONG: "The phone number is too long.",
    NOT_MOBILE: "The phone number is not a mobile number (landline or special "
    "number) and cannot receive SMS.",
}

MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})

# phonenumbers refuses longer input anyway; checking first keeps the reason
# stable and the work bounded whatever a user pastes into the field.
MAX_INPUT_LENGTH = 250

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: INVALID,
    NumberParseException.NOT_A_NUMBER: INVALID,
    NumberParseException.TOO_SHORT_AFTER_IDD: TOO_SHORT,
    NumberParseException.TOO_SHORT_NSN: TOO_SHORT,
    NumberParseException.TOO_LONG: TOO_LONG,
}

_LENGTH_REASONS = {
    phonenumbers.ValidationResult.TOO_SHORT: TOO_SHORT,
    phonenumbers.ValidationResult.TOO_LONG: TOO_LONG,
}


def _region_code(region):
    """ISO code phonenumbers knows, else ``None`` (Odoo gives ``False`` for a
    partner without country)."""
    if not isinstance(region, str):
        return None
    code = region.strip().upper()
    return code if code in phonenumbers.SUPPORTED_REGIONS else None


def normalize_mobile(raw, region):
    """Return ``(e164, None)`` for a valid mobile number, else ``(None, reason)``.

    ``region`` is the ISO country code used to read national numbers (the
    partner's country, else the company's); when it is empty only numbers
    written with ``+`` (or the ``00`` international prefix) can be read.
    ``reason`` is one of the keys of :data:`REASON_LABELS`. Never raises:
    anything that is not a non-empty string is ``"missing"``.
    """
    if not isinstance(raw, str) or not raw.strip():
        return None, MISSING
    text = raw.strip()
    if len(text) > MAX_INPUT_LENGTH:
        return None, TOO_LONG
    region_code = _region_code(region)
    if region_code is None and text.startswith("00"):
        # Without a country, "00" is the international prefix nearly
        # everywhere outside North America.
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region_code)
    except NumberParseException as error:
        if error.error_type == NumberParseException.INVALID_COUNTRY_CODE and (
            region_code is None and not text.lstrip().startswith("+")
        ):
            return None, NO_REGION
        return None, _PARSE_REASONS.get(error.error_type, INVALID)
    except Exception:  # noqa: BLE001
        # A third-party parser fed with anything a user typed must never
        # break a sending batch: an unreadable number is just invalid.
        return None, INVALID
    if not phonenumbers.is_valid_number(number):
        length_check = phonenumbers.is_possible_number_with_reason(number)
        return None, _LENGTH_REASONS.get(length_check, INVALID)
    if phonenumbers.number_type(number) not in MOBILE_TYPES:
        return None, NOT_MOBILE
    return phonenumbers.format_number(number, PhoneNumberFormat.E164), None
