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

The character tables live in :mod:`gsm7_alphabet` and the look-alike writing
of a patient's data in :mod:`gsm7_lookalike`; both are importable from here.
"""

from dataclasses import dataclass

from .gsm7_alphabet import GSM7_BASIC_CHARS, GSM7_EXTENSION_CHARS, SMART_REPLACEMENTS
from .gsm7_lookalike import is_plain_gsm7, to_gsm7_lookalike

__all__ = [
    "GSM7",
    "GSM7_BASIC_CHARS",
    "GSM7_EXTENSION_CHARS",
    "GSM7_PART_LIMIT",
    "GSM7_SINGLE_LIMIT",
    "SMART_REPLACEMENTS",
    "UCS2",
    "UCS2_PART_LIMIT",
    "UCS2_SINGLE_LIMIT",
    "SegmentInfo",
    "count",
    "is_plain_gsm7",
    "smart_replace",
    "to_gsm7_lookalike",
    "units",
]

GSM7 = "gsm7"
UCS2 = "ucs2"

GSM7_SINGLE_LIMIT = 160
GSM7_PART_LIMIT = 153
UCS2_SINGLE_LIMIT = 70
UCS2_PART_LIMIT = 67

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


GSM7_CHARS = GSM7_BASIC_CHARS | GSM7_EXTENSION_CHARS
# the escape characters, as a string for str.count (C speed)
_EXTENSION = "".join(sorted(GSM7_EXTENSION_CHARS))


def _is_gsm7(text):
    return GSM7_CHARS.issuperset(text)


def _gsm7_length(text):
    """Septets of a GSM-7 text: the extension characters take two."""
    return len(text) + sum(text.count(char) for char in _EXTENSION)


def _ucs2_length(text):
    """UTF-16 code units: characters beyond the BMP take two."""
    return len(text.encode("utf-16-le")) // 2


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
        encoding, single, part = GSM7, GSM7_SINGLE_LIMIT, GSM7_PART_LIMIT
        length, weights = _gsm7_length(text), _gsm7_weights
    else:
        encoding, single, part = UCS2, UCS2_SINGLE_LIMIT, UCS2_PART_LIMIT
        length, weights = _ucs2_length(text), _ucs2_weights
    if length <= single:
        # one part (most texts): no need to weigh every character
        figures = (length, 1 if length else 0, single, single - length)
    else:
        figures = _pack(weights(text), single, part)
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
