from . import clinic_sms_replenish_wizard
from . import clinic_sms_send_wizard
from . import clinic_sms_send_wizard_recipients
from . import clinic_sms_send_wizard_mailing
from . import clinic_sms_send_wizard_line
from . import clinic_sms_template_preview
