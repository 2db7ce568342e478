"""HTTP gateways: concurrent requests over a bounded connection pool, a rate
limit shared by every worker, and outcomes that never re-send blindly
(R-7.2, R-7.4).

Threads only do HTTP: every request is prepared before, and every answer is
read after, in the caller's thread, which alone touches the ORM.
"""

import collections
import email.utils
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError

from . import throttle
from .base import SmsGateway

_logger = logging.getLogger(__name__)

# HTTP statuses worth another try later; any other 4xx is permanent.
# An answered 5xx means the gateway did not take the message.
TEMPORARY_STATUSES = {408, 425, 429, 500, 502, 503, 504}
DEFAULT_RETRY_AFTER = 1.0  # seconds, for a 429 without Retry-After
MAX_RETRY_AFTER = 3600.0
MAX_RATE_WAIT = 30.0  # longest wait for a send slot when no deadline is given
# raised before anything was sent: the message can be sent again safely
NOT_SENT_ERRORS = (
    requests.ConnectTimeout,
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidHeader,
)


class Environment:
    """Proxies and CA bundle of the process environment for each host, as
    ``requests`` would read them on every request with ``trust_env``."""

    def __init__(self):
        self.reader = requests.Session()
        self.by_host = {}

    def apply(self, spec):
        key = urlsplit(spec.get("url") or "")[:2]
        if key not in self.by_host:
            settings = self.reader.merge_environment_settings(
                spec.get("url"), {}, None, None, None
            )
            self.by_host[key] = {
                "proxies": settings["proxies"],
                "verify": settings["verify"],
            }
        return {**self.by_host[key], **spec}


class Attempt:
    """What a thread brings back: the answer or the error, nothing else."""

    __slots__ = ("error", "response")

    def __init__(self, response=None, error=None):
        self.response = response
        self.error = error


def never_sent(error):
    """Whether ``error`` happened before the request left: connection
    refused, DNS failure, connect timeout, TLS handshake. urllib3 wraps those
    in MaxRetryError (requests retries nothing once connected); a read
    timeout or a connection dropped after the request went out is not one of
    them: the gateway may have taken the message."""
    if isinstance(error, NOT_SENT_ERRORS):
        return True
    return isinstance(error, requests.ConnectionError) and bool(
        error.args and isinstance(error.args[0], MaxRetryError)
    )


def retry_after_seconds(response):
    """Retry-After of an answer (seconds or an HTTP date), bounded."""
    headers = getattr(response, "headers", None) or {}
    value = (headers.get("Retry-After") or "").strip()
    seconds = DEFAULT_RETRY_AFTER
    if value.isascii() and value.isdigit():
        seconds = float(value)
    elif value:
        try:
            when = email.utils.parsedate_to_datetime(value)
            seconds = when.timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            seconds = DEFAULT_RETRY_AFTER
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class HttpGateway(SmsGateway):
    """A gateway reached over HTTP. Subclasses implement ``prepare`` (the
    request for one message, as keyword arguments of ``requests.request``)
    and ``parse`` (the result of a successful answer)."""

    webhooks = True

    def sender_for(self, message):
        # one lookup per clinic and batch (a gateway object serves one batch)
        senders = self.__dict__.setdefault("_senders", {})
        company_id = message.company_id.id
        if company_id not in senders:
            senders[company_id] = (
                message.company_id.clinic_sms_sender_name
                or self.provider.from_number
                or ""
            )
        return senders[company_id]

    def callback_url(self, kind):
        # one lookup per batch (a gateway object serves one batch), not per message
        urls = self.__dict__.setdefault("_callback_urls", {})
        if kind not in urls:
            urls[kind] = self.provider._callback_url(kind)
        return urls[kind]

    def prepare(self, message):
        raise NotImplementedError

    def parse(self, message, response):
        return {
            "state": "sent",
            "provider_message_id": message.reference,
            "reason": False,
        }

    # -- sending -------------------------------------------------------------
    def send(self, messages, deadline=None):
        """One request per message, up to ``max_connections`` at a time.

        Requests are handed to the pool as soon as each is prepared and
        answers are read in order while later ones are still on the wire:
        the caller's ORM work (texts, callback URLs, parsing) overlaps the
        gateway's latency instead of adding to it."""
        specs = (self.prepare(message) for message in messages)
        answers = self.stream(specs, len(messages), deadline)
        results = {}
        for message, attempt in zip(messages, answers, strict=True):
            if attempt is not None:
                results[message.id] = self.result(message, attempt)
        self.honour_retry_after(results)
        return results

    def reserve(self, count, deadline=None):
        """(monotonic time of the first slot, slots granted): up to ``count``
        send slots of the provider's rate limit that start before the
        deadline (or within MAX_RATE_WAIT)."""
        now = time.monotonic()
        max_wait = MAX_RATE_WAIT if deadline is None else deadline - now
        if max_wait < 0:
            return now, 0
        wait, granted = throttle.reserve(self.provider, count, max_wait)
        return now + wait, granted

    def perform(self, specs, deadline=None, reservation=None, limited=True):
        """Run the requests ``specs`` concurrently; returns one Attempt per
        spec, or None for those not started (no send slot before the
        deadline, or the gateway asked to slow down). ``reservation``: send
        slots already reserved (see ``reserve``); ``limited=False`` for
        requests that send nothing (status lookups)."""
        return list(self.stream(specs, len(specs), deadline, reservation, limited))

    def stream(self, specs, count, deadline=None, reservation=None, limited=True):
        """``perform`` for ``count`` specs taken from the iterable ``specs``
        one at a time (each is submitted as soon as it is produced); yields
        the attempts in order, each as soon as it is done."""
        if not count:
            return
        provider = self.provider
        if not limited:
            start, granted, rate = time.monotonic(), count, 0.0
        else:
            start, granted = reservation or self.reserve(count, deadline)
            rate = provider.rate_limit
        if not granted:
            yield from [None] * count
            return
        stop = threading.Event()
        timeout = provider.timeout
        size = max(1, min(provider._lane_connections(), granted))

        def run(index, spec):
            not_before = start + (index / rate if rate > 0 else 0.0)
            if deadline is not None and not_before > deadline:
                return None
            delay = not_before - time.monotonic()
            if (delay > 0 and stop.wait(delay)) or stop.is_set():
                return None
            if deadline is not None and time.monotonic() > deadline:
                return None
            try:
                response = session.request(timeout=timeout, **spec)
            except Exception as error:  # noqa: BLE001 - any failure is an answer
                return Attempt(error=error)
            if response.status_code == 429:
                stop.set()
            return Attempt(response=response)

        with requests.Session() as session:
            # the environment (proxies, CA bundle) is read once per host and
            # batch, not on every request (a third of the client's CPU per
            # request); credentials come from the provider, never ~/.netrc
            environment = Environment()
            session.trust_env = False
            adapter = HTTPAdapter(
                pool_connections=1, pool_maxsize=size, pool_block=True
            )
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            with ThreadPoolExecutor(
                max_workers=size, thread_name_prefix="clinic_sms"
            ) as pool:
                futures = collections.deque()
                specs = iter(specs)
                submitted = 0
                while submitted < granted and not stop.is_set():
                    spec = environment.apply(next(specs))
                    futures.append(pool.submit(run, submitted, spec))
                    submitted += 1
                    # answers already in are read while the rest is prepared
                    while futures and futures[0].done():
                        yield futures.popleft().result()
                while futures:
                    yield futures.popleft().result()
        # not started: no slot before the deadline, or the gateway said 429
        yield from [None] * (count - submitted)

    def result(self, message, attempt):
        """The result of one request (in the caller's thread)."""
        if attempt.error is not None:
            state, reason = self.error_outcome(attempt.error)
            return {"state": state, "provider_message_id": False, "reason": reason}
        response = attempt.response
        if response.status_code < 300:
            return self.parse(message, response)
        return self.refusal(response)

    def refusal(self, response):
        status = response.status_code
        result = {
            "state": "retry" if status in TEMPORARY_STATUSES else "failed",
            "provider_message_id": False,
            "reason": self.env._(
                "The gateway answered HTTP %(status)s: %(text)s",
                status=status,
                text=(response.text or "")[:200],
            ),
        }
        if status == 429:
            result["retry_after"] = retry_after_seconds(response)
        return result

    def error_outcome(self, error):
        _logger.warning("SMS gateway %s: %s", self.provider.id, type(error).__name__)
        if never_sent(error):
            return "retry", self.env._("The gateway could not be reached.")
        if isinstance(error, requests.Timeout):
            return "unknown", self.env._(
                "The gateway did not answer in time: the message may have been sent."
            )
        return "unknown", self.env._(
            "The connection to the gateway broke after the message was handed "
            "over: it may have been sent."
        )

    def honour_retry_after(self, results):
        """A 429 pushes the provider's next allowed send time for every
        worker (R-7.4)."""
        delays = [r["retry_after"] for r in results.values() if "retry_after" in r]
        if delays:
            throttle.push_back(self.provider, max(delays))
