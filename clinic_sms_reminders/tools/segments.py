"""SMS length as the recipient's phone counts it (R-3.3, R-3.4).

Clinics pay one unit per SMS part, and a clinic limits the number of parts a
message may take, so the count must match what the network does, not what
``len()`` says:

* A text made only of GSM 03.38 characters is sent in GSM-7: 160 septets in a
  single SMS, 153 per part once concatenated (the 6-byte concatenation header
  eats 7 septets). Characters of the extension table are sent as an escape
  septet plus the character, so they count 2, and the pair is never split
  across two parts.
* Any other character forces the whole text into UCS-2 (UTF-16 on modern
  phones): 70 code units in a single SMS, 67 per part. Characters outside the
  Basic Multilingual Plane (most emoji) take a surrogate pair, i.e. 2 units,
  and the pair is never split across two parts.

Because escape pairs and surrogate pairs are kept whole, parts are counted by
packing greedily, which may give one more part than ``ceil(length / 153)``.
"""

import unicodedata
from dataclasses import dataclass

GSM7 = "gsm7"
UCS2 = "ucs2"

GSM7_SINGLE_LIMIT = 160
GSM7_PART_LIMIT = 153
UCS2_SINGLE_LIMIT = 70
UCS2_PART_LIMIT = 67

# 3GPP TS 23.038 default alphabet. Position 0x09 is the capital C with cedilla
# (the small one is not in the table) and 0x1B is the escape to the extension
# table, which is never a character of its own, so it is left out.
GSM7_BASIC_CHARS = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)

# Extension table characters: each is sent as ESC + character, 2 septets.
GSM7_EXTENSION_CHARS = frozenset("\f^{}\\[~]|€")

# Typographic characters and their GSM-7 look-alikes. Only punctuation,
# spaces and invisible characters are listed: letters are never replaced, so
# "ê" stays "ê" even though it forces UCS-2, because changing a patient's
# name or a word is not a cosmetic change.
SMART_REPLACEMENTS = {
    # Single quotes, apostrophes and primes.
    "\u2018": "'",  # left single quotation mark
    "\u2019": "'",  # right single quotation mark (typographic apostrophe)
    "\u201a": "'",  # single low-9 quotation mark
    "\u201b": "'",  # single high-reversed-9 quotation mark
    "\u2032": "'",  # prime
    "\u2039": "'",  # single left-pointing angle quotation mark
    "\u203a": "'",  # single right-pointing angle quotation mark
    "\u00b4": "'",  # acute accent (spacing)
    "`": "'",  # grave accent: ASCII but not in GSM-7
    # Double quotes and double primes.
    "\u201c": '"',  # left double quotation mark
    "\u201d": '"',  # right double quotation mark
    "\u201e": '"',  # double low-9 quotation mark
    "\u201f": '"',  # double high-reversed-9 quotation mark
    "\u00ab": '"',  # left-pointing double angle quotation mark (guillemet)
    "\u00bb": '"',  # right-pointing double angle quotation mark (guillemet)
    "\u2033": '"',  # double prime
    # Dashes, hyphens and minus signs.
    "\u2010": "-",  # hyphen
    "\u2011": "-",  # non-breaking hyphen
    "\u2012": "-",  # figure dash
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2015": "-",  # horizontal bar
    "\u2212": "-",  # minus sign
    # Ellipsis and bullets.
    "\u2026": "...",  # horizontal ellipsis
    "\u2022": "-",  # bullet
    "\u2023": "-",  # triangular bullet
    "\u2043": "-",  # hyphen bullet
    # Spaces that a phone would show as a plain space anyway.
    "\t": " ",
    "\u00a0": " ",  # no-break space (French typography before : ; ! ?)
    "\u202f": " ",  # narrow no-break space
    "\u2002": " ",  # en space
    "\u2003": " ",  # em space
    "\u2004": " ",  # three-per-em space
    "\u2005": " ",  # four-per-em space
    "\u2006": " ",  # six-per-em space
    "\u2007": " ",  # figure space
    "\u2008": " ",  # punctuation space
    "\u2009": " ",  # thin space
    "\u200a": " ",  # hair space
    "\u3000": " ",  # ideographic space
    # Invisible characters that only cost money. Zero-width joiners are kept:
    # removing them would break emoji sequences.
    "\u00ad": "",  # soft hyphen
    "\u200b": "",  # zero-width space
    "\u2060": "",  # word joiner
    "\ufeff": "",  # zero-width no-break space (byte order mark)
}

_SMART_TABLE = str.maketrans(SMART_REPLACEMENTS)


@dataclass(frozen=True)
class SegmentInfo:
    """How a text travels as SMS.

    ``length`` is in septets for GSM-7 and in UTF-16 code units for UCS-2;
    ``parts`` is 0 for an empty text; ``per_part`` is the capacity of each part
    (the single-SMS capacity while the text fits in one part); ``chars_left`` is
    the number of units still free in the last part before another part is
    needed; ``text`` is the text that was counted, after the optional smart
    replacement, i.e. the text that should be sent.
    """

    encoding: str
    length: int
    parts: int
    per_part: int
    chars_left: int
    text: str


def smart_replace(text):
    """Replace typographic characters by their GSM-7 look-alikes.

    Word processors and phones insert curly quotes, long dashes and
    non-breaking spaces that would switch a whole message to UCS-2 and more
    than double its cost; the replacements look the same to the patient.
    """
    return (text or "").translate(_SMART_TABLE)


def _is_gsm7(text):
    return all(
        char in GSM7_BASIC_CHARS or char in GSM7_EXTENSION_CHARS for char in text
    )


def _gsm7_weights(text):
    return [2 if char in GSM7_EXTENSION_CHARS else 1 for char in text]


def _ucs2_weights(text):
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def _pack(weights, single_limit, part_limit):
    """Return ``(length, parts, per_part, chars_left)`` for characters of the
    given weights, never splitting a character across two parts."""
    length = sum(weights)
    if length == 0:
        return 0, 0, single_limit, single_limit
    if length <= single_limit:
        return length, 1, single_limit, single_limit - length
    parts = 1
    used = 0
    for weight in weights:
        if used + weight > part_limit:
            parts += 1
            used = 0
        used += weight
    return length, parts, part_limit, part_limit - used


def _count_exact(text):
    if _is_gsm7(text):
        encoding = GSM7
        figures = _pack(_gsm7_weights(text), GSM7_SINGLE_LIMIT, GSM7_PART_LIMIT)
    else:
        encoding = UCS2
        figures = _pack(_ucs2_weights(text), UCS2_SINGLE_LIMIT, UCS2_PART_LIMIT)
    length, parts, per_part, chars_left = figures
    return SegmentInfo(
        encoding=encoding,
        length=length,
        parts=parts,
        per_part=per_part,
        chars_left=chars_left,
        text=text,
    )


def count(text, smart=False):
    """Count the encoding, length and parts of ``text`` as a phone would.

    With ``smart`` the typographic replacements of :func:`smart_replace` are
    applied first, as the clinic's "smart encoding" option does before
    sending, but only when the replaced text takes no more parts than the
    original: an ellipsis becomes three dots, which in a text that stays UCS-2
    (or in a text made of ellipses) would cost more instead of less. The
    returned ``text`` is the one that was counted, so the one to send.
    ``None`` counts as an empty text.
    """
    original = _count_exact(text or "")
    if not smart:
        return original
    replaced_text = smart_replace(original.text)
    if replaced_text == original.text:
        return original
    replaced = _count_exact(replaced_text)
    return replaced if replaced.parts <= original.parts else original


def units(text, smart=False):
    """Billing units of ``text``: one per SMS part (R-6.1)."""
    return count(text, smart=smart).parts


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
