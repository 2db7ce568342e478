{
    "name": "Clinic SMS: integrator example (tests only)",
    "summary": "A provider type with its webhook and a placeholder, by inheritance",
    "version": "19.0.1.0.0",
    "license": "LGPL-3",
    "author": "Clinic SMS Reminders contributors",
    "depends": ["clinic_sms_reminders"],
}
