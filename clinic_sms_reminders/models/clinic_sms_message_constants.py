"""Vocabulary of ``clinic.sms.message``: kinds, states, reasons, purposes,
and the columns of a planned row."""

from datetime import timedelta

MESSAGE_KINDS = [
    ("confirmation", "Confirmation"),
    ("reschedule", "Change of time"),
    ("cancellation", "Cancellation"),
    ("no_show", "No-show"),
    ("done", "Thank you"),
    ("reminder", "Reminder"),
    ("recall", "Recall"),
    ("birthday", "Birthday"),
    ("mass", "Mass mailing"),
    ("private", "Private message"),
    ("scheduled", "Scheduled reminder"),
]
MESSAGE_STATES = [
    ("queued", "Queued"),
    ("sending", "Sending"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("failed", "Failed"),
    ("unknown", "Unknown outcome"),
    ("cancelled", "Cancelled"),
    ("skipped", "Skipped"),
]
# Why a message was skipped, cancelled, held back or failed: stable codes so the
# history can be filtered and translated.
REASONS = [
    ("no_mobile", "No mobile number"),
    ("invalid_number", "Invalid mobile number"),
    ("no_consent", "No consent for this purpose"),
    ("blacklisted", "Opted out (blacklisted)"),
    ("duplicate", "Duplicate number"),
    ("appointment_cancelled", "Appointment cancelled, archived or deleted"),
    ("appointment_moved", "Appointment moved to another time"),
    ("appointment_status", "Appointment status no longer matches the rule"),
    ("appointment_started", "Appointment already started"),
    ("no_allowed_minute", "No allowed sending minute before the appointment"),
    ("due_before_booking", "Booked after this reminder was due"),
    ("birthday_passed", "Birthday over before an allowed sending minute"),
    ("outside_window", "Waiting for the clinic's sending window"),
    ("grouped", "Covered by the message of an earlier appointment"),
    ("too_long", "Message longer than the clinic's maximum parts"),
    ("render_error", "Template could not be rendered"),
    ("insufficient_balance", "Waiting for message units"),
    ("no_provider", "No SMS provider configured"),
    ("provider_temporary", "Temporary provider failure"),
    ("provider_rejected", "Rejected by the provider"),
    ("undelivered", "Not delivered to the phone"),
    ("ambiguous", "No clear answer: the provider may have accepted it"),
    ("worker_stopped", "Worker stopped mid-send"),
    ("stopped", "Stopped by a user"),
    ("recall_booked", "Already booked for one of the services"),
    ("no_channel", "No valid mobile or email"),
]
PURPOSES = [
    ("appointment", "Appointment"),
    ("recall", "Recall"),
    ("marketing", "Marketing"),
    ("essential", "Essential"),
]
CONSENT_FIELD = {
    "appointment": "clinic_consent_appointment",
    "recall": "clinic_consent_recall",
    "marketing": "clinic_consent_marketing",
}
# Marker in the context of the addon's own writes (dispatch, planning, state
# changes): a context coming over RPC is JSON and can never hold this object.
INTERNAL = object()
# Written by the dispatcher only (never given by a user creating a message).
OUTCOME_FIELDS = frozenset(
    (
        "reason",
        "reason_detail",
        "sent_at",
        "delivered_at",
        "attempt_count",
        "units",
        "encoding",
        "provider_id",
        "provider_message_id",
        "sending_since",
        "resend_of_id",
        "resent_by_id",
        "resent_at",
    )
)
QUEUED_DEFAULTS = {"channel": "sms", "purpose": "appointment", "state": "queued"}


def retry_delay(attempt):
    """Back-off after the ``attempt``-th try: 1, 2, 4, 8... minutes, at most 1 h."""
    return timedelta(minutes=min(2 ** max(attempt - 1, 0), 60))


# Columns of a planned message and their SQL types, for _insert_queued.
QUEUED_COLUMNS = {
    "kind": "varchar",
    "purpose": "varchar",
    "company_id": "int",
    "rule_id": "int",
    "template_id": "int",
    "appointment_id": "int",
    "appointment_start": "timestamp",
    "partner_id": "int",
    "phone": "varchar",
    "idempotency_key": "varchar",
    "scheduled_at": "timestamp",
    "state": "varchar",
    "reason": "varchar",
    "mailing_id": "int",
    "schedule_id": "int",
    "recall_id": "int",
    "channel": "varchar",
    "body": "text",
}
