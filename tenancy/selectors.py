"""Reading rent: a tenant's bills for /my/, and for staff the arrears by estate and by
household and the collection rate by estate and by operator, each one query over the bills of
the estates in a jurisdiction (a Q from geo.jurisdiction.estate_scope)."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, DecimalField, Exists, F, Min, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from tenancy.models import ArrearsWarning, Bill, Contract

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=12, decimal_places=2)
ESTATE = "contract__unit__building__estate"
RECENT = 6  # bills a tenant sees at once (a phone screen); older ones fold away


def overdue(today: date, prefix: str = "") -> Q:
    """Bills past their due date and not paid in full."""
    return Q(**{f"{prefix}due_date__lt": today}) & ~Q(**{f"{prefix}status": Bill.Status.PAID})


def owed(prefix: str = "", where: Q | None = None):
    return Coalesce(
        Sum(F(f"{prefix}amount") - F(f"{prefix}paid"), filter=where, output_field=MONEY),
        ZERO,
        output_field=MONEY,
    )


# --- the tenant ------------------------------------------------------------------------------


@dataclass
class RentAccount:
    """One lease's bills as its tenant sees them, newest first."""

    contract: Contract
    bills: list[Bill] = field(default_factory=list)
    today: date | None = None

    @property
    def outstanding(self) -> Decimal:
        return sum((b.outstanding for b in self.bills), ZERO)

    @property
    def overdue(self) -> list[Bill]:
        return [b for b in self.bills if b.status != Bill.Status.PAID and b.due_date < self.today]

    @property
    def overdue_amount(self) -> Decimal:
        return sum((b.outstanding for b in self.overdue), ZERO)

    @property
    def recent(self) -> list[Bill]:
        return self.bills[:RECENT]

    @property
    def older(self) -> list[Bill]:
        return self.bills[RECENT:]

    @property
    def last_reminder(self):
        """The latest reminder sent for a bill still overdue (shown as the 站内信)."""
        sent = [r for b in self.overdue for r in b.reminders.all()]
        return max(sent, key=lambda r: (r.sent_at, r.days_overdue)) if sent else None

    @property
    def next_due(self) -> Bill | None:
        waiting = [b for b in self.bills if b.status != Bill.Status.PAID and b not in self.overdue]
        return min(waiting, key=lambda b: b.due_date) if waiting else None


def rent_accounts(applicant, today: date) -> list[RentAccount]:
    """The bills of every lease of the applicant's households, with their payments and the
    reminders sent (站内信 on /my/): three queries whatever the history's length."""
    bills = (
        Bill.objects.filter(contract__household__applicant=applicant)
        .select_related("contract")
        .prefetch_related("payments", "reminders")
        .order_by("contract_id", "-month")
    )
    accounts: dict[int, RentAccount] = {}
    for bill in bills:
        account = accounts.setdefault(
            bill.contract_id, RentAccount(contract=bill.contract, today=today)
        )
        account.bills.append(bill)
    return sorted(accounts.values(), key=lambda a: a.contract.start_date, reverse=True)


# --- staff -----------------------------------------------------------------------------------


def arrears_by_estate(scope: Q, today: date) -> QuerySet:
    """Per estate: households in arrears, overdue bills, the amount and the oldest due date."""
    return (
        Bill.objects.filter(scope, overdue(today))
        .values(
            estate_id=F(f"{ESTATE}__id"),
            estate_name=F(f"{ESTATE}__name"),
            district=F(f"{ESTATE}__district__name"),
            operator=F(f"{ESTATE}__operator__name"),
        )
        .annotate(
            households=Count("contract", distinct=True),
            bills=Count("id"),
            amount=owed(),
            oldest=Min("due_date"),
        )
        .order_by("-amount", "estate_name")
    )


def arrears_by_household(scope: Q, today: date, estate_id: int | None = None) -> QuerySet:
    """Per lease in arrears: its household, unit, overdue months and amount, the oldest due
    date and whether a warning is open; the most months first."""
    late = overdue(today, "bills__")
    contracts = Contract.objects.filter(scope)
    if estate_id is not None:
        contracts = contracts.filter(unit__building__estate_id=estate_id)
    return (
        contracts.annotate(
            months=Count("bills", filter=late),
            owed=owed("bills__", late),
            oldest=Min("bills__due_date", filter=late),
            warned=Exists(
                ArrearsWarning.objects.filter(contract=OuterRef("pk"), resolved_at__isnull=True)
            ),
        )
        .filter(months__gt=0)
        .select_related("household", "unit__building__estate")
        .order_by("-months", "-owed", "number")
    )


def collection(scope: Q, first: date, last: date, by: str) -> QuerySet:
    """Billed and paid per estate (by="estate") or operator (by="operator") for the bills of
    the months first..last: the collection rate is paid / billed."""
    group = (
        {
            "key": F(f"{ESTATE}__id"),
            "name": F(f"{ESTATE}__name"),
            "district": F(f"{ESTATE}__district__name"),
        }
        if by == "estate"
        else {"key": F(f"{ESTATE}__operator__id"), "name": F(f"{ESTATE}__operator__name")}
    )
    return (
        Bill.objects.filter(scope, month__gte=first, month__lte=last)
        .values(**group)
        .annotate(
            bills=Count("id"),
            billed=Coalesce(Sum("amount"), ZERO, output_field=MONEY),
            paid_total=Coalesce(Sum("paid"), ZERO, output_field=MONEY),
        )
        .order_by("name")
    )


def rate(paid: Decimal, billed: Decimal) -> Decimal | None:
    """Paid as a percentage of billed, one decimal; None when nothing was billed."""
    if not billed:
        return None
    return (paid * 100 / billed).quantize(Decimal("0.1"))


def open_warnings(scope: Q) -> QuerySet:
    return (
        ArrearsWarning.objects.filter(scope, resolved_at__isnull=True)
        .select_related("contract__household", "contract__unit__building__estate")
        .order_by("-months", "raised_at")
    )
