"""Planning of appointment reminders (R-2.1 to R-2.5, R-7.1): rules become
queued messages set-wise, one candidate query and one insert per step of
patients, grouped appointments getting one reminder."""

from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..tools import grouping, quiet_hours
from . import clinic_sms_rule


class ClinicSmsRule(models.Model):
    _inherit = "clinic.sms.rule"

    @api.model
    def _cron_plan_reminders(self):
        rules = self.search([("active", "=", True)])
        for done, rule in enumerate(rules, start=1):
            rule._plan_reminders()
            self.env["ir.cron"]._commit_progress(1, remaining=len(rules) - done)

    def _plan_reminders(self, now=None, events=None):
        """Turn rules into queued messages, set-wise: one candidate query and one
        insert per rule, whatever the number of appointments. ``events`` limits
        the planning to the patients of some appointments (after a create or a
        reschedule).

        Appointments of one patient closer than the clinic's grouping gap get
        ONE reminder, for the first of them (R-2.5). Returns the number of
        messages planned."""
        now = now or fields.Datetime.now()
        if events is None:
            # the whole planning (the cron's) goes over the dispatch's lanes
            # (clinic_sms_dispatch_lanes.py); a booking's stays in its transaction
            dispatcher = self.env["clinic.sms.dispatcher"]
            lanes = dispatcher._lane_count() if dispatcher._can_open_lanes() else 1
            if lanes > 1:
                return self._plan_in_lanes(now, lanes)
        return self._plan_lane(now, events)

    def _plan_in_lanes(self, now, lanes):
        """``_plan_reminders`` over ``lanes`` lanes, each planning the
        patients whose id is its index modulo ``lanes``: a patient's
        appointments stay in one lane, and the lanes' idempotency keys never
        meet. Lane 0 plans in this transaction; the others commit their own
        (a planning is idempotent: what a failed run left is planned once)."""
        ids = self.ids
        planned = self.env["clinic.sms.dispatcher"]._run_in_lanes(
            lanes,
            lambda env, index: (
                env["clinic.sms.rule"].browse(ids)._plan_lane(now, lane=(index, lanes))
            ),
        )
        return sum(planned)

    def _plan_lane(self, now, events=None, lane=None):
        """``_plan_reminders`` of the patients of one lane (``lane``: (index,
        count), the patients whose id is ``index`` modulo ``count``), or of
        all of them."""
        # read at run time from the module that defines it (tests tune it there)
        chunk = clinic_sms_rule.PLANNING_CHUNK
        self.env.flush_all()
        planned = 0
        for rule in self:
            after = 0
            while True:
                rows = rule._plan_candidates(now, events, after, chunk, lane)
                if not rows:
                    break
                planned += rule._insert_planned(rows, now)
                patients = {row[4] for row in rows}
                if len(patients) < chunk:
                    break
                after = max(patients)
        return planned

    def _key_sql(self):
        key = SQL(
            "concat('reminder:', %s::int, ':', e.id, ':', e.clinic_patient_id)", self.id
        )
        if self.resend_on_reschedule:
            key = SQL("concat(%s, ':', to_char(e.start, 'YYYYMMDDHH24MISS'))", key)
        return key

    def _plan_candidates(
        self, now, events, after=0, limit=clinic_sms_rule.PLANNING_CHUNK, lane=None
    ):
        """The appointments the rule applies to in the planning window, with
        whether their reminder already exists, for the next ``limit`` patients
        whose id is above ``after`` (a patient's appointments are never split
        between two steps nor two lanes: grouping needs them together);
        ``lane``: (index, count), only the patients of that lane."""
        self.ensure_one()
        company = self.company_id
        conditions = [
            SQL("e.active"),
            SQL("e.clinic_patient_id IS NOT NULL"),
            SQL("e.clinic_company_id = %s", company.id),
            SQL("e.clinic_status = ANY(%s)", self._statuses()),
            SQL("e.start > %s", now),
        ]
        if self.trigger == "before_start":
            # a day of margin covers DST and moves into the sending window
            horizon = (
                now
                + clinic_sms_rule.PLANNING_HORIZON
                + self._delay_delta()
                + timedelta(days=1)
            )
            conditions.append(SQL("e.start <= %s", horizon))
        else:
            conditions.append(SQL("e.create_date >= %s", self.create_date))
        if events is not None:
            patients = events.clinic_patient_id.ids
            conditions.append(SQL("e.clinic_patient_id = ANY(%s)", patients))
        if lane is not None:
            conditions.append(SQL("e.clinic_patient_id %% %s = %s", lane[1], lane[0]))
        if self.service_ids:
            conditions.append(
                SQL(
                    """EXISTS (SELECT 1 FROM calendar_event_product_product_rel r
                        WHERE r.calendar_event_id = e.id
                          AND r.product_product_id = ANY(%s))""",
                    self.service_ids.ids,
                )
            )
        if self.practitioner_ids:
            conditions.append(
                SQL("e.clinic_practitioner_id = ANY(%s)", self.practitioner_ids.ids)
            )
        key = self._key_sql()
        where = SQL(" AND ").join(conditions)
        self.env.cr.execute(
            SQL(
                """
                WITH step AS (
                    SELECT DISTINCT e.clinic_patient_id AS id
                      FROM calendar_event e
                     WHERE %(where)s AND e.clinic_patient_id > %(after)s
                     ORDER BY 1
                     LIMIT %(limit)s
                )
                SELECT e.id, e.start, e.stop, e.create_date, e.clinic_patient_id,
                       p.clinic_mobile,
                       COALESCE(NULLIF(p.tz, ''), %(company_tz)s), %(key)s,
                       EXISTS (SELECT 1 FROM clinic_sms_message m
                                WHERE m.idempotency_key = %(key)s
                                  AND m.state != 'cancelled'),
                       COALESCE((SELECT NULLIF(rec.event_tz, '')
                                   FROM calendar_recurrence rec
                                  WHERE rec.id = e.recurrence_id AND e.recurrency),
                                %(company_tz)s)
                  FROM calendar_event e
                  JOIN step ON step.id = e.clinic_patient_id
                  JOIN res_partner p ON p.id = e.clinic_patient_id
                 WHERE %(where)s
                """,
                company_tz=company.clinic_sms_tz or "UTC",
                key=key,
                where=where,
                after=after,
                limit=limit,
            )
        )
        return self.env.cr.fetchall()

    def _insert_planned(self, rows, now):
        """Plan one reminder per group of appointments and cancel the queued
        reminders of appointments that are no longer first of their group."""
        self.ensure_one()
        company = self.company_id
        window = company._clinic_sms_window()
        gap = timedelta(hours=company.clinic_sms_group_gap_hours)
        by_id = {row[0]: row for row in rows}
        groups = grouping.group_appointments(
            [(row[4], row[1], row[2], row[0]) for row in rows], gap
        )
        to_insert, grouped_ids = [], []
        company_tz = company.clinic_sms_tz or "UTC"
        # appointments share their start times (the slots of a day): the
        # rule's time and its move into the window are computed once per
        # start and zone, not once per appointment
        send_times, shifted, known_zones = {}, {}, {}
        per_start = self.trigger == "before_start"
        for group in groups:
            grouped_ids += [item[3] for item in group[1:]]
            (
                event_id,
                start,
                _stop,
                create_date,
                partner_id,
                mobile,
                tz_name,
                key,
                exists,
                event_tz,
            ) = by_id[group[0][3]]
            if exists:
                continue
            if tz_name not in known_zones:
                known_zones[tz_name] = quiet_hours.is_known_zone(tz_name)
            if not known_zones[tz_name]:
                tz_name = company_tz
            if event_tz not in known_zones:
                known_zones[event_tz] = quiet_hours.is_known_zone(event_tz)
            if not known_zones[event_tz]:
                event_tz = company_tz
            row = {
                "appointment_id": event_id,
                "appointment_start": start,
                "partner_id": partner_id,
                "phone": mobile,
                "idempotency_key": key,
                "scheduled_at": now,
                "state": "queued",
            }
            if per_start:
                if (start, event_tz) not in send_times:
                    send_times[start, event_tz] = self._send_time(
                        start, create_date, event_tz
                    )
                planned = send_times[start, event_tz]
            else:
                planned = self._send_time(start, create_date, event_tz)
            if planned < create_date:
                # booked after this reminder was due: a visible row says so
                # its key names the start, so a later move of the
                # appointment is planned again
                row.update(
                    idempotency_key=f"{key}:skipped:{start:%Y%m%d%H%M%S}",
                    scheduled_at=planned,
                    state="skipped",
                    reason="due_before_booking",
                )
                to_insert.append(row)
                continue
            if (planned, tz_name, start) not in shifted:
                shifted[planned, tz_name, start] = quiet_hours.shift_into_window(
                    planned, tz_name, window[0], window[1], now, start
                )
            send_at = shifted[planned, tz_name, start]
            if send_at:
                row["scheduled_at"] = send_at
            else:
                row.update(state="skipped", reason="no_allowed_minute")
            to_insert.append(row)
        Message = self.env["clinic.sms.message"]
        if grouped_ids:
            Message.search(
                [
                    ("rule_id", "=", self.id),
                    ("state", "=", "queued"),
                    ("appointment_id", "in", grouped_ids),
                ]
            )._set_state("cancelled", "grouped")
            self.env.flush_all()
        return Message._insert_queued(
            to_insert,
            common={
                "kind": "reminder",
                "purpose": "appointment",
                "company_id": company.id,
                "rule_id": self.id,
                "template_id": self.template_id.id,
            },
        )
