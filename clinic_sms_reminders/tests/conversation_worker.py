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

import json
import sys
import time
from functools import partial

from worker_bootstrap import emit, environment, open_registry, ready_then_wait


def setup(cfg):
    registry = open_registry(cfg)
    with registry.cursor() as cr:
        env = environment(cr)
        fr = env.ref("base.fr")
        company = env["res.company"].create(
            {"name": "Cabinet des Tilleuls", "country_id": fr.id}
        )
        provider = env["clinic.sms.provider"].create(
            {"name": "Sandbox des Tilleuls", "company_id": company.id}
        )
        company.clinic_sms_provider_id = provider
        patient = env["res.partner"].create(
            {
                "name": "Margaux Chevalier",
                "phone": "06 73 19 46 28",
                "country_id": fr.id,
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
    registry = open_registry(cfg)
    from odoo.service.model import retrying

    tries = []
    with registry.cursor() as cr:
        env = environment(cr)
        provider = env["clinic.sms.provider"].browse(cfg["provider"])
        cr.execute("SELECT 1")  # the transaction's snapshot starts here
        ready_then_wait(cfg)

        def attempt():
            tries.append(time.time())
            inbound = env["clinic.sms.inbound"]._receive(
                provider,
                {"from": cfg["number"], "text": cfg["text"], "external_id": cfg["id"]},
            )
            return inbound.conversation_id.id

        conversation = retrying(partial(attempt), env)
    emit({"conversation": conversation, "tries": len(tries)})


if __name__ == "__main__":
    MODES = {"setup": setup, "reply": reply}
    MODES[sys.argv[1]](json.loads(sys.argv[2]))
