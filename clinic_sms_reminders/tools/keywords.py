"""Classification of patients' SMS replies (R-7.6, R-4.2).

Patients answer from their phone keyboard: "Oui merci !", "ok 👍", "ARRÊT",
"stop svp". Replies are normalised (case, accents, punctuation, emoji) and
matched word by word against keyword lists:

* an opt-out keyword anywhere in the reply makes it an opt-out: honouring
  STOP is a legal duty, so it wins over anything else in the message;
* otherwise the first word decides between confirmation and cancellation;
* anything else is ``None`` (an unknown reply, logged for the reception).
"""

import re
import unicodedata

CONFIRM = "confirm"
CANCEL = "cancel"
STOP = "stop"

DEFAULT_CONFIRM_KEYWORDS = ("OUI", "O", "YES", "Y", "C", "OK", "1")
DEFAULT_CANCEL_KEYWORDS = ("NON", "N", "ANNULER", "X", "2")
DEFAULT_STOP_KEYWORDS = (
    "STOP",
    "ARRET",
    "STOPALL",
    "UNSUBSCRIBE",
    "END",
    "QUIT",
    "DESABONNER",
)

_WORD = re.compile(r"[^\W_]+")


def normalize(text):
    """Words of ``text``, case-folded and without accents.

    Letters and digits only: punctuation, emoji, symbols and whitespace
    separate words and are otherwise dropped, so "Oui!!" and "oui 👍" both
    give ``["oui"]``.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    without_marks = "".join(
        char for char in decomposed if not unicodedata.combining(char)
    )
    return _WORD.findall(without_marks)


def _keyword_phrases(keywords, default):
    """Normalised keywords as tuples of words; a keyword may have several
    words. ``keywords`` may be an iterable of strings or one comma-separated
    string, as a settings field would store it."""
    if keywords is None:
        keywords = default
    if isinstance(keywords, str):
        keywords = keywords.split(",")
    phrases = set()
    for keyword in keywords:
        if isinstance(keyword, str):
            words = tuple(normalize(keyword))
            if words:
                phrases.add(words)
    return phrases


def _starts_with(words, phrases):
    return any(tuple(words[: len(phrase)]) == phrase for phrase in phrases)


def _contains(words, phrases):
    return any(
        tuple(words[index : index + len(phrase)]) == phrase
        for phrase in phrases
        for index in range(len(words) - len(phrase) + 1)
    )


def classify_reply(text, confirm=None, cancel=None, stop=None):
    """Return ``"confirm"``, ``"cancel"``, ``"stop"`` or ``None`` for a reply.

    ``confirm``, ``cancel`` and ``stop`` replace the default keyword lists
    (``None`` keeps the default). A first word that is both a confirmation and
    a cancellation keyword (a misconfiguration) gives ``None`` rather than a
    guess. Never raises: anything that is not a non-empty string is ``None``.
    """
    if not isinstance(text, str):
        return None
    words = normalize(text)
    if not words:
        return None
    if _contains(words, _keyword_phrases(stop, DEFAULT_STOP_KEYWORDS)):
        return STOP
    confirms = _starts_with(words, _keyword_phrases(confirm, DEFAULT_CONFIRM_KEYWORDS))
    cancels = _starts_with(words, _keyword_phrases(cancel, DEFAULT_CANCEL_KEYWORDS))
    if confirms and not cancels:
        return CONFIRM
    if cancels and not confirms:
        return CANCEL
    return None
