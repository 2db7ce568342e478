from . import clinic_sms_report_message
from . import clinic_sms_report_attendance
from . import clinic_sms_report_recall
