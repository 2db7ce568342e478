"""HTTP gateways against loopback stand-ins (R-7.2, R-7.4): concurrent
requests over a bounded pool, a deadline, a rate limit kept in the provider's
row, 429 Retry-After, and outcomes that are never re-sent blindly."""

import email.utils
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from unittest.mock import patch
from urllib.parse import parse_qs, urlsplit

import requests

from odoo.tests import common as odoo_common
from odoo.tests import tagged

from odoo.addons.clinic_sms_reminders.gateways import throttle
from odoo.addons.clinic_sms_reminders.gateways.http_base import (
    Environment,
    retry_after_seconds,
)

from .common import ClinicSmsCase


class StandIn:
    """A threaded loopback HTTP server; ``answer(handler)`` decides each
    answer (status, headers, body) or returns None to hang up unanswered."""

    def __init__(self, answer, latency=0.0):
        self.answer = answer
        self.latency = latency
        self.requests = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()
        stand = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with stand.lock:
                    stand.requests.append((self.command, self.path, body))
                    stand.in_flight += 1
                    stand.most_in_flight = max(stand.most_in_flight, stand.in_flight)
                try:
                    time.sleep(stand.latency)
                    answer = stand.answer(self)
                finally:
                    with stand.lock:
                        stand.in_flight -= 1
                if answer is None:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                status, headers, payload = answer
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def accepted(_handler):
    return 202, {}, b"0: Accepted for delivery"


@tagged("post_install", "-at_install")
class TestGateways(ClinicSmsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.kannel = cls.env["clinic.sms.provider"].create(
            {
                "name": "Kannel",
                "company_id": cls.company.id,
                "provider_type": "http",
                "http_flavor": "kannel",
                "api_url": "http://127.0.0.1:9/cgi-bin/sendsms",
                "username": "clinic",
                "password": "kannel-pass",
                "webhook_secret": "hook-secret",
                "callback_base_url": "http://127.0.0.1:8069",
                "timeout": 2.0,
            }
        )

    def setUp(self):
        super().setUp()
        # the send slots are reserved in a cursor of their own: in tests, one
        # that sees this test's uncommitted provider
        self.registry_enter_test_mode()

    def _outbox(self, count, provider=None):
        return self.env["clinic.sms.message"].create(
            [
                {
                    "kind": "reminder",
                    "idempotency_key": f"gateway-test-{index}",
                    "state": "sending",
                    "company_id": self.company.id,
                    "provider_id": (provider or self.kannel).id,
                    "phone": f"+336123456{index:02d}",
                    "body": f"Bonjour Camille, rendez-vous n°{index} demain à 9 h.",
                }
                for index in range(count)
            ]
        )

    def test_per_message_requests_run_concurrently_within_the_pool(self):
        """R-7.2: per-message gateways send up to max_connections requests at
        once (never more), and every message gets its own answer."""
        self.kannel.max_connections = 4
        messages = self._outbox(24)
        with StandIn(accepted, latency=0.05) as stand:
            self.kannel.api_url = stand.url + "/cgi-bin/sendsms"
            results = self.kannel._send_batch(messages)
        self.assertEqual(len(stand.requests), 24)
        self.assertEqual(stand.most_in_flight, 4)
        self.assertEqual({r["state"] for r in results.values()}, {"sent"})
        self.assertEqual(
            {results[m.id]["provider_message_id"] for m in messages},
            set(messages.mapped("reference")),
        )

    def test_no_request_starts_after_the_deadline(self):
        """R-7.4: once the deadline is passed no new request starts; the
        messages not attempted are absent from the result."""
        self.kannel.max_connections = 1
        messages = self._outbox(30)
        with StandIn(accepted, latency=0.05) as stand:
            self.kannel.api_url = stand.url
            results = self.kannel._send_batch(messages, deadline=time.monotonic() + 0.2)
        self.assertEqual(len(results), len(stand.requests))
        self.assertLess(len(results), 30)
        self.assertEqual({r["state"] for r in results.values()}, {"sent"})
        self.assertEqual(set(results), set(messages[: len(results)].ids))

    def test_ambiguous_outcomes_are_unknown_never_retried(self):
        """R-7.4: a connection that could not be opened is retried; an
        answer that never came after the request went out (read timeout,
        connection dropped) is 'unknown': the message may have been sent; an
        answered 5xx is 'retry'."""
        message = self._outbox(1)
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            refused_url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        self.kannel.api_url = refused_url
        self.assertEqual(self.kannel._send_batch(message)[message.id]["state"], "retry")
        for answer, latency, state in (
            (lambda _h: None, 0.0, "unknown"),
            (accepted, 0.6, "unknown"),
            (lambda _h: (503, {}, b"busy"), 0.0, "retry"),
        ):
            self.kannel.timeout = 0.3
            # Odoo's tests raise short timeouts to 10 s: keep ours
            with (
                patch.object(requests.Session, "send", odoo_common._super_send),
                StandIn(answer, latency=latency) as stand,
            ):
                self.kannel.api_url = stand.url
                result = self.kannel._send_batch(message)[message.id]
            self.assertEqual(len(stand.requests), 1)
            self.assertEqual(result["state"], state, result)
            self.assertTrue(result["reason"])

    def _slot_ahead(self, provider):
        """Seconds from now to the provider's next free send slot."""
        self.env.cr.execute(
            "SELECT throttle_next_at - EXTRACT(EPOCH FROM clock_timestamp()) "
            "FROM clinic_sms_provider WHERE id = %s",
            [provider.id],
        )
        return self.env.cr.fetchone()[0]

    def test_rate_limit_slots_live_in_the_provider_row(self):
        """R-7.4: send slots are reserved in PostgreSQL, one statement per
        chunk: at 10 messages/s, 50 slots push the next free slot 5 s ahead
        for every worker. A worker that cannot wait that long gets no slot
        and pushes nothing; one that can wait 6 s gets the 11 slots that
        start by then. Without a limit nothing waits."""
        self.kannel.rate_limit = 10
        self.assertEqual(throttle.reserve(self.kannel, 50, 30), (0.0, 50))
        wait, granted = throttle.reserve(self.kannel, 50, 1.0)
        self.assertEqual(granted, 0)
        self.assertGreater(wait, 4.5)
        self.assertGreater(self._slot_ahead(self.kannel), 4.5)
        self.assertLessEqual(self._slot_ahead(self.kannel), 5.0)
        wait, granted = throttle.reserve(self.kannel, 50, 6.05)
        self.assertEqual(granted, 11)
        self.assertGreater(self._slot_ahead(self.kannel), 5.5)
        self.assertLessEqual(self._slot_ahead(self.kannel), 6.1)
        other = self.kannel.copy({"rate_limit": 0})
        self.assertEqual(throttle.reserve(other, 10_000, 0), (0.0, 10_000))

    def test_rate_limited_batch_sends_only_what_fits_before_the_deadline(self):
        """R-7.4: at 10 messages/s with 1 s left, a batch of 30 starts at
        most the 11 requests whose slots fall before the deadline, the
        others are absent (requeued), and only those slots are taken from
        the other workers."""
        self.kannel.rate_limit = 10
        messages = self._outbox(30)
        with StandIn(accepted) as stand:
            self.kannel.api_url = stand.url
            results = self.kannel._send_batch(
                messages, deadline=time.monotonic() + 1.05
            )
        self.assertEqual(len(results), len(stand.requests))
        self.assertLessEqual(len(results), 11)
        self.assertGreater(len(results), 0)
        self.assertEqual(set(results), set(messages[: len(results)].ids))
        self.assertLess(self._slot_ahead(self.kannel), 1.2)

    def test_429_pushes_back_every_worker(self):
        """R-7.4: HTTP 429 makes the message 'retry' with the gateway's
        Retry-After, stops the requests not started yet, and pushes the
        provider's next send slot: the next batch starts no request before
        that time (here: not before its deadline)."""
        self.kannel.max_connections = 1
        messages = self._outbox(5)
        with StandIn(lambda _h: (429, {"Retry-After": "7"}, b"slow down")) as stand:
            self.kannel.api_url = stand.url
            results = self.kannel._send_batch(messages)
            self.assertEqual(len(stand.requests), 1)
            self.assertEqual(list(results), messages[:1].ids)
            first = results[messages[0].id]
            self.assertEqual((first["state"], first["retry_after"]), ("retry", 7.0))
            later = self.kannel._send_batch(messages, deadline=time.monotonic() + 1)
            self.assertEqual(later, {})
            self.assertEqual(len(stand.requests), 1)

    def test_json_batch_without_answer_is_unknown_for_every_message(self):
        """R-7.4: a generic JSON batch whose answer never came may have been
        taken as a whole: every message of it is 'unknown'."""
        generic = self.kannel.copy({"http_flavor": "json", "timeout": 0.3})
        messages = self._outbox(3, provider=generic)
        with (
            patch.object(requests.Session, "send", odoo_common._super_send),
            StandIn(accepted, latency=0.6) as stand,
        ):
            generic.api_url = stand.url
            results = generic._send_batch(messages)
        self.assertEqual(len(stand.requests), 1)
        self.assertEqual(set(results), set(messages.ids))
        self.assertEqual({r["state"] for r in results.values()}, {"unknown"})

    def test_retry_after_in_seconds_or_as_a_date(self):
        """R-7.4: Retry-After is read as seconds or an HTTP date, bounded;
        a 429 without it waits one second."""

        def answer(value):
            headers = {} if value is None else {"Retry-After": value}
            return retry_after_seconds(SimpleNamespace(headers=headers))

        self.assertEqual(answer("12"), 12.0)
        in_a_minute = email.utils.formatdate(time.time() + 60, usegmt=True)
        self.assertGreater(answer(in_a_minute), 50)
        self.assertLessEqual(answer(in_a_minute), 61)
        self.assertEqual(answer("soon"), 1.0)
        self.assertEqual(answer(None), 1.0)
        self.assertEqual(answer("999999"), 3600.0)

    def test_proxies_of_the_environment_read_once_per_host(self):
        """R-7.2: a clinic behind an HTTP proxy still reaches its gateway:
        the proxies and NO_PROXY of the environment apply per host (read
        once per batch, not per request); the request's own settings win."""
        proxy = {"HTTP_PROXY": "http://127.0.0.1:3128", "NO_PROXY": "internal.test"}
        with patch.dict("os.environ", proxy, clear=False):
            environment = Environment()
            with patch.object(
                requests.Session,
                "merge_environment_settings",
                wraps=environment.reader.merge_environment_settings,
            ) as read:
                outside = environment.apply({"url": "http://gw.example/send"})
                again = environment.apply({"url": "http://gw.example/other"})
                inside = environment.apply({"url": "http://internal.test/send"})
                own = environment.apply({"url": "http://gw.example/x", "verify": False})
        self.assertEqual(outside["proxies"].get("http"), "http://127.0.0.1:3128")
        self.assertEqual(again["proxies"], outside["proxies"])
        self.assertEqual(read.call_count, 2, "once per host")
        self.assertFalse(inside["proxies"].get("http"))
        self.assertIs(own["verify"], False)

    def test_twilio_status_lookup(self):
        """R-7.4: Twilio reconciles unknown outcomes through its Messages
        resource: by SID when known, else among the number's latest
        messages by text; no record means never sent ('retry'). Kannel has
        no status API."""
        twilio = self.kannel.copy(
            {"http_flavor": "twilio", "username": "AC1", "password": "tw-token"}
        )
        known, lost, never = self._outbox(3, provider=twilio)
        known.provider_message_id = "SM0001"

        def answer(handler):
            url = urlsplit(handler.path)
            if url.path.endswith("/Messages/SM0001.json"):
                item = {"sid": "SM0001", "status": "delivered"}
                return 200, {}, json.dumps(item).encode()
            to = parse_qs(url.query)["To"][0]
            found = [{"sid": "SM0002", "status": "sent", "body": lost.body}]
            page = {"messages": found if to == lost.phone else []}
            return 200, {}, json.dumps(page).encode()

        self.assertTrue(twilio._can_fetch_status())
        self.assertFalse(self.kannel._can_fetch_status())
        self.assertEqual(self.kannel._fetch_status(known), {})
        with StandIn(answer) as stand:
            twilio.api_url = stand.url
            results = twilio._fetch_status(known | lost | never)
        self.assertTrue(
            all("/Accounts/AC1/Messages" in path for _m, path, _b in stand.requests)
        )
        self.assertEqual(
            (results[known.id]["state"], results[known.id]["provider_message_id"]),
            ("delivered", "SM0001"),
        )
        self.assertEqual(
            (results[lost.id]["state"], results[lost.id]["provider_message_id"]),
            ("sent", "SM0002"),
        )
        self.assertEqual(results[never.id]["state"], "retry")
