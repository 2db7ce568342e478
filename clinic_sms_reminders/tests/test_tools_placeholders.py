"""Named placeholders of template bodies (R-3.1, R-3.2, R-3.4)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odoo.addons.clinic_sms_reminders.tools import placeholders, segments

PlaceholderError = placeholders.PlaceholderError


def test_r31_every_element_of_the_spec_is_offered_with_a_label():
    """R-3.1: the "Elements" list of the editor, in order, with labels."""
    assert list(placeholders.PLACEHOLDERS) == [
        "patient_name",
        "patient_first_name",
        "date",
        "time",
        "practitioner",
        "with_practitioner",
        "office",
        "clinic_name",
        "clinic_phone",
        "service",
        "confirm_keyword",
        "booking_link",
    ]
    assert list(placeholders.PLACEHOLDER_LABELS) == list(placeholders.PLACEHOLDERS)
    assert placeholders.PLACEHOLDER_LABELS["patient_name"] == "Patient name"


def test_r32_default_maximum_lengths():
    """R-3.2: patient name 25, date and time 16, practitioner 22, office 5."""
    limits = placeholders.PLACEHOLDERS
    assert (limits["patient_name"], limits["date"], limits["time"]) == (25, 16, 16)
    assert (limits["practitioner"], limits["office"]) == (22, 5)


def test_r31_parse_returns_names_in_order():
    """R-3.1: names used, in order, repeats included."""
    body = "Hello {patient_first_name}, {date} at {time}. {date}"
    assert placeholders.parse(body) == ["patient_first_name", "date", "time", "date"]
    assert placeholders.parse("") == []
    assert placeholders.parse(None) == []
    assert placeholders.parse("No placeholder at all.") == []


def test_r31_unknown_placeholder_is_a_clear_error():
    """R-3.1: unknown placeholders are a validation error at save time."""
    body = "Hello {patient_name}, {foo}!"
    with pytest.raises(PlaceholderError) as caught:
        placeholders.parse(body)
    error = caught.value
    assert str(error).startswith('Unknown placeholder "{foo}". Use one of: ')
    assert "{patient_name}" in str(error)
    assert error.name == "foo"
    assert error.position == body.index("{foo}")
    assert error.code == "unknown"
    assert isinstance(error, ValueError)


def test_r31_integrators_may_allow_more_names():
    """R-3.1: integrators add placeholders by passing a larger allowed set."""
    allowed = [*placeholders.PLACEHOLDERS, "pet_name"]
    assert placeholders.parse("{pet_name}", allowed=allowed) == ["pet_name"]
    with pytest.raises(PlaceholderError):
        placeholders.parse("{pet_name}")
    with pytest.raises(PlaceholderError) as caught:
        placeholders.parse("{x}", allowed={"b", "a"})
    assert "Use one of: {a}, {b}." in str(caught.value)


@pytest.mark.parametrize(
    ("body", "code", "position"),
    [
        ("Hi {patient_name", "unclosed_brace", 3),
        ("Hi {patient_name {date}", "unclosed_brace", 3),
        ("Hi patient_name}", "stray_brace", 15),
        ("Hi {}", "empty", 3),
        ("Hi {{ patient_name }}", "code_like", 3),
        ("Hi ${patient_name}", "code_like", 3),
        ("{% if x %}yes{% endif %}", "code_like", 0),
        ("{# comment #}", "code_like", 0),
        ("Hi {patient.name}", "code_like", 3),
        ("Hi {patient_name|upper}", "code_like", 3),
        ("Hi {patient_name()}", "code_like", 3),
        ("Hi {object.partner_id.name}", "code_like", 3),
        ("Hi {__import__('os')}", "code_like", 3),
        ("Hi { patient_name }", "spaces", 3),
    ],
)
def test_r31_braces_are_only_for_plain_names(body, code, position):
    """R-3.1: code-like constructs are refused, never evaluated."""
    with pytest.raises(PlaceholderError) as caught:
        placeholders.parse(body)
    assert caught.value.code == code
    assert caught.value.position == position
    message = str(caught.value)
    assert message.endswith(".")
    assert message[0].isupper() or message[0] == '"'


def test_r31_code_like_message_says_only_plain_names_are_allowed():
    """R-3.1: the user is told what is allowed, not just what is wrong."""
    with pytest.raises(PlaceholderError) as caught:
        placeholders.parse("{{ object.name }}")
    assert "Only plain placeholder names" in str(caught.value)
    assert "never evaluated" in str(caught.value)
    with pytest.raises(PlaceholderError) as caught:
        placeholders.parse("a } b")
    assert "only used around placeholders" in str(caught.value)


def test_r32_render_substitutes_and_truncates():
    """R-3.2: values are cut to their maximum length, no ellipsis, no
    trailing space."""
    body = "{patient_name} / {office} / {date}"
    values = {
        "patient_name": "Jean-Baptiste Emmanuel Zorg de la Tour",
        "office": "Room 12B",
        "date": "mardi 3 mars",
    }
    assert placeholders.render(body, values) == (
        "Jean-Baptiste Emmanuel Zo / Room / mardi 3 mars"
    )


def test_r32_render_limits_override_defaults():
    """R-3.2: a clinic or integrator may change the maximum lengths."""
    rendered = placeholders.render(
        "{office}-{patient_name}",
        {"office": "Room 12", "patient_name": "Ann"},
        {"office": 7},
    )
    assert rendered == "Room 12-Ann"
    assert placeholders.render("{date}", {"date": "abcdef"}, {"date": 0}) == ""


def test_r32_render_collapses_whitespace_in_values():
    """R-3.2: newlines and runs of spaces in a value become one space."""
    values = {"practitioner": "  Dr\n\nJane \t Doe  "}
    assert placeholders.render("[{practitioner}]", values) == "[Dr Jane Doe]"


def test_r32_render_missing_and_false_values_are_empty():
    """R-3.2: Odoo gives False for an empty field: it renders as nothing."""
    body = "{patient_name}|{service}|{office}|{time}"
    values = {"patient_name": False, "service": None, "time": 930}
    assert placeholders.render(body, values) == "|||930"


def test_r31_values_are_never_interpreted():
    """R-3.1: a value that looks like a placeholder or markup stays literal."""
    values = {"patient_name": "{clinic_name}<script>", "clinic_name": "Clinic"}
    rendered = placeholders.render("Hi {patient_name} at {clinic_name}", values)
    assert rendered == "Hi {clinic_name}<script> at Clinic"


def test_r31_render_validates_the_body():
    """R-3.1: a broken body never renders half a message."""
    with pytest.raises(PlaceholderError):
        placeholders.render("Hi {unknown}", {"unknown": "x"})


def test_r31_render_accepts_integrator_names():
    """R-3.1: an extra placeholder has a default limit so it stays bounded."""
    rendered = placeholders.render(
        "{pet}", {"pet": "R" * 100}, allowed=["pet"], limits={}
    )
    assert rendered == "R" * placeholders.EXTRA_PLACEHOLDER_MAX_LENGTH


def test_r34_worst_case_uses_every_maximum():
    """R-3.4: the worst-case rendering fills each placeholder."""
    worst = placeholders.worst_case("Hi {patient_name}, {office}.")
    assert worst == "Hi " + "X" * 25 + ", " + "X" * 5 + "."
    assert placeholders.worst_case("{office}", {"office": 2}, filler="ç") == "çç"
    assert placeholders.worst_case("{office}", filler="ab") == "ababa"
    with pytest.raises(PlaceholderError):
        placeholders.worst_case("{nope}")


BODIES = st.lists(
    st.one_of(
        st.text(alphabet=st.characters(exclude_characters="{}$"), max_size=20),
        st.sampled_from([f"{{{name}}}" for name in placeholders.PLACEHOLDERS]),
    ),
    max_size=8,
).map("".join)
VALUES = st.dictionaries(
    st.sampled_from(list(placeholders.PLACEHOLDERS)),
    st.one_of(st.text(max_size=80), st.integers(), st.none(), st.just(False)),
)


@settings(max_examples=150, deadline=None)
@given(BODIES, VALUES)
def test_r34_render_never_exceeds_the_worst_case(body, values):
    """R-3.4: whatever the values, a rendering is never longer than the
    worst case the template was accepted with."""
    rendered = placeholders.render(body, values)
    assert len(rendered) <= len(placeholders.worst_case(body))


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60))
def test_r31_parse_never_fails_with_anything_but_placeholder_error(body):
    """R-3.1: any body is accepted or refused with PlaceholderError, which
    the Odoo layer turns into a validation message."""
    try:
        names = placeholders.parse(body)
    except PlaceholderError as error:
        assert str(error)
        assert error.position is None or 0 <= error.position < len(body)
    else:
        assert all(name in placeholders.PLACEHOLDERS for name in names)


# ---------------------------------------------------------------------------
# Rendering within the clinic's part limit (R-3.3, R-3.4)
# ---------------------------------------------------------------------------

REMINDER = (
    "Reminder: {patient_first_name}, your appointment on {date} at {time} "
    "{with_practitioner}. Reply {confirm_keyword} to confirm."
)


def test_r33_a_name_forcing_unicode_is_written_in_lookalikes():
    """R-3.3: "Jérôme" would make the message UCS-2 (and 3 parts): the name
    is written "Jérome" for this message, which stays one GSM-7 part."""
    values = {
        "patient_first_name": "Jérôme",
        "date": "14/01/2026",
        "time": "10:00",
        "with_practitioner": "with Dr Claire Martin",
        "confirm_keyword": "YES",
    }
    plain = placeholders.render(REMINDER, values)
    assert segments_count(plain).encoding == "ucs2"
    fitted = placeholders.render_to_fit(REMINDER, values, max_parts=1)
    assert fitted.fits
    assert fitted.lookalike == ("patient_first_name",)
    assert fitted.text.startswith("Reminder: Jérome, ")
    assert (fitted.info.encoding, fitted.info.parts) == ("gsm7", 1)


def test_r33_values_are_cut_when_the_template_text_leaves_no_room():
    """R-3.3: a template saved under a higher part limit: values are cut,
    longest first, until the text fits; only the template's own text can
    make a message too long."""
    body = "x" * 150 + " {patient_name} {clinic_name}"
    values = {"patient_name": "Jane Doe-Smith", "clinic_name": "Cabinet du Parc"}
    fitted = placeholders.render_to_fit(body, values, max_parts=1)
    assert fitted.fits and fitted.info.parts == 1
    assert fitted.cut
    too_long = placeholders.render_to_fit("y" * 170 + " {office}", {"office": "B"})
    assert not too_long.fits


def test_r34_worst_case_uses_values_that_force_unicode():
    """R-3.3 R-3.4: the worst case is computed with values that force Unicode
    (then written in look-alikes as sending does), not with "X"."""
    worst = placeholders.worst_case_fitted(REMINDER, max_parts=1)
    assert worst.fits
    assert worst.lookalike
    assert worst.info.encoding == "gsm7"
    own_unicode = placeholders.worst_case_fitted("Ça va ✓ {patient_name}", max_parts=1)
    assert own_unicode.info.encoding == "ucs2"


def test_r31_empty_value_leaves_no_double_space():
    """An empty {with_practitioner} reads "at 10:00 is booked." and "at 10:00."."""
    body = "on {date} at {time} {with_practitioner} is booked. {time} {office}."
    text = placeholders.render(body, {"date": "d", "time": "10:00"})
    assert text == "on d at 10:00 is booked. 10:00."


def test_r31_explicit_registry_for_extra_placeholders():
    """Issue 18: the pure functions take an explicit registry (the model's
    ``_placeholder_definitions``); nothing module-level is changed."""
    registry = {**placeholders.PLACEHOLDERS, "pet_name": 8}
    body = "{pet_name} is due. {clinic_name}"
    fitted = placeholders.render_to_fit(
        body,
        {"pet_name": "Rex the Magnificent", "clinic_name": "Vet"},
        registry,
        allowed=tuple(registry),
    )
    assert fitted.text == "Rex the is due. Vet"
    assert "pet_name" not in placeholders.PLACEHOLDERS
    with pytest.raises(PlaceholderError):
        placeholders.parse(body)


def segments_count(text):
    return segments.count(text, smart=True)
