"""Classification of patients' SMS replies (R-7.6, R-4.2).

A keyword counts only when it is the whole reply (R-4.2): "Yes, I will stop
by" is free text, not an opt-out; "C'est impossible" does not confirm and
"N'oubliez pas" does not cancel. What "whole reply" tolerates, exactly:

1. Case, accents, punctuation, symbols, emoji and spaces are ignored, also
   inside the keyword: "Oui!!", "«STOP»", "O.K.", "A-N-N-U-L-E-R", "ＯＫ" and
   "ok 👍" are keywords. Letters stretched three times or more in a word
   of several letters count once ("Ouiii", "Stooop"); "xxx" stays "xxx".
2. A signature is not part of the reply: a last line that is a name (one to
   four capitalised words that are neither keywords nor courtesy words), a
   line starting with "--", "Sent from my ..." / "Envoyé de mon ...", and
   everything after a closing formula ("Cordialement", "Bien à vous",
   "Regards", "Bises" ...).
3. Courtesy words around keywords are ignored ("Oui merci", "Bonjour, STOP
   svp", "OK thanks!"), and a keyword may be repeated or combined with
   keywords of the same meaning ("oui oui", "OK oui").
4. Single-character keywords (O, Y, C, N, X, 1, 2) and CANCEL (an opt-out
   keyword only "as a whole message") must be the whole reply once the
   signature is removed: "Thanks x" (a kiss), "C bon", "Cancel please" and
   "1 merci" are free text.
5. A reply made only of keywords that contains an opt-out keyword opts out
   ("Non merci, STOP"): honouring an opt-out wins over the rest. Other
   mixtures ("oui non", "HELP OUI") are free text.

There is no spelling correction: "Oiu", "Stp" (s'il te plaît) or "Arête"
are free text, read by the reception. Anything else is ``None``.
"""

import re
import unicodedata

CONFIRM = "confirm"
CANCEL = "cancel"
STOP = "stop"
START = "start"
HELP = "help"
CATEGORIES = (CONFIRM, CANCEL, STOP, START, HELP)

DEFAULT_CONFIRM_KEYWORDS = ("OUI", "O", "YES", "Y", "C", "OK", "1")
# NO is the English counterpart of NON, as YES is of OUI
DEFAULT_CANCEL_KEYWORDS = ("NON", "NO", "N", "ANNULER", "X", "2")
DEFAULT_STOP_KEYWORDS = (
    "STOP",
    "ARRET",
    "STOPALL",
    "UNSUBSCRIBE",
    "END",
    "QUIT",
    "CANCEL",
    "REVOKE",
    "OPTOUT",
    "DESABONNER",
)
DEFAULT_START_KEYWORDS = ("START", "UNSTOP")
DEFAULT_HELP_KEYWORDS = ("HELP", "AIDE")
# keywords that count only as the whole message (besides single characters)
ALONE_ONLY_KEYWORDS = ("CANCEL",)

COURTESY = (
    "merci",
    "merci beaucoup",
    "merci bcp",
    "mci",
    "mrc",
    "thanks",
    "thank you",
    "thanks a lot",
    "many thanks",
    "thx",
    "ty",
    "svp",
    "s il vous plait",
    "sil vous plait",
    "s il te plait",
    "please",
    "pls",
    "plz",
    "bonjour",
    "bonsoir",
    "salut",
    "hello",
    "hi",
    "hey",
    "good morning",
    "good afternoon",
    "good evening",
    "docteur",
    "doctor",
    "madame",
    "monsieur",
    "parfait",
    "super",
    "d accord",
    "dac",
    "a bientot",
    "a demain",
    "see you",
    "bonne journee",
    "bonne soiree",
    "have a nice day",
    "cheers",
)
# a closing formula: what follows it is a signature
CLOSINGS = (
    "cordialement",
    "cdlt",
    "bien a vous",
    "bien cordialement",
    "sinceres salutations",
    "regards",
    "kind regards",
    "best regards",
    "sincerely",
    "bises",
    "bisous",
    "amities",
)
_DEVICE_SIGNATURE = re.compile(
    r"^\s*(sent from|envoye de|envoye depuis|get outlook|telecharger outlook)\b"
)
# letters, digits; everything else separates words
_WORD = re.compile(r"[^\W_]+")
_STRETCHED = re.compile(r"([^\W\d_])\1{2,}")
# replies longer than this are free text (and cheap to reject)
MAX_WORDS = 30


def _fold(text):
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _unstretch(word):
    if len(set(word)) < 2:
        return word
    return _STRETCHED.sub(r"\1", word)


def normalize(text):
    """Words of ``text``, case-folded and without accents.

    Letters and digits only: punctuation, emoji, symbols and whitespace
    separate words and are otherwise dropped, so "Oui!!" and "oui 👍" both
    give ``["oui"]``.
    """
    return _WORD.findall(_fold(text))


def _phrases(keywords, default):
    """Normalised keywords as strings without separators; ``keywords`` may be
    an iterable of strings or one comma-separated string, as a settings field
    would store it."""
    if keywords is None:
        keywords = default
    if isinstance(keywords, str):
        keywords = keywords.split(",")
    phrases = set()
    for keyword in keywords:
        if isinstance(keyword, str):
            compact = "".join(normalize(keyword))
            if compact:
                phrases.add(compact)
    return phrases


_COURTESY = {tuple(phrase.split()) for phrase in COURTESY}
_CLOSINGS = [tuple(phrase.split()) for phrase in CLOSINGS]
_COURTESY_WORDS = {word for phrase in _COURTESY for word in phrase}


def _is_name_line(line, keyword_words):
    """A signature line: one to four capitalised words, none of them a keyword
    or a courtesy word ("Marie Dupont", "Mme Martin", "J.-P. Leroy")."""
    raw_words = _WORD.findall(line)
    if not 1 <= len(raw_words) <= 4:
        return False
    if not all(word[0].isupper() and not word.isdigit() for word in raw_words):
        return False
    words = [_unstretch(word) for word in normalize(line)]
    return not any(word in keyword_words or word in _COURTESY_WORDS for word in words)


def _body_words(text, keyword_words):
    """The words of the reply without its signature."""
    lines = [line for line in text.splitlines() if line.strip()]
    kept = []
    for line in lines:
        stripped = line.strip()
        if kept and (
            stripped.startswith(("--", "—", "__"))
            or _DEVICE_SIGNATURE.match(_fold(stripped))
        ):
            break
        kept.append(line)
    # name lines at the end, not the first line (a reply of just "Paul" is
    # free text, not an empty signed reply)
    while len(kept) > 1 and _is_name_line(kept[-1], keyword_words):
        kept.pop()
    words = [_unstretch(word) for line in kept for word in normalize(line)]
    for index in range(len(words)):
        if any(tuple(words[index : index + len(c)]) == c for c in _CLOSINGS):
            return words[:index]
    return words


def _segment(words, categories, alone_only):
    """Cover ``words`` with keyword and courtesy phrases; the set of keyword
    categories used, or None when some word is neither."""
    count = len(words)
    # best[i]: categories of a segmentation of words[i:], None if impossible
    best = [None] * count + [frozenset()]
    for start in range(count - 1, -1, -1):
        for end in range(count, start, -1):
            rest = best[end]
            if rest is None:
                continue
            piece = words[start:end]
            if tuple(piece) in _COURTESY:
                best[start] = rest
                break
            compact = "".join(piece)
            if len(compact) < 2 or compact in alone_only:
                continue
            found = [c for c, phrases in categories.items() if compact in phrases]
            if found:
                best[start] = rest | frozenset(found)
                break
    return best[0]


def classify_reply(
    text, confirm=None, cancel=None, stop=None, start=None, help_keywords=None
):
    """Return ``"confirm"``, ``"cancel"``, ``"stop"``, ``"start"``,
    ``"help"`` or ``None`` (free text) for a reply, by the rules above.

    The keyword arguments replace the default lists (``None`` keeps the
    default). A word that is in two lists (a misconfiguration) gives ``None``
    rather than a guess. Never raises: anything that is not a non-empty
    string is ``None``.
    """
    if not isinstance(text, str):
        return None
    categories = {
        CONFIRM: _phrases(confirm, DEFAULT_CONFIRM_KEYWORDS),
        CANCEL: _phrases(cancel, DEFAULT_CANCEL_KEYWORDS),
        STOP: _phrases(stop, DEFAULT_STOP_KEYWORDS),
        START: _phrases(start, DEFAULT_START_KEYWORDS),
        HELP: _phrases(help_keywords, DEFAULT_HELP_KEYWORDS),
    }
    alone_only = _phrases(ALONE_ONLY_KEYWORDS, ()) & categories[STOP]
    keyword_words = set().union(*categories.values())
    words = _body_words(text, keyword_words)
    if not words or len(words) > MAX_WORDS:
        return None
    whole = "".join(words)
    found = {c for c, phrases in categories.items() if whole in phrases}
    if not found:
        found = set(_segment(words, categories, alone_only) or ())
    if STOP in found:
        return STOP
    if len(found) == 1:
        return found.pop()
    return None
