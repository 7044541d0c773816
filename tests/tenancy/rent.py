"""Helpers of the rent tests: a demo lease reshaped to the dates a test needs, its bills gone."""

from datetime import date
from decimal import Decimal

from tenancy.models import ArrearsWarning, Bill, Contract, Payment, Reminder
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
) -> Contract:
    """A lease recorded by the demo (the bulk path), now running `start`..`end` with these
    figures and no bills: tests own their dates, so the demo's calendar cannot move them."""
    contract = (
        Contract.objects.filter(number__startswith="CL", household__county__adcode=county)
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


def forget_bills(contract: Contract) -> None:
    """The lease's demo bills, payments, reminders and warnings removed (test data only)."""
    Payment.objects.filter(bill__contract=contract).delete()
    Reminder.objects.filter(bill__contract=contract).delete()
    Bill.objects.filter(contract=contract).delete()
    ArrearsWarning.objects.filter(contract=contract).delete()


def bill_of(contract: Contract, month: date) -> Bill:
    return Bill.objects.get(contract=contract, month=month)
