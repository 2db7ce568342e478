"""Gateway classes, one per transport (R-7.2). The provider model picks one
with ``_get_gateway_class``; an integrator adds a type by inheriting both
(see readme/CONFIGURE.rst)."""

from .base import SmsGateway
from .generic import GENERIC_DLR, FormGateway, GenericGateway, JsonGateway
from .http_base import HttpGateway
from .kannel import DLR_MASK, KANNEL_DLR, KannelGateway
from .local import IapGateway, SandboxGateway
from .twilio import TWILIO_DLR, TwilioGateway

#: provider_type -> gateway class; ``http`` picks by ``http_flavor``
GATEWAYS = {"sandbox": SandboxGateway, "iap": IapGateway}
HTTP_GATEWAYS = {
    "twilio": TwilioGateway,
    "kannel": KannelGateway,
    "json": JsonGateway,
    "form": FormGateway,
}

__all__ = [
    "DLR_MASK",
    "GATEWAYS",
    "GENERIC_DLR",
    "HTTP_GATEWAYS",
    "KANNEL_DLR",
    "TWILIO_DLR",
    "FormGateway",
    "GenericGateway",
    "HttpGateway",
    "IapGateway",
    "JsonGateway",
    "KannelGateway",
    "SandboxGateway",
    "SmsGateway",
    "TwilioGateway",
]
