def post_init_hook(env):
    """Give every existing clinic its (empty) SMS wallet and its notification
    settings (disabled, except those the main clinic's data enables)."""
    companies = env["res.company"].search([])
    env["clinic.sms.wallet"].sudo()._ensure_for_companies(companies)
    env["clinic.sms.notification"].sudo()._ensure_for_companies(companies)
