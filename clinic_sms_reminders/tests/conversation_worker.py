"""Odoo side of the conversation concurrency test
(test_conversation_concurrency.py). Run as a separate OS process, never
imported by Odoo's test loader::

    python3 conversation_worker.py MODE CONFIG_JSON

* ``setup``: a clinic with its sandbox provider and a patient; prints ids;
* ``reply``: open a transaction (its snapshot is taken at once), say "ready"
  through a file, wait for the barrier file, then receive one free-text reply
  of the patient the way the inbound route runs it: through Odoo's
  ``retrying`` (a serialization failure rolls back and tries again), commit.

Each mode prints one JSON line on stdout: the result.
"""

from worker_bootstrap import (
    emit,
    retried_at_barrier,
    run_mode,
    sandbox_clinic,
    transaction,
)


def setup(cfg):
    with transaction(cfg) as env:
        company, provider = sandbox_clinic(
            env, "Cabinet des Tilleuls", "Sandbox des Tilleuls"
        )
        patient = env["res.partner"].create(
            {
                "name": "Margaux Chevalier",
                "phone": "06 73 19 46 28",
                "country_id": env.ref("base.fr").id,
                "company_id": company.id,
            }
        )
        result = {
            "company": company.id,
            "provider": provider.id,
            "patient": patient.id,
            "number": patient.clinic_mobile,
        }
    emit(result)


def reply(cfg):
    def prepare(env):
        provider = env["clinic.sms.provider"].browse(cfg["provider"])
        env.cr.execute("SELECT 1")  # the transaction's snapshot starts here
        return provider

    def work(env, provider):
        inbound = env["clinic.sms.inbound"]._receive(
            provider,
            {"from": cfg["number"], "text": cfg["text"], "external_id": cfg["id"]},
        )
        return inbound.conversation_id.id

    _registry, _provider, conversation, tries = retried_at_barrier(cfg, prepare, work)
    emit({"conversation": conversation, "tries": tries})


if __name__ == "__main__":
    run_mode({"setup": setup, "reply": reply})
