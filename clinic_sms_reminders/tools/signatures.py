"""Signatures of provider callbacks (R-7.5).

Delivery reports and inbound replies reach public URLs: anyone can call them.
A call is trusted only when it carries a signature computed with a secret
shared with the provider. Every comparison is constant time (so the secret
cannot be guessed byte by byte from response times), and every verifier
answers ``False`` instead of raising on missing or malformed input, so that a
forged call is simply refused.
"""

import base64
import hashlib
import hmac
from urllib.parse import urlsplit, urlunsplit

_DEFAULT_PORTS = {"https": 443, "http": 80}


def _as_bytes(value):
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError("Expected text or bytes.")


def hmac_sha256_hex(secret, payload):
    """Hex HMAC-SHA256 of ``payload`` with ``secret`` (text or bytes), the
    signature scheme of generic JSON gateways."""
    return hmac.new(_as_bytes(secret), _as_bytes(payload), hashlib.sha256).hexdigest()


def verify_hmac(secret, payload, signature):
    """Whether ``signature`` is the hex HMAC-SHA256 of ``payload``.

    The hex digits may be upper or lower case and may be prefixed with
    ``sha256=`` (as several gateways send it). An empty secret never
    verifies: it would let anyone sign.
    """
    try:
        if not secret or not isinstance(signature, str):
            return False
        candidate = signature.strip()
        if candidate[:7].lower() == "sha256=":
            candidate = candidate[7:]
        expected = hmac_sha256_hex(secret, payload)
        return hmac.compare_digest(
            expected.encode("ascii"), candidate.lower().encode("utf-8")
        )
    except (TypeError, ValueError):
        return False


def _param_values(params, name):
    """All values of ``name``: werkzeug's MultiDict (Odoo's request form) has
    ``getlist``; a plain dict may hold one value or a list of values."""
    if hasattr(params, "getlist"):
        values = params.getlist(name)
    else:
        values = params[name]
        if not isinstance(values, list | tuple):
            values = [values]
    return ["" if value is None else str(value) for value in values]


def twilio_signature(auth_token, url, params):
    """Twilio's ``X-Twilio-Signature`` for a request.

    Twilio's documented algorithm: the full URL, followed by every POST
    parameter name and value, names sorted, each name repeated for each of
    its values (values sorted too, as Twilio's own libraries do), signed with
    HMAC-SHA1 using the account's auth token, base64 encoded.
    """
    data = url
    params = params or {}
    for name in sorted({str(name) for name in params}):
        for value in sorted(set(_param_values(params, name))):
            data += name + value
    digest = hmac.new(_as_bytes(auth_token), data.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(digest.digest()).decode("ascii")


def _url_variants(url):
    """The URL as given, without its port and with the scheme's default port.

    Twilio signs the URL it called; behind a proxy the URL Odoo rebuilds may
    differ only by an explicit port, so Twilio's libraries accept both forms.
    """
    variants = [url]
    parts = urlsplit(url)
    if not parts.hostname:
        return variants
    host = parts.netloc.rsplit("@", 1)[-1]
    userinfo = parts.netloc[: len(parts.netloc) - len(host)]
    bare_host = host if parts.port is None else host.rsplit(":", 1)[0]
    variants.append(urlunsplit(parts._replace(netloc=userinfo + bare_host)))
    default_port = _DEFAULT_PORTS.get(parts.scheme)
    if parts.port is None and default_port:
        with_port = f"{userinfo}{bare_host}:{default_port}"
        variants.append(urlunsplit(parts._replace(netloc=with_port)))
    return list(dict.fromkeys(variants))


def verify_twilio(auth_token, url, params, signature):
    """Whether ``signature`` (the ``X-Twilio-Signature`` header) is valid for
    this URL and these POST parameters. Never raises."""
    try:
        if not auth_token or not url or not isinstance(signature, str):
            return False
        received = signature.strip().encode("utf-8")
        valid = False
        for variant in _url_variants(url):
            expected = twilio_signature(auth_token, variant, params).encode("ascii")
            # Every variant is checked, so the time taken does not tell which
            # one matched.
            valid |= hmac.compare_digest(expected, received)
        return valid
    except (TypeError, ValueError, AttributeError, KeyError):
        return False
