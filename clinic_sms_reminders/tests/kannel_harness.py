"""A real Kannel SMS gateway on 127.0.0.1 for end-to-end tests.

Plain Python (no Odoo import): ``KannelStack`` installs the Debian packages
``kannel`` and ``kannel-extras`` when they are missing, writes its own
``kannel.conf`` in a temporary folder and runs its own ``bearerbox``,
``smsbox`` and ``fakesmsc`` processes (never the Debian ``kannel`` service):

* ``sendsms_url`` is smsbox's ``/cgi-bin/sendsms`` (user ``username`` /
  ``password``), GET with parameters or POST with ``X-Kannel-*`` headers;
* bearerbox's ``fake`` SMSC hands every MT message to ``fakesmsc``, whose
  output ``received()`` parses; with a ``dlr-mask`` the fake SMSC produces the
  "SMSC accepted" (8) and "delivered" (1) reports, which smsbox sends to the
  message's ``dlr-url``, concurrently: 1 may arrive before 8;
* ``inject()`` types an MO message on fakesmsc's standard input; the
  ``default`` sms-service forwards it with a GET to
  ``http://clinic:<secret>@127.0.0.1:<odoo_port>/clinic_sms/inbound/<provider>``
  ``?from=%p&to=%P&text=%a&id=%I&ts=%t``: Kannel turns ``user:password@`` into
  an ``Authorization: Basic`` header (checked by ``python3 kannel_harness.py``).

fakesmsc's lines for MT messages (Kannel 1.4.5, debug level)::

    Got message N: <SENDER RECEIVER text RAW-TEXT>                coding 0
    Got message N: <SENDER RECEIVER ucs-2 URL-ENCODED-UTF-16BE>   coding 2
    Got message N: <SENDER RECEIVER data URL-ENCODED-BYTES>       coding 1
    Got message N: <SENDER RECEIVER udh URL-UDH data URL-BYTES>   a part of a
                                                                 long message

(URL-encoded as Kannel does it: a space is "+"). A UDH part does not say its
coding: it is taken from bearerbox's access log.

Every wait is bounded (``WAIT``); the processes are stopped and the folder is
removed on exit, even after a failure (set ``CLINIC_KANNEL_KEEP=1`` to keep
the configuration and logs).
"""

import base64
import contextlib
import http.server
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

WAIT = 60  # seconds: the longest any single wait may take
PACKAGES = ("kannel", "kannel-extras")
GOT_MESSAGE = re.compile(r"Got message (\d+): <(.*)>\s*$")
# bearerbox's access log: "... Sent SMS [SMSC:fake] ... [to:N]
# [flags:mclass:coding:mwi:compress:dlrmask] [msg:LEN:TEXT or HEX] [udh:...]"
ACCESS_SENT = re.compile(
    r"Sent SMS .*?\[to:([^\]]*)\] \[flags:-?\d+:(-?\d+):[^\]]*\] "
    r"\[msg:\d+:(.*)\] \[udh:"
)
CODINGS = {0: "gsm7", 1: "8bit", 2: "ucs2"}


class KannelError(RuntimeError):
    pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(predicate, timeout, what, interval=0.2, diagnostics=None):
    """Poll ``predicate`` until it returns a truthy value, for at most
    ``timeout`` seconds (never more than ``WAIT``); else raise KannelError."""
    timeout = min(timeout, WAIT)
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            extra = diagnostics() if diagnostics else ""
            raise KannelError(f"timed out after {timeout}s waiting for {what}\n{extra}")
        time.sleep(interval)


def _installed(package):
    status = subprocess.run(
        ["dpkg", "-s", package], capture_output=True, text=True, check=False
    ).stdout
    return "Status: install ok installed" in status


def ensure_packages():
    """Install kannel and kannel-extras when missing (the runner is root). The
    Debian service is not started by this: policy-rc.d or no init system."""
    missing = [name for name in PACKAGES if not _installed(name)]
    if not missing:
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    done = subprocess.run(
        install, capture_output=True, text=True, env=env, timeout=600, check=False
    )
    if done.returncode != 0:  # stale or missing package lists: update once
        subprocess.run(
            ["apt-get", "update"],
            capture_output=True,
            env=env,
            timeout=600,
            check=False,
        )
        done = subprocess.run(
            install, capture_output=True, text=True, env=env, timeout=600, check=False
        )
    if done.returncode != 0:
        output = done.stdout[-2000:] + done.stderr[-2000:]
        raise KannelError(f"apt-get install {' '.join(missing)} failed:\n{output}")


def find_binary(name, package):
    """Path of ``name`` as installed by ``package`` (dpkg -L), else on PATH.
    fakesmsc is /usr/lib/kannel/test/fakesmsc on Debian 12."""
    listing = subprocess.run(
        ["dpkg", "-L", package], capture_output=True, text=True, check=False
    ).stdout.split()
    for path in listing:
        if (
            Path(path).name == name
            and Path(path).is_file()
            and os.access(path, os.X_OK)
        ):
            return path
    found = shutil.which(name)
    if found:
        return found
    raise KannelError(f"{name} not found (package {package})")


def url_bytes(data):
    """Kannel's URL encoding (a space is '+') back to bytes."""
    return urllib.parse.unquote_to_bytes(data.replace("+", "%20"))


def decode_text(raw):
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def parse_udh(udh):
    """(reference, total, sequence) of a concatenation UDH, else None."""
    pos, end = 1, min(len(udh), 1 + (udh[0] if udh else 0))
    while pos + 1 < end:
        iei, length = udh[pos], udh[pos + 1]
        data = udh[pos + 2 : pos + 2 + length]
        if iei == 0x00 and length == 3:
            return data[0], data[1], data[2]
        if iei == 0x08 and length == 4:
            return (data[0] << 8) | data[1], data[2], data[3]
        pos += 2 + length
    return None


def normalize_number(number):
    """'0033612345678' and '+33612345678' alike, as E.164."""
    number = (number or "").strip().replace(" ", "")
    if number.startswith("00"):
        number = "+" + number[2:]
    return number


class KannelStack:
    """bearerbox + smsbox + fakesmsc with a private configuration.

    ``with KannelStack(odoo_port, provider_id, secret) as stack: ...``
    """

    def __init__(self, odoo_port, provider_id, secret, inbound_url=None):
        if not re.fullmatch(r"[A-Za-z0-9_.~-]+", secret or ""):
            raise ValueError("the webhook secret must be URL-safe (user:pass@ URL)")
        self.host = "127.0.0.1"
        self.odoo_port = odoo_port
        self.provider_id = provider_id
        self.secret = secret
        # basic-auth credentials in the URL: Kannel sends them as a header
        userinfo = f"clinic:{secret}"
        self.inbound_url = inbound_url or (
            f"http://{userinfo}@{self.host}:{odoo_port}"
            f"/clinic_sms/inbound/{provider_id}?from=%p&to=%P&text=%a&id=%I&ts=%t"
        )
        self.username = "clinic"
        self.password = base64.b32encode(os.urandom(10)).decode().lower()
        self.admin_password = base64.b32encode(os.urandom(10)).decode().lower()
        self.admin_port = self.smsbox_port = None
        self.sendsms_port = self.fake_port = None
        self.sendsms_url = self.admin_url = None
        self.tmp = None
        self.processes = {}
        self._lines = []  # payloads of fakesmsc's "Got message" lines, in order
        self._lock = threading.Lock()
        self._reader = None

    # -- life cycle ----------------------------------------------------------
    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        ensure_packages()
        bearerbox = find_binary("bearerbox", "kannel")
        smsbox = find_binary("smsbox", "kannel")
        fakesmsc = find_binary("fakesmsc", "kannel-extras")
        self.tmp = Path(tempfile.mkdtemp(prefix="clinic_kannel_"))
        ports = set()
        while len(ports) < 4:
            ports.add(free_port())
        self.admin_port, self.smsbox_port, self.sendsms_port, self.fake_port = ports
        self.sendsms_url = f"http://{self.host}:{self.sendsms_port}/cgi-bin/sendsms"
        self.admin_url = f"http://{self.host}:{self.admin_port}"
        conf = self.tmp / "kannel.conf"
        conf.write_text(self.config(), encoding="utf-8")

        self._spawn("bearerbox", [bearerbox, "-v", "1", str(conf)])
        wait_for(
            lambda: all(
                port_open(port)
                for port in (self.admin_port, self.smsbox_port, self.fake_port)
            ),
            WAIT,
            "bearerbox's admin, smsbox and fake SMSC ports",
            diagnostics=self.diagnostics,
        )
        self._spawn("smsbox", [smsbox, "-v", "1", str(conf)])
        wait_for(
            lambda: port_open(self.sendsms_port),
            WAIT,
            "smsbox's sendsms port",
            diagnostics=self.diagnostics,
        )
        # no message argument: interactive mode, MO lines are read on stdin;
        # -v 0 because the "Got message" lines are logged at debug level
        fake = [fakesmsc, "-v", "0", "-H", self.host, "-r", str(self.fake_port)]
        self._spawn("fakesmsc", [*fake, "-i", "0"], pipes=True)
        self._reader = threading.Thread(target=self._read_fakesmsc, daemon=True)
        self._reader.start()
        wait_for(
            self.smsc_online,
            WAIT,
            "the fake SMSC to be online",
            diagnostics=self.diagnostics,
        )
        return self

    def stop(self):
        fake = self.processes.get("fakesmsc")
        if fake and fake.poll() is None and fake.stdin:
            with contextlib.suppress(OSError):  # EOF on its stdin ends fakesmsc
                fake.stdin.close()
        bearerbox = self.processes.get("bearerbox")
        if bearerbox and bearerbox.poll() is None:
            # bearerbox shuts down, and smsbox with it
            url = f"{self.admin_url}/shutdown?password={self.admin_password}"
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(url, timeout=3) as answer,
            ):
                answer.read()
        for name in ("fakesmsc", "smsbox", "bearerbox"):
            if name in self.processes:
                self._terminate(self.processes[name])
        if self._reader:
            self._reader.join(timeout=5)
        for process in self.processes.values():
            for stream in (process.stdin, process.stdout):
                if stream:
                    with contextlib.suppress(OSError):
                        stream.close()
        if self.tmp and self.tmp.exists() and not os.environ.get("CLINIC_KANNEL_KEEP"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    @staticmethod
    def _terminate(process):
        """SIGTERM its process group, SIGKILL after 10 s."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if process.poll() is not None:
                return
            try:
                os.killpg(process.pid, sig)
            except (ProcessLookupError, PermissionError):
                process.send_signal(sig)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                continue

    def _spawn(self, name, command, pipes=False):
        if pipes:
            streams = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE}
            process = self._popen(command, streams)
        else:
            with open(self.tmp / f"{name}.out", "wb") as log:
                process = self._popen(
                    command, {"stdin": subprocess.DEVNULL, "stdout": log}
                )
        self.processes[name] = process
        return process

    def _popen(self, command, streams):
        return subprocess.Popen(
            command,
            cwd=self.tmp,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as a whole
            **streams,
        )

    # -- configuration -------------------------------------------------------
    def config(self):
        tmp = self.tmp
        return f"""# written by clinic_sms_reminders' kannel_harness for one test run
group = core
admin-port = {self.admin_port}
admin-interface = {self.host}
admin-password = {self.admin_password}
status-password = {self.admin_password}
admin-allow-ip = 127.0.0.1
smsbox-port = {self.smsbox_port}
smsbox-interface = {self.host}
box-allow-ip = 127.0.0.1
log-file = "{tmp}/bearerbox.log"
log-level = 1
access-log = "{tmp}/access.log"
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = fake
host = {self.host}
our-host = {self.host}
port = {self.fake_port}
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = {self.host}
bearerbox-port = {self.smsbox_port}
sendsms-port = {self.sendsms_port}
sendsms-interface = {self.host}
log-file = "{tmp}/smsbox.log"
log-level = 0
access-log = "{tmp}/smsbox-access.log"
mo-recode = true
http-request-retry = 0

group = sendsms-user
username = {self.username}
password = {self.password}
max-messages = 10
concatenation = true

group = sms-service
keyword = default
catch-all = true
max-messages = 0
omit-empty = true
get-url = "{self.inbound_url}"
"""

    # -- fakesmsc ------------------------------------------------------------
    def _read_fakesmsc(self):
        process = self.processes["fakesmsc"]
        with open(self.tmp / "fakesmsc.log", "wb") as log:
            for raw in iter(process.stdout.readline, b""):
                log.write(raw)
                log.flush()
                line = raw.decode("utf-8", "surrogateescape").rstrip("\r\n")
                match = GOT_MESSAGE.search(line)
                if match:
                    with self._lock:
                        self._lines.append(match.group(2))

    def raw_received(self):
        """MT lines fakesmsc got, as it printed them (sender receiver type data)."""
        with self._lock:
            return list(self._lines)

    def received(self):
        """MT messages fakesmsc got: dicts {from, to, text, coding, parts}.

        ``coding`` is "gsm7" (Kannel coding 0), "8bit" (1) or "ucs2" (2); the
        parts of a concatenated message are joined into one entry."""
        messages, groups = [], {}
        for payload in self.raw_received():
            sender, receiver, kind, data = (payload.split(" ", 3) + [""] * 4)[:4]
            if kind == "text":
                text = decode_text(data.encode("utf-8", "surrogateescape"))
                messages.append(self._message(sender, receiver, text, "gsm7"))
            elif kind == "ucs-2":
                text = url_bytes(data).decode("utf-16-be", "replace")
                messages.append(self._message(sender, receiver, text, "ucs2"))
            elif kind == "data":
                text = decode_text(url_bytes(data))
                messages.append(self._message(sender, receiver, text, "8bit"))
            elif kind == "udh":
                udh_part, _sep, body_part = data.partition(" data ")
                udh, body = url_bytes(udh_part), url_bytes(body_part)
                concat = parse_udh(udh)
                key = (sender, receiver, *(concat[:2] if concat else (len(messages),)))
                if key not in groups:
                    groups[key] = self._message(sender, receiver, "", None)
                    groups[key].update(_bytes={}, udh=udh.hex())
                    messages.append(groups[key])
                groups[key]["_bytes"][concat[2] if concat else 1] = body
            else:
                messages.append(self._message(sender, receiver, data, kind))
        sent = self.access_sent()
        for message in messages:
            parts = message.pop("_bytes", None)
            if parts is None:
                continue
            body = b"".join(parts[i] for i in sorted(parts))
            coding = self._udh_coding(body, message["to"], sent)
            message["parts"] = len(parts)
            message["coding"] = CODINGS.get(coding, "gsm7")
            if coding == 2:
                message["text"] = body.decode("utf-16-be", "replace")
            else:
                message["text"] = decode_text(body)
        return messages

    @staticmethod
    def _message(sender, receiver, text, coding):
        return {
            "from": sender,
            "to": receiver,
            "text": text,
            "coding": coding,
            "parts": 1,
        }

    @staticmethod
    def _udh_coding(body, receiver, sent):
        """fakesmsc does not show the coding of a UDH part: find the whole
        message in bearerbox's access log (UCS-2 and 8-bit logged in hex)."""
        for coding, to, text in sent:
            if to != receiver:
                continue
            if coding in (1, 2) and text == body.hex().upper():
                return coding
            if coding in (0, -1) and text == decode_text(body):
                return 0
        return 2 if len(body) % 2 == 0 and b"\x00" in body else 0

    def access_sent(self):
        """(coding, to, text) of each MT message in bearerbox's access log."""
        sent = []
        for line in self.log("access.log").splitlines():
            match = ACCESS_SENT.search(line)
            if match:
                sent.append((int(match.group(2)), match.group(1), match.group(3)))
        return sent

    def access_received(self):
        """How many MO messages bearerbox received (access log)."""
        return self.log("access.log").count(" Receive SMS [SMSC:")

    def sendsms_requests(self):
        """How many sendsms requests smsbox accepted (its access log)."""
        return self.log("smsbox-access.log").count(" send-SMS request added ")

    def inbound_calls(self):
        """smsbox's log lines of the MO forwards, with the HTTP status it got."""
        return [
            line
            for line in self.log("smsbox-access.log").splitlines()
            if " SMS HTTP-request " in line
        ]

    def wait_received(self, count, timeout=30):
        """Wait until fakesmsc got ``count`` messages or more; return them all."""

        def enough():
            messages = self.received()
            return messages if len(messages) >= count else None

        return wait_for(
            enough,
            timeout,
            f"{count} MT message(s) at fakesmsc",
            diagnostics=self.diagnostics,
        )

    def inject(self, from_number, to_number, text):
        """Send an MO message through fakesmsc, as if a phone had sent it.

        ASCII goes as a "text" line, anything else as "ucs2" (URL-encoded
        UTF-16BE). fakesmsc reads its stdin with fgets() once select() said the
        descriptor is readable: a second line already in its stdio buffer would
        wait for the next input, so each line is written alone and waited for
        in bearerbox's access log before this returns."""
        for value in (from_number, to_number):
            if not value or re.search(r"\s", value):
                raise ValueError(f"invalid number {value!r}")
        if "\n" in text or "\r" in text:
            raise ValueError("fakesmsc reads one message per line")
        if text.isascii():
            line = f"{from_number} {to_number} text {text}\n"
        else:
            data = urllib.parse.quote(text.encode("utf-16-be"), safe="")
            line = f"{from_number} {to_number} ucs2 {data}\n"
        if len(line) >= 255:  # fakesmsc's stdin buffer is 256 bytes
            raise ValueError("MO line too long for fakesmsc")
        process = self.processes["fakesmsc"]
        if process.poll() is not None:
            raise KannelError(f"fakesmsc is not running\n{self.diagnostics()}")
        before = self.access_received()
        process.stdin.write(line.encode("ascii"))
        process.stdin.flush()
        wait_for(
            lambda: self.access_received() > before,
            15,
            f"bearerbox to receive the MO {line.strip()!r}",
            diagnostics=self.diagnostics,
        )

    # -- state ---------------------------------------------------------------
    def status(self):
        url = f"{self.admin_url}/status.txt?password={self.admin_password}"
        try:
            with urllib.request.urlopen(url, timeout=3) as answer:
                return answer.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def smsc_online(self):
        return bool(re.search(r"fake\[fake\].*\(online", self.status()))

    def log(self, name):
        path = self.tmp / name if self.tmp else None
        if path and path.exists():
            return path.read_text("utf-8", "replace")
        return ""

    def diagnostics(self, tail=3000):
        parts = []
        for name, process in self.processes.items():
            state = process.poll()
            parts.append(f"{name}: {'running' if state is None else f'exited {state}'}")
        for name in (
            "bearerbox.out",
            "bearerbox.log",
            "smsbox.out",
            "smsbox-access.log",
            "fakesmsc.log",
            "access.log",
        ):
            text = self.log(name)
            if text:
                parts.append(f"--- {name} (tail) ---\n{text[-tail:]}")
        return "\n".join(parts)


# -- self-check: python3 kannel_harness.py -----------------------------------
def _say(*args):
    print(*args, flush=True)  # pylint: disable=print-used


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Stands in for Odoo: records every call with its headers."""

    calls = None  # a list, set by self_check

    def do_GET(self):  # pylint: disable=invalid-name
        self.calls.append({"path": self.path, "headers": dict(self.headers.items())})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_GET

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        return


def _self_check_send(stack, port):
    """MT messages as the addon's Kannel provider may send them: GET with
    parameters, or POST with X-Kannel headers."""
    recipient = {"to": "+33612345678", "from": "CliniqueTst"}
    dlr = f"http://127.0.0.1:{port}/clinic_sms/dlr/7?sig=x&status=%d&ref="
    for ref, text, coding in (
        ("G0", "Bonjour Jeanne, RDV le 27/11 à 10:00. Répondez OUI @ 5€", 0),
        ("G2", "Bonjour Jeanne, RDV le 27/11 à 10:00. Fête 🎉", 2),
        ("L2", "Rappel: " + "é" * 80 + " fin", 2),
    ):
        params = {
            "username": stack.username,
            "password": stack.password,
            **recipient,
            "text": text,
            "charset": "UTF-8",
            "coding": coding,
            "dlr-mask": 31,
            "dlr-url": dlr + ref,
        }
        url = f"{stack.sendsms_url}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as answer:
            _say(f"GET sendsms {ref}:", answer.status, answer.read().decode())
    for ref, text, coding in (
        ("P0", "Post: RDV le 27/11 à 10:00", 0),
        ("P2", "Post: RDV à 10:00. Fête 🎉", 2),
    ):
        headers = {
            "Content-Type": "text/plain; charset=UTF-8",
            "X-Kannel-Username": stack.username,
            "X-Kannel-Password": stack.password,
            "X-Kannel-To": recipient["to"],
            "X-Kannel-From": recipient["from"],
            "X-Kannel-Coding": str(coding),
            "X-Kannel-DLR-Mask": "31",
            "X-Kannel-DLR-Url": dlr + ref,
        }
        request = urllib.request.Request(
            stack.sendsms_url, data=text.encode(), headers=headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            _say(f"POST sendsms {ref}:", answer.status, answer.read().decode())


def self_check():
    """Kannel against a dummy HTTP server on 127.0.0.1: MT in GSM-7 and UCS-2
    (single and concatenated), delivery reports, MO forwards with basic auth."""
    _Recorder.calls = calls = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    secret = base64.b32encode(os.urandom(10)).decode().lower()
    started = time.monotonic()
    try:
        with KannelStack(port, 7, secret) as stack:
            _say(f"stack up in {time.monotonic() - started:.1f}s")
            _self_check_send(stack, port)
            for message in stack.wait_received(5, 20):
                _say("fakesmsc got:", message)

            def dlrs():
                return [c["path"] for c in calls if "/dlr/" in c["path"]]

            wait_for(lambda: len(dlrs()) >= 10, 20, "10 delivery reports")
            for path in dlrs():
                _say("DLR call:", path)
            stack.inject("+33612345678", "CliniqueTst", "oui merci")
            stack.inject("+33612345678", "CliniqueTst", "Réponse ok")
            inbound = wait_for(
                lambda: [c for c in calls if "/inbound/" in c["path"]][1:] and calls,
                20,
                "2 MO forwards",
                diagnostics=stack.diagnostics,
            )
            expected = base64.b64encode(f"clinic:{secret}".encode()).decode()
            for call in inbound:
                if "/inbound/" in call["path"]:
                    auth = call["headers"].get("Authorization")
                    _say("MO call:", call["path"], "Authorization:", auth)
                    assert auth == f"Basic {expected}", call
            _say("basic auth from user:pass@ in get-url: OK")
    finally:
        server.shutdown()
        server.server_close()
    _say(f"self-check passed in {time.monotonic() - started:.1f}s")


if __name__ == "__main__":
    sys.exit(self_check())
