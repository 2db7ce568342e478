from . import clinic_sms_replenish_wizard
