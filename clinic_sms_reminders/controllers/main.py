import logging

from werkzeug.exceptions import BadRequest

from odoo import http
from odoo.http import request

_logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024


class ClinicSmsWebhook(http.Controller):
    """Public endpoints for gateways: signature first, then one small ORM call.
    Refused calls (4xx) change nothing (R-7.5)."""

    @http.route(
        "/clinic_sms/dlr/<int:provider_id>",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
    )
    def delivery_report(self, provider_id, **_params):
        return self._handle(provider_id, "dlr")

    @http.route(
        "/clinic_sms/inbound/<int:provider_id>",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
    )
    def inbound(self, provider_id, **_params):
        return self._handle(provider_id, "inbound")

    def _handle(self, provider_id, kind):
        httprequest = request.httprequest
        if (httprequest.content_length or 0) > MAX_BODY:
            return request.make_response("Request too large", status=413)
        body = httprequest.get_data(cache=True)
        if len(body) > MAX_BODY:
            return request.make_response("Request too large", status=413)
        provider = (
            request.env["clinic.sms.provider"].sudo().browse(provider_id).exists()
        )
        # any provider type whose gateway takes webhooks, the integrators' too
        if not provider or not provider._accepts_webhooks():
            return request.make_response("Unknown provider", status=404)
        try:
            params = provider._webhook_params(httprequest)
            data = {
                "url": provider._callback_url(kind)
                + (
                    f"?{httprequest.query_string.decode()}"
                    if httprequest.query_string
                    else ""
                ),
                "params": params,
                # the query string alone (Twilio signs it as part of the URL)
                "query": httprequest.args,
                "headers": httprequest.headers,
                "body": body,
            }
            if not provider._webhook_verify(kind, data):
                _logger.warning(
                    "Refused %s webhook call for provider %s", kind, provider_id
                )
                return request.make_response("Forbidden", status=403)
            if kind == "dlr":
                matched = provider._webhook_dlr(data)
                if not matched:
                    return request.make_response("Unknown message", status=404)
            else:
                received = provider._webhook_inbound(data)
                if received is None:
                    return request.make_response("Already received", status=200)
        except (ValueError, UnicodeDecodeError, BadRequest) as error:
            _logger.info("Malformed %s webhook call: %s", kind, error)
            request.env.cr.rollback()
            return request.make_response("Malformed request", status=400)
        return request.make_response("OK", status=200)
