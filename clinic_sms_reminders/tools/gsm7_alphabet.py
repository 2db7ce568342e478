"""The GSM 03.38 character tables (3GPP TS 23.038) and the typographic
look-alikes that keep a text in GSM-7 (R-3.3, R-3.4): what the encoding and
part counting of :mod:`segments` and the look-alike writing of
:mod:`gsm7_lookalike` are built on."""

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
