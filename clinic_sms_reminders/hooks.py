def post_init_hook(env):
    """Give every existing clinic its (empty) SMS wallet."""
    env["clinic.sms.wallet"].sudo()._ensure_for_companies(env["res.company"].search([]))
