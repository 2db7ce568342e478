"""Odoo side of the dispatch lanes test (test_dispatch_lanes.py).

Run as a separate OS process, never imported by Odoo's test loader::

    python3 lanes_worker.py MODE CONFIG_JSON

* ``setup``: a French clinic sending through its sandbox provider, a wallet
  topped up, one patient per name of the multilingual corpus
  (data/patient_names.tsv) with a French mobile, and one queued message each,
  due now, whose text is rendered at the moment of sending from a template
  with the patient's first name;
* ``dispatch``: one cron worker, the way the cron runs it:
  ``_dispatch_due(commit=True)`` on a connection of its own with the addon's
  default number of lanes, started at a barrier shared with the other
  worker. The test's only instrument: every call of ``_prepare_texts`` (the
  Python work of a batch) and of ``_dispatch_batch`` (a whole batch) is
  recorded with its thread, its message ids and when it ran; the addon's code
  is not changed;
* ``plan``: a clinic's appointments, a rule, planned by the cron's method over
  the default lanes and then over one lane (each lane's share recorded).

Each mode prints one JSON line on stdout: the result.
"""

import threading
import time
from datetime import timedelta
from pathlib import Path

from worker_bootstrap import (
    emit,
    environment,
    open_registry,
    ready_then_wait,
    run_mode,
    sandbox_clinic,
    transaction,
)

NAMES = Path(__file__).resolve().parent / "data" / "patient_names.tsv"
COPIES = 3  # patients per name of the corpus


def corpus():
    rows = []
    for line in NAMES.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            lang, _country, tz, name = line.split("\t")
            rows.append((lang, tz, name))
    return rows


def corpus_patients(env, company, people, prefix):
    """The clinic's patients of ``people`` (corpus rows), French mobiles
    ``prefix`` + their index, in the language and zone of their row."""
    langs = set(env["res.lang"].search([]).mapped("code"))
    return env["res.partner"].create(
        [
            {
                "name": name,
                "phone": f"{prefix} {index:06d}",
                "country_id": env.ref("base.fr").id,
                "lang": next((code for code in langs if code[:2] == lang), False),
                "tz": tz,
                "company_id": company.id,
            }
            for index, (lang, tz, name) in enumerate(people)
        ]
    )


def setup(cfg):
    with transaction(cfg) as env:
        env = env(context=dict(env.context, mail_create_nolog=True))
        company, provider = sandbox_clinic(
            env,
            "Cabinet des Lanes",
            "Sandbox des Lanes",
            clinic_sms_tz="Europe/Paris",
            clinic_sms_quiet_start=0.0,
            clinic_sms_quiet_end=24.0,
        )
        env.ref("base.user_root").company_ids |= company
        template = env["clinic.sms.template"].create(
            {
                "name": "Rappel de suivi",
                "company_id": company.id,
                "kind": "reminder",
                "body": "Bonjour {patient_first_name}, {clinic_name} vous rappelle"
                " votre suivi.",
            }
        )
        people = [row for row in corpus() for _copy in range(COPIES)]
        patients = corpus_patients(env, company, people, "06 12")
        wallet = env["clinic.sms.wallet"]._ensure_for_companies(company)[company.id]
        wallet._top_up(len(patients) * 10, note="lanes test")
        now = env.cr.now()
        rows = [
            {
                "kind": "private",
                "purpose": "essential",
                "company_id": company.id,
                "partner_id": patient.id,
                "phone": patient.clinic_mobile,
                "template_id": template.id,
                "idempotency_key": f"lanes:{patient.id}",
                "scheduled_at": now - timedelta(minutes=1),
                "state": "queued",
                "channel": "sms",
            }
            for patient in patients
        ]
        inserted = env["clinic.sms.message"]._insert_queued(rows)
        messages = env["clinic.sms.message"].search([("company_id", "=", company.id)])
        result = {
            "messages": messages.ids,
            "company": company.id,
            "provider": provider.id,
            "wallet": wallet.id,
            "balance": wallet.balance,
            "inserted": inserted,
            "patients": {patient.id: patient.name for patient in patients},
        }
    emit(result)


def dispatch(cfg):
    registry = open_registry(cfg)
    model = registry["clinic.sms.eligibility"]
    original = model._prepare_texts
    calls = []

    def prepare_texts(self, messages, company, changes):
        started = time.monotonic()
        result = original(self, messages, company, changes)
        calls.append(
            {
                "thread": threading.current_thread().name,
                "ids": messages.ids,
                "start": started,
                "end": time.monotonic(),
            }
        )
        return result

    model._prepare_texts = prepare_texts
    engine = registry["clinic.sms.dispatcher"]
    batch = engine._dispatch_batch
    batches = []

    def dispatch_batch(self, messages, now, commit=False, deadline=None):
        started = time.monotonic()
        ids = messages.ids
        try:
            return batch(self, messages, now, commit, deadline)
        finally:
            batches.append(
                {
                    "thread": threading.current_thread().name,
                    "ids": ids,
                    "start": started,
                    "end": time.monotonic(),
                }
            )

    engine._dispatch_batch = dispatch_batch
    with registry.cursor() as cr:
        env = environment(cr)
        lanes = env["clinic.sms.dispatcher"]._lane_count()
        ready_then_wait(cfg)
        processed = env["clinic.sms.message"]._dispatch_due(
            batch_size=cfg["batch_size"], commit=True
        )
    emit({"lanes": lanes, "processed": processed, "calls": calls, "batches": batches})


def plan(cfg):
    """A clinic's appointments of the corpus' patients in three days (every
    tenth patient has a second one an hour later: one reminder for both),
    a rule 24 hours before; planned by the cron's method over the default
    lanes, then again over one lane: both plans are emitted."""
    registry = open_registry(cfg)
    from odoo.fields import Command

    with registry.cursor() as cr:
        env = environment(cr, mail_create_nolog=True)
        company, _provider = sandbox_clinic(
            env, "Cabinet du Plan", "Sandbox du Plan", clinic_sms_tz="Europe/Paris"
        )
        patients = corpus_patients(env, company, corpus(), "07 81")
        day = env.cr.now().replace(hour=7, minute=0, second=0, microsecond=0)
        day += timedelta(days=3)
        events = []
        for index, patient in enumerate(patients):
            starts = [day + timedelta(minutes=15 * (index % 40))]
            if index % 10 == 0:
                starts.append(starts[0] + timedelta(hours=1))
            events += [
                {
                    "name": "Contrôle",
                    "start": start,
                    "stop": start + timedelta(minutes=30),
                    "clinic_patient_id": patient.id,
                    "clinic_company_id": company.id,
                    "partner_ids": [Command.set(patient.ids)],
                }
                for start in starts
            ]
        env["calendar.event"].create(events)
        rule = env["clinic.sms.rule"].create(
            {
                "name": "Rappel 24 h avant",
                "company_id": company.id,
                "template_id": env.ref("clinic_sms_reminders.template_reminder").id,
                "trigger": "before_start",
                "delay": 24,
                "delay_unit": "hours",
            }
        )
        rule_id, patient_count = rule.id, len(patients)
    model = registry["clinic.sms.rule"]
    original = model._plan_lane
    lanes_seen = []

    def plan_lane(self, now, events=None, lane=None):
        planned = original(self, now, events, lane)
        lanes_seen.append([threading.current_thread().name, lane, planned])
        return planned

    model._plan_lane = plan_lane
    plans = []
    # each step in a transaction of its own, committed when its block ends
    for lanes in (None, "1"):
        with registry.cursor() as cr:
            env = environment(cr)
            if lanes:
                env["ir.config_parameter"].set_param(
                    "clinic_sms_reminders.dispatch_lanes", lanes
                )
            env.cr.execute(
                "DELETE FROM clinic_sms_message WHERE rule_id = %s", [rule_id]
            )
        with registry.cursor() as cr:
            environment(cr)["clinic.sms.rule"].browse(rule_id)._plan_reminders()
        with registry.cursor() as cr:
            cr.execute(
                "SELECT idempotency_key, partner_id, appointment_id, state,"
                "       coalesce(reason, ''), scheduled_at::text"
                "  FROM clinic_sms_message WHERE rule_id = %s ORDER BY 1",
                [rule_id],
            )
            plans.append(cr.fetchall())
    with registry.cursor() as cr:
        environment(cr)["ir.config_parameter"].set_param(
            "clinic_sms_reminders.dispatch_lanes", ""
        )
    result = {"patients": patient_count, "plans": plans, "lanes": lanes_seen}
    emit(result)


if __name__ == "__main__":
    run_mode({"setup": setup, "dispatch": dispatch, "plan": plan})
