"""Monthly bills: one per lease and month however often the job runs, a crash mid-month leaves
nothing and the rerun completes it, proration at the month's edges, due dates, reminders once
per step and the arrears warning at the county's number of months."""

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count, Q

from archive.models import Event
from housing.models import InboxMessage, SmsMessage
from tenancy import tasks
from tenancy.models import ArrearsWarning, Bill, Contract, Reminder, TenancyPolicy
from tenancy.services import billing, payments
from tests.personas import make_staff
from tests.tenancy.rent import bill_of, lease

ROOT = Path(__file__).resolve().parents[2]
FEN = Decimal("0.01")


def billable(month: date) -> set[int]:
    """The leases a month should bill, worked out here without the service's SQL."""
    last = billing.next_month(month) - timedelta(days=1)
    leases = Contract.objects.filter(
        status__in=["active", "ended"],
        check_in_date__isnull=False,
        check_in_date__lte=last,
        start_date__lte=last,
        end_date__gte=month,
    ).filter(Q(ended_on__isnull=True) | Q(ended_on__gte=month))
    return set(leases.values_list("pk", flat=True))


def prorated(amount: str, days: int, month_days: int) -> Decimal:
    return (Decimal(amount) * days / month_days).quantize(FEN, ROUND_HALF_UP)


# --- idempotent issuing ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_monthly_job_run_twice_issues_one_bill_per_lease():
    month = date(2027, 3, 1)
    expected = billable(month)
    assert len(expected) > 20, "the demo city has leases running in 2027"
    first = billing.issue_bills(month, actor=None, on=month)
    again = billing.issue_bills(month, actor=None, on=month)
    assert (first, again) == (len(expected), 0)
    bills = Bill.objects.filter(month=month)
    assert set(bills.values_list("contract_id", flat=True)) == expected
    assert not bills.values("contract").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert all(b.reference == f"{b.contract.number}-202703" for b in bills.select_related())
    # One summary event for the run that issued bills, none for the run with nothing to do.
    events = Event.objects.filter(action="rent.bills_issued", after__month="2027-03-01")
    assert events.count() == 1 and events.get().after["bills"] == len(expected)


@pytest.mark.django_db
def test_the_daily_task_issues_this_and_last_month_and_is_registered_daily():
    periodic = {
        name: p.cron for (name, _id), p in tasks.app.periodic_registry.periodic_tasks.items()
    }
    assert periodic["tenancy.tasks.issue_bills"] == "10 16 * * *"
    assert periodic["tenancy.tasks.chase_arrears"] == "0 1 * * *"
    # The last day of a month: a lease moved in that day is billed the next morning.
    contract = lease(start=date(2027, 5, 31))
    made = billing.issue_due_bills(today=date(2027, 6, 1))
    assert set(made) == {date(2027, 5, 1), date(2027, 6, 1)}
    assert bill_of(contract, date(2027, 5, 1)).days == 1
    assert billing.issue_due_bills(today=date(2027, 6, 2)) == {
        date(2027, 5, 1): 0,
        date(2027, 6, 1): 0,
    }


# --- a crash in the middle of a month: a real process killed while it writes ------------------


def _backend_waiting_to_insert_bills() -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND position(%s in query) > 0 "
            "AND pid <> pg_backend_pid()",
            [billing.ISSUE_SQL.strip()[:40]],  # the statement's start (activity is truncated)
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _wait_for(condition, what: str, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _issuing_process(month: date) -> subprocess.Popen:
    db = settings.DATABASES["default"]
    user = settings.ANJU_DB_APP_ROLE or db["USER"]  # as the worker runs, as deployed
    env = {
        **os.environ,
        "DATABASE_URL": f"postgis://{user}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DJANGO_DEBUG": "true",
        "SECRET_KEY": "billing-crash-test",
    }
    code = (
        "import datetime; from tenancy.services.billing import issue_bills; "
        f"issue_bills(datetime.date({month.year}, {month.month}, 1), actor=None)"
    )
    return subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def test_a_run_killed_mid_month_leaves_nothing_and_the_rerun_issues_each_bill_once(
    django_db_setup, django_db_blocker
):
    """The statement inserts the month's bills in contract order. Another transaction holds
    the last lease's bill (uncommitted), so the issuing process stops there, its other rows
    written but not committed; it is killed. Nothing of it remains, and the rerun issues
    every bill exactly once."""
    month = date(2027, 9, 1)
    db = settings.DATABASES["default"]
    with django_db_blocker.unblock():
        expected = billable(month)
        assert len(expected) > 20 and not Bill.objects.filter(month=month).exists()
        last = Contract.objects.get(pk=max(expected))
        holder = psycopg.connect(
            host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"]
        )
        process = None
        try:
            holder.execute(
                "INSERT INTO tenancy_bill (contract_id, month, reference, rent, subsidy, "
                "amount, days, paid, status, due_date, issued_at) "
                "VALUES (%s, %s, %s, 1, 0, 1, 30, 0, 'unpaid', %s, now())",
                [last.pk, month, billing.reference_for(last.number, month), month],
            )
            process = _issuing_process(month)
            backend = _wait_for(_backend_waiting_to_insert_bills, "the process to block")
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
            with connection.cursor() as cursor:  # the server side of the crash
                cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
            _wait_for(lambda: _backend_waiting_to_insert_bills() is None, "the rollback")
            holder.rollback()
            assert not Bill.objects.filter(month=month).exists(), "nothing half-issued"

            assert billing.issue_bills(month, actor=None) == len(expected)
            assert billing.issue_bills(month, actor=None) == 0
            issued = Bill.objects.filter(month=month)
            assert sorted(issued.values_list("contract_id", flat=True)) == sorted(expected)
        finally:
            holder.rollback()
            holder.close()
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            Bill.objects.filter(month=month).delete()  # committed: this test cleans up
            connection.close()


# --- proration and due dates -------------------------------------------------------------------

CASES = [
    # (case, check-in, lease end, ended on, month, days, days in month)
    ("whole month", date(2027, 1, 1), None, None, date(2027, 4, 1), 30, 30),
    ("moved in on the first", date(2027, 4, 1), None, None, date(2027, 4, 1), 30, 30),
    ("moved in on the last day", date(2027, 1, 31), None, None, date(2027, 1, 1), 1, 31),
    ("moved in mid-month", date(2027, 6, 15), None, None, date(2027, 6, 1), 16, 30),
    ("lease ends mid-month", date(2027, 1, 1), date(2027, 7, 14), None, date(2027, 7, 1), 14, 31),
    (
        "lease ends on the last day",
        date(2027, 1, 1),
        date(2027, 7, 31),
        None,
        date(2027, 7, 1),
        31,
        31,
    ),
    ("left early", date(2027, 1, 1), None, date(2027, 3, 10), date(2027, 3, 1), 10, 31),
    ("leap day only", date(2028, 2, 29), None, None, date(2028, 2, 1), 1, 29),
    ("February whole", date(2027, 1, 1), None, None, date(2027, 2, 1), 28, 28),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("case", "check_in", "end", "ended_on", "month", "days", "month_days"),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_a_month_is_billed_for_the_days_the_tenancy_covers(
    case, check_in, end, ended_on, month, days, month_days
):
    contract = lease(
        start=min(check_in, date(2027, 1, 1)),
        check_in=check_in,
        end=end,
        ended_on=ended_on,
        status="ended" if ended_on else "active",
        rent="733.33",
        subsidy="219.99",
    )
    billing.issue_bills(month, actor=None, on=month)
    bill = bill_of(contract, month)
    rent, off = prorated("733.33", days, month_days), prorated("219.99", days, month_days)
    assert (bill.days, bill.rent, bill.subsidy, bill.amount) == (days, rent, off, rent - off)
    assert bill.prorated == (days < month_days)


@pytest.mark.django_db
def test_no_bill_before_check_in_after_the_end_or_for_a_lease_not_lived_in():
    before = lease(start=date(2027, 1, 1), check_in=date(2027, 5, 1))
    ended = lease(start=date(2027, 1, 1), status="ended", ended_on=date(2027, 4, 30), skip=1)
    cancelled = lease(start=date(2027, 1, 1), status="cancelled", skip=2)
    signed = lease(start=date(2027, 1, 1), status="signed", skip=3)
    Contract.objects.filter(pk=signed.pk).update(check_in_date=None)
    early = lease(start=date(2027, 5, 10), check_in=date(2027, 4, 20), skip=4)
    billing.issue_bills(date(2027, 4, 1), actor=None, on=date(2027, 4, 1))
    billing.issue_bills(date(2027, 5, 1), actor=None, on=date(2027, 5, 1))
    billed = set(Bill.objects.values_list("contract_id", "month"))
    assert (before.pk, date(2027, 4, 1)) not in billed and (before.pk, date(2027, 5, 1)) in billed
    assert (ended.pk, date(2027, 4, 1)) in billed and (ended.pk, date(2027, 5, 1)) not in billed
    assert not {c for c, _m in billed} & {cancelled.pk, signed.pk}
    # Keys handed over before the lease starts: rent from the lease's first day.
    assert (early.pk, date(2027, 4, 1)) not in billed
    assert bill_of(early, date(2027, 5, 1)).days == 22


@pytest.mark.django_db
def test_the_due_date_is_the_countys_day_or_next_months_for_a_late_move_in():
    whole = lease(start=date(2027, 1, 1))
    TenancyPolicy.objects.filter(county=whole.household.county).update(due_day=10)
    on_time = lease(start=date(2027, 1, 1), check_in=date(2027, 8, 10), skip=1)
    late = lease(start=date(2027, 1, 1), check_in=date(2027, 8, 11), skip=2)
    billing.issue_bills(date(2027, 8, 1), actor=None, on=date(2027, 8, 1))
    assert bill_of(on_time, date(2027, 8, 1)).due_date == date(2027, 8, 10)
    assert bill_of(late, date(2027, 8, 1)).due_date == date(2027, 9, 10)
    # A bill issued late (the job was down) is never due before it exists.
    billing.issue_bills(date(2027, 7, 1), actor=None, on=date(2027, 8, 20))
    assert bill_of(whole, date(2027, 7, 1)).due_date == date(2027, 8, 20)


# --- reminders and warnings ---------------------------------------------------------------------


def _overdue_lease(months: list[date], skip: int = 0) -> Contract:
    contract = lease(start=date(2027, 1, 1), skip=skip)
    for month in months:
        billing.issue_bills(month, actor=None, on=month)
    return contract


def _texts_to(contract: Contract) -> list[str]:
    return list(
        SmsMessage.objects.filter(phone=contract.household.phone)
        .order_by("pk")
        .values_list("text", flat=True)
    )


@pytest.mark.django_db
def test_reminders_go_once_at_each_step_and_only_for_unpaid_bills(
    django_capture_on_commit_callbacks,
):
    month = date(2027, 10, 1)
    contract = _overdue_lease([month])
    paid = _overdue_lease([month], skip=1)
    TenancyPolicy.objects.filter(county=contract.household.county).update(reminder_days=[7, 30])
    payments.record_payment(
        bill_of(paid, month).pk,
        amount=bill_of(paid, month).amount,
        paid_on=date(2027, 10, 5),
        actor=make_staff("r-city", "city", region=contract.household.county.parent),
        today=date(2027, 10, 5),
    )
    due = bill_of(contract, month).due_date
    before = len(_texts_to(contract))

    def steps_after(days: int) -> list[int]:
        with django_capture_on_commit_callbacks(execute=True):
            billing.send_reminders(due + timedelta(days=days))
        return sorted(
            Reminder.objects.filter(bill__contract=contract).values_list("days_overdue", flat=True)
        )

    assert steps_after(6) == []
    assert steps_after(7) == [7]
    assert steps_after(7) == [7] and steps_after(20) == [7]
    assert steps_after(30) == [7, 30]
    assert steps_after(45) == [7, 30]
    texts = _texts_to(contract)[before:]
    assert len(texts) == 2 and "逾期 7 天" in texts[0] and "逾期 30 天" in texts[1]
    assert bill_of(contract, month).reference in texts[0]
    inbox = InboxMessage.objects.filter(applicant=contract.household.applicant)
    assert [m.subject.split("，")[0] for m in inbox.order_by("pk")][-2:] == [
        "租金逾期提醒：逾期 7 天",
        "租金逾期提醒：逾期 30 天",
    ], "each reminder stays as a 站内信, not only an SMS"
    assert not Reminder.objects.filter(bill__contract=paid).exists()
    assert (
        Event.objects.filter(action="rent.reminded", household_id=contract.household_id).count()
        == 2
    )


@pytest.mark.django_db
def test_a_bill_found_late_gets_only_its_latest_step(django_capture_on_commit_callbacks):
    month = date(2027, 10, 1)
    contract = _overdue_lease([month])
    TenancyPolicy.objects.filter(county=contract.household.county).update(reminder_days=[7, 30])
    due = bill_of(contract, month).due_date
    with django_capture_on_commit_callbacks(execute=True):
        billing.send_reminders(due + timedelta(days=40))
    steps = Reminder.objects.filter(bill__contract=contract).values_list("days_overdue", flat=True)
    assert list(steps) == [30]


@pytest.mark.django_db
def test_six_unpaid_months_raise_one_warning_that_a_payment_resolves():
    months = [date(2027, m, 1) for m in range(1, 7)]
    contract = _overdue_lease(months[:5])
    policy = TenancyPolicy.objects.get(county=contract.household.county)
    assert policy.arrears_warning_months == 6
    today = date(2027, 7, 1)
    billing.raise_arrears_warnings(today)
    assert not ArrearsWarning.objects.filter(contract=contract).exists(), "five months"
    billing.issue_bills(months[5], actor=None, on=months[5])
    billing.raise_arrears_warnings(today)
    billing.raise_arrears_warnings(today)
    warning = ArrearsWarning.objects.get(contract=contract)
    assert warning.months == 6 and warning.resolved_at is None
    assert warning.amount == sum(b.amount for b in Bill.objects.filter(contract=contract))
    assert Event.objects.filter(
        action="rent.arrears_warning", household_id=contract.household_id
    ).exists()

    oldest = bill_of(contract, months[0])
    clerk = make_staff("w-district", "district", region=contract.household.county)
    payments.record_payment(
        oldest.pk, amount=oldest.amount, paid_on=today, actor=clerk, today=today
    )
    warning.refresh_from_db()
    assert warning.resolved_at is not None, "five months unpaid again: below the limit"
    assert Event.objects.filter(
        action="rent.arrears_resolved", household_id=contract.household_id
    ).exists()


@pytest.mark.django_db
def test_the_warning_limit_is_the_countys():
    contract = _overdue_lease([date(2027, m, 1) for m in range(1, 4)])
    TenancyPolicy.objects.filter(county=contract.household.county).update(arrears_warning_months=3)
    billing.raise_arrears_warnings(date(2027, 4, 1))
    assert ArrearsWarning.objects.get(contract=contract, resolved_at=None).months == 3
