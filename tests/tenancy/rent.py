"""Helpers of the rent tests: a demo lease reshaped to the dates a test needs, its bills gone."""

from datetime import date
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q

from credit.models import Subject
from tenancy.models import (
    ArrearsWarning,
    Bill,
    Contract,
    Exit,
    Payment,
    Reminder,
    Renewal,
    Repair,
    ViolationCase,
)
from tenancy.services import contracts

HOME = "341602"


def lease(
    *,
    county: str = HOME,
    start: date,
    end: date | None = None,
    check_in: date | None = None,
    status: str = Contract.Status.ACTIVE,
    ended_on: date | None = None,
    rent: str = "600.00",
    subsidy: str = "180.00",
    skip: int = 0,
    no_credit_record: bool = False,
) -> Contract:
    """A lease recorded by the demo (the bulk path), now running `start`..`end` with these
    figures and no bills: tests own their dates, so the demo's calendar cannot move them."""
    contract = (
        Contract.objects.filter(number__startswith="CL", household__county__adcode=county)
        .exclude(_in_aftercare())
        .exclude(_credit_subject() if no_credit_record else Q(pk__in=[]))
        .order_by("pk")
        .select_related("household", "unit__building__estate")[skip]
    )
    forget_bills(contract)
    Contract.objects.filter(pk=contract.pk).update(
        start_date=start,
        end_date=end or contracts.add_months(start, 36),
        check_in_date=start if check_in is None else check_in,
        status=status,
        ended_on=ended_on,
        monthly_rent=Decimal(rent),
        monthly_subsidy=Decimal(subsidy),
    )
    contract.refresh_from_db()
    return contract


def _in_aftercare() -> Q:
    """Leases the 配后管理 demo made cases of (a repair, an exit, a review, a violation...):
    a test reshaping one of them would inherit its history."""
    by_unit = [Repair, ViolationCase]
    by_contract = [Exit, Renewal]
    busy = Q(Exists(Contract.objects.filter(renews=OuterRef("pk"))))
    for model in by_unit:
        busy |= Q(Exists(model.objects.filter(unit=OuterRef("unit"))))
    for model in by_contract:
        busy |= Q(Exists(model.objects.filter(contract=OuterRef("pk"))))
    return busy


def _credit_subject() -> Q:
    """Households the credit demo recorded (a record may bar their renewal)."""
    return Q(Exists(Subject.objects.filter(household_id=OuterRef("household_id"))))


def forget_bills(contract: Contract) -> None:
    """The lease's demo bills, payments, reminders and warnings removed (test data only)."""
    Payment.objects.filter(bill__contract=contract).delete()
    Reminder.objects.filter(bill__contract=contract).delete()
    Bill.objects.filter(contract=contract).delete()
    ArrearsWarning.objects.filter(contract=contract).delete()


def bill_of(contract: Contract, month: date) -> Bill:
    return Bill.objects.get(contract=contract, month=month)
