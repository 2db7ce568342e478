# one file per extension: a provider type, a placeholder, mail.message
from . import clinic_sms_provider
from . import clinic_sms_template
from . import mail_message
