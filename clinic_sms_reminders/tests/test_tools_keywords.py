"""Classification of patients' SMS replies (R-7.6, R-4.2)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odoo.addons.clinic_sms_reminders.tools import keywords

classify = keywords.classify_reply


@pytest.mark.parametrize(
    "reply", ["OUI", "oui", "O", "YES", "y", "C", "ok", "1", "Oui merci !", " OK👍 "]
)
def test_r76_confirmation_keywords(reply):
    """R-7.6: OUI, O, YES, Y, C, OK, 1 confirm, whatever the case and the
    words or emoji around them."""
    assert classify(reply) == "confirm"


@pytest.mark.parametrize(
    "reply", ["NON", "non", "N", "Annuler", "x", "2", "Non, désolé.", "(2)"]
)
def test_r76_cancellation_keywords(reply):
    """R-7.6: NON, N, ANNULER, X, 2 ask for a cancellation."""
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
        "désabonner",
        "DÉSABONNER!!",
        "«STOP»",
    ],
)
def test_r42_stop_keywords(reply):
    """R-4.2: STOP, ARRET, STOPALL, UNSUBSCRIBE, END, QUIT, DESABONNER, with
    or without accents, opt the number out."""
    assert classify(reply) == "stop"


@pytest.mark.parametrize("reply", ["Oui stop", "non merci, STOP", "1 STOP"])
def test_r42_stop_wins_over_anything(reply):
    """R-4.2: an opt-out anywhere in the reply wins over a confirmation."""
    assert classify(reply) == "stop"


@pytest.mark.parametrize(
    "reply",
    [
        "",
        "   ",
        "!!!",
        "👍",
        "Merci oui",
        "Bonjour, je serai en retard",
        "Okay",
        "12",
        "stopper",
        "Ouiii",
    ],
)
def test_r76_unknown_replies(reply):
    """R-7.6: only the first word decides; anything else is unknown and
    logged on the patient's chatter."""
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
    assert classify("ja bitte", confirm="SI, JA") == "confirm"
    assert classify("pas ok", cancel=["pas ok"]) == "cancel"
    assert classify("halt", stop=["HALT"]) == "stop"
    assert classify("STOP", stop=[]) is None


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
    assert classify(text) in ("confirm", "cancel", "stop", None)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=50), st.sampled_from(keywords.DEFAULT_STOP_KEYWORDS))
def test_r42_stop_keyword_as_a_word_always_stops(prefix, stop_word):
    """R-4.2: a STOP keyword written as its own word always opts out."""
    assert classify(f"{prefix} {stop_word.lower()} !") == "stop"
