"""Classification of patients' SMS replies (R-7.6, R-4.2)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odoo.addons.clinic_sms_reminders.tools import keywords

classify = keywords.classify_reply
# anything a phone keyboard adds around a word without adding a word
_NOISE = st.text(
    alphabet=st.sampled_from(list(" \t!?.,;:'\"«»()-_*~…👍😊🙏✅🛑❤️\u00a0")), max_size=6
)


@pytest.mark.parametrize(
    "reply",
    ["OUI", "oui", "O", "YES", "y", "C", "ok", "1", "Oui merci !", " OK👍 ", "O.K."],
)
def test_r76_confirmation_keywords(reply):
    """R-7.6: OUI, O, YES, Y, C, OK, 1 confirm, whatever the case, the
    punctuation and the courtesy words or emoji around them."""
    assert classify(reply) == "confirm"


@pytest.mark.parametrize(
    "reply", ["NON", "non", "N", "Annuler", "x", "2", "Non merci.", "(2)", "No"]
)
def test_r76_cancellation_keywords(reply):
    """R-7.6: NON, N, ANNULER, X, 2 (and NO) ask for a cancellation."""
    assert classify(reply) == "cancel"


@pytest.mark.parametrize(
    "reply",
    [
        "STOP",
        "stop svp",
        "ARRÊT",
        "arret",
        "StopAll",
        "unsubscribe",
        "END",
        "quit",
        "CANCEL",
        "revoke",
        "Opt-out",
        "désabonner",
        "DÉSABONNER!!",
        "«STOP»",
    ],
)
def test_r42_stop_keywords(reply):
    """R-4.2: STOP, ARRET, STOPALL, UNSUBSCRIBE, END, QUIT, CANCEL, REVOKE,
    OPTOUT, DESABONNER, with or without accents, opt the number out."""
    assert classify(reply) == "stop"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [("START", "start"), ("Unstop", "start"), ("HELP", "help"), ("Aide ?", "help")],
)
def test_r42_start_and_help_keywords(reply, expected):
    """R-4.2: START/UNSTOP re-subscribe, HELP/AIDE ask for the clinic's
    contact."""
    assert classify(reply) == expected


@pytest.mark.parametrize("reply", ["Oui stop", "non merci, STOP", "STOP STOP"])
def test_r42_stop_wins_among_keywords(reply):
    """R-4.2: a reply made only of keywords that includes an opt-out opts
    out."""
    assert classify(reply) == "stop"


@pytest.mark.parametrize(
    "reply",
    [
        "Yes, I will stop by",
        "C'est impossible",
        "N'oubliez pas",
        "Cancel my appointment",
        "Cancel please",
        "I will stop by later",
        "Oui je viendrai",
        "Non je ne pourrai pas venir",
        "Thanks x",
        "1 STOP",
    ],
)
def test_r42_keywords_inside_free_text_do_nothing(reply):
    """R-4.2: a keyword counts only when it is the whole reply; CANCEL and
    single characters only when they are alone."""
    assert classify(reply) is None


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Oui\nMarie Dupont", "confirm"),
        ("STOP\nEnvoyé de mon iPhone", "stop"),
        ("Non merci. Cordialement, Jean-Pierre Leroy", "cancel"),
        ("Yes\n-- \nMark", "confirm"),
        ("1\nPaul", "confirm"),
        ("Oui\nje serai en retard", None),
        ("Paul", None),
    ],
)
def test_r42_signatures_are_not_part_of_the_reply(reply, expected):
    """R-4.2: a name line, a device signature or what follows a closing
    formula is a signature; another line is free text."""
    assert classify(reply) == expected


@pytest.mark.parametrize(
    "reply",
    [
        "",
        "   ",
        "!!!",
        "👍",
        "Bonjour, je serai en retard",
        "Okay",
        "12",
        "stopper",
        "oui non",
        "xxx",
        "Merci",
    ],
)
def test_r76_unknown_replies(reply):
    """R-7.6: anything else is unknown and logged for the reception."""
    assert classify(reply) is None


def test_r76_non_text_is_unknown():
    """R-7.6: a missing body (None, False from Odoo) is not a reply."""
    assert classify(None) is None
    assert classify(False) is None
    assert classify(b"OUI") is None


def test_r76_custom_keyword_lists():
    """R-7.6: clinics may change the lists, as a list or a comma-separated
    setting; keywords are normalised like replies."""
    assert classify("Si", confirm=["SÍ"]) == "confirm"
    assert classify("OUI", confirm="SI, JA") is None
    assert classify("ja merci", confirm="SI, JA") == "confirm"
    assert classify("pas ok", cancel=["pas ok"]) == "cancel"
    assert classify("halt", stop=["HALT"]) == "stop"
    assert classify("STOP", stop=[]) is None
    assert classify("INFO", help_keywords=["INFO"]) == "help"


def test_r76_keyword_in_both_lists_is_ambiguous():
    """R-7.6: a misconfigured word in both lists is not guessed."""
    assert classify("OK", confirm=["OK"], cancel=["OK"]) is None


def test_r76_normalize_strips_accents_case_and_punctuation():
    """R-7.6: normalisation used for replies and keywords."""
    assert keywords.normalize("  ARRÊT, Désabonner!! 👍 ") == ["arret", "desabonner"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_r76_classify_never_raises(text):
    """R-7.6: any text from the network gives an answer, never an error."""
    assert classify(text) in (*keywords.CATEGORIES, None)


KEYWORDS = [
    (word, category)
    for category, words in (
        ("confirm", keywords.DEFAULT_CONFIRM_KEYWORDS),
        ("cancel", keywords.DEFAULT_CANCEL_KEYWORDS),
        ("stop", keywords.DEFAULT_STOP_KEYWORDS),
        ("start", keywords.DEFAULT_START_KEYWORDS),
        ("help", keywords.DEFAULT_HELP_KEYWORDS),
    )
    for word in words
]


@settings(max_examples=300, deadline=None)
@given(_NOISE, st.sampled_from(KEYWORDS), _NOISE, st.booleans())
def test_r42_keyword_with_noise_around_keeps_its_meaning(before, keyword, after, low):
    """R-4.2: case, punctuation, spaces and emoji around a keyword never
    change what it means."""
    word, category = keyword
    assert classify(f"{before}{word.lower() if low else word}{after}") == category


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(KEYWORDS),
    st.sampled_from(["je", "vous", "demain", "will", "by", "the", "appointment"]),
    st.booleans(),
)
def test_r42_keyword_with_a_free_word_is_free_text(keyword, word, first):
    """R-4.2: a keyword next to a word that is neither a keyword nor a
    courtesy word is free text, never an action."""
    text = f"{keyword[0]} {word}" if first else f"{word} {keyword[0]}"
    assert classify(text) is None
