# one file per extension: a placeholder (clinic.sms.template) would go here too
from . import clinic_sms_provider
