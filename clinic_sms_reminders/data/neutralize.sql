-- A copied database must never reach real phones (R-7.9): only the sandbox stays.
UPDATE clinic_sms_provider SET active = false WHERE provider_type != 'sandbox';
UPDATE res_company SET clinic_sms_provider_id = NULL
 WHERE clinic_sms_provider_id IN (SELECT id FROM clinic_sms_provider WHERE NOT active);
