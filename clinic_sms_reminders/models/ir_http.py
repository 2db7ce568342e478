from odoo import models
from odoo.http import request

from ..controllers.main import MAX_BODY


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _pre_dispatch(cls, rule, args):
        result = super()._pre_dispatch(rule, args)
        httprequest = request.httprequest
        if httprequest.path.startswith("/clinic_sms/") and (
            0 < (httprequest.content_length or 0) <= MAX_BODY
        ):
            # Odoo parses form bodies before the controller runs, which
            # consumes them; webhook signatures cover the raw body, so
            # keep it (werkzeug parses the form from this cached copy).
            httprequest.get_data(cache=True)
        return result
