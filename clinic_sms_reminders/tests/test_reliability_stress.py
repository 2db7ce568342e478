"""Reliability stress test of the dispatch engine (R-7.1, R-7.3, R-7.4, R-6.3)
and hostile input for the pure tools and the webhook parsers.

Plain pytest tests, not an Odoo test class: the dispatch runs in real, separate
Odoo processes (``stress_worker.py``) on a fresh database of its own, dropped
at the end, against a stand-in SMS gateway on 127.0.0.1:

* clinic A has an HTTP provider of flavor "form" (one POST per message) and
  10,000 queued messages due now; the stand-in answers a deterministic-random
  mix of 2xx, 429, 500/502, 400/422, slow answers past the provider's timeout
  (a 503 after the delay, so never an ambiguous acceptance) and dropped
  connections (reset or closed without an answer);
* several dispatch workers run ``_dispatch_due(commit=True)`` at the same time
  and one of them is killed with SIGKILL in the middle of a batch;
* a watcher polls the wallets (and the ledger, in the same statement) all the
  time;
* clinic B: concurrent raw reservations on a wallet with too few units, then
  messages held back for lack of units, sent after a top-up;
* clinic B again with ONE worker (the cron alone): a manager's top-up commits
  while the gateway is being called.
* clinic D through a real Odoo server (``--workers=2 --max-cron-threads=1
  --limit-time-real-cron``): its own cron runner dispatches against a gateway
  answering in 50-300 ms that sometimes accepts and answers only after the
  client's timeout, and posts the delivery reports to the server's webhook
  (some before it answers the send request); the cron worker is SIGKILLed
  mid-batch and a reconciliation loop runs all along.

A message counts as delivered when the stand-in answered it 2xx (each accepted
reference is recorded, and so is every refused, dropped or timed-out one). A
message is lost when the stand-in never accepted it and it is in no clear
state: failed/skipped with a reason, queued for a retry, or 'sending' because
its worker was killed (the addon never re-sends those, by design: the
reconciliation turns them into 'unknown', or back to the queue when they
were never handed to the gateway).

The RELIABILITY line (``messages=... workers=... killed=... delivered_once=...
duplicates=... lost=... negative_balance_seen=... unknown=... stuck_sending=...
reports=... fuzz_cases=... fuzz_failures=...``) is the last line of pytest's
report, just before the counts of passed and failed tests. Every wait is
bounded, every process started here is stopped in a ``finally``, the database
is dropped and the logs folder removed (kept with ``CLINIC_STRESS_KEEP=1``).

The webhook parsers are model methods: they are fuzzed inside an Odoo process
(``stress_worker.py fuzz``) on the stress database, in savepoints rolled back.
"""

import contextlib
import hashlib
import http.server
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import psutil
import psycopg2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import odoo

from ..models.clinic_sms_dispatch_lanes import DEFAULT_LANES
from ..tools import keywords, phone, placeholders, segments, signatures
from .odoo_processes import addons_path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
WORKER = HERE / "stress_worker.py"

MESSAGES = 10_000
NO_CONSENT = 30  # about this many patients without consent (skipped)
WORKERS = 3
BATCH = 200
PROVIDER_TIMEOUT = 0.5  # seconds; the stand-in's slow answers take twice this
MAX_ATTEMPTS = 5
TOPUP_A = 30_000
VICTIM = "w1"
KILL_AFTER = 5 * BATCH + BATCH // 2  # requests of the victim: its 6th batch
RESERVERS = 6
RESERVE_EACH = 10
RESERVE_INITIAL = 25  # < RESERVERS * RESERVE_EACH
MESSAGES_B = 40
FIRST_TOPUP_B = 15
MESSAGES_C = 10
FUZZ_EXAMPLES_PER_PROPERTY = 180
WEBHOOK_FUZZ_EXAMPLES = 500

# phase D: a real Odoo server (prefork workers + its cron runner) against a
# gateway that behaves like real ones
MESSAGES_D = 160
PROVIDER_TIMEOUT_D = 1.0
PROVIDER_BATCH_D = 8  # messages per provider chunk
LIMIT_TIME_REAL_CRON = 8  # seconds; the server kills a cron worker beyond it
LATENCY_D = (0.05, 0.3)  # seconds per answer
STUCK_AFTER_D = LIMIT_TIME_REAL_CRON  # no cron worker lives longer than this
KILL_AFTER_D = 60  # requests of phase D before its cron worker is killed
PHASE_D_SECONDS = 150

INSTALL_TIMEOUT = 240
PROCESS_TIMEOUT = 120
DISPATCH_SECONDS = 200
SEED = "clinic-stress-1"

RESULTS = {
    "messages": 0,
    "workers": 0,
    "killed": 0,
    "delivered_once": 0,
    "duplicates": 0,
    "lost": 0,
    "negative_balance_seen": 0,
    "unknown": 0,
    "stuck_sending": 0,
    "reports": 0,
    "fuzz_cases": 0,
    "fuzz_failures": 0,
}


def _out(*parts):
    """Print to the terminal (pytest -s), one line per call."""
    sys.stdout.write(" ".join(str(part) for part in parts) + "\n")
    sys.stdout.flush()


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ----------------------------------------------------------------------
# stand-in gateway
# ----------------------------------------------------------------------
# cumulative probabilities of the stand-in's answers, per request
OUTCOMES = (
    (0.800, "accept"),
    (0.860, "429"),
    (0.910, "500"),
    (0.930, "502"),
    (0.950, "drop_reset"),
    (0.970, "drop_close"),
    (0.976, "slow"),
    (0.988, "400"),
    (0.990, "422"),
    (1.000, "accept"),
)
ACCEPTED = ("accept",)


class StandIn(http.server.ThreadingHTTPServer):
    """Records every request: (reference, path, answer, worker, time)."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 256

    def __init__(self):
        super().__init__(("127.0.0.1", _free_port()), StandInHandler)
        self.lock = threading.Lock()
        self.events = []
        self.seen = Counter()
        self.by_worker = Counter()
        self.reports = []  # (reference, status, HTTP answer, when)
        self.clients = []  # (client port, time) of phase D requests
        self.timers = []  # delivery reports still to be posted

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def attempt(self, reference):
        """How many requests for ``reference`` came before this one."""
        with self.lock:
            attempt = self.seen[reference]
            self.seen[reference] += 1
        return attempt

    def decide(self, reference):
        attempt = self.attempt(reference)
        digest = hashlib.sha256(f"{SEED}:{reference}:{attempt}".encode()).digest()
        draw = int.from_bytes(digest[:8], "big") / 2**64
        return next(outcome for limit, outcome in OUTCOMES if draw < limit)

    def record(self, reference, path, answer, worker):
        with self.lock:
            self.events.append((reference, path, answer, worker, time.time()))
            self.by_worker[worker] += 1

    def count_for(self, worker):
        with self.lock:
            return self.by_worker[worker]

    def draw(self, reference, salt):
        digest = hashlib.sha256(f"{SEED}:{salt}:{reference}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def report(self, callback_url, reference, status):
        """POST a signed delivery report (generic form gateway) to Odoo."""
        body = urlencode({"reference": reference, "status": status}).encode()
        stamp = str(int(time.time()))
        request = urllib.request.Request(
            callback_url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Clinic-Timestamp": stamp,
                "X-Clinic-Signature": signatures.hmac_sha256_hex(
                    "stress-secret", stamp.encode() + b"." + body
                ),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                code = answer.status
        except urllib.error.HTTPError as error:
            code = error.code
        except (urllib.error.URLError, OSError):
            code = 0
        with self.lock:
            self.reports.append((reference, status, code, time.time()))


class StandInHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real gateway

    def log_message(self, *args):
        pass

    def setup(self):
        result = super().setup()
        # headers and body in separate writes + Nagle + delayed ACK = 40 ms
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return result

    def handle(self):
        with contextlib.suppress(OSError):
            return super().handle()

    def finish(self):
        with contextlib.suppress(OSError):
            return super().finish()

    def _answer(self, status, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def do_POST(self):
        started = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
        reference = (form.get("reference") or [""])[0]
        worker = self.headers.get("X-Stress-Worker", "?")
        path = self.path.strip("/")
        server = self.server
        if path == "real":
            self._real_gateway(form, reference)
            return
        if path == "ok":
            outcome = "accept"
        elif path == "slow":
            time.sleep(0.1)
            started = time.monotonic()
            first = server.attempt(reference) == 0
            odd = hashlib.sha256(reference.encode()).digest()[0] % 2
            outcome = "429" if first and odd else "accept"
        else:
            outcome = server.decide(reference)
        if outcome == "accept":
            if time.monotonic() - started > PROVIDER_TIMEOUT / 2:
                # the client may have given up already: never an ambiguous 2xx
                server.record(reference, path, "late", worker)
                self._answer(503, "late")
                return
            server.record(reference, path, "accept", worker)
            self._answer(200, f"accepted {reference}")
        elif outcome in ("429", "500", "502", "400", "422"):
            server.record(reference, path, outcome, worker)
            self._answer(int(outcome), f"error {outcome}")
        elif outcome == "slow":
            server.record(reference, path, "slow", worker)
            time.sleep(PROVIDER_TIMEOUT * 2)
            self._answer(503, "too slow")
        else:
            server.record(reference, path, outcome, worker)
            self.close_connection = True
            if outcome == "drop_reset":
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            self.connection.close()

    def _real_gateway(self, form, reference):
        """As real gateways do: 50-300 ms per answer; 429s; refusals; some
        requests accepted but answered only after the client's timeout; the
        delivery report racing the answer (sometimes sent before it)."""
        server = self.server
        with server.lock:
            server.clients.append((self.client_address[1], time.time()))
        attempt = server.attempt(reference)
        time.sleep(
            LATENCY_D[0]
            + (LATENCY_D[1] - LATENCY_D[0])
            * server.draw(reference, f"latency{attempt}")
        )
        draw = server.draw(reference, f"outcome{attempt}")
        callback = (form.get("callback_url") or [""])[0]
        status = "delivered" if server.draw(reference, "dlr") < 0.9 else "undelivered"
        if draw < 0.08:
            server.record(reference, "real", "429", "d")
            self._answer(429, "slow down")
            return
        if draw < 0.12:
            server.record(reference, "real", "400", "d")
            self._answer(400, "invalid destination")
            return
        server.record(reference, "real", "accept", "d")
        if draw < 0.20:
            # the report first, then the answer to the send request
            server.report(callback, reference, status)
            self._answer(200, f"accepted {reference}")
            return
        delay = server.draw(reference, "dlr-delay") * 0.3
        timer = threading.Timer(delay, server.report, (callback, reference, status))
        with server.lock:
            server.timers.append(timer)
        timer.start()
        if draw < 0.27:
            # accepted, answered after the client gave up
            time.sleep(PROVIDER_TIMEOUT_D * 1.5)
        self._answer(200, f"accepted {reference}")


# ----------------------------------------------------------------------
# processes and the balance watcher
# ----------------------------------------------------------------------
class Processes:
    """Worker processes of this test; all stopped in ``stop_all``."""

    def __init__(self, folder, db):
        self.folder = Path(folder)
        self.db = db
        self.running = {}
        self.addons_path = addons_path()

    def config(self, **values):
        return {"db": self.db, "addons_path": self.addons_path, **values}

    def start(self, label, mode, **values):
        out = open(self.folder / f"{label}.out", "w")  # noqa: SIM115
        err = open(self.folder / f"{label}.err", "w")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, str(WORKER), mode, json.dumps(self.config(**values))],
            stdout=out,
            stderr=err,
            cwd=self.folder,
            start_new_session=True,
        )
        out.close()
        err.close()
        self.running[label] = process
        return process

    def wait(self, label, timeout=PROCESS_TIMEOUT):
        process = self.running[label]
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill(label)
            pytest.fail(f"{label} did not finish in {timeout} s:\n{self.err(label)}")
        return process.returncode

    def run(self, label, mode, timeout=PROCESS_TIMEOUT, **values):
        self.start(label, mode, **values)
        code = self.wait(label, timeout)
        assert code == 0, f"{label} failed ({code}):\n{self.err(label)}"
        return self.result(label)

    def kill(self, label):
        process = self.running.get(label)
        if process and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)

    def stop_all(self):
        for label in list(self.running):
            self.kill(label)

    def events(self, label):
        lines = (self.folder / f"{label}.out").read_text().splitlines()
        events = []
        for line in lines:
            with contextlib.suppress(ValueError):
                events.append(json.loads(line))
        return events

    def result(self, label):
        results = [e for e in self.events(label) if e.get("event") == "result"]
        return results[-1] if results else None

    def err(self, label):
        return (self.folder / f"{label}.err").read_text()[-4000:]


class BalanceWatcher(threading.Thread):
    """Polls every wallet, and its ledger in the same statement, until stopped."""

    QUERY = """
        SELECT w.id, w.balance,
               (SELECT coalesce(sum(m.units), 0) FROM clinic_sms_wallet_move m
                 WHERE m.wallet_id = w.id)
          FROM clinic_sms_wallet w
    """

    def __init__(self, db, ledger_wallets):
        super().__init__(daemon=True)
        self.db = db
        self.ledger_wallets = set(ledger_wallets)
        self.halt = threading.Event()
        self.polls = 0
        self.minimum = {}
        self.negative = []
        self.ledger_mismatch = []
        self.error = None

    def run(self):
        try:
            connection = psycopg2.connect(dbname=self.db)
            connection.autocommit = True
            with connection, connection.cursor() as cr:
                while not self.halt.is_set():
                    cr.execute(self.QUERY)
                    for wallet, balance, ledger in cr.fetchall():
                        self.minimum[wallet] = min(
                            balance, self.minimum.get(wallet, balance)
                        )
                        if balance < 0:
                            self.negative.append((wallet, balance))
                        if wallet in self.ledger_wallets and balance != ledger:
                            self.ledger_mismatch.append((wallet, balance, ledger))
                    self.polls += 1
                    time.sleep(0.005)
        except Exception as error:  # noqa: BLE001
            self.error = repr(error)

    def stop(self):
        self.halt.set()
        self.join(timeout=10)


def _query(db, sql, params=None):
    connection = psycopg2.connect(dbname=db)
    try:
        with connection.cursor() as cr:
            cr.execute(sql, params)
            return cr.fetchall()
    finally:
        connection.close()


def _wait_files(labels, folder, timeout, processes):
    paths = [Path(folder) / f"ready_{label}" for label in labels]
    deadline = time.time() + timeout
    while not all(p.exists() for p in paths):
        dead = [
            label for label in labels if processes.running[label].poll() is not None
        ]
        if dead:
            pytest.fail(f"{dead} died while starting:\n{processes.err(dead[0])}")
        if time.time() > deadline:
            pytest.fail(f"workers not ready within {timeout} s")
        time.sleep(0.05)


# ----------------------------------------------------------------------
# the stress run (module fixture: run once, checked by several tests)
# ----------------------------------------------------------------------
class ReliabilityLine:
    """Plugin registered by the module: writes the RELIABILITY line at the very
    end of pytest's report (after the failures), as the last line before the
    counts of passed and failed tests."""

    def __init__(self):
        self.started = time.time()
        self.finished = None

    def line(self):
        return "RELIABILITY " + " ".join(
            f"{key}={int(value)}" for key, value in RESULTS.items()
        )

    def pytest_terminal_summary(self, terminalreporter):
        runtime = (self.finished or time.time()) - self.started
        terminalreporter.write_line(f"reliability stress runtime: {runtime:.1f} s")
        terminalreporter.write_line(self.line())


@pytest.fixture(scope="module", autouse=True)
def reliability_line(request):
    plugin = ReliabilityLine()
    manager = request.config.pluginmanager
    if not manager.has_plugin("clinic-reliability-line"):
        manager.register(plugin, "clinic-reliability-line")
    yield
    plugin.finished = time.time()


@pytest.fixture(scope="module")
def stress():
    db = f"clinic_stress_{uuid.uuid4().hex[:8]}"
    folder = tempfile.mkdtemp(prefix="clinic_stress_")
    processes = Processes(folder, db)
    server = StandIn()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    watcher = None
    data = {"db": db, "folder": folder, "timings": {}}
    try:
        mark = time.time()
        install = subprocess.run(
            [
                sys.executable,
                "-m",
                "odoo",
                "-d",
                db,
                f"--addons-path={processes.addons_path}",
                "-i",
                "clinic_sms_reminders",
                "--stop-after-init",
                "--max-cron-threads=0",
                "--no-http",
                "--log-level=warn",
            ],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
            check=False,
            cwd=folder,
        )
        assert install.returncode == 0, (install.stdout + install.stderr)[-4000:]
        data["timings"]["install"] = time.time() - mark

        mark = time.time()
        setup = processes.run(
            "setup",
            "setup",
            base_url=server.base_url,
            provider_timeout=PROVIDER_TIMEOUT,
            max_attempts=MAX_ATTEMPTS,
            topup_a=TOPUP_A,
            reserve_initial=RESERVE_INITIAL,
            messages=MESSAGES,
            no_consent=NO_CONSENT,
        )
        assert setup and setup["messages"] == MESSAGES, setup
        data["setup"] = setup
        data["timings"]["setup"] = time.time() - mark
        RESULTS["messages"] = setup["messages"]

        watcher = BalanceWatcher(db, [setup["wallet_a"]])
        watcher.start()
        data["watcher"] = watcher

        # -- phase A: workers, faults, one SIGKILL ----------------------
        mark = time.time()
        names = [f"w{i}" for i in range(WORKERS)]
        go_file = Path(folder) / "go_a"
        for name in names:
            processes.start(
                name,
                "dispatch",
                name=name,
                batch_size=BATCH,
                companies=[setup["company_a"]],
                ready_file=str(Path(folder) / f"ready_{name}"),
                go_file=str(go_file),
                max_seconds=DISPATCH_SECONDS,
            )
        _wait_files(names, folder, 90, processes)
        go_file.touch()
        RESULTS["workers"] = WORKERS
        killed_at = None
        deadline = time.time() + DISPATCH_SECONDS + 20
        while any(processes.running[n].poll() is None for n in names):
            if time.time() > deadline:
                processes.stop_all()
                pytest.fail("the dispatch workers did not finish in time")
            victim = processes.running[VICTIM]
            if (
                killed_at is None
                and victim.poll() is None
                and server.count_for(VICTIM) >= KILL_AFTER
            ):
                os.kill(victim.pid, signal.SIGKILL)
                killed_at = time.time()
                data["victim_requests_at_kill"] = server.count_for(VICTIM)
                RESULTS["killed"] = 1
            time.sleep(0.01)
        data["killed"] = killed_at is not None
        data["timings"]["dispatch"] = time.time() - mark
        data["worker_events"] = {n: processes.events(n) for n in names}
        data["worker_stderr"] = {n: processes.err(n) for n in names}
        data["worker_codes"] = {n: processes.running[n].returncode for n in names}
        with server.lock:
            data["events_a"] = [e for e in server.events if e[1] == "send"]
        data["messages_a"] = _query(
            db,
            """
            SELECT id, reference, state, reason, reason_detail, attempt_count, units
              FROM clinic_sms_message WHERE company_id = %s
            """,
            [setup["company_a"]],
        )
        data["wallet_a"] = _wallet(db, setup["wallet_a"])

        # -- phase B: concurrent reservations, then short wallet --------
        mark = time.time()
        fuzz = processes.start(
            "fuzz",
            "fuzz",
            company_a=setup["company_a"],
            examples=WEBHOOK_FUZZ_EXAMPLES,
        )
        labels = [f"r{i}" for i in range(RESERVERS)]
        go_file = Path(folder) / "go_r"
        for label in labels:
            processes.start(
                label,
                "reserve",
                wallet=setup["wallet_b"],
                k=RESERVE_EACH,
                ready_file=str(Path(folder) / f"ready_{label}"),
                go_file=str(go_file),
            )
        _wait_files(labels, folder, 90, processes)
        go_file.touch()
        for label in labels:
            assert processes.wait(label) == 0, processes.err(label)
        data["reservations"] = [processes.result(label) for label in labels]
        data["balance_b_after_reservations"] = _wallet(db, setup["wallet_b"])["balance"]

        processes.run(
            "queue_b",
            "queue_b",
            company_b=setup["company_b"],
            prefix="b",
            count=MESSAGES_B,
            phone_block="13",
            topup=FIRST_TOPUP_B,
        )
        data["b_first"] = _dispatch_b(processes, folder, setup, "b1", rounds=2)
        processes.run(
            "topup_b2",
            "topup",
            wallet=setup["wallet_b"],
            units=MESSAGES_B - FIRST_TOPUP_B,
        )
        data["b_second"] = _dispatch_b(processes, folder, setup, "b2", rounds=None)
        with server.lock:
            data["events_b"] = [e for e in server.events if e[1] == "ok"]
        data["wallet_b"] = _wallet(db, setup["wallet_b"])
        data["timings"]["phase_b"] = time.time() - mark

        # -- phase C: ONE worker; a top-up commits while it calls the gateway
        mark = time.time()
        data["c"] = _single_worker_with_top_up(processes, folder, setup, server)
        data["timings"]["phase_c"] = time.time() - mark

        # -- phase D: a real Odoo server and its cron runner --------------
        mark = time.time()
        data["d"] = _real_server_phase(processes, folder, setup, server)
        data["timings"]["phase_d"] = time.time() - mark
        # every worker has stopped: the reconciliation (with its bound of
        # the cron limit) leaves nothing 'sending'
        data["final_reconcile"] = processes.run(
            "reconcile_final", "reconcile", stuck_after=STUCK_AFTER_D
        )
        data["final_states"] = dict(
            _query(
                db,
                "SELECT state || ':' || coalesce(reason, ''), count(*)"
                " FROM clinic_sms_message GROUP BY 1",
            )
        )
        try:
            fuzz.wait(timeout=PROCESS_TIMEOUT)
        except subprocess.TimeoutExpired:
            processes.kill("fuzz")
        data["webhook_fuzz"] = processes.result("fuzz")
        data["webhook_fuzz_stderr"] = processes.err("fuzz")
        watcher.stop()
        yield data
    finally:
        processes.stop_all()
        if watcher is not None:
            watcher.stop()
        server.shutdown()
        server.server_close()
        subprocess.run(
            ["dropdb", "--if-exists", "--force", db],
            check=False,
            capture_output=True,
            timeout=60,
        )
        if os.environ.get("CLINIC_STRESS_KEEP"):
            _out(f"\nstress logs kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _execute(db, sql, params=None):
    connection = psycopg2.connect(dbname=db)
    try:
        with connection, connection.cursor() as cr:
            cr.execute(sql, params)
    finally:
        connection.close()


def _single_worker_with_top_up(processes, folder, setup, server):
    """One dispatch worker (as the single cron would be) sends MESSAGES_C
    messages of clinic B to the stand-in's slow path (0.1 s per message, half
    of the first attempts answered 429, so a refund is due); a manager's
    top-up of the same wallet commits while the provider is being called."""
    _execute(
        processes.db,
        # one connection: the requests go out one after the other for about a
        # second, the window in which the top-up is made
        "UPDATE clinic_sms_provider SET api_url = %s, max_connections = 1"
        " WHERE id = %s",
        [f"{server.base_url}/slow", setup["provider_b"]],
    )
    processes.run(
        "queue_c",
        "queue_b",
        company_b=setup["company_b"],
        prefix="c",
        count=MESSAGES_C,
        phone_block="14",
        topup=MESSAGES_C,
    )
    go_topup, go_dispatch = Path(folder) / "go_topup_c", Path(folder) / "go_c0"
    processes.start(
        "topup_c",
        "topup",
        wallet=setup["wallet_b"],
        units=5,
        ready_file=str(Path(folder) / "ready_topup_c"),
        go_file=str(go_topup),
    )
    processes.start(
        "c0",
        "dispatch",
        name="c0",
        batch_size=BATCH,
        companies=[setup["company_b"]],
        ready_file=str(Path(folder) / "ready_c0"),
        go_file=str(go_dispatch),
        max_seconds=60,
        rounds=1,
    )
    _wait_files(["topup_c", "c0"], folder, 90, processes)
    go_dispatch.touch()
    deadline = time.time() + 60
    while not server.count_for("c0"):
        if time.time() > deadline or processes.running["c0"].poll() is not None:
            break
        time.sleep(0.01)
    first_request = time.time()
    go_topup.touch()
    for label in ("topup_c", "c0"):
        assert processes.wait(label) == 0, processes.err(label)
    with server.lock:
        requests_c = [e for e in server.events if e[1] == "slow"]
    states = dict(
        _query(
            processes.db,
            "SELECT state || ':' || coalesce(reason, ''), count(*)"
            " FROM clinic_sms_message WHERE idempotency_key LIKE 'stress-c:%%'"
            " GROUP BY 1",
        )
    )
    return {
        "states": states,
        "answers": dict(Counter(e[2] for e in requests_c)),
        "first_request": first_request,
        "last_request": max((e[4] for e in requests_c), default=None),
        "topup_started": processes.result("topup_c")["started_at"],
        "topup_committed": processes.result("topup_c")["committed_at"],
        "errors": [e for e in processes.events("c0") if e["event"] == "error"],
    }


def _pid_of_client(port):
    """The process whose TCP connection to the stand-in uses ``port``."""
    for connection in psutil.net_connections(kind="tcp"):
        if connection.laddr and connection.laddr.port == port and connection.pid:
            return connection.pid
    return None


def _notify_cron(db, stop):
    """Wake the server's cron worker often (as Odoo does when a trigger is
    created): its own poll is once a minute."""
    while not stop.is_set():
        with contextlib.suppress(psycopg2.Error):
            _execute("postgres", "SELECT pg_notify('cron_trigger', %s)", [db])
        stop.wait(0.3)


def _real_server_phase(processes, folder, setup, server):
    """A real Odoo server (2 HTTP workers, 1 cron worker, a cron time limit)
    dispatches clinic D through its own cron runner, receives the delivery
    reports of the stand-in on its webhook (some before the send answers),
    has its cron worker SIGKILLed mid-batch (the server starts another), and
    a reconciliation loop runs all along with a short bound for rows left
    'sending': it must never take a live worker's rows."""
    port = _free_port()
    server_url = f"http://127.0.0.1:{port}"
    d = processes.run(
        "queue_d",
        "queue_d",
        base_url=server.base_url,
        server_url=server_url,
        provider_timeout=PROVIDER_TIMEOUT_D,
        provider_batch=PROVIDER_BATCH_D,
        max_attempts=MAX_ATTEMPTS,
        count=MESSAGES_D,
    )
    log_path = Path(folder) / "server_d.log"
    # the odoo-bin script, not "-m odoo": the prefork server starts its
    # websocket process again from sys.argv[0]
    odoo_bin = Path(odoo.__path__[0]).resolve().parent / "odoo-bin"
    command = [
        sys.executable,
        *([str(odoo_bin)] if odoo_bin.is_file() else ["-m", "odoo"]),
        "-d",
        processes.db,
        f"--addons-path={processes.addons_path}",
        f"--db-filter=^{processes.db}$",
        "--http-interface=127.0.0.1",
        f"--http-port={port}",
        f"--gevent-port={_free_port()}",
        "--workers=2",
        "--max-cron-threads=1",
        f"--limit-time-real-cron={LIMIT_TIME_REAL_CRON}",
        "--limit-time-real=60",
        "--log-level=info",
    ]
    stop_file = Path(folder) / "stop_reconcile_d"
    reconciler = processes.start(
        "reconcile_d",
        "reconcile",
        stuck_after=STUCK_AFTER_D,
        interval=0.5,
        stop_file=str(stop_file),
    )
    stop = threading.Event()
    notifier = threading.Thread(target=_notify_cron, args=(processes.db, stop))
    killed = None
    started = last_snapshot = time.time()
    snapshots = []
    with open(log_path, "wb") as log:
        odoo_server = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=folder,
            start_new_session=True,
        )
    try:
        notifier.start()
        deadline = started + PHASE_D_SECONDS
        while time.time() < deadline:
            assert odoo_server.poll() is None, log_path.read_text()[-4000:]
            with server.lock:
                clients = list(server.clients)
            if killed is None and len(clients) >= KILL_AFTER_D:
                pid = _pid_of_client(clients[-1][0])
                if pid and psutil.Process(pid).ppid() == odoo_server.pid:
                    os.kill(pid, signal.SIGKILL)
                    killed = {"pid": pid, "at": time.time(), "requests": len(clients)}
            left = _query(
                processes.db,
                "SELECT count(*) FROM clinic_sms_message"
                " WHERE company_id = %s AND state IN ('queued', 'sending')",
                [d["company_d"]],
            )[0][0]
            if killed and not left:
                break
            if time.time() - last_snapshot > 5:
                last_snapshot = time.time()
                snapshots.append(
                    (
                        round(last_snapshot - started),
                        _query(
                            processes.db,
                            "SELECT state, count(*) FROM clinic_sms_message"
                            " WHERE company_id = %s GROUP BY 1",
                            [d["company_d"]],
                        ),
                        _query(
                            processes.db,
                            "SELECT nextcall::text, lastcall::text,"
                            " (SELECT count(*) FROM ir_cron_trigger t"
                            "   WHERE t.cron_id = c.id)"
                            " FROM ir_cron c WHERE active",
                        ),
                    )
                )
            # the back-off of a 429 has elapsed (a virtual clock, as phase A's)
            # and the cron is triggered for it, as Odoo's _trigger() does
            _execute(
                processes.db,
                """
                WITH moved AS (
                    UPDATE clinic_sms_message
                       SET scheduled_at = now() AT TIME ZONE 'UTC'
                     WHERE company_id = %s AND state = 'queued'
                       AND scheduled_at > now() AT TIME ZONE 'UTC'
                 RETURNING id)
                INSERT INTO ir_cron_trigger (cron_id, call_at)
                SELECT res_id, now() AT TIME ZONE 'UTC' FROM ir_model_data
                 WHERE module = 'clinic_sms_reminders'
                   AND name = 'ir_cron_clinic_sms_dispatch'
                   AND EXISTS (SELECT FROM moved)
                """,
                [d["company_d"]],
            )
            time.sleep(0.2)
        with server.lock:
            timers = list(server.timers)
        for timer in timers:  # the last delivery reports reach the server
            timer.join(timeout=35)
    finally:
        stop.set()
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(odoo_server.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                odoo_server.wait(timeout=20)
                break
        stop_file.touch()
        with contextlib.suppress(subprocess.TimeoutExpired):
            reconciler.wait(timeout=30)
        if notifier.is_alive():
            notifier.join(timeout=5)
    with server.lock:
        events = [e for e in server.events if e[1] == "real"]
        reports = list(server.reports)
    log_text = log_path.read_text("utf-8", "replace")
    return {
        "setup": d,
        "seconds": time.time() - started,
        "killed": killed,
        "events": events,
        "reports": reports,
        "reconciler": processes.result("reconcile_d"),
        "reconciler_err": processes.err("reconcile_d"),
        "errors": [line for line in log_text.splitlines() if " ERROR " in line],
        "snapshots": snapshots,
        "cron_lines": [line[:200] for line in log_text.splitlines() if "Job " in line],
        "log_tail": log_text[-3000:],
        "messages": _query(
            processes.db,
            "SELECT id, reference, state, reason, attempt_count"
            " FROM clinic_sms_message WHERE company_id = %s",
            [d["company_d"]],
        ),
    }


def _wallet(db, wallet_id):
    balance = _query(
        db, "SELECT balance FROM clinic_sms_wallet WHERE id = %s", [wallet_id]
    )[0][0]
    moves = dict(
        _query(
            db,
            "SELECT move_type, sum(units) FROM clinic_sms_wallet_move"
            " WHERE wallet_id = %s GROUP BY move_type",
            [wallet_id],
        )
    )
    return {"balance": balance, "moves": moves}


def _dispatch_b(processes, folder, setup, tag, rounds):
    labels = [f"{tag}_{i}" for i in range(3)]
    go_file = Path(folder) / f"go_{tag}"
    for label in labels:
        processes.start(
            label,
            "dispatch",
            name=label,
            batch_size=BATCH,
            companies=[setup["company_b"]],
            ready_file=str(Path(folder) / f"ready_{label}"),
            go_file=str(go_file),
            max_seconds=60,
            rounds=rounds,
        )
    _wait_files(labels, folder, 90, processes)
    go_file.touch()
    for label in labels:
        assert processes.wait(label) == 0, processes.err(label)
    states = dict(
        _query(
            processes.db,
            "SELECT state || ':' || coalesce(reason, ''), count(*)"
            " FROM clinic_sms_message WHERE company_id = %s GROUP BY 1",
            [setup["company_b"]],
        )
    )
    return {
        "states": states,
        "errors": [
            e
            for label in labels
            for e in processes.events(label)
            if e["event"] == "error"
        ],
        "balance": _wallet(processes.db, setup["wallet_b"])["balance"],
    }


# ----------------------------------------------------------------------
# analysis of phase A
# ----------------------------------------------------------------------
def _classify(message, times, answers, victim_last_event):
    """(problem or None, stuck kind or None) of one message of clinic A."""
    _id, _reference, state, reason, _detail, attempts, _units = message
    if state in ("sent", "delivered"):
        return ("sent_but_never_accepted" if times == 0 else None), None
    if state == "sending":
        if not answers:
            # claimed and committed 'sending' by the victim, never requested
            return None, "after_kill_never_requested"
        if answers[-1][1] == VICTIM and answers[-1][2] > victim_last_event:
            # the victim's batch in flight when it was killed
            return None, "after_kill"
        return ("stuck_sending_without_kill" if times == 0 else None), "other"
    if state == "queued":
        return ("accepted_but_queued" if times else None), "queued"
    if state == "unknown":
        # an ambiguous answer (read timeout): never re-sent, left to the
        # reconciliation or a manager, whether or not the gateway took it
        return (None if reason == "ambiguous" else "unknown_without_reason"), None
    if state not in ("failed", "skipped", "cancelled"):
        return f"unexpected_state_{state}", None
    if not reason:
        return "final_without_reason", None
    if times:
        return "accepted_but_" + state, None
    if reason == "provider_rejected" and (
        not answers or answers[-1][0] not in ("400", "422")
    ):
        return "rejected_without_4xx", None
    if reason == "provider_temporary" and attempts < MAX_ATTEMPTS:
        return "temporary_failure_before_max_attempts", None
    return None, None


def _analyse(data):
    accepted = Counter()
    history = defaultdict(list)
    victim_events = data["worker_events"].get(VICTIM) or [{"t": 0}]
    victim_last_event = max(e["t"] for e in victim_events)
    for reference, _path, answer, worker, at in data["events_a"]:
        history[reference].append((answer, worker, at))
        if answer in ACCEPTED:
            accepted[reference] += 1
    report = Counter()
    examples = defaultdict(list)
    states = Counter()
    for message in data["messages_a"]:
        reference, state, reason = message[1], message[2], message[3]
        states[f"{state}:{reason or ''}"] += 1
        times = accepted[reference]
        answers = history.get(reference, [])
        if times > 1:
            report["duplicates"] += 1
            examples["duplicates"].append((reference, answers))
        elif times == 1:
            report["delivered_once"] += 1
        problem, stuck = _classify(message, times, answers, victim_last_event)
        if stuck == "queued":
            report["queued_left"] += 1
        elif stuck in ("after_kill", "after_kill_never_requested"):
            report["stuck_sending_after_kill"] += 1
            report[f"stuck_sending_{stuck}"] += stuck != "after_kill"
        elif stuck == "other":
            report["stuck_sending_other"] += 1
            examples["stuck_sending_other"].append((reference, answers))
        if problem:
            report[problem] += 1
            examples[problem].append((reference, state, reason, answers))
            report["lost"] += times == 0
    return report, examples, states


def _error_site(trace):
    """Innermost frame of the addon in a traceback, e.g. 'clinic_sms_wallet.py:83
    _add_units'."""
    site = "?"
    for line in trace.splitlines():
        if "clinic_sms_reminders/models/" in line and "line " in line:
            file = line.split("models/")[1].split('"')[0]
            number = line.split("line ")[1].split(",")[0]
            function = line.rsplit(" in ", 1)[-1]
            site = f"{file}:{number} {function}"
    return site


def _units_spent(data):
    return sum(
        units or 0
        for _i, _r, state, _reason, _d, _a, units in data["messages_a"]
        if state in ("sent", "delivered", "sending", "unknown")
    )


def _print_summary(data, report, states):
    errors = [
        e
        for events in data["worker_events"].values()
        for e in events
        if e["event"] == "error"
    ]
    watcher = data["watcher"]
    _out(
        "\nstress timings (s): "
        + ", ".join(f"{k}={v:.1f}" for k, v in data["timings"].items())
    )
    _out(f"stress states A: {dict(sorted(states.items()))}")
    _out(f"stress report A: {dict(sorted(report.items()))}")
    _out(
        f"stress stand-in A: {len(data['events_a'])} requests, answers "
        f"{dict(Counter(e[2] for e in data['events_a']))}"
    )
    _out(
        f"stress workers: codes={data['worker_codes']} victim requests at kill="
        f"{data.get('victim_requests_at_kill')} round errors={len(errors)} "
        f"{dict(Counter(e['type'] for e in errors))}"
    )
    _out(
        "stress worker exceptions by site: "
        f"{dict(Counter(_error_site(e['traceback']) for e in errors))}"
    )
    _out(
        f"stress wallet A: {data['wallet_a']} watcher polls={watcher.polls} "
        f"min={watcher.minimum} ledger mismatches seen={len(watcher.ledger_mismatch)}"
    )


@pytest.fixture(scope="module")
def analysed(stress):
    report, examples, states = _analyse(stress)
    RESULTS["delivered_once"] = report["delivered_once"]
    RESULTS["duplicates"] = report["duplicates"]
    RESULTS["lost"] = report["lost"]
    watcher = stress["watcher"]
    RESULTS["negative_balance_seen"] = int(
        bool(watcher.negative) or any(v < 0 for v in watcher.minimum.values())
    )
    finals = stress["final_states"]
    RESULTS["unknown"] = sum(n for k, n in finals.items() if k.startswith("unknown:"))
    RESULTS["stuck_sending"] = sum(
        n for k, n in finals.items() if k.startswith("sending:")
    )
    d = stress["d"]
    RESULTS["reports"] = sum(1 for r in d["reports"] if r[2] == 200)
    accepted_d = Counter(e[0] for e in d["events"] if e[2] == "accept")
    RESULTS["duplicates"] += sum(1 for n in accepted_d.values() if n > 1)
    RESULTS["messages"] += d["setup"]["inserted"]
    RESULTS["workers"] += 1
    RESULTS["killed"] += int(bool(d["killed"]))
    _print_summary(stress, report, states)
    return report, examples, states


# ----------------------------------------------------------------------
# tests of the stress run
# ----------------------------------------------------------------------
def test_one_worker_was_killed_mid_batch(stress, analysed):
    report, _examples, _states = analysed
    assert stress["killed"], "the victim finished before it could be killed"
    assert stress["worker_codes"][VICTIM] == -signal.SIGKILL
    # the victim's batches in flight stay 'sending' (never re-sent by design):
    # at most one per lane of its cron run
    assert 0 < report["stuck_sending_after_kill"] <= DEFAULT_LANES * BATCH, report
    survivors = [n for n in stress["worker_codes"] if n != VICTIM]
    assert all(stress["worker_codes"][n] == 0 for n in survivors), stress[
        "worker_codes"
    ]


def test_nothing_left_sending(stress, analysed):
    """Once every worker stopped, the reconciliation leaves no row 'sending'
    (the killed workers' rows are 'unknown' or back in the queue)."""
    _out(f"\nstress final states: {dict(sorted(stress['final_states'].items()))}")
    assert RESULTS["stuck_sending"] == 0, stress["final_states"]
    assert stress["final_states"].get("unknown:worker_stopped", 0) > 0


def test_real_server_cron_runner_with_racing_reports(stress, analysed):
    """Phase D, a real server's cron runner under its time limit: nothing
    accepted twice (late answers are 'unknown', never re-sent), every
    delivery report kept whichever of it and the send answer came first, the
    cron worker killed mid-batch, no ERROR logged (serialization conflicts
    are retried quietly), no cron worker killed by the time limit."""
    d = stress["d"]
    answers = Counter(e[2] for e in d["events"])
    states = Counter(f"{m[2]}:{m[3] or ''}" for m in d["messages"])
    _out(
        f"\nstress phase D: {d['seconds']:.1f} s, killed={d['killed']}, "
        f"answers={dict(answers)}, reports={Counter(r[2] for r in d['reports'])}, "
        f"states={dict(sorted(states.items()))}, reconciler={d['reconciler']}"
    )
    assert d["killed"], d["log_tail"]
    accepted = Counter(e[0] for e in d["events"] if e[2] == "accept")
    twice = [ref for ref, n in accepted.items() if n > 1]
    assert not twice, twice[:5]
    assert all(r[2] == 200 for r in d["reports"]), [
        r for r in d["reports"] if r[2] != 200
    ][:5]
    by_reference = {m[1]: m for m in d["messages"]}
    expected = {"delivered": "delivered", "undelivered": "failed"}
    overwritten = [
        (reference, status, by_reference[reference][2])
        for reference, status, _code, _at in d["reports"]
        if by_reference[reference][2] != expected[status]
    ]
    assert not overwritten, overwritten[:5]
    assert not [m for m in d["messages"] if m[2] in ("queued", "sending")], (
        states,
        d["snapshots"],
        d["cron_lines"][-15:],
    )
    never = [m for m in d["messages"] if m[1] not in accepted]
    unclear = [m for m in never if m[2] in ("sent", "delivered") or not m[3]]
    assert not unclear, unclear[:5]
    assert not d["errors"], d["errors"][:10]
    assert d["reconciler"], d["reconciler_err"]


def test_no_message_accepted_twice(analysed):
    report, examples, _states = analysed
    assert report["duplicates"] == 0, examples["duplicates"][:5]


def test_no_message_lost_and_states_match_the_gateway(analysed):
    report, examples, states = analysed
    problems = {
        key: (report[key], examples[key][:3])
        for key in examples
        if key not in ("duplicates", "stuck_sending_other")
    }
    assert report["lost"] == 0 and not problems, problems
    assert report["queued_left"] == 0, report
    # liveness only: the exact states are checked against the gateway above.
    # Answers that come after the client's timeout become 'unknown' (never
    # re-sent); how many do depends on how fast the one-process stand-in
    # answers concurrent requests on this machine (from a few hundred to most
    # of them), so they count as handled here, not as delivered
    unknown = sum(count for key, count in states.items() if key.startswith("unknown:"))
    assert report["delivered_once"] + unknown > MESSAGES * 0.8, (report, states)


def test_no_stuck_sending_without_kill(analysed):
    """Only the killed worker may leave messages 'sending'."""
    report, examples, _states = analysed
    assert report["stuck_sending_other"] == 0, examples["stuck_sending_other"][:5]


def test_every_failed_or_skipped_message_has_a_reason(stress, analysed):
    _report, _examples, states = analysed
    without = {
        key: count
        for key, count in states.items()
        if key.split(":")[0] in ("failed", "skipped", "cancelled") and key.endswith(":")
    }
    assert not without, without
    # the setup's long bodies and patients without consent, as planned
    assert states.get("failed:too_long", 0) > 0, states
    assert states.get("skipped:no_consent", 0) == stress["setup"]["no_consent"], states


def test_wallet_matches_ledger_and_messages(stress, analysed):
    wallet = stress["wallet_a"]
    moves = wallet["moves"]
    assert wallet["balance"] == sum(moves.values()), wallet
    assert moves.get("topup") == TOPUP_A, wallet
    assert wallet["balance"] == TOPUP_A - _units_spent(stress), (
        wallet,
        _units_spent(stress),
    )
    watcher = stress["watcher"]
    assert watcher.error is None, watcher.error
    assert watcher.polls > 100, watcher.polls
    assert not watcher.ledger_mismatch, watcher.ledger_mismatch[:5]


def test_balance_never_negative(stress, analysed):
    watcher = stress["watcher"]
    assert not watcher.negative, watcher.negative[:5]
    assert all(value >= 0 for value in watcher.minimum.values()), watcher.minimum


def test_dispatch_rounds_do_not_crash(stress, analysed):
    """A cron run that raises logs an ERROR and gives up its batch: report
    every exception of the workers (not only the killed one)."""
    errors = [
        (name, e["round"], e["type"], e["message"])
        for name, events in stress["worker_events"].items()
        for e in events
        if e["event"] == "error"
    ]
    for name, events in stress["worker_events"].items():
        for e in events:
            if e["event"] == "error":
                _out(f"worker {name} round {e['round']} raised:\n{e['traceback']}")
                break
    assert not errors, errors[:10]


def test_concurrent_reservations_never_overdraw(stress):
    results = stress["reservations"]
    assert all(results), results
    paid = [r["paid"] for r in results]
    _out(
        f"\nstress reservations: paid={paid} serialization retries="
        f"{[r['serialization_retries'] for r in results]} balance after="
        f"{stress['balance_b_after_reservations']}"
    )
    assert sum(paid) == RESERVE_INITIAL, paid
    assert all(0 <= p <= RESERVE_EACH for p in paid), paid
    assert stress["balance_b_after_reservations"] == 0
    assert stress["watcher"].minimum.get(stress["setup"]["wallet_b"], 0) >= 0


def test_short_wallet_holds_messages_back_until_top_up(stress):
    first, second = stress["b_first"], stress["b_second"]
    _out(f"\nstress clinic B: first={first} second={second}")
    assert first["states"] == {
        "sent:": FIRST_TOPUP_B,
        "queued:insufficient_balance": MESSAGES_B - FIRST_TOPUP_B,
    }, first
    assert first["balance"] == 0
    assert second["states"] == {"sent:": MESSAGES_B}, second
    assert second["balance"] == 0
    accepted = Counter(e[0] for e in stress["events_b"] if e[2] == "accept")
    assert len(accepted) == MESSAGES_B and set(accepted.values()) == {1}, accepted
    wallet = stress["wallet_b"]
    # the raw reservations of the previous test took units without a ledger line
    assert wallet["balance"] == sum(wallet["moves"].values()) - RESERVE_INITIAL
    assert not first["errors"] and not second["errors"], (
        first["errors"] + second["errors"]
    )[:3]


def test_single_worker_survives_a_concurrent_top_up(stress):
    """With ONE dispatch worker (the cron alone), a manager's top-up made
    while the gateway is being called must not strand the batch: the
    accepted messages end 'sent', the 429 ones queued for a retry. The
    top-up starts while the requests go out; when it meets the batch's
    refund on the wallet row it is retried (as the RPC layer retries a
    manager's Replenish) and commits, maybe after the last request."""
    c = stress["c"]
    _out(f"\nstress single worker + top-up: {c}")
    assert c["first_request"] <= c["topup_started"] <= c["last_request"], c
    assert c["topup_started"] <= c["topup_committed"], c
    assert "sending:" not in c["states"], c
    assert c["states"].get("sent:") == c["answers"].get("accept"), c
    assert not c["errors"], [e["traceback"] for e in c["errors"]][:1]


def test_webhook_parsers_raise_only_documented_errors(stress):
    result = stress["webhook_fuzz"]
    assert result, stress["webhook_fuzz_stderr"]
    RESULTS["fuzz_cases"] += result["cases"]
    RESULTS["fuzz_failures"] += result["failed_cases"]
    grouped = {}
    for failure in result["failures"]:
        key = (failure["function"], failure["flavor"], failure["error"][:40])
        grouped.setdefault(key, failure)
    for key, failure in grouped.items():
        _out(f"\nwebhook fuzz failure {key}: {failure}")
    assert result["cases"] >= WEBHOOK_FUZZ_EXAMPLES * 0.5, result["cases"]
    assert not result["failures"], list(grouped.values())[:5]


# ----------------------------------------------------------------------
# hostile input for the pure tools (no database)
# ----------------------------------------------------------------------
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES_PER_PROPERTY,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
BRACEY = st.text(
    st.sampled_from(list("{}$%#|. _\n\t")) | st.characters(), max_size=60
) | st.builds(
    lambda parts: "".join(parts),
    st.lists(
        st.sampled_from(
            [
                "{patient_name}",
                "{date}",
                "{ time }",
                "{{x}}",
                "${x}",
                "{% if %}",
                "{x.y}",
                "{}",
                "{",
                "}",
                "Bonjour ",
                "é€🎉",
            ]
        )
        | st.text(max_size=5),
        max_size=10,
    ),
)
ANYTHING = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.binary()
    | st.lists(st.text(max_size=5), max_size=3)
)


class FuzzLog:
    """Cases and failures of the pure-tool fuzzers: a failure is recorded,
    not raised, so that every generated case runs and is counted."""

    def __init__(self):
        self.cases = Counter()
        self.failures = []

    def call(self, name, function, documented=()):
        self.cases[name] += 1
        try:
            return function()
        except documented:
            return None
        except Exception as error:  # noqa: BLE001
            self.failures.append((name, f"{type(error).__name__}: {error}"[:200]))
            return None

    def fail(self, name, detail):
        self.failures.append((name, detail[:200]))


LOG = FuzzLog()
KEYWORD_LISTS = (
    st.none()
    | st.text(max_size=20)
    | st.lists(st.text(max_size=8) | st.none() | st.integers(), max_size=4)
)
SECRETS = st.text(max_size=20) | st.binary(max_size=20) | ANYTHING


@FUZZ
@given(text=st.text() | st.none(), smart=st.booleans())
def _fuzz_segments(text, smart):
    info = LOG.call("segments.count", lambda: segments.count(text, smart=smart))
    if info is not None and not (
        info.encoding in ("gsm7", "ucs2")
        and info.parts >= (1 if info.text else 0)
        and info.chars_left >= 0
        and (not smart or info.parts <= segments.count(text).parts)
    ):
        LOG.fail("segments.count invariant", repr((text, info)))


@FUZZ
@given(
    body=BRACEY | st.none(),
    allowed=st.none()
    | st.lists(st.text(max_size=12), max_size=4)
    | st.frozensets(st.sampled_from([*placeholders.PLACEHOLDERS, "x_y"])),
)
def _fuzz_parse(body, allowed):
    LOG.call(
        "placeholders.parse",
        lambda: placeholders.parse(body, allowed=allowed),
        placeholders.PlaceholderError,
    )


@FUZZ
@given(
    body=BRACEY,
    values=st.dictionaries(
        st.sampled_from(list(placeholders.PLACEHOLDERS)) | st.text(max_size=6),
        ANYTHING,
        max_size=5,
    )
    | st.none(),
    limits=st.none()
    | st.dictionaries(
        st.sampled_from(list(placeholders.PLACEHOLDERS)),
        st.none() | st.just(False) | st.integers(-5, 300),
        max_size=4,
    ),
    filler=st.text(max_size=3) | st.none(),
)
def _fuzz_render(body, values, limits, filler):
    LOG.call(
        "placeholders.render",
        lambda: placeholders.render(body, values, limits=limits),
        placeholders.PlaceholderError,
    )
    LOG.call(
        "placeholders.worst_case",
        lambda: placeholders.worst_case(body, limits=limits, filler=filler),
        placeholders.PlaceholderError,
    )


@FUZZ
@given(
    raw=ANYTHING
    | st.from_regex(r"\A[+0(]?[0-9 .()\-]{0,20}\Z")
    | st.text(max_size=300),
    region=st.none()
    | st.just(False)
    | st.sampled_from(["FR", "fr", " be ", "US", "XX", "", "ZZ", "001"])
    | st.text(max_size=4)
    | st.integers(),
)
def _fuzz_phone(raw, region):
    out = LOG.call(
        "phone.normalize_mobile", lambda: phone.normalize_mobile(raw, region)
    )
    if out is not None and not (
        isinstance(out, tuple)
        and len(out) == 2
        and ((out[0] is None) != (out[1] is None))
        and (out[1] is None or out[1] in phone.REASON_LABELS)
    ):
        LOG.fail("phone.normalize_mobile result", repr((raw, out)))


@FUZZ
@given(
    text=ANYTHING
    | st.text(st.sampled_from(list("oui non STOP arrêt ✓👍!.,\u0301")), max_size=30),
    confirm=KEYWORD_LISTS,
    cancel=KEYWORD_LISTS,
    stop=KEYWORD_LISTS,
)
def _fuzz_keywords(text, confirm, cancel, stop):
    out = LOG.call(
        "keywords.classify_reply",
        lambda: keywords.classify_reply(text, confirm, cancel, stop),
    )
    if out not in (None, "confirm", "cancel", "stop"):
        LOG.fail("keywords.classify_reply result", repr(out))


@FUZZ
@given(secret=SECRETS, payload=SECRETS, signature=ANYTHING | st.text())
def _fuzz_hmac(secret, payload, signature):
    out = LOG.call(
        "signatures.verify_hmac",
        lambda: signatures.verify_hmac(secret, payload, signature),
    )
    if out not in (None, True, False):
        LOG.fail("signatures.verify_hmac result", repr(out))


@FUZZ
@given(
    token=SECRETS,
    url=st.text(max_size=40)
    | st.sampled_from(
        [
            "https://127.0.0.1/clinic_sms/dlr/1",
            "http://[::1/x",
            "http://127.0.0.1:99999/x",
            "http://user@127.0.0.1:80/x?a=b",
            "https://127.0.0.1:-1/",
        ]
    )
    | ANYTHING,
    params=st.none()
    | st.dictionaries(
        st.text(max_size=6) | st.integers(),
        ANYTHING | st.lists(ANYTHING, max_size=3),
        max_size=4,
    )
    | ANYTHING,
    signature=ANYTHING | st.text(),
)
def _fuzz_twilio(token, url, params, signature):
    out = LOG.call(
        "signatures.verify_twilio",
        lambda: signatures.verify_twilio(token, url, params, signature),
    )
    if out not in (None, True, False):
        LOG.fail("signatures.verify_twilio result", repr(out))


PURE_FUZZERS = (
    _fuzz_segments,
    _fuzz_parse,
    _fuzz_render,
    _fuzz_phone,
    _fuzz_keywords,
    _fuzz_hmac,
    _fuzz_twilio,
)


def test_pure_tools_raise_only_documented_errors():
    """segments.count, placeholders.parse/render/worst_case,
    phone.normalize_mobile, keywords.classify_reply, signatures.verify_hmac
    and verify_twilio: only PlaceholderError (placeholders) or nothing."""
    LOG.__init__()
    for fuzzer in PURE_FUZZERS:
        fuzzer()
    total = sum(LOG.cases.values())
    RESULTS["fuzz_cases"] += total
    RESULTS["fuzz_failures"] += len(LOG.failures)
    _out(f"\npure-tool fuzz: {dict(LOG.cases)} failures={len(LOG.failures)}")
    for failure in dict.fromkeys(LOG.failures):
        _out(f"pure-tool fuzz failure: {failure}")
    assert total >= 1000, LOG.cases
    assert not LOG.failures, LOG.failures[:10]
