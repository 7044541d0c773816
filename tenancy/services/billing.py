"""Monthly rent bills, issued by one set-based statement per month and chased when overdue.

Issuing is idempotent: a bill is unique per contract and month, so the statement inserts only
the bills still missing and a rerun (or a run after a crash, which rolls its whole month back)
adds exactly those. What the tenant owes is the contract's rent minus the contract's subsidy:
both were fixed when the lease was signed and printed in it. A household whose situation
changes gets a new subsidy decision that amends its contract (annual review, 配后管理); the
next bills read the amended figures, and bills already issued stay as they were.

Proration: a month is billed for the days the tenancy covers in it, from the later of the
lease start and the check-in to the earlier of the lease end and the day it ended, at
rent × days / days in the month, rounded to the fen (half up) separately for rent and subsidy.
"""

from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Sum
from django.urls import reverse
from django.utils import timezone

from archive.models import Event
from archive.services import record_event, record_events
from housing.inbox import notify_household
from tenancy.models import ArrearsWarning, Bill, Contract, TenancyPolicy

DEFAULT_DUE_DAY = TenancyPolicy._meta.get_field("due_day").default
DEFAULT_WARNING_MONTHS = TenancyPolicy._meta.get_field("arrears_warning_months").default
BILLED = [Contract.Status.ACTIVE.value, Contract.Status.ENDED.value]

# One statement per month. The due date is the county's due day of the billed month, or of
# the next month when the tenancy begins after that day; never before the bill exists.
ISSUE_SQL = """
WITH span AS (
    SELECT c.id AS contract_id,
           c.number,
           c.monthly_rent,
           c.monthly_subsidy,
           GREATEST(%(month)s::date, c.start_date, c.check_in_date) AS first_day,
           LEAST(%(last)s::date, c.end_date, COALESCE(c.ended_on, c.end_date)) AS last_day,
           COALESCE(p.due_day, %(default_due_day)s) AS due_day
    FROM tenancy_contract c
    JOIN housing_household h ON h.application_id = c.household_id
    LEFT JOIN tenancy_tenancypolicy p ON p.county_id = h.county_id
    WHERE c.status = ANY(%(statuses)s)
      AND c.check_in_date IS NOT NULL
      AND c.check_in_date <= %(last)s::date
      AND c.start_date <= %(last)s::date
      AND c.end_date >= %(month)s::date
      AND COALESCE(c.ended_on, c.end_date) >= %(month)s::date
), priced AS (
    SELECT s.*,
           (s.last_day - s.first_day + 1) AS days,
           round(s.monthly_rent * (s.last_day - s.first_day + 1) / %(month_days)s, 2) AS rent,
           round(s.monthly_subsidy * (s.last_day - s.first_day + 1) / %(month_days)s, 2)
               AS subsidy,
           CASE WHEN s.first_day <= make_date(%(year)s, %(mon)s, s.due_day)
                THEN make_date(%(year)s, %(mon)s, s.due_day)
                ELSE make_date(%(next_year)s, %(next_mon)s, s.due_day)
           END AS due_date
    FROM span s
    WHERE s.last_day >= s.first_day
), inserted AS (
    INSERT INTO tenancy_bill
        (contract_id, month, reference, rent, subsidy, amount, days, paid, status, due_date,
         issued_at)
    SELECT contract_id, %(month)s::date, number || '-' || %(suffix)s, rent, subsidy,
           rent - subsidy, days, 0, 'unpaid', GREATEST(due_date, %(on)s::date), %(at)s
    FROM priced
    ORDER BY contract_id
    ON CONFLICT (contract_id, month) DO NOTHING
    RETURNING amount
)
SELECT count(*), COALESCE(sum(amount), 0) FROM inserted
"""


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)


def previous_month(month: date) -> date:
    return (month.replace(day=1) - timedelta(days=1)).replace(day=1)


def reference_for(contract_number: str, month: date) -> str:
    """What the tenant writes on a bank transfer: the contract number and the month."""
    return f"{contract_number}-{month:%Y%m}"


def issue_bills(month: date, *, actor, on: date | None = None, at: datetime | None = None) -> int:
    """Issue the month's missing bills for every tenancy it covers; returns how many were new.

    `on` is the day of issue (today by default; the demo passes past days as the job would
    have run then); `actor` is the staff member, or None for the scheduled job.
    """
    if month.day != 1:
        raise ValueError("a bill month is its first day")
    on = on or timezone.localdate()
    at = at or timezone.now()
    following = next_month(month)
    params = {
        "month": month,
        "last": following - timedelta(days=1),
        "month_days": (following - month).days,
        "year": month.year,
        "mon": month.month,
        "next_year": following.year,
        "next_mon": following.month,
        "suffix": f"{month:%Y%m}",
        "default_due_day": DEFAULT_DUE_DAY,
        "statuses": BILLED,
        "on": on,
        "at": at,
    }
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(ISSUE_SQL, params)
            count, total = cursor.fetchone()
        if count:
            record_event(
                "rent.bills_issued",
                f"出具 {month:%Y年%m月} 租金账单 {count} 份，应缴合计 {total:,.2f} 元",
                actor=actor,
                after={"month": month.isoformat(), "bills": count, "amount": str(total)},
            )
    return count


def issue_due_bills(today: date | None = None) -> dict[date, int]:
    """The daily job: this month's bills, and last month's for a tenancy that began on its last
    days (after that day's run). Each month commits on its own, so a crash loses nothing."""
    today = today or timezone.localdate()
    current = month_of(today)
    return {
        month: issue_bills(month, actor=None, on=today)
        for month in (previous_month(current), current)
    }


# --- reminders and warnings -----------------------------------------------------------------

# For each unpaid bill, the largest of its county's reminder steps it has reached; a bill whose
# reminder for that step (or a later one) was sent is left alone, so each step is sent once and
# a bill found late is not sent every step it missed at once. Steps that are not small whole
# numbers are ignored (CASE keeps the cast from seeing them).
REMIND_SQL = """
WITH reached AS (
    SELECT b.id AS bill_id, max(step.days) AS days
    FROM tenancy_bill b
    JOIN tenancy_contract c ON c.id = b.contract_id
    JOIN housing_household h ON h.application_id = c.household_id
    JOIN tenancy_tenancypolicy p ON p.county_id = h.county_id
    CROSS JOIN LATERAL (
        SELECT CASE WHEN v ~ '^[0-9]{1,4}$' THEN v::int END AS days
        FROM jsonb_array_elements_text(
            CASE WHEN jsonb_typeof(p.reminder_days) = 'array' THEN p.reminder_days
                 ELSE '[]'::jsonb END
        ) AS v
    ) step
    WHERE b.status <> 'paid'
      AND step.days > 0
      AND b.due_date + step.days <= %(today)s::date
    GROUP BY b.id
)
INSERT INTO tenancy_reminder (bill_id, days_overdue, sent_at)
SELECT r.bill_id, r.days, %(at)s
FROM reached r
WHERE NOT EXISTS (
    SELECT 1 FROM tenancy_reminder done
    WHERE done.bill_id = r.bill_id AND done.days_overdue >= r.days
)
ORDER BY r.bill_id
ON CONFLICT (bill_id, days_overdue) DO NOTHING
RETURNING bill_id, days_overdue
"""


def send_reminders(today: date | None = None, *, at: datetime | None = None) -> int:
    """Overdue bills at a reminder step of their county: one SMS per tenancy naming its overdue
    bills, once per step; each reminder also shows on the tenant's /my/ page. Returns the
    number of reminders recorded."""
    today = today or timezone.localdate()
    at = at or timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(REMIND_SQL, {"today": today, "at": at})
            sent = dict(cursor.fetchall())
        if not sent:
            return 0
        bills = (
            Bill.objects.filter(pk__in=sent)
            .select_related("contract__household__applicant", "contract__unit__building")
            .order_by("contract_id", "month")
        )
        by_contract: dict[int, list[Bill]] = {}
        for bill in bills:
            by_contract.setdefault(bill.contract_id, []).append(bill)
        owing = dict(
            Bill.objects.filter(contract_id__in=by_contract, due_date__lt=today)
            .exclude(status=Bill.Status.PAID)
            .values_list("contract_id")
            .annotate(owed=Sum(F("amount") - F("paid")))
        )
        events = []
        for contract_id, group in by_contract.items():
            contract = group[0].contract
            owed = owing.get(contract_id) or sum(b.outstanding for b in group)
            days = max(sent[b.pk] for b in group)
            notify_household(
                contract.household,
                "rent.overdue_many" if len(group) > 1 else "rent.overdue",
                url=reverse("my-cases"),
                days=days,
                owed=owed,
                reference=group[0].reference,
                count=len(group),
            )
            events.append(
                Event(
                    action="rent.reminded",
                    summary=f"租金逾期提醒（逾期 {days} 天）：合同 {contract.number}，"
                    f"欠缴 {owed:,.2f} 元",
                    household_id=contract.household_id,
                    unit_id=contract.unit_id,
                    estate_id=contract.unit.building.estate_id,
                    after={"bills": [b.reference for b in group], "days_overdue": days},
                )
            )
        record_events(events)
    return len(sent)


# Contracts with at least their county's number of overdue unpaid months; {only} narrows it
# to some contracts (a constant fragment, never a value).
ARREARS_SQL = """
SELECT b.contract_id, count(*) AS months, sum(b.amount - b.paid) AS amount
FROM tenancy_bill b
JOIN tenancy_contract c ON c.id = b.contract_id
JOIN housing_household h ON h.application_id = c.household_id
LEFT JOIN tenancy_tenancypolicy p ON p.county_id = h.county_id
WHERE b.status <> 'paid' AND b.due_date < %(today)s::date {only}
GROUP BY b.contract_id, p.arrears_warning_months
HAVING count(*) >= COALESCE(p.arrears_warning_months, %(default_months)s)
"""
SOME = "AND b.contract_id = ANY(%(ids)s)"

RAISE_SQL = (
    "INSERT INTO tenancy_arrearswarning (contract_id, raised_at, months, amount) "
    "SELECT contract_id, %(at)s, months, amount FROM ("
    + ARREARS_SQL.format(only="")
    + ") due ORDER BY contract_id "
    "ON CONFLICT (contract_id) WHERE resolved_at IS NULL DO NOTHING RETURNING id"
)

RESOLVE_ALL_SQL = (
    "UPDATE tenancy_arrearswarning SET resolved_at = %(at)s WHERE resolved_at IS NULL "
    "AND contract_id NOT IN (SELECT contract_id FROM ("
    + ARREARS_SQL.format(only="")
    + ") still) RETURNING id"
)
RESOLVE_SOME_SQL = (
    "UPDATE tenancy_arrearswarning SET resolved_at = %(at)s WHERE resolved_at IS NULL "
    "AND contract_id = ANY(%(ids)s) AND contract_id NOT IN (SELECT contract_id FROM ("
    + ARREARS_SQL.format(only=SOME)
    + ") still) RETURNING id"
)


def _params(today: date, at: datetime, contract_ids: list[int] | None = None) -> dict:
    return {
        "today": today,
        "at": at,
        "ids": list(contract_ids or []),
        "default_months": DEFAULT_WARNING_MONTHS,
    }


def _warning_events(ids: list[int], action: str, text: str) -> None:
    warnings = ArrearsWarning.objects.filter(pk__in=ids).select_related("contract__unit__building")
    record_events(
        Event(
            action=action,
            summary=text.format(number=w.contract.number, months=w.months, amount=w.amount),
            household_id=w.contract.household_id,
            unit_id=w.contract.unit_id,
            estate_id=w.contract.unit.building.estate_id,
            after={"warning": w.pk, "months": w.months, "amount": str(w.amount)},
        )
        for w in warnings
    )


def raise_arrears_warnings(today: date | None = None, *, at: datetime | None = None) -> int:
    """欠租预警 for every tenancy with its county's number of overdue months unpaid (six by
    default), once while it lasts, for the operator and the county; warnings whose arrears
    fell below the limit are resolved. Returns the number raised."""
    today = today or timezone.localdate()
    at = at or timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(RAISE_SQL, _params(today, at))
            raised = [row[0] for row in cursor.fetchall()]
        _warning_events(
            raised,
            "rent.arrears_warning",
            "欠租预警：合同 {number} 已欠缴 {months} 个月，合计 {amount:,.2f} 元",
        )
        resolve_warnings(None, today=today, at=at)
    return len(raised)


def resolve_warnings(
    contract_ids: list[int] | None, *, today: date | None = None, at: datetime | None = None
) -> int:
    """Close the open warnings (of these contracts, or all) whose arrears are now below the
    limit, e.g. after a payment. Returns the number resolved."""
    today = today or timezone.localdate()
    at = at or timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            sql = RESOLVE_ALL_SQL if contract_ids is None else RESOLVE_SOME_SQL
            cursor.execute(sql, _params(today, at, contract_ids))
            resolved = [row[0] for row in cursor.fetchall()]
        _warning_events(
            resolved,
            "rent.arrears_resolved",
            "欠租预警解除：合同 {number} 欠缴月数已低于预警线（预警时欠 {months} 个月）",
        )
    return len(resolved)
