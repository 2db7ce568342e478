"""Odoo side of the waitlist concurrency test (test_waitlist_concurrency.py).

Run as a separate OS process, never imported by Odoo's test loader::

    python3 waitlist_worker.py MODE CONFIG_JSON

* ``setup``: a clinic, two waiting patients, an appointment of a third one in
  three days, cancelled by the reception: the freed slot is offered to both
  waiting patients at once; prints the offer ids;
* ``accept``: open a transaction (its snapshot is taken at once), say
  "ready" through a file, wait for the barrier file, then accept one offer the
  way an inbound reply request runs it: through Odoo's ``retrying`` (a
  serialization failure rolls back and tries again), then commit.

Each mode prints one JSON line on stdout: the result.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from worker_bootstrap import (
    emit,
    environment,
    retried_at_barrier,
    run_mode,
    sandbox_clinic,
    transaction,
)


def setup(cfg):
    with transaction(cfg) as env:
        fr = env.ref("base.fr")
        company, _provider = sandbox_clinic(
            env,
            "Clinique du Parc",
            "Sandbox du Parc",
            clinic_sms_tz="Europe/Paris",
            clinic_sms_waitlist_offer_count=2,
        )
        practitioner = env["res.partner"].create({"name": "Dr Hugo Lefèvre"})
        patients = env["res.partner"].create(
            [
                {
                    "name": name,
                    "phone": phone,
                    "country_id": fr.id,
                    "lang": "fr_FR",
                    "tz": "Europe/Paris",
                }
                for name, phone in (
                    ("Amélie Roux", "06 21 43 65 87"),
                    ("Bastien Morel", "07 81 92 03 14"),
                    ("Chloé Garnier", "06 55 44 33 22"),
                )
            ]
        )
        waiting = env["clinic.sms.waitlist"].create(
            [
                {
                    "partner_id": patient.id,
                    "company_id": company.id,
                    "practitioner_id": practitioner.id,
                    "sequence": index,
                }
                for index, patient in enumerate(patients[:2])
            ]
        )
        day = datetime.now(ZoneInfo("Europe/Paris")).date() + timedelta(days=3)
        start = (
            datetime(
                day.year, day.month, day.day, 10, 0, tzinfo=ZoneInfo("Europe/Paris")
            )
            .astimezone(ZoneInfo("UTC"))
            .replace(tzinfo=None)
        )
        event = env["calendar.event"].create(
            {
                "name": "Détartrage",
                "start": start,
                "stop": start + timedelta(minutes=30),
                "clinic_patient_id": patients[2].id,
                "clinic_practitioner_id": practitioner.id,
                "clinic_company_id": company.id,
                "partner_ids": [(6, 0, (practitioner | patients[2]).ids)],
            }
        )
        event.action_clinic_cancel()
        offers = waiting.offer_ids
        result = {
            "offers": offers.ids,
            "patients": patients[:2].ids,
            "slot": offers.slot_id.id,
            "company": company.id,
        }
    # leaving the block committed the transaction
    emit(result)


def accept(cfg):
    def prepare(env):
        offer = env["clinic.sms.waitlist.offer"].browse(cfg["offer"])
        return offer.state  # the transaction's snapshot starts here

    def work(env, _state_before):
        return env["clinic.sms.waitlist.offer"].browse(cfg["offer"])._accept().ids

    registry, state_before, booked, tries = retried_at_barrier(cfg, prepare, work)
    with registry.cursor() as cr:
        state = environment(cr)["clinic.sms.waitlist.offer"].browse(cfg["offer"]).state
    emit(
        {
            "offer": cfg["offer"],
            "before": state_before,
            "booked": booked,
            "state": state,
            "tries": tries,
        }
    )


if __name__ == "__main__":
    run_mode({"setup": setup, "accept": accept})
