"""Case notes (R-5.7): written for the dispatch engine ``clinic.sms.dispatcher``.

Every message sent to a patient or staff member is logged on their chatter
with the template name and the date, in the clinic's language and time zone,
authored by the user who sent it (OdooBot, the system, for automatic
messages). The note does not repeat the text: the text stays in the clinic's
own history, which other clinics cannot read (a contact may be shared).

The notes are what ``mail.thread._message_log_batch`` writes (internal
note of subtype ``mail.mt_note``, author, reply-to, a tracking message id),
but in one ``INSERT`` per author and batch (``mail.message``'s
``_clinic_sms_insert_notes``), not one ORM ``create`` per note: measured on
5,000 notes (benchmark, n=5000, 2 shared cores), ``_message_log_batch`` took
9.7 s of a 21 s dispatch (46 %: HTML sanitising, inverse-cache updates and
defaults per record), the INSERT about 0.2 s. Every other stored column of
``mail.message`` gets its default as ``create`` would give it, other addons'
fields included, and the created notes are handed to
``mail.message._clinic_sms_case_notes_logged``, the extension point for
addons that must see them (``create`` itself is not called). Tested in
test_end_to_end::test_case_notes_are_escaped_internal_notes and by the
integrator example addon."""

from markupsafe import Markup

from odoo import api, models
from odoo.tools.misc import format_datetime

# kinds a user writes and sends by hand (Send SMS, the inbox)
USER_SENT_KINDS = frozenset({"private", "mass", "conversation"})
# what a case note reads of its message
NOTE_FIELDS = (
    "partner_id",
    "sent_at",
    "kind",
    "create_uid",
    "company_id",
    "template_id",
)


class ClinicSmsCaseNote(models.AbstractModel):
    _name = "clinic.sms.case.note"
    _description = "Clinic SMS case notes"

    @api.model
    def _log_case_notes(self, messages):
        groups = {}
        system = self.env.ref("base.partner_root")
        # only what a note needs (after a commit the cache is empty, and a
        # first read would fetch every column of the batch)
        messages.fetch(NOTE_FIELDS)
        # one pass, each field read once: thousands of messages a batch
        for message in messages:
            partner, sent_at = message.partner_id, message.sent_at
            if not partner or not sent_at:
                continue
            kind = message.kind
            # a message a user wrote and sent is theirs; one the addon sends
            # on its own (reminders, and confirmations of a booking) is the
            # system's, whoever's action planned it
            author = (
                message.create_uid.partner_id if kind in USER_SENT_KINDS else False
            ) or system
            groups.setdefault((message.company_id, author), []).append(
                (partner.id, (message.template_id, kind, sent_at))
            )
        langs = {}
        for (company, author), group in groups.items():
            if company not in langs:
                company.partner_id.fetch(["lang"])
                langs[company] = company.partner_id.lang or "en_US"
            env = self.with_context(lang=langs[company]).env
            kinds = dict(
                env["clinic.sms.message"]._fields["kind"]._description_selection(env)
            )
            title = env._("SMS sent")
            tz_name = company.clinic_sms_tz or "UTC"
            # the messages of a batch share a few templates and send times:
            # each note line is built (and escaped) once, not per message
            lines = {}
            bodies = {}
            for partner_id, key in group:
                if key not in lines:
                    template, kind, sent_at = key
                    lines[key] = Markup("<p><b>%s</b> (%s, %s)</p>") % (
                        title,
                        template.with_env(env).name or kinds.get(kind, ""),
                        format_datetime(env, sent_at, tz=tz_name, dt_format="short"),
                    )
                bodies.setdefault(partner_id, []).append(lines[key])
            env["mail.message"].sudo()._clinic_sms_insert_notes(
                "res.partner",
                # each line is Markup already: joined as text, not escaped again
                {
                    partner_id: Markup("".join(parts))
                    for partner_id, parts in bodies.items()
                },
                author,
            )
