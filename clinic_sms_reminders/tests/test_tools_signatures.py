"""Signatures of provider callbacks (R-7.5).

The Twilio vectors are those of Twilio's own request validator tests: auth
token "12345" and the URL and parameters below.
"""

import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odoo.addons.clinic_sms_reminders.tools import signatures

TWILIO_TOKEN = "12345"
TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}
TWILIO_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


class MultiDict(dict):
    """Stand-in for werkzeug's MultiDict (Odoo's request.httprequest.form)."""

    def getlist(self, key):
        return list(self[key])


def test_r75_hmac_sha256_hex_known_value():
    """R-7.5: hex HMAC-SHA256, text or bytes alike."""
    expected = hmac.new(b"secret", b'{"id": 1}', hashlib.sha256).hexdigest()
    assert signatures.hmac_sha256_hex("secret", b'{"id": 1}') == expected
    assert signatures.hmac_sha256_hex(b"secret", '{"id": 1}') == expected


def test_r75_verify_hmac_accepts_the_right_signature_only():
    """R-7.5: forged or altered calls are refused."""
    payload = b'{"status": "delivered", "id": "m1"}'
    signature = signatures.hmac_sha256_hex("s3cret", payload)
    assert signatures.verify_hmac("s3cret", payload, signature)
    assert signatures.verify_hmac("s3cret", payload, signature.upper())
    assert signatures.verify_hmac("s3cret", payload, "sha256=" + signature)
    assert not signatures.verify_hmac("s3cret", payload + b" ", signature)
    assert not signatures.verify_hmac("other", payload, signature)
    assert not signatures.verify_hmac("s3cret", payload, signature[:-1])


@pytest.mark.parametrize(
    ("secret", "payload", "signature"),
    [
        (None, b"x", "00"),
        ("", b"x", signatures.hmac_sha256_hex("x", b"x")),
        ("s", None, "00"),
        ("s", b"x", None),
        ("s", b"x", 12),
        ("s", b"x", "é" * 64),
        ("s", 3.5, "00"),
    ],
)
def test_r75_verify_hmac_never_raises_on_garbage(secret, payload, signature):
    """R-7.5: malformed calls are refused, never an error page."""
    assert signatures.verify_hmac(secret, payload, signature) is False


def test_r75_twilio_signature_matches_twilio_reference():
    """R-7.5: Twilio's documented algorithm, checked on Twilio's vector."""
    assert (
        signatures.twilio_signature(TWILIO_TOKEN, TWILIO_URL, TWILIO_PARAMS)
        == TWILIO_SIGNATURE
    )
    assert signatures.verify_twilio(
        TWILIO_TOKEN, TWILIO_URL, TWILIO_PARAMS, TWILIO_SIGNATURE
    )


def test_r75_twilio_repeated_parameters():
    """R-7.5: a parameter sent twice is signed with each value, sorted."""
    params = {"Sid": "CA123", "SidAccount": "AC123", "Digits": ["5678", "1234"]}
    expected = "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    assert signatures.twilio_signature(TWILIO_TOKEN, TWILIO_URL, params) == expected
    form = MultiDict(params, Sid=["CA123"], SidAccount=["AC123"])
    assert signatures.verify_twilio(TWILIO_TOKEN, TWILIO_URL, form, expected)


@pytest.mark.parametrize(
    ("url", "signature"),
    [
        # Signed without the port, received with one (behind a proxy).
        ("https://mycompany.com:1234/myapp.php?foo=1&bar=2", TWILIO_SIGNATURE),
        # Signed with the default port, received without it.
        ("https://mycompany.com/myapp.php?foo=1&bar=2", "kvajT1Ptam85bY51eRf/AJRuM3w="),
        ("http://mycompany.com/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="),
        (
            "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=",
        ),
    ],
)
def test_r75_twilio_url_port_variants(url, signature):
    """R-7.5: the URL may differ only by an explicit port, as Twilio's own
    validators accept."""
    assert signatures.verify_twilio(TWILIO_TOKEN, url, TWILIO_PARAMS, signature)


def test_r75_twilio_forgeries_are_refused():
    """R-7.5: any change of token, URL, parameter or signature is refused."""
    ok = (TWILIO_TOKEN, TWILIO_URL, TWILIO_PARAMS, TWILIO_SIGNATURE)
    assert signatures.verify_twilio(*ok)
    assert not signatures.verify_twilio("54321", *ok[1:])
    assert not signatures.verify_twilio(TWILIO_TOKEN, TWILIO_URL + "&x=1", *ok[2:])
    tampered = dict(TWILIO_PARAMS, Digits="9999")
    assert not signatures.verify_twilio(TWILIO_TOKEN, TWILIO_URL, tampered, ok[3])
    assert not signatures.verify_twilio(*ok[:3], TWILIO_SIGNATURE.lower())


@pytest.mark.parametrize(
    ("token", "url", "params", "signature"),
    [
        (None, TWILIO_URL, TWILIO_PARAMS, TWILIO_SIGNATURE),
        ("", TWILIO_URL, TWILIO_PARAMS, TWILIO_SIGNATURE),
        (TWILIO_TOKEN, None, TWILIO_PARAMS, TWILIO_SIGNATURE),
        (TWILIO_TOKEN, TWILIO_URL, TWILIO_PARAMS, None),
        (TWILIO_TOKEN, TWILIO_URL, TWILIO_PARAMS, b"RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        (TWILIO_TOKEN, TWILIO_URL, TWILIO_PARAMS, "é"),
        (TWILIO_TOKEN, "https://host:notaport/x", TWILIO_PARAMS, "abc="),
        (TWILIO_TOKEN, TWILIO_URL, "not a dict", TWILIO_SIGNATURE),
        (TWILIO_TOKEN, TWILIO_URL, {1: "x"}, TWILIO_SIGNATURE),
        (12345, TWILIO_URL, TWILIO_PARAMS, TWILIO_SIGNATURE),
    ],
)
def test_r75_verify_twilio_never_raises_on_garbage(token, url, params, signature):
    """R-7.5: malformed calls are refused, never an error page."""
    assert signatures.verify_twilio(token, url, params, signature) is False


@settings(max_examples=100, deadline=None)
@given(
    st.text(min_size=1, max_size=20),
    st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=5),
    st.text(max_size=40),
)
def test_r75_twilio_round_trip_and_garbage(token, params, garbage):
    """R-7.5: a signature made with the token verifies; arbitrary text as a
    signature never raises and (barring a collision) does not verify."""
    url = "https://clinic.example/sms/inbound"
    signature = signatures.twilio_signature(token, url, params)
    assert signatures.verify_twilio(token, url, params, signature)
    result = signatures.verify_twilio(token, url, params, garbage)
    assert result is (garbage.strip() == signature)
