from odoo import http
from odoo.http import request

ACTIONS = ("confirm", "cancel", "ask")


class ClinicSmsAppointmentLink(http.Controller):
    """The patient's personal page (R-9.1): no login, reached by a signed,
    unguessable link that expires at the end of the appointment. A wrong or
    expired token, or too many of them from one address, gets the same
    neutral page (HTTP 404) and changes nothing."""

    @http.route(
        "/clinic_sms/appointment/<string:token>",
        type="http",
        auth="public",
        methods=["GET"],
    )
    def appointment_page(self, token, **_kw):
        event, refusal = self._guard(token)
        if refusal:
            return refusal
        return self._render(event, token)

    @http.route(
        "/clinic_sms/appointment/<string:token>/<string:action>",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=True,
    )
    def appointment_action(self, token, action, **post):
        event, refusal = self._guard(token)
        if refusal:
            return refusal
        if action not in ACTIONS:
            return self._neutral()
        if action == "confirm":
            done = event._clinic_link_confirm()
        elif action == "cancel":
            done = event._clinic_link_cancel()
        else:
            done = event._clinic_link_ask(post.get("message"))
        event.invalidate_recordset()
        return self._render(event, token, notice=action if done else "refused")

    # ------------------------------------------------------------------
    def _guard(self, token):
        """(appointment, None) for a valid token, else (None, neutral page).
        An address that sent too many wrong tokens is not even checked."""
        Attempt = request.env["clinic.sms.link.attempt"].sudo()
        ip = request.httprequest.remote_addr or "?"
        if Attempt._ip_blocked(ip):
            return None, self._neutral()
        Event = request.env["calendar.event"].sudo()
        event = Event._clinic_link_find(token)
        if not event:
            Attempt._record(ip, failed=True)
            return None, self._neutral()
        digest = event.clinic_link_token_hash
        if Attempt._token_busy(digest):
            return None, self._neutral(status=429)
        Attempt._record(ip, digest)
        return event, None

    def _patient_lang(self, event):
        company = event._clinic_company()
        lang = (
            request.env["clinic.sms.template"]
            .sudo()
            ._patient_lang(event.clinic_patient_id, company)
        )
        installed = {code for code, _name in request.env["res.lang"].get_installed()}
        return lang if lang in installed else "en_US"

    def _neutral(self, status=404):
        return request.render(
            "clinic_sms_reminders.appointment_link_neutral",
            {"title": "—", "no_header": True, "no_footer": True},
            status=status,
            headers=self._headers(),
        )

    def _headers(self):
        # the page and its token stay out of shared caches and referrers
        return [
            ("Cache-Control", "no-store"),
            ("Referrer-Policy", "no-referrer"),
            ("X-Robots-Tag", "noindex, nofollow"),
        ]

    def _render(self, event, token, notice=None):
        lang = self._patient_lang(event)
        request.update_context(lang=lang)
        event = event.with_context(lang=lang)
        company = event._clinic_company()
        template = request.env["clinic.sms.template"].sudo().with_context(lang=lang)
        values = template._placeholder_values(event.clinic_patient_id, event, company)
        address = company.partner_id._display_address(without_company=True)
        return request.render(
            "clinic_sms_reminders.appointment_link_page",
            {
                "event": event,
                "company": company,
                "appointment_date": values.get("date"),
                "appointment_time": values.get("time"),
                "practitioner": values.get("practitioner"),
                "address_lines": [
                    line for line in address.splitlines() if line.strip()
                ],
                "token": token,
                "status": dict(
                    event._fields["clinic_status"]._description_selection(event.env)
                ).get(event.clinic_status),
                "can_confirm": event._clinic_link_can_confirm(),
                "can_cancel": event._clinic_link_can_cancel(),
                "can_ask": event._clinic_link_can_ask(),
                "notice": notice,
                "title": company.name,
                "no_header": True,
                "no_footer": True,
                "html_data": {"lang": lang.replace("_", "-")},
            },
            headers=self._headers(),
        )
