from odoo import tools
from odoo.tools import SQL


def replace_view(model, select):
    """(Re)create the SQL view behind the report ``model`` (``_auto = False``)
    from its ``select`` query (an ``SQL``), as its ``init`` does at install and
    upgrade."""
    tools.drop_view_if_exists(model.env.cr, model._table)
    model.env.cr.execute(
        SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(model._table), select)
    )
