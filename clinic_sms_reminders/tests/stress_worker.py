"""Odoo side of the reliability stress test (test_reliability_stress.py).

Run as a separate OS process, never imported by Odoo's test loader::

    python3 stress_worker.py MODE CONFIG_JSON

MODE is one of:

* ``setup``: clinic A with an HTTP "form" provider pointing at the stand-in
  server, a topped-up wallet, patients and queued messages due now; clinic B
  (the concurrent-reservation clinic) with its provider and a small wallet;
* ``dispatch``: one dispatch worker, the way the cron runs it:
  ``_dispatch_due(now=..., batch_size=..., commit=True)`` in a loop, with a
  virtual clock advanced by 2 hours per round so that retries (back-off at
  most 1 hour) become due, until no queued message of the given clinics is
  left (or ``rounds`` rounds were made, or the deadline passed). Every HTTP
  request of the worker carries ``X-Stress-Worker: <name>`` so that the
  stand-in knows who sent what; an exception of one round is logged (as the
  cron would log it) and the next round starts on a fresh cursor;
* ``reserve``: ``wallet._reserve_units([1] * k)`` in its own transaction,
  started at the same moment as the other reservers (retried, as Odoo retries
  a request, when PostgreSQL refuses it with a serialization failure);
* ``queue_b``: queue the messages of clinic B; ``topup``: top up a wallet;
* ``queue_d``: clinic D for the real Odoo server's cron runner: an HTTP
  "form" provider whose delivery reports come back to that server, queued
  messages, and every cron but the dispatch switched off (the dispatch due
  now);
* ``reconcile``: the reconciliation cron's method in a loop (stopped by a
  file), with a short bound for rows left 'sending', as a cron would run it
  while the dispatch runs: a live worker's rows must never be touched;
* ``fuzz``: hostile input for the webhook parsers, which are model methods
  (``_webhook_verify``, ``_webhook_dlr_events``, ``_webhook_inbound_values``
  and the full ``_webhook_dlr`` / ``_webhook_inbound`` in a savepoint) with
  hypothesis; the only documented errors are those the controller turns into
  HTTP 400: ValueError (UnicodeDecodeError included) and werkzeug's BadRequest.

Each mode prints JSON lines on stdout; the last one is the result. Every wait
is bounded. Nothing here changes the addon: the worker only calls it.
"""

import json
import os
import sys
import threading
import time
import traceback
from datetime import datetime, timedelta


def log(**event):
    event.setdefault("t", time.time())
    sys.stdout.write(json.dumps(event, default=str) + "\n")
    sys.stdout.flush()


def open_registry(cfg):
    from odoo.tools import config

    config.parse_config(
        [
            "-d",
            cfg["db"],
            f"--addons-path={cfg['addons_path']}",
            "--log-level=warn",
            "--max-cron-threads=0",
            "--no-http",
            f"--db_maxconn={cfg.get('db_maxconn', 8)}",
        ],
        setup_logging=True,
    )
    from odoo.modules.registry import Registry

    threading.current_thread().dbname = cfg["db"]
    return Registry(cfg["db"])


def environment(cr, **context):
    from odoo import SUPERUSER_ID, api

    return api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True, **context})


def wait_for_file(path, timeout):
    deadline = time.time() + timeout
    while not os.path.exists(path):
        if time.time() > deadline:
            raise TimeoutError(f"{path} did not appear within {timeout} s")
        time.sleep(0.02)


def tag_http_requests(name):
    """Add X-Stress-Worker to every request of this process (instrumentation
    of the test, the addon's code is untouched)."""
    import requests

    original = requests.Session.request

    def request(self, method, url, **kwargs):
        headers = dict(kwargs.pop("headers", None) or {})
        headers["X-Stress-Worker"] = name
        return original(self, method, url, headers=headers, **kwargs)

    requests.Session.request = request


# ----------------------------------------------------------------------
# setup
# ----------------------------------------------------------------------
def body_for(index):
    """Deterministic bodies: mostly one GSM-7 part, some two and three parts,
    some UCS-2, a few longer than the clinic's three parts (failed too_long)."""
    kind = index % 100
    base = f"Clinique A: rappel {index}, RDV demain 10h. Repondez OUI."
    if kind < 10:  # two GSM-7 parts
        return (base + " Merci de venir 10 minutes en avance. ") * 3
    if kind < 13:  # three GSM-7 parts
        return (base + " Apportez votre carte vitale et l'ordonnance. ") * 5
    if kind < 18:  # one UCS-2 part
        return f"Clinique A: rappel {index} 🦷 à demain ✓"
    return base


def setup(cfg):
    registry = open_registry(cfg)
    from odoo import fields

    result = {}
    with registry.cursor() as cr:
        env = environment(cr, mail_create_nolog=True, mail_notrack=True)
        fr = env.ref("base.fr")
        admin = env.ref("base.user_admin")
        company_a = env.ref("base.main_company")
        company_a.write(
            {
                "name": "Clinique A",
                "country_id": fr.id,
                "clinic_sms_max_parts": 3,
                "clinic_sms_sender_name": "CliniqueA",
                "clinic_sms_low_balance_threshold": 10,
                "clinic_sms_quiet_start": 0.0,
                "clinic_sms_quiet_end": 24.0,
            }
        )
        company_b = env["res.company"].create(
            {
                "name": "Clinique B",
                "country_id": fr.id,
                "clinic_sms_sender_name": "CliniqueB",
                "clinic_sms_low_balance_threshold": 0,
                "clinic_sms_quiet_start": 0.0,
                "clinic_sms_quiet_end": 24.0,
            }
        )
        admin.company_ids |= company_b
        providers = env["clinic.sms.provider"]
        for company, path in ((company_a, "send"), (company_b, "ok")):
            provider = providers.create(
                {
                    "name": f"Stand-in {company.name}",
                    "provider_type": "http",
                    "http_flavor": "form",
                    "api_url": f"{cfg['base_url']}/{path}",
                    "company_id": company.id,
                    "timeout": cfg["provider_timeout"],
                    "batch_size": 500,
                    # the stand-in is one Python process on 2 shared cores:
                    # 3 workers x 20 connections swamp it past the 0.5 s
                    # timeout (everything 'unknown'); 8 each keep its faults
                    # (slow, dropped, 429...) the ones it injects on purpose
                    "max_connections": cfg.get("max_connections", 8),
                    "max_attempts": cfg["max_attempts"],
                    "password": "stress-key",
                    "webhook_secret": "stress-secret",
                }
            )
            company.clinic_sms_provider_id = provider
            providers |= provider
        wallets = env["clinic.sms.wallet"]._ensure_for_companies(company_a | company_b)
        wallet_a, wallet_b = wallets[company_a.id], wallets[company_b.id]
        # as the superuser (member of the SMS managers), as a manager would
        wallet_a._top_up(cfg["topup_a"], note="stress")
        wallet_b._top_up(cfg["reserve_initial"], note="stress reservations")

        count = cfg["messages"]
        no_consent = set(range(0, count, count // cfg["no_consent"]))
        partners = env["res.partner"]
        for start in range(0, count, 1000):
            partners |= partners.create(
                [
                    {
                        "name": f"Patient {i:05d}",
                        "phone": f"+33612{i:06d}",
                        "country_id": fr.id,
                        "clinic_consent_appointment": i not in no_consent,
                    }
                    for i in range(start, min(start + 1000, count))
                ]
            )
        bad = partners.filtered(lambda p: not p.clinic_mobile)
        assert not bad, f"patients without a valid mobile: {bad[:3].mapped('phone')}"
        assert len(set(partners.mapped("clinic_mobile"))) == count
        now = fields.Datetime.now()
        rows = []
        for i, partner in enumerate(partners):
            rows.append(
                {
                    "kind": "private",
                    # the patients without consent get an appointment message:
                    # skipped (no_consent); the others mostly essential ones
                    "purpose": "appointment"
                    if i in no_consent or i % 7 == 0
                    else "essential",
                    "company_id": company_a.id,
                    "partner_id": partner.id,
                    "phone": partner.clinic_mobile,
                    "idempotency_key": f"stress:{i}",
                    "scheduled_at": now - timedelta(minutes=5 + i % 30),
                    "state": "queued",
                    # used where _insert_queued knows these columns, else set below
                    "body": body_for(i),
                    "channel": "sms",
                }
            )
        messages = env["clinic.sms.message"]
        inserted = 0
        for start in range(0, count, 2000):
            inserted += messages._insert_queued(rows[start : start + 2000])
        assert inserted == count, inserted
        keys = [row["idempotency_key"] for row in rows]
        cr.execute(
            """
            UPDATE clinic_sms_message m SET body = v.body
              FROM unnest(%s::varchar[], %s::text[]) AS v(key, body)
             WHERE m.idempotency_key = v.key
            """,
            [keys, [body_for(i) for i in range(count)]],
        )
        # a few live duplicates are refused by the idempotency key
        again = messages._insert_queued(rows[:5])
        result.update(
            company_a=company_a.id,
            company_b=company_b.id,
            wallet_a=wallet_a.id,
            wallet_b=wallet_b.id,
            provider_a=providers[0].id,
            provider_b=providers[1].id,
            messages=inserted,
            duplicate_inserts=again,
            no_consent=len(no_consent),
        )
    log(event="result", **result)


def queue_b(cfg):
    """Queue ``count`` messages of clinic B (keys ``prefix:i``) and optionally
    top up its wallet in the same transaction."""
    registry = open_registry(cfg)
    from odoo import fields

    prefix = cfg.get("prefix", "b")
    with registry.cursor() as cr:
        env = environment(cr, mail_create_nolog=True, mail_notrack=True)
        company_b = env["res.company"].browse(cfg["company_b"])
        fr = env.ref("base.fr")
        partners = env["res.partner"].create(
            [
                {
                    "name": f"Patient {prefix} {i:03d}",
                    "phone": f"+336{cfg['phone_block']}{i:06d}",
                    "country_id": fr.id,
                    "company_id": company_b.id,
                }
                for i in range(cfg["count"])
            ]
        )
        now = fields.Datetime.now()
        rows = [
            {
                "kind": "private",
                "purpose": "essential",
                "company_id": company_b.id,
                "partner_id": partner.id,
                "phone": partner.clinic_mobile,
                "idempotency_key": f"stress-{prefix}:{i}",
                "scheduled_at": now - timedelta(minutes=1),
                "state": "queued",
                "channel": "sms",
            }
            for i, partner in enumerate(partners)
        ]
        inserted = env["clinic.sms.message"]._insert_queued(rows)
        cr.execute(
            "UPDATE clinic_sms_message SET body = 'Clinique B: rappel ' || id"
            " WHERE idempotency_key LIKE %s",
            [f"stress-{prefix}:%"],
        )
        if cfg.get("topup"):
            company_b.clinic_sms_wallet_id._top_up(cfg["topup"], note="stress")
    log(event="result", inserted=inserted)


def topup(cfg):
    registry = open_registry(cfg)
    if cfg.get("go_file"):
        open(cfg["ready_file"], "w").close()
        wait_for_file(cfg["go_file"], cfg.get("go_timeout", 120))
    from odoo.service.model import retrying

    started_at = time.time()
    with registry.cursor() as cr:
        env = environment(cr)

        def top_up():
            wallet = env["clinic.sms.wallet"].browse(cfg["wallet"])
            wallet._top_up(cfg["units"], note="stress top-up")
            return wallet.balance

        # a manager's Replenish comes over HTTP, whose RPC layer retries a
        # transaction that met a concurrent reservation: so does this one
        balance = retrying(top_up, env)
    log(
        event="result",
        balance=balance,
        started_at=started_at,
        committed_at=time.time(),
    )


def queue_d(cfg):
    """Clinic D, its provider (reports back to ``server_url``), wallet and
    ``count`` queued messages; only the dispatch cron stays active, due now."""
    registry = open_registry(cfg)
    from odoo import fields

    with registry.cursor() as cr:
        env = environment(cr, mail_create_nolog=True, mail_notrack=True)
        fr = env.ref("base.fr")
        company = env["res.company"].create(
            {
                "name": "Clinique D",
                "country_id": fr.id,
                "clinic_sms_sender_name": "CliniqueD",
                "clinic_sms_low_balance_threshold": 0,
                "clinic_sms_quiet_start": 0.0,
                "clinic_sms_quiet_end": 24.0,
            }
        )
        env.ref("base.user_admin").company_ids |= company
        env.ref("base.user_root").company_ids |= company
        provider = env["clinic.sms.provider"].create(
            {
                "name": "Stand-in D",
                "provider_type": "http",
                "http_flavor": "form",
                "api_url": f"{cfg['base_url']}/real",
                "company_id": company.id,
                "timeout": cfg["provider_timeout"],
                "batch_size": cfg["provider_batch"],
                "max_attempts": cfg["max_attempts"],
                "password": "stress-key",
                "webhook_secret": "stress-secret",
                "callback_base_url": cfg["server_url"],
            }
        )
        company.clinic_sms_provider_id = provider
        wallet = env["clinic.sms.wallet"]._ensure_for_companies(company)[company.id]
        wallet._top_up(cfg["count"] * 3, note="stress D")
        partners = env["res.partner"].create(
            [
                {
                    "name": f"Patient d {i:04d}",
                    "phone": f"+33615{i:06d}",
                    "country_id": fr.id,
                }
                for i in range(cfg["count"])
            ]
        )
        now = fields.Datetime.now()
        rows = [
            {
                "kind": "private",
                "purpose": "essential",
                "company_id": company.id,
                "partner_id": partner.id,
                "phone": partner.clinic_mobile,
                "idempotency_key": f"stress-d:{i}",
                "scheduled_at": now - timedelta(minutes=1),
                "state": "queued",
                "channel": "sms",
                "body": f"Clinique D: rappel {i}, RDV demain 10h.",
            }
            for i, partner in enumerate(partners)
        ]
        inserted = env["clinic.sms.message"]._insert_queued(rows)
        dispatch_cron = env.ref("clinic_sms_reminders.ir_cron_clinic_sms_dispatch")
        crons = env["ir.cron"].with_context(active_test=False).search([])
        (crons - dispatch_cron).write({"active": False})
        dispatch_cron.write({"active": True, "nextcall": now - timedelta(minutes=1)})
        result = {
            "company_d": company.id,
            "provider_d": provider.id,
            "wallet_d": wallet.id,
            "inserted": inserted,
        }
    log(event="result", **result)


def reconcile(cfg):
    """``_reconcile(stuck_after=...)`` every ``interval`` seconds until
    ``stop_file`` exists (once when there is none)."""
    registry = open_registry(cfg)
    stuck_after = timedelta(seconds=cfg["stuck_after"])
    recovered = settled = runs = 0
    while True:
        runs += 1
        with registry.cursor() as cr:
            env = environment(cr)
            done = env["clinic.sms.outcome"]._reconcile(
                commit=True, stuck_after=stuck_after
            )
        recovered += done[0]
        settled += done[1]
        if not cfg.get("stop_file") or os.path.exists(cfg["stop_file"]):
            break
        time.sleep(cfg.get("interval", 0.5))
    log(event="result", runs=runs, recovered=recovered, settled=settled)


# ----------------------------------------------------------------------
# workers
# ----------------------------------------------------------------------
def dispatch(cfg):
    name = cfg["name"]
    registry = open_registry(cfg)
    tag_http_requests(name)
    from psycopg2 import errors

    log(event="ready", name=name, pid=os.getpid())
    open(cfg["ready_file"], "w").close()
    wait_for_file(cfg["go_file"], cfg.get("go_timeout", 120))
    deadline = time.time() + cfg["max_seconds"]
    clock = datetime.utcnow().replace(microsecond=0)  # noqa: DTZ003
    processed_total = rounds = 0
    while time.time() < deadline and rounds < (cfg.get("rounds") or 1000):
        rounds += 1
        clock += timedelta(hours=2)
        started = time.time()
        try:
            with registry.cursor() as cr:
                env = environment(cr)
                processed = env["clinic.sms.message"]._dispatch_due(
                    now=clock, batch_size=cfg["batch_size"], commit=True
                )
        except Exception as error:  # noqa: BLE001
            log(
                event="error",
                name=name,
                round=rounds,
                type=type(error).__name__,
                serialization=isinstance(error, errors.SerializationFailure),
                message=str(error).splitlines()[0] if str(error) else "",
                traceback=traceback.format_exc()[-3000:],
            )
            time.sleep(0.05)
            continue
        processed_total += processed
        with registry.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM clinic_sms_message"
                " WHERE state = 'queued' AND company_id = ANY(%s)"
                " AND (reason IS NULL OR reason != 'insufficient_balance')",
                [cfg["companies"]],
            )
            remaining = cr.fetchone()[0]
        log(
            event="round",
            name=name,
            round=rounds,
            processed=processed,
            remaining=remaining,
            seconds=round(time.time() - started, 3),
        )
        if remaining == 0 and not cfg.get("rounds"):
            break
        if processed == 0:
            time.sleep(0.1)
    log(event="result", name=name, rounds=rounds, processed=processed_total)


def reserve(cfg):
    registry = open_registry(cfg)
    from psycopg2 import errors

    open(cfg["ready_file"], "w").close()
    wait_for_file(cfg["go_file"], cfg.get("go_timeout", 120))
    serialization_retries = 0
    for _attempt in range(50):
        try:
            with registry.cursor() as cr:
                env = environment(cr)
                wallet = env["clinic.sms.wallet"].browse(cfg["wallet"])
                paid = wallet._reserve_units([1] * cfg["k"])
                # hold the row lock a moment so that the reservers overlap
                time.sleep(cfg.get("hold", 0.05))
                cr.execute(
                    "SELECT balance FROM clinic_sms_wallet WHERE id = %s", [wallet.id]
                )
                balance = cr.fetchone()[0]
            break
        except errors.SerializationFailure:
            serialization_retries += 1
            time.sleep(0.01)
    else:
        raise RuntimeError("50 serialization failures in a row")
    log(
        event="result",
        paid=paid,
        balance_after=balance,
        serialization_retries=serialization_retries,
    )


# ----------------------------------------------------------------------
# webhook fuzzing
# ----------------------------------------------------------------------
def fuzz(cfg):
    registry = open_registry(cfg)
    from hypothesis import HealthCheck, example, given, settings
    from hypothesis import strategies as st
    from werkzeug.datastructures import Headers, MultiDict
    from werkzeug.exceptions import BadRequest

    documented = (ValueError, BadRequest)  # UnicodeDecodeError is a ValueError
    stats = {"cases": 0, "failed_cases": 0, "failures": []}

    json_values = st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**70), 2**70)
        | st.floats(allow_nan=False)
        | st.text(max_size=30),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=10), children, max_size=4)
        ),
        max_leaves=12,
    )
    report_keys = st.sampled_from(
        ["reference", "status", "error", "id", "from", "to", "text", "reports", "x"]
    )
    reports = st.dictionaries(report_keys, json_values, max_size=5)
    json_bodies = st.one_of(
        st.builds(
            lambda r, extra: json.dumps({"reports": r, **extra}).encode(),
            st.lists(reports | json_values, max_size=4) | json_values,
            st.dictionaries(report_keys, json_values, max_size=4),
        ),
        st.builds(lambda v: json.dumps(v).encode(), json_values),
        st.binary(max_size=60),
        st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")),
    )
    param_keys = st.sampled_from(
        [
            "ref",
            "sig",
            "status",
            "MessageSid",
            "MessageStatus",
            "ErrorCode",
            "From",
            "To",
            "Body",
            "reference",
            "error",
            "id",
            "from",
            "to",
            "text",
        ]
    ) | st.text(max_size=8)
    params = st.lists(st.tuples(param_keys, st.text(max_size=30)), max_size=8)
    header_values = st.text(
        st.characters(min_codepoint=32, max_codepoint=255), max_size=40
    )
    headers = st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "X-Clinic-Timestamp",
                    "X-Clinic-Signature",
                    "X-Twilio-Signature",
                    "Authorization",
                ]
            ),
            header_values
            | st.integers(0, 2**40).map(str)
            | st.just(str(int(time.time())))
            | st.builds(
                lambda b: "Basic " + __import__("base64").b64encode(b).decode(),
                st.binary(max_size=30),
            ),
        ),
        max_size=4,
    )

    with registry.cursor() as cr:
        env = environment(cr)
        company = env["res.company"].browse(cfg["company_a"])
        providers = {
            flavor: env["clinic.sms.provider"].create(
                {
                    "name": f"Fuzz {flavor}",
                    "provider_type": "http",
                    "http_flavor": flavor,
                    "api_url": "http://127.0.0.1:9/",
                    "company_id": company.id,
                    "username": "ACfuzz",
                    "password": "fuzz-token",
                    "webhook_secret": "fuzz-secret",
                }
            )
            for flavor in ("kannel", "twilio", "json", "form")
        }

        @settings(
            max_examples=cfg["examples"],
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(
            flavor=st.sampled_from(sorted(providers)),
            kind=st.sampled_from(["dlr", "inbound"]),
            params=params,
            headers=headers,
            body=json_bodies,
            query=st.text(max_size=20),
        )
        @example(  # a status that is a list: as a gateway bug or an attacker sends it
            flavor="json",
            kind="dlr",
            params=[],
            headers=[],
            body=b'{"reports": [{"reference": "r1", "status": ["delivered"]}]}',
            query="",
        )
        @example(
            flavor="json",
            kind="dlr",
            params=[],
            headers=[],
            body=b'{"reports": [{"reference": {"a": 1}, "status": "delivered"}]}',
            query="",
        )
        @example(
            flavor="json",
            kind="inbound",
            params=[],
            headers=[("X-Clinic-Timestamp", "\u00b2")],
            body=b'{"from": ["+33612345678"], "text": {"a": 1}, "id": []}',
            query="",
        )
        def case(flavor, kind, params, headers, body, query):
            stats["cases"] += 1
            failed_before = len(stats["failures"])
            provider = providers[flavor]
            data = {
                "url": provider._callback_url(kind) + (f"?{query}" if query else ""),
                "params": MultiDict(params),
                "headers": Headers(headers),
                "body": body,
            }
            for step in ("verify", "parse", "apply"):
                try:
                    with cr.savepoint():
                        if step == "verify":
                            provider._webhook_verify(kind, data)
                        elif step == "parse" and kind == "dlr":
                            provider._webhook_dlr_events(data)
                        elif step == "parse":
                            provider._webhook_inbound_values(data)
                        elif kind == "dlr":
                            provider._webhook_dlr(data)
                        else:
                            provider._webhook_inbound(data)
                except documented:
                    continue
                except Exception as error:  # noqa: BLE001
                    stats["failures"].append(
                        {
                            "function": {
                                "verify": "_webhook_verify",
                                "parse": "_webhook_dlr_events"
                                if kind == "dlr"
                                else "_webhook_inbound_values",
                                "apply": "_webhook_dlr"
                                if kind == "dlr"
                                else "_webhook_inbound",
                            }[step],
                            "flavor": flavor,
                            "error": f"{type(error).__name__}: {error}"[:300],
                            "params": params[:4],
                            "body": body[:200].decode("utf-8", "replace"),
                        }
                    )
            if len(stats["failures"]) > failed_before:
                stats["failed_cases"] += 1

        case()
        cr.rollback()
    log(
        event="result",
        cases=stats["cases"],
        failed_cases=stats["failed_cases"],
        failures=stats["failures"],
    )


MODES = {
    "setup": setup,
    "queue_b": queue_b,
    "queue_d": queue_d,
    "reconcile": reconcile,
    "topup": topup,
    "dispatch": dispatch,
    "reserve": reserve,
    "fuzz": fuzz,
}

if __name__ == "__main__":
    MODES[sys.argv[1]](json.loads(sys.argv[2]))
