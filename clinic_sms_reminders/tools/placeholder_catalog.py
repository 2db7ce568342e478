"""The placeholders a template body may name (R-3.1), the labels the
editor shows for them, and the maximum length of each, which bounds the
worst-case rendering and so the number of SMS parts (R-3.4)."""

# Ordered: the editor's "Elements" list shows them in this order.
PLACEHOLDERS = {
    "patient_name": 25,
    "patient_first_name": 20,
    "date": 16,
    "time": 16,
    "practitioner": 22,
    "with_practitioner": 27,
    "office": 5,
    "clinic_name": 30,
    "clinic_phone": 20,
    "service": 30,
    "confirm_keyword": 10,
    "booking_link": 60,
}

PLACEHOLDER_LABELS = {
    "patient_name": "Patient name",
    "patient_first_name": "Patient first name",
    "date": "Date",
    "time": "Time",
    "practitioner": "Practitioner",
    "with_practitioner": "With practitioner (empty without one)",
    "office": "Office",
    "clinic_name": "Clinic name",
    "clinic_phone": "Clinic phone",
    "service": "Service",
    "confirm_keyword": "Confirmation keyword",
    "booking_link": "Booking link",
}

# Placeholders that an integrator allows without giving them a limit still
# need one, otherwise the worst case (and the part count) would be unbounded.
EXTRA_PLACEHOLDER_MAX_LENGTH = 30


def limit_of(name, limits):
    """Maximum length of placeholder ``name``: from ``limits`` when it gives
    one, else the default of :data:`PLACEHOLDERS` (or the integrators' one)."""
    limit = limits.get(name) if limits else None
    if limit is None or limit is False:
        limit = PLACEHOLDERS.get(name, EXTRA_PLACEHOLDER_MAX_LENGTH)
    return max(int(limit), 0)
