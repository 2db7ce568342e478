"""SMS length as the phone counts it (R-3.3, R-3.4, R-6.1)."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odoo.addons.clinic_sms_reminders.tools import segments

GSM_CHARS = sorted(segments.GSM7_BASIC_CHARS | segments.GSM7_EXTENSION_CHARS)


@pytest.mark.parametrize(
    ("text", "parts"),
    [("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3), ("", 0)],
)
def test_r33_gsm7_part_boundaries(text, parts):
    """R-3.3: 160 septets in one SMS, 153 per part once concatenated."""
    info = segments.count(text)
    assert info.encoding == "gsm7"
    assert info.length == len(text)
    assert info.parts == parts


def test_r33_euro_counts_two_septets():
    """R-3.3: '€' is in the extension table: 80 of them fill one SMS."""
    info = segments.count("€" * 80)
    assert (info.encoding, info.length, info.parts, info.chars_left) == (
        "gsm7",
        160,
        1,
        0,
    )
    assert segments.count("€" * 80 + "a").parts == 2


def test_r33_every_extension_character_counts_two():
    """R-3.3: ^{}\\[~]| € and form feed are escape pairs."""
    for char in "^{}\\[~]|€\f":
        info = segments.count(char)
        assert (info.encoding, info.length) == ("gsm7", 2), repr(char)


def test_r33_escape_pair_never_split_across_parts():
    """R-3.3: 152 septets then '€' cannot put the escape in part 1 and the
    euro in part 2, so the euro starts part 2 (3 parts where ceil says 2)."""
    text = "a" * 152 + "€" + "a" * 152
    info = segments.count(text)
    assert info.length == 306
    assert math.ceil(info.length / 153) == 2
    assert info.parts == 3


@pytest.mark.parametrize(
    ("text", "parts"),
    [("ê" * 70, 1), ("ê" * 71, 2), ("ê" * 134, 2), ("ê" * 135, 3)],
)
def test_r33_ucs2_part_boundaries(text, parts):
    """R-3.3: 70 units in one SMS, 67 per part; 'ê' forces UCS-2."""
    info = segments.count(text)
    assert info.encoding == "ucs2"
    assert info.parts == parts


def test_r33_emoji_counts_two_units():
    """R-3.3: an emoji outside the BMP is a UTF-16 surrogate pair."""
    info = segments.count("😀")
    assert (info.encoding, info.length, info.chars_left) == ("ucs2", 2, 68)
    assert segments.count("😀" * 35).parts == 1
    assert segments.count("😀" * 35 + "a").parts == 2


def test_r33_surrogate_pair_never_split_across_parts():
    """R-3.3: 66 units then an emoji: the pair moves whole to part 2."""
    text = "ê" * 66 + "😀" + "ê" * 66
    info = segments.count(text)
    assert info.length == 134
    assert info.parts == 3


@pytest.mark.parametrize("char", list("éèàùìòÇäöñüÉÄÖÑÜÅåÆæßØø"))
def test_r33_gsm7_basic_accented_letters(char):
    """R-3.3: these accented letters are in the GSM 03.38 basic table."""
    info = segments.count(char * 10)
    assert (info.encoding, info.length) == ("gsm7", 10)


@pytest.mark.parametrize("char", list("êâîôûçïëœÊÂÎÔÛÀÈÙ"))
def test_r33_french_accents_outside_gsm7_force_ucs2(char):
    """R-3.3: ê, â, ç (small) and friends are not in GSM-7."""
    assert segments.count("Bonjour " + char).encoding == "ucs2"


def test_r33_smart_replace_keeps_gsm7():
    """R-3.3: typographic quotes, dashes, ellipsis and NBSP have GSM-7
    look-alikes; with smart=True the text stays GSM-7."""
    text = "L’équipe « Dentiste » – rappel… RDV\u00a0: 10h\u202f30 • “ok” ‘x’ — −1"
    assert segments.count(text).encoding == "ucs2"
    info = segments.count(text, smart=True)
    assert info.encoding == "gsm7"
    assert info.text == (
        'L\'équipe " Dentiste " - rappel... RDV : 10h 30 - "ok" \'x\' - -1'
    )


def test_r33_smart_replace_never_touches_letters():
    """R-3.3: accented letters are content, not typography."""
    assert segments.smart_replace("ê â ç œ Ê") == "ê â ç œ Ê"
    assert segments.count("Crêpe’", smart=True).encoding == "ucs2"
    assert segments.count("Crêpe’", smart=True).text == "Crêpe'"


def test_r33_without_smart_the_text_is_unchanged():
    """R-3.3: the option is per clinic; off means the text is sent as is."""
    info = segments.count("l’heure")
    assert info.text == "l’heure"
    assert info.encoding == "ucs2"


def test_r34_chars_left_in_last_part():
    """R-3.4: the editor shows the characters left before another part."""
    assert segments.count("a" * 10).chars_left == 150
    assert segments.count("a" * 161).chars_left == 153 * 2 - 161
    assert segments.count("").chars_left == 160
    assert segments.count("ê" * 71).chars_left == 67 * 2 - 71


def test_r34_per_part_reflects_concatenation():
    """R-3.4: a single SMS holds 160/70, concatenated parts 153/67."""
    assert segments.count("a").per_part == 160
    assert segments.count("a" * 161).per_part == 153
    assert segments.count("ê").per_part == 70
    assert segments.count("ê" * 71).per_part == 67


def test_r61_units_are_parts():
    """R-6.1: one unit per SMS part."""
    assert segments.units("a" * 161) == 2
    assert segments.units("") == 0
    assert segments.units(None) == 0
    assert segments.units("l’" * 80, smart=True) == 1
    assert segments.units("l’" * 80) == 3


def test_r33_segment_info_is_frozen():
    """R-3.3: results are values; a caller cannot alter a count by accident."""
    info = segments.count("abc")
    with pytest.raises(AttributeError):
        info.parts = 5


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400), st.booleans())
def test_r33_count_is_consistent_on_any_text(text, smart):
    """R-3.3: count() never raises and its figures agree with each other."""
    info = segments.count(text, smart=smart)
    assert info.encoding in ("gsm7", "ucs2")
    if info.length == 0:
        assert info.parts == 0
        return
    single = 160 if info.encoding == "gsm7" else 70
    per_part = 153 if info.encoding == "gsm7" else 67
    if info.length <= single:
        assert info.parts == 1
        assert info.chars_left == single - info.length
    else:
        # Greedy packing never loses more than one unit per part.
        assert math.ceil(info.length / per_part) <= info.parts
        assert info.parts <= math.ceil(info.length / (per_part - 1))
        assert 0 <= info.chars_left < per_part
    if info.encoding == "ucs2":
        assert info.length == len(info.text.encode("utf-16-le")) // 2


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(GSM_CHARS), max_size=500))
def test_r33_gsm_text_stays_gsm7(text):
    """R-3.3: a text of GSM 03.38 characters is never counted as UCS-2, and
    its length is one septet per character plus one per escape."""
    info = segments.count(text)
    assert info.encoding == "gsm7"
    extension = sum(char in segments.GSM7_EXTENSION_CHARS for char in text)
    assert info.length == len(text) + extension


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(
            ["a", "ê", "😀", "…", "’", "«", "\u00a0", "\u200b", "€", " "]
        ),
        max_size=300,
    )
)
def test_r33_smart_never_costs_more_parts(text):
    """R-3.3: the smart replacement exists to save money: it is used only
    when it takes no more parts than the text as written."""
    plain = segments.count(text)
    smart = segments.count(text, smart=True)
    assert smart.parts <= plain.parts
    assert smart.text in (text, segments.smart_replace(text))


def test_r33_smart_keeps_ellipses_when_replacing_would_cost_more():
    """R-3.3: 70 ellipses fit one UCS-2 SMS; as 210 dots they would need two
    GSM-7 parts, so the text is kept as written."""
    info = segments.count("…" * 70, smart=True)
    assert (info.encoding, info.parts, info.text) == ("ucs2", 1, "…" * 70)
    assert segments.count("…" * 10, smart=True).text == "." * 30


# ---------------------------------------------------------------------------
# GSM-7 look-alikes of a patient's own data
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Françoise Lefèvre", "Francoise Lefèvre"),
        ("Jérôme Benoît", "Jérome Benoit"),
        ("Nguyễn Thị Minh Khai", "Nguyen Thi Minh Khai"),
        ("Đặng Văn Lâm", "Dang Van Lam"),
        ("Şükrü Yılmaz", "Sükrü Yilmaz"),
        ("İbrahim Çelik", "Ibrahim Çelik"),
        ("Łukasz Wróbel", "Lukasz Wrobel"),
        ("João Conceição", "Joao Conceicao"),
        ("Íñigo Muñoz", "Iñigo Muñoz"),
        ("Jürgen Groß", "Jürgen Groß"),
        ("Cœurdevey", "Coeurdevey"),
        ("محمد العلوي", "Mhmd Al'lwy"),
        ("[Dr] €", "(Dr) E"),
    ],
)
def test_r33_lookalikes_of_real_names(value, expected):
    """R-3.3: accents outside GSM-7 are dropped (ô→o, î→i, ç→c), GSM-7
    letters are kept (é, ü, ñ, ß), a few letters have a table (ł, ı, đ, œ),
    Arabic script is transliterated, extension characters take a one-septet
    look-alike."""
    result = segments.to_gsm7_lookalike(value)
    assert result == expected
    assert segments.is_plain_gsm7(result)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_r33_lookalikes_are_always_one_septet_gsm7(value):
    """R-3.3: whatever the value, its look-alike is plain GSM-7: no extension
    character, so its length in septets is its length."""
    result = segments.to_gsm7_lookalike(value)
    assert segments.is_plain_gsm7(result)
    info = segments.count(result)
    assert info.encoding == segments.GSM7
    assert info.length == len(result)
