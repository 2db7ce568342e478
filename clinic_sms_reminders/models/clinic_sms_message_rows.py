"""Set-wise writes of messages (R-7.1, R-7.3): planned messages inserted in
one statement, per-message outcomes written in one UPDATE per set of
columns, instead of one ORM call per message."""

from datetime import UTC, datetime

from odoo import api, fields, models
from odoo.tools import SQL

from .clinic_sms_message_constants import QUEUED_COLUMNS, QUEUED_DEFAULTS


def _array_element(value):
    if value is None or value is False:
        return "NULL"
    if type(value) is int:
        return str(value)
    if isinstance(value, datetime) and value.tzinfo:
        value = value.astimezone(UTC).replace(tzinfo=None)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _array_literal(values):
    """One PostgreSQL array literal ('{1,NULL,"a b"}') of ``values``: a
    single string parameter instead of a list that the driver adapts value
    by value (a cast per element, a fifth of the planner's time at 20,000
    rows). False (an empty many2one or char) is NULL, not 0 or 'false';
    datetimes are written in UTC, as Odoo stores them."""
    return "{" + ",".join(map(_array_element, values)) + "}"


class ClinicSmsMessage(models.Model):
    _inherit = "clinic.sms.message"  # pylint: disable=consider-merging-classes-inherited

    # ------------------------------------------------------------------
    # Planning
    # ------------------------------------------------------------------
    @api.model
    def _insert_queued(self, rows, common=None):
        """Insert planned messages (dicts of QUEUED_COLUMNS) in one statement.

        ``common`` holds the values shared by all ``rows`` (the rule, the
        clinic, the template of a planning step): sent once, not once per
        row, like every column that no row names (its default or NULL).

        A message whose idempotency key is already live is silently not
        inserted, so concurrent planners, workers or users cannot create it
        twice. Returns the number of rows inserted."""
        if not rows:
            return 0
        common = common or {}
        named = set().union(*rows)
        named.add("idempotency_key")  # one value per row: unnest needs a column
        scalars, arrays = {}, {}
        for column, sql_type in QUEUED_COLUMNS.items():
            if column in common or column not in named:
                value = common.get(column, QUEUED_DEFAULTS.get(column))
                # False (an empty many2one or char) is NULL, not 0 or 'false'
                scalars[column] = SQL(
                    f"%s::{sql_type}", None if value is False else value
                )
                continue
            default = QUEUED_DEFAULTS.get(column)
            arrays[column] = SQL(
                f"%s::{sql_type}[]",
                _array_literal(row.get(column, default) for row in rows),
            )
        values = [
            *scalars.values(),
            *(SQL("c.%s", SQL.identifier(column)) for column in arrays),
        ]
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO clinic_sms_message (
                    reference, attempt_count, units,
                    create_uid, write_uid, create_date, write_date,
                    %(columns)s)
                SELECT replace(gen_random_uuid()::text, '-', ''), 0, 0,
                       %(uid)s, %(uid)s, %(now)s, %(now)s, %(values)s
                  FROM unnest(%(arrays)s) AS c(%(array_columns)s)
                ON CONFLICT (idempotency_key) WHERE state != 'cancelled' DO NOTHING
                """,
                columns=SQL(", ").join(
                    SQL.identifier(column) for column in [*scalars, *arrays]
                ),
                values=SQL(", ").join(values),
                array_columns=SQL(", ").join(
                    SQL.identifier(column) for column in arrays
                ),
                arrays=SQL(", ").join(arrays.values()),
                uid=self.env.uid,
                now=fields.Datetime.now(),
            )
        )
        self.invalidate_model()
        return self.env.cr.rowcount

    # ------------------------------------------------------------------
    # State transitions
    # ------------------------------------------------------------------
    def _set_state(self, state, reason=False, detail=False):
        if self:
            # messages are read-only for SMS users: the addon's own paths
            # (appointment moved or cancelled, schedule stopped) change them
            self.sudo()._internal().write(
                {"state": state, "reason": reason, "reason_detail": detail}
            )

    def _write_rows(self, vals_by_id, from_states=None):
        """Write different values on many messages at once: one UPDATE per set
        of written columns (``unnest`` of one array per column) instead of one
        ORM write per message (R-7.1).

        ``vals_by_id`` maps message ids to plain column values (ids, strings,
        numbers, datetimes; False is NULL), as the dispatcher computes them.
        The cache holds the written values afterwards (the dispatcher reads
        the same rows again: a re-fetch of every column of every row would
        cost more than the UPDATE); rows left unwritten are invalidated, and
        the fields computed from messages are marked. With ``from_states``,
        only the rows still in one of those states are written (a state only
        moves forward, whoever comes first). Returns the ids written."""
        written = set()
        groups = {}
        for message_id, vals in vals_by_id.items():
            if vals:
                groups.setdefault(tuple(sorted(vals)), []).append((message_id, vals))
        if not groups:
            return written
        records = self.browse(list(vals_by_id))
        records.flush_recordset()
        fnames = set()
        now = self.env.cr.now()
        for columns, rows in groups.items():
            fnames.update(columns)
            arrays = [
                SQL("%s::int4[]", _array_literal(message_id for message_id, _v in rows))
            ]
            for column in columns:
                field = self._fields[column]
                values = [vals[column] for _id, vals in rows]
                if field.type != "boolean":
                    # one array literal (False is NULL), not a list adapted
                    # value by value
                    values = _array_literal(values)
                arrays.append(SQL(f"%s::{field.column_type[1]}[]", values))
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE clinic_sms_message AS m
                       SET %(assignments)s, write_uid = %(uid)s, write_date = %(now)s
                      FROM unnest(%(arrays)s) AS v(id, %(columns)s)
                     WHERE m.id = v.id AND %(condition)s
                 RETURNING m.id
                    """,
                    condition=SQL("m.state = ANY(%s)", list(from_states))
                    if from_states
                    else SQL("TRUE"),
                    assignments=SQL(", ").join(
                        SQL("%s = v.%s", SQL.identifier(c), SQL.identifier(c))
                        for c in columns
                    ),
                    uid=self.env.uid,
                    now=now,
                    arrays=SQL(", ").join(arrays),
                    columns=SQL(", ").join(SQL.identifier(c) for c in columns),
                ),
                # a concurrent report or worker: retried by the caller
                log_exceptions=False,
            )
            done = {row[0] for row in self.env.cr.fetchall()}
            self._cache_written(columns, [(i, vals) for i, vals in rows if i in done])
            written |= done
        for column, value in (("write_date", now), ("write_uid", self.env.uid)):
            cache = self._fields[column]._get_cache(self.env)
            for message_id in written & cache.keys():
                cache[message_id] = value
        unwritten = records.browse([i for i in records.ids if i not in written])
        unwritten.invalidate_recordset([*fnames, "write_date", "write_uid"])
        records.modified(fnames)
        return written

    def _cache_written(self, columns, rows):
        """Put the values just written by ``_write_rows`` in the cache, as the
        ORM would after a write (``rows``: (id, vals))."""
        empty = self.browse()
        for column in columns:
            field = self._fields[column]
            cache = field._get_cache(self.env)
            for message_id, vals in rows:
                cache[message_id] = field.convert_to_cache(
                    vals[column], empty, validate=False
                )

    # What gateways read of a message while it is 'sending': nobody changes
    # these columns of a row handed over (a report changes its state only).
    PAYLOAD_FIELDS = ("reference", "phone", "body", "company_id", "provider_id")

    def _payload_snapshot(self):
        """{field: {id: cached value}} of ``PAYLOAD_FIELDS`` for these rows, to
        put back in the cache after a commit (Odoo empties the whole cache on
        commit; the gateway would read every column of the batch again)."""
        self.fetch(self.PAYLOAD_FIELDS)
        snapshot = {}
        for fname in self.PAYLOAD_FIELDS:
            cache = self._fields[fname]._get_cache(self.env)
            snapshot[fname] = {i: cache[i] for i in self.ids if i in cache}
        return snapshot

    def _restore_payload(self, snapshot):
        """Put back values of ``_payload_snapshot`` for these rows that the
        cache lost (a commit), leaving the ones it holds untouched."""
        for fname, values in snapshot.items():
            cache = self._fields[fname]._get_cache(self.env)
            for message_id in self.ids:
                if message_id not in cache and message_id in values:
                    cache[message_id] = values[message_id]
