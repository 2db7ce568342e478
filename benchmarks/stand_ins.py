"""Loopback gateway stand-ins of the benchmark, served by asyncio.

A real gateway answers from another machine: its own CPU is not ours. A
stand-in on this machine should cost as little of it as possible, so that
what is measured is the client. ``http.server.ThreadingHTTPServer`` parses
every request with the e-mail parser in a thread per connection (about
1 ms of CPU per request here, which caps a 2-CPU machine near 200
requests/s); this event loop does the same work in a fraction of that and
waits out the gateway's latency without a thread.

HTTP/1.1 with keep-alive and Content-Length bodies only: what Odoo's
``requests`` clients send.
"""

import asyncio
import threading
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit


class AsyncStandIn:
    """An HTTP server on 127.0.0.1 in its own thread and event loop.

    ``handle(method, path, headers, body)`` returns ``(status, body)`` and
    runs in the loop (keep it short); ``latency`` seconds are awaited before
    every answer, as a remote gateway's round trip.
    """

    REASONS: ClassVar[dict] = {
        200: b"OK",
        201: b"Created",
        400: b"Bad Request",
        500: b"Error",
    }

    def __init__(self, handle, latency=0.0):
        self.handle = handle
        self.latency = latency
        self.server_address = ("127.0.0.1", 0)
        self._loop = None
        self._server = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        self._ready.wait(10)
        return self

    def shutdown(self):
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    def _run(self):
        loop = self._loop = asyncio.new_event_loop()
        self._server = loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=256)
        )
        self.server_address = self._server.sockets[0].getsockname()[:2]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            loop.close()

    async def _serve(self, reader, writer):
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    break
                lines = head.decode("latin-1").split("\r\n")
                method, target = lines[0].split(" ")[:2]
                headers = {}
                for line in lines[1:]:
                    name, sep, value = line.partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                body = await reader.readexactly(length) if length else b""
                if self.latency:
                    await asyncio.sleep(self.latency)
                status, payload = self.handle(method, target, headers, body)
                reason = self.REASONS.get(status, b"Answer")
                writer.write(
                    b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s"
                    % (status, reason, len(payload), payload)
                )
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()


def twilio_handler(recorder):
    """Twilio Messages API: every POST answers 201 with a SID. Each message
    is recorded by its StatusCallback URL: the addon's carries
    ``?ref=<reference>``, sms_twilio's ends with ``/<uuid>``."""

    def handle(method, target, headers, body):
        try:
            form = parse_qs(body.decode())
            callback = (form.get("StatusCallback") or [""])[0]
            url = urlsplit(callback)
            ref = (parse_qs(url.query).get("ref") or [url.path.rsplit("/", 1)[-1]])[0]
            malformed = 0 if form.get("To") and form.get("Body") else 1
            recorder.record([ref], malformed)
            sid = "SM" + ref[:32]
            return 201, b'{"sid": "%s", "status": "queued"}' % sid.encode()
        except Exception:  # noqa: BLE001 - a stand-in must answer whatever happens
            with recorder.lock:
                recorder.errors += 1
            return 500, b'{"message": "stand-in failure"}'

    return handle
