"""R-4.2 R-7.6: a corpus of real-looking replies and what each one does.

``data/replies.json`` holds French and English replies as patients write
them: keywords with courtesy words, emoji, accents, typos and signatures, and
free text with keyword words inside ("Yes, I will stop by"). Every reply has
its expected outcome; the corpus is the executable form of the rule written
in ``tools/keywords.py`` and ``readme/USAGE.rst``."""

import json
from collections import Counter
from pathlib import Path

import pytest

from odoo.addons.clinic_sms_reminders.tools import keywords

CORPUS = json.loads(
    (Path(__file__).parent / "data" / "replies.json").read_text(encoding="utf-8")
)["replies"]


def test_r42_corpus_is_large_and_covers_every_outcome():
    """R-4.2: at least 300 distinct replies, in both languages, with every
    outcome and more free text than any single keyword."""
    texts = [row["text"] for row in CORPUS]
    assert len(texts) >= 300
    assert len(set(texts)) == len(texts)
    outcomes = Counter(row["expected"] for row in CORPUS)
    assert set(outcomes) == {*keywords.CATEGORIES, None}
    assert {row["lang"] for row in CORPUS} == {"fr", "en"}
    assert outcomes[None] >= 150


def test_r42_every_corpus_reply_classified_as_expected():
    """R-4.2 R-7.6: each reply of the corpus gives its expected outcome; the
    failure lists every reply that does not, not just the first."""
    wrong = [
        (row["text"], row["expected"], keywords.classify_reply(row["text"]))
        for row in CORPUS
        if keywords.classify_reply(row["text"]) != row["expected"]
    ]
    assert not wrong, f"{len(wrong)} of {len(CORPUS)} replies misread: {wrong}"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        # issue 16 (9): keyword words inside free text acted on
        ("Yes, I will stop by", None),
        ("C'est impossible", None),
        ("N'oubliez pas", None),
    ],
)
def test_r42_issue_16_replies(reply, expected):
    """R-4.2: the three replies of issue 16 are free text (before the fix they
    blacklisted, confirmed and cancelled)."""
    assert keywords.classify_reply(reply) is expected
