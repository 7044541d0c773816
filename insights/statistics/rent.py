"""租金 in figures: the collection rate per bill month and county, and arrears today."""

from datetime import date
from decimal import Decimal

from django.db.models import Count, DecimalField, F, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from insights import summaries
from insights.models import RentArrears, RentMonth
from insights.statistics.base import Dashboard, Period, Scope, Table, percent
from tenancy.models import ArrearsWarning, Bill
from tenancy.selectors import owed

BILL = "contract__unit__building__estate__"
MONEY = DecimalField(max_digits=14, decimal_places=2)
ZERO = Decimal("0.00")


def _sums() -> dict:
    return {
        "bills": Count("pk"),
        "billed": Coalesce(Sum("amount"), ZERO, output_field=MONEY),
        "paid_total": Coalesce(Sum("paid"), ZERO, output_field=MONEY),
    }


def _cells_live(scope: Scope, period: Period) -> list[dict]:
    """(month, county) cells of the period's bills counted live, before the first rebuild of
    the summary (one scan grouped by month and county; both tables are sums of its cells)."""
    return list(
        Bill.objects.filter(scope.estates(BILL), month__gte=period.first, month__lte=period.last)
        .values("month", adcode=F(f"{BILL}district__adcode"), name=F(f"{BILL}district__name"))
        .annotate(**_sums())
        .order_by()
    )


def _cells_summary(scope: Scope, period: Period) -> list[dict]:
    """The same cells from the worker's per-(month, estate) summary, scoped by its estates."""
    return list(
        RentMonth.objects.filter(
            scope.estates("estate__"), month__gte=period.first, month__lte=period.last
        )
        .values("month", adcode=F("estate__district__adcode"), name=F("estate__district__name"))
        .annotate(
            bills=Sum("bills"),
            billed=Coalesce(Sum("billed"), ZERO, output_field=MONEY),
            paid_total=Coalesce(Sum("paid"), ZERO, output_field=MONEY),
        )
        .order_by()
    )


def _arrears_live(scope: Scope, today: date) -> list[dict]:
    """Per county: leases with a bill past due today and not paid in full, and the sum owed."""
    return list(
        # overdue(today) spelled with the statuses that are not paid: the same bills, but
        # through the (status, due_date) index instead of a scan of every bill ever issued.
        Bill.objects.filter(
            scope.estates(BILL),
            status__in=[s for s in Bill.Status.values if s != Bill.Status.PAID],
            due_date__lt=today,
        )
        .values(name=F(f"{BILL}district__name"))
        .annotate(households=Count("contract", distinct=True), amount=owed())
        .order_by()
    )


def _arrears_summary(scope: Scope) -> list[dict]:
    """The same from the worker's per-estate arrears, valid for the day it was rebuilt on (a
    lease lies in one estate, so the estates' households add up)."""
    return list(
        RentArrears.objects.filter(scope.estates("estate__"))
        .values(name=F("estate__district__name"))
        .annotate(
            households=Sum("households"),
            amount=Coalesce(Sum("amount"), ZERO, output_field=MONEY),
        )
        .order_by()
    )


def rent(scope: Scope, period: Period, today: date | None = None, live: bool = False) -> Dashboard:
    """Billed and paid for the bills of the period's months (the collection rate is paid /
    billed), per month and per county, from the worker's summary once it is built (`live`
    counts afresh); arrears are bills past due and not paid in full today (from the summary
    when it was rebuilt today), with the open arrears warnings (always live)."""
    today = today or timezone.localdate()
    as_of = None if live else summaries.as_of(summaries.RENT)
    cells = _cells_live(scope, period) if as_of is None else _cells_summary(scope, period)
    by_month: dict = {}
    by_county: dict = {}
    for r in cells:
        for table, key in ((by_month, r["month"]), (by_county, (r["adcode"], r["name"]))):
            cell = table.setdefault(key, {"bills": 0, "billed": ZERO, "paid_total": ZERO})
            for field in ("bills", "billed", "paid_total"):
                cell[field] += r[field]
    month_rows = []
    for month in period.months():
        r = by_month.get(month, {"bills": 0, "billed": ZERO, "paid_total": ZERO})
        month_rows.append(
            [
                f"{month:%Y-%m}",
                r["bills"],
                r["billed"],
                r["paid_total"],
                percent(r["paid_total"], r["billed"]),
            ]
        )
    county_rows = [
        [name, r["bills"], r["billed"], r["paid_total"], percent(r["paid_total"], r["billed"])]
        for (_adcode, name), r in sorted(by_county.items())
    ]
    summed = as_of is not None and timezone.localdate(as_of) == today
    late = {
        r["name"]: r for r in (_arrears_summary(scope) if summed else _arrears_live(scope, today))
    }
    warned = dict(
        ArrearsWarning.objects.filter(scope.estates(BILL), resolved_at__isnull=True)
        .values_list(f"{BILL}district__name")
        .annotate(n=Count("pk"))
        .order_by()
    )
    arrears_rows = [
        [
            name,
            late.get(name, {}).get("households", 0),
            late.get(name, {}).get("amount", ZERO),
            warned.get(name, 0),
        ]
        for name in sorted(set(late) | set(warned))
    ]
    columns = [_("账单数"), _("应缴（元）"), _("已缴（元）"), _("收缴率（%）")]
    return Dashboard(
        "rent",
        _("租金收缴与欠费"),
        [
            Table(
                "by_month",
                _("按账期"),
                [_("账期"), *columns],
                month_rows,
                chart="line",
                series=[4],
            ),
            Table("by_county", _("按区县"), [_("区县"), *columns], county_rows, series=[2, 3]),
            Table(
                "arrears",
                _("当前欠费"),
                [_("区县"), _("欠费户数"), _("欠缴金额（元）"), _("未解除的欠租预警")],
                arrears_rows,
                series=[2],
            ),
        ],
        note=_("收缴率按账期统计（已缴 ÷ 应缴）；欠费为今天已过缴费截止日仍未缴清的账单。"),
        as_of=as_of,
    )
