# one file per extension: a provider type and a placeholder
from . import clinic_sms_provider
from . import clinic_sms_template
