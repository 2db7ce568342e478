"""A patient's own data written in one-septet GSM-7 look-alikes (R-3.3): a
name or a service keeps its letters without their accents, other scripts
without a look-alike are transliterated or left out, so that the patient's
data never forces a message into Unicode nor past the clinic's part limit."""

import unicodedata

from .gsm7_alphabet import GSM7_BASIC_CHARS, SMART_REPLACEMENTS

# Letters with no GSM-7 form and no Unicode decomposition to one, for writing a
# patient's own data (a name, a service) in GSM-7 look-alikes. The
# extension characters are mapped too: in a value they would cost 2 septets.
_LETTER_LOOKALIKES = {
    "ł": "l",
    "Ł": "L",
    "ı": "i",
    "đ": "d",
    "Đ": "D",
    "ð": "d",
    "Ð": "D",
    "þ": "th",
    "Þ": "Th",
    "œ": "oe",
    "Œ": "OE",
    "ħ": "h",
    "Ħ": "H",
    "ŧ": "t",
    "Ŧ": "T",
    "ŀ": "l",
    "Ŀ": "L",
    "ŋ": "n",
    "Ŋ": "N",
    "ĸ": "k",
    "ſ": "s",
    "ƒ": "f",
    "ə": "e",
    "Ə": "E",
    "^": "'",
    "{": "(",
    "}": ")",
    "[": "(",
    "]": ")",
    "\\": "/",
    "|": "/",
    "~": "-",
    "€": "E",
    "\f": " ",
}

# Arabic script has no GSM-7 look-alike at all: a simple letter-by-letter Latin
# transliteration (short vowels are not written in Arabic, so "محمد" reads
# "Mhmd"; each word starts with a capital). Persian and Urdu letters included.
_ARABIC_LATIN = {
    "ا": "a",
    "أ": "a",
    "إ": "i",
    "آ": "aa",
    "ٱ": "a",
    "ب": "b",
    "ت": "t",
    "ث": "th",
    "ج": "j",
    "ح": "h",
    "خ": "kh",
    "د": "d",
    "ذ": "dh",
    "ر": "r",
    "ز": "z",
    "س": "s",
    "ش": "sh",
    "ص": "s",
    "ض": "d",
    "ط": "t",
    "ظ": "z",
    "ع": "'",
    "غ": "gh",
    "ف": "f",
    "ق": "q",
    "ك": "k",
    "ل": "l",
    "م": "m",
    "ن": "n",
    "ه": "h",
    "ة": "a",
    "و": "w",
    "ؤ": "'",
    "ي": "y",
    "ى": "a",
    "ئ": "'",
    "ء": "'",
    "پ": "p",
    "چ": "ch",
    "ژ": "zh",
    "گ": "g",
    "ک": "k",
    "ی": "y",
    "ۀ": "h",
    "ـ": "",  # tatweel (elongation), only typographic
    "،": ",",
    "؛": ";",
    "؟": "?",
}


def _lookalike_char(char):
    if char in GSM7_BASIC_CHARS:
        return char
    if char in _LETTER_LOOKALIKES:
        return _LETTER_LOOKALIKES[char]
    if char in _ARABIC_LATIN:
        return _ARABIC_LATIN[char]
    replaced = SMART_REPLACEMENTS.get(char)
    if replaced is not None and all(c in GSM7_BASIC_CHARS for c in replaced):
        return replaced
    if char.isspace():
        return " "
    if (
        unicodedata.category(char).startswith("N")
        and unicodedata.digit(char, None) is not None
    ):
        return str(unicodedata.digit(char))
    decomposed = unicodedata.normalize("NFKD", char)
    if decomposed != char:
        return "".join(
            _lookalike_char(part)
            for part in decomposed
            if not unicodedata.combining(part)
        )
    # no look-alike (emoji, another script): left out of this value
    return ""


def is_plain_gsm7(text):
    """True when every character of ``text`` is a one-septet GSM-7 character."""
    return all(char in GSM7_BASIC_CHARS for char in text or "")


def to_gsm7_lookalike(text):
    """Write ``text`` with one-septet GSM-7 characters only (R-3.3).

    Meant for a patient's own data (a name, a service) inside a message, never
    for a template's text: characters of GSM-7 stay as they are (``é``, ``ü``,
    ``ñ``, ``ß``); typographic ones take their look-alike; other letters lose
    their accents by Unicode decomposition (``ô`` → ``o``, ``ç`` → ``c``,
    ``ş`` → ``s``, ``ễ`` → ``e``); a few letters without decomposition have a
    table (``ł`` → ``l``, ``ı`` → ``i``, ``đ`` → ``d``, ``œ`` → ``oe``);
    Arabic script is transliterated letter by letter (each word then starts
    with a capital); the extension characters (2 septets each) take a one-septet
    look-alike. What has no look-alike at all (emoji, other scripts) is left
    out. The result never contains an extension character, so its length in
    septets is its length in characters.
    """
    if not text:
        return ""
    words = []
    for word in str(text).split(" "):
        written = "".join(_lookalike_char(char) for char in word)
        if written and any(char in _ARABIC_LATIN for char in word):
            written = written[:1].upper() + written[1:]
        words.append(written)
    return " ".join(words)
