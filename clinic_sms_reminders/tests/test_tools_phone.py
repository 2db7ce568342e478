"""Mobile number normalisation (R-1.7)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odoo.addons.clinic_sms_reminders.tools import phone

normalize = phone.normalize_mobile


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("06 12 34 56 78", "FR"),
        ("0612345678", "fr"),
        ("+33 6-12-34-56-78", "FR"),
        ("+33 6-12-34-56-78", None),
        ("+33612345678", ""),
        ("0033612345678", "FR"),
        ("0033612345678", None),
        ("(06) 12.34.56.78", "FR"),
        ("  +33 (0)6 12 34 56 78 ", "BE"),
    ],
)
def test_r17_formatted_variants_give_the_same_e164(raw, region):
    """R-1.7: every way of writing a French mobile gives one E.164."""
    assert normalize(raw, region) == ("+33612345678", None)


def test_r17_other_countries_mobiles():
    """R-1.7: the region reads national numbers; FIXED_LINE_OR_MOBILE (as in
    the US) counts as mobile."""
    assert normalize("07400 123456", "GB") == ("+447400123456", None)
    assert normalize("(212) 555-2368", "US")[1] is None
    assert normalize("0470 12 34 56", "BE") == ("+32470123456", None)


@pytest.mark.parametrize(
    ("raw", "region", "reason"),
    [
        (None, "FR", "missing"),
        ("", "FR", "missing"),
        ("   ", "FR", "missing"),
        (False, "FR", "missing"),
        ("01 23 45 67 89", "FR", "not_mobile"),
        ("0612345678", None, "no_region"),
        ("0612345678", False, "no_region"),
        ("0612345678", "ZZ", "no_region"),
        ("06 12", "FR", "too_short"),
        ("06 12 34 56 78 90 12", "FR", "too_long"),
        ("not a number", "FR", "invalid"),
        ("+999 123 456", None, "invalid"),
        ("07 00 00 00 00", "FR", "invalid"),
        ("1" * 300, "FR", "too_long"),
    ],
)
def test_r17_refusals_have_stable_reasons(raw, region, reason):
    """R-1.7: a number that is not a valid mobile is never sent to and is
    reported with its reason."""
    assert normalize(raw, region) == (None, reason)


def test_r17_every_reason_has_an_english_sentence():
    """R-1.7: reasons are shown to the receptionist (translated by Odoo)."""
    codes = {"missing", "no_region", "invalid", "too_short", "too_long", "not_mobile"}
    assert set(phone.REASON_LABELS) == codes
    for label in phone.REASON_LABELS.values():
        assert label[0].isupper()
        assert label.endswith(".")


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=40),
    st.sampled_from(["FR", "US", "GB", None, "", "zz", "fr"]),
)
def test_r17_never_raises_on_any_text(raw, region):
    """R-1.7: whatever was typed in the phone field, the answer is a result,
    never an exception."""
    number, reason = normalize(raw, region)
    assert (number is None) != (reason is None)
    if number is not None:
        assert number.startswith("+")
        assert number[1:].isdigit()
    else:
        assert reason in phone.REASON_LABELS


@settings(max_examples=100, deadline=None)
@given(
    st.integers(min_value=10_000_000, max_value=99_999_999),
    st.sampled_from(["6", "7"]),
    st.sampled_from([" ", ".", "-", ""]),
)
def test_r17_french_mobiles_are_idempotent(digits, lead, separator):
    """R-1.7: normalising the E.164 result again gives the same number."""
    national = f"0{lead}{digits}"
    raw = separator.join(national[index : index + 2] for index in range(0, 10, 2))
    number, reason = normalize(raw, "FR")
    if number is None:
        assert reason == "invalid"
        return
    assert normalize(number, None) == (number, None)
    assert normalize(number, "US") == (number, None)
