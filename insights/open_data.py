"""开放数据: the registry of public datasets, their rows as of the end of yesterday, and the
small-count suppression every output (page, CSV, JSON) applies.

Each figure is an aggregate over rows stamped before today 00:00 (local time), so a dataset is
the same all day and cacheable per (slug, date). The staff dashboards (insights/statistics)
count up to now and over every estate in scope; the public figures need a fixed cut-off and
published estates only, so their grouped queries live here.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import (
    Aggregate,
    Count,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, ExtractYear, TruncMonth, TruncQuarter
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from allocation.models import Offer, Round, RoundUnit, WaitlistEntry
from credit.models import Level, Record
from geo.models import Unit, public_estate_q
from housing.models import Application
from insights.statistics.base import months_before, percent
from tenancy.models import Bill, Payment, Repair

MONTHS_SHOWN = 24  # monthly datasets cover the last two years
DAYS_PER_MONTH = Decimal("30.4375")  # a mean Gregorian month, for waiting time in months
MONEY = DecimalField(max_digits=14, decimal_places=2)
ZERO = Decimal("0.00")
LICENCE = _("本数据按“知识共享 署名 4.0 国际”（CC BY 4.0）许可开放，使用时请注明来源。")

# Column kinds: a label; a count of people, households or their cases (suppressed when small);
# a count of things that are public anyway (units, rounds: never suppressed); and figures
# derived from other columns (suppressed when any column they are derived from is).
LABEL, COUNT, NUMBER, RATE, MEDIAN, AMOUNT = "label", "count", "number", "rate", "median", "amount"


@dataclass(frozen=True)
class Column:
    key: str
    title: Promise
    unit: Promise | str = ""
    kind: str = LABEL
    base: tuple[str, ...] = ()  # the columns a derived figure is computed from


@dataclass(frozen=True)
class Chart:
    """How the page's chart reads the rows: `x` is the category column; with `group` one series
    per value of that column (county × month), else one series per column in `series`."""

    kind: str
    x: str
    series: tuple[str, ...]
    group: str = ""


@dataclass(frozen=True)
class Dataset:
    slug: str
    title: Promise
    description: Promise
    source: Promise
    update_rule: Promise
    columns: tuple[Column, ...] = ()
    build: Callable[[datetime], list[dict]] | None = None
    chart: Chart | None = None
    link: str = ""  # a URL name: a dataset published elsewhere on the site

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


def threshold() -> int:
    return max(0, int(getattr(settings, "ANJU_OPEN_DATA_MIN_COUNT", 5)))


def cutoff_for(today: date) -> datetime:
    """Today 00:00 local: every figure counts what happened before it."""
    return timezone.make_aware(datetime.combine(today, time.min))


def as_of(today: date | None = None) -> date:
    """The last whole day the figures cover."""
    return (today or timezone.localdate()) - timedelta(days=1)


class Median(Aggregate):
    """PostgreSQL's median (percentile_cont); works on intervals too."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"


def _months(value: timedelta | None) -> Decimal | None:
    if value is None:
        return None
    days = Decimal(value.total_seconds()) / 86400
    return (days / DAYS_PER_MONTH).quantize(Decimal("0.1"))


def _hours(value: timedelta | None) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(value.total_seconds()) / 3600).quantize(Decimal("0.1"))


def _month(value: datetime | date) -> str:
    return f"{value:%Y-%m}"


def _quarter(value: datetime | date) -> str:
    return f"{value.year}Q{(value.month - 1) // 3 + 1}"


# --- 房源与空置 -------------------------------------------------------------------------------

UNIT = "building__estate__"


def _units(cutoff: datetime):
    """Units keep no history of their status, so the stock is read when the day's figures are
    first computed (just after midnight, then cached): a snapshot, not a count before the
    cut-off. Units of unpublished estates are not public and are not counted."""
    return Unit.objects.filter(public_estate_q(UNIT))


def _vacancy_figures() -> dict:
    return {"units": Count("pk"), "vacant": Count("pk", filter=Q(status=Unit.Status.VACANT))}


def vacancy_by_county(cutoff: datetime) -> list[dict]:
    """Units of published estates and how many stand vacant, per county."""
    rows = (
        _units(cutoff)
        .values(county=F(f"{UNIT}district__name"), adcode=F(f"{UNIT}district__adcode"))
        .annotate(**_vacancy_figures())
        .order_by("adcode")
    )
    return [
        {
            "county": r["county"],
            "units": r["units"],
            "vacant": r["vacant"],
            "rate": percent(r["vacant"], r["units"]),
        }
        for r in rows
    ]


def vacancy_by_estate(cutoff: datetime) -> list[dict]:
    """The same per published estate (its name is public on the portal already)."""
    rows = (
        _units(cutoff)
        .values(
            estate=F(f"{UNIT}name"),
            key=F(f"{UNIT}pk"),
            county=F(f"{UNIT}district__name"),
            adcode=F(f"{UNIT}district__adcode"),
        )
        .annotate(**_vacancy_figures())
        .order_by("adcode", "estate", "key")
    )
    return [
        {
            "estate": r["estate"],
            "county": r["county"],
            "units": r["units"],
            "vacant": r["vacant"],
            "rate": percent(r["vacant"], r["units"]),
        }
        for r in rows
    ]


# --- 申请与审批 -------------------------------------------------------------------------------


def applications(cutoff: datetime) -> list[dict]:
    """Applications submitted, approved and refused per county and month (of the submission,
    of the decision), for the last 24 months."""
    first = timezone.make_aware(
        datetime.combine(months_before(cutoff.date().replace(day=1), MONTHS_SHOWN - 1), time.min)
    )
    cells: dict[tuple, dict] = {}

    def cell(adcode: str, county: str, month: datetime) -> dict:
        return cells.setdefault(
            (adcode, _month(timezone.localtime(month))),
            {"county": county, "submitted": 0, "approved": 0, "rejected": 0},
        )

    for r in (
        Application.objects.filter(submitted_at__gte=first, submitted_at__lt=cutoff)
        .values("county__adcode", "county__name", m=TruncMonth("submitted_at"))
        .annotate(n=Count("pk"))
        .order_by()
    ):
        cell(r["county__adcode"], r["county__name"], r["m"])["submitted"] = r["n"]
    for r in (
        Application.objects.filter(
            stage__in=["approved", "rejected"], decided_at__gte=first, decided_at__lt=cutoff
        )
        .values("county__adcode", "county__name", "stage", m=TruncMonth("decided_at"))
        .annotate(n=Count("pk"))
        .order_by()
    ):
        cell(r["county__adcode"], r["county__name"], r["m"])[r["stage"]] = r["n"]
    return [
        {"county": c["county"], "month": month, **{k: c[k] for k in c if k != "county"}}
        for (_adcode, month), c in sorted(cells.items())
    ]


# --- 轮候 -------------------------------------------------------------------------------------


def waitlist(cutoff: datetime) -> list[dict]:
    """Households waiting at the end of yesterday and the median time they have waited."""
    waited = ExpressionWrapper(Value(cutoff) - F("queued_at"), output_field=DurationField())
    rows = (
        WaitlistEntry.objects.filter(status=WaitlistEntry.Status.WAITING, queued_at__lt=cutoff)
        .values("county__adcode", "county__name")
        .annotate(households=Count("pk"), median=Median(waited, output_field=DurationField()))
        .order_by("county__adcode")
    )
    return [
        {
            "county": r["county__name"],
            "households": r["households"],
            "median_months": _months(r["median"]),
        }
        for r in rows
    ]


# --- 配租 -------------------------------------------------------------------------------------


def allocation(cutoff: datetime) -> list[dict]:
    """Rounds announced per county and quarter, the units they offered and the households
    housed by them (offers accepted before the cut-off)."""
    announced = Q(announced_at__lt=cutoff)
    cells: dict[tuple, dict] = {}

    def cell(adcode: str, county: str, quarter: datetime) -> dict:
        return cells.setdefault(
            (adcode, _quarter(timezone.localtime(quarter))),
            {"county": county, "rounds": 0, "units": 0, "housed": 0},
        )

    for r in (
        Round.objects.filter(announced)
        .values("county__adcode", "county__name", q=TruncQuarter("announced_at"))
        .annotate(n=Count("pk"))
        .order_by()
    ):
        cell(r["county__adcode"], r["county__name"], r["q"])["rounds"] = r["n"]
    through = [
        (RoundUnit.objects.all(), "units"),
        (
            Offer.objects.filter(status=Offer.Status.ACCEPTED, decided_at__lt=cutoff),
            "housed",
        ),
    ]
    for queryset, key in through:
        for r in (
            queryset.filter(round__announced_at__lt=cutoff)
            .values(
                "round__county__adcode",
                "round__county__name",
                q=TruncQuarter("round__announced_at"),
            )
            .annotate(n=Count("pk"))
            .order_by()
        ):
            cell(r["round__county__adcode"], r["round__county__name"], r["q"])[key] = r["n"]
    return [
        {"county": c["county"], "quarter": quarter, **{k: c[k] for k in c if k != "county"}}
        for (_adcode, quarter), c in sorted(cells.items())
    ]


# --- 租金收缴率 --------------------------------------------------------------------------------

BILL = "contract__unit__building__estate__district__"


def rent(cutoff: datetime) -> list[dict]:
    """Bills issued before the cut-off per county and bill month, what they asked and what
    was paid on them up to yesterday: the collection rate is paid ÷ billed."""
    first = months_before(cutoff.date().replace(day=1), MONTHS_SHOWN - 1)
    bills = Bill.objects.filter(issued_at__lt=cutoff, month__gte=first)
    cells: dict[tuple, dict] = {}
    for r in (
        bills.values("month", adcode=F(f"{BILL}adcode"), county=F(f"{BILL}name"))
        .annotate(bills=Count("pk"), billed=Coalesce(Sum("amount"), ZERO, output_field=MONEY))
        .order_by()
    ):
        cells[r["adcode"], r["month"]] = {
            "county": r["county"],
            "bills": r["bills"],
            "billed": r["billed"],
            "paid": ZERO,
        }
    for r in (
        Payment.objects.filter(bill__in=bills, paid_on__lt=cutoff.date())
        .values(month=F("bill__month"), adcode=F(f"bill__{BILL}adcode"))
        .annotate(paid=Sum("amount"))
        .order_by()
    ):
        cells[r["adcode"], r["month"]]["paid"] = r["paid"]
    return [
        {
            "county": c["county"],
            "month": _month(month),
            "bills": c["bills"],
            "billed": c["billed"],
            "paid": c["paid"],
            "rate": percent(c["paid"], c["billed"]),
        }
        for (_adcode, month), c in sorted(cells.items())
    ]


# --- 维修响应 ---------------------------------------------------------------------------------


def repairs(cutoff: datetime) -> list[dict]:
    """Repairs reported per county and month, how many were dispatched by the cut-off, the
    share dispatched within the deadline and the median hours to dispatch (响应)."""
    first = timezone.make_aware(
        datetime.combine(months_before(cutoff.date().replace(day=1), MONTHS_SHOWN - 1), time.min)
    )
    assigned = Q(assigned_at__lt=cutoff)
    response = ExpressionWrapper(F("assigned_at") - F("reported_at"), output_field=DurationField())
    rows = (
        Repair.objects.filter(reported_at__gte=first, reported_at__lt=cutoff)
        .values("estate__district__adcode", "estate__district__name", m=TruncMonth("reported_at"))
        .annotate(
            reported=Count("pk"),
            assigned=Count("pk", filter=assigned),
            in_time=Count("pk", filter=assigned & Q(assigned_at__lte=F("respond_by"))),
            median=Median(response, filter=assigned, output_field=DurationField()),
        )
        .order_by("estate__district__adcode", "m")
    )
    return [
        {
            "county": r["estate__district__name"],
            "month": _month(timezone.localtime(r["m"])),
            "reported": r["reported"],
            "assigned": r["assigned"],
            "in_time": r["in_time"],
            "in_time_rate": percent(r["in_time"], r["reported"]),
            "median_hours": _hours(r["median"]),
        }
        for r in rows
    ]


# --- 失信记录 ---------------------------------------------------------------------------------


def credit(cutoff: datetime) -> list[dict]:
    """失信记录 decided per level and year, and how many of them were repaired by yesterday."""
    today = cutoff.date()
    rows = (
        Record.objects.filter(decided_on__lt=today)
        .values("level", year=ExtractYear("decided_on"))
        .annotate(records=Count("pk"), repaired=Count("pk", filter=Q(repaired_on__lt=today)))
        .order_by()
    )
    order = {level: n for n, level in enumerate(Level.values)}
    labels = dict(Level.choices)
    return [
        {
            "level": str(labels[r["level"]]),
            "year": str(r["year"]),
            "records": r["records"],
            "repaired": r["repaired"],
        }
        for r in sorted(rows, key=lambda r: (order.get(r["level"], 99), r["year"]))
    ]


# --- The registry ----------------------------------------------------------------------------

COUNTY = Column("county", _("区县"))
MONTH = Column("month", _("月份"))
DAILY = _("每日凌晨更新，数据截至前一日 24 时。")
STOCK = _("每日凌晨更新，为更新时房屋台账的状态。")

DATASETS: dict[str, Dataset] = {
    d.slug: d
    for d in [
        Dataset(
            "vacancy-by-county",
            _("房源与空置（按区县）"),
            _("已公开项目的公租房套数、空置套数和空置率，按区县统计。"),
            _("房源管理系统：房屋台账"),
            STOCK,
            (
                COUNTY,
                Column("units", _("房屋套数"), _("套"), NUMBER),
                Column("vacant", _("空置套数"), _("套"), NUMBER),
                Column("rate", _("空置率"), "%", RATE, ("vacant", "units")),
            ),
            vacancy_by_county,
            Chart("bar", "county", ("units", "vacant")),
        ),
        Dataset(
            "vacancy-by-estate",
            _("房源与空置（按项目）"),
            _("每个已公开项目的公租房套数、空置套数和空置率。"),
            _("房源管理系统：房屋台账"),
            STOCK,
            (
                Column("estate", _("项目")),
                COUNTY,
                Column("units", _("房屋套数"), _("套"), NUMBER),
                Column("vacant", _("空置套数"), _("套"), NUMBER),
                Column("rate", _("空置率"), "%", RATE, ("vacant", "units")),
            ),
            vacancy_by_estate,
            Chart("bar", "estate", ("rate",)),
        ),
        Dataset(
            "applications",
            _("申请与审批"),
            _("近 24 个月每月提交的申请数，以及当月审批通过和不予通过的申请数，按区县统计。"),
            _("申请审核系统"),
            DAILY,
            (
                COUNTY,
                MONTH,
                Column("submitted", _("提交申请"), _("件"), COUNT),
                Column("approved", _("审批通过"), _("件"), COUNT),
                Column("rejected", _("不予通过"), _("件"), COUNT),
            ),
            applications,
            Chart("line", "month", ("submitted",), group="county"),
        ),
        Dataset(
            "waitlist",
            _("轮候"),
            _("前一日 24 时仍在轮候的家庭数及其已等待时长的中位数，按区县统计。"),
            _("轮候配租系统"),
            DAILY,
            (
                COUNTY,
                Column("households", _("轮候家庭"), _("户"), COUNT),
                Column("median_months", _("等待时长中位数"), _("月"), MEDIAN, ("households",)),
            ),
            waitlist,
            Chart("bar", "county", ("households",)),
        ),
        Dataset(
            "allocation",
            _("配租"),
            _("每季度公告的配租批次、提供的房源套数和已确认配租的家庭数，按区县统计。"),
            _("轮候配租系统"),
            DAILY,
            (
                COUNTY,
                Column("quarter", _("季度")),
                Column("rounds", _("配租批次"), _("批"), NUMBER),
                Column("units", _("提供房源"), _("套"), NUMBER),
                Column("housed", _("配租家庭"), _("户"), COUNT),
            ),
            allocation,
            Chart("bar", "quarter", ("housed",), group="county"),
        ),
        Dataset(
            "rent-collection",
            _("租金收缴率"),
            _("近 24 个月各账期的应缴租金、截至前一日的已缴金额和收缴率，按区县统计。"),
            _("运营管理系统：租金账单与缴费记录"),
            DAILY,
            (
                COUNTY,
                Column("month", _("账期")),
                Column("bills", _("账单数"), _("户"), COUNT),
                Column("billed", _("应缴"), _("元"), AMOUNT, ("bills",)),
                Column("paid", _("已缴"), _("元"), AMOUNT, ("bills",)),
                Column("rate", _("收缴率"), "%", RATE, ("bills",)),
            ),
            rent,
            Chart("line", "month", ("rate",), group="county"),
        ),
        Dataset(
            "repairs",
            _("维修响应"),
            _("近 24 个月每月报修的工单数、已派单数、按时响应率和响应时长中位数，按区县统计。"),
            _("运营管理系统：报修工单"),
            DAILY,
            (
                COUNTY,
                MONTH,
                Column("reported", _("报修"), _("件"), COUNT),
                Column("assigned", _("已派单"), _("件"), COUNT),
                Column("in_time", _("按时派单"), _("件"), COUNT),
                Column("in_time_rate", _("按时响应率"), "%", RATE, ("in_time", "reported")),
                Column("median_hours", _("响应时长中位数"), _("小时"), MEDIAN, ("assigned",)),
            ),
            repairs,
            Chart("line", "month", ("in_time_rate",), group="county"),
        ),
        Dataset(
            "credit",
            _("失信记录"),
            _("每年认定的失信记录数及其中截至前一日已修复的记录数，按失信等级统计。"),
            _("信用管理系统"),
            DAILY,
            (
                Column("level", _("失信等级")),
                Column("year", _("认定年份")),
                Column("records", _("认定记录"), _("条"), COUNT),
                Column("repaired", _("已修复"), _("条"), COUNT),
            ),
            credit,
            Chart("bar", "year", ("records",), group="level"),
        ),
        Dataset(
            "operator-scores",
            _("运营单位考核"),
            _("公租房运营单位每季度的考核得分与各项指标，已在考核结果页公开。"),
            _("运营管理系统：运营单位考核"),
            _("每季度考核结果公布后更新。"),
            link="operator-scores",
        ),
    ]
}


def raw_rows(dataset: Dataset, today: date | None = None) -> list[dict]:
    """The dataset's rows as of the end of yesterday, computed once per day and cached."""
    today = today or timezone.localdate()
    if dataset.build is None:
        return []
    # The language too: a few labels (the credit levels) are translated text, not data.
    key = f"open-data:{dataset.slug}:{today.isoformat()}:{get_language()}"
    rows = cache.get(key)
    if rows is None:
        rows = dataset.build(cutoff_for(today))
        cache.set(key, rows, 36 * 3600)
    return rows


# --- Suppression -----------------------------------------------------------------------------


@dataclass
class Cell:
    value: Any
    suppressed: bool = False


@dataclass
class Published:
    """A dataset's rows as the public gets them: small counts and what derives from them
    withheld."""

    dataset: Dataset
    as_of: date
    threshold: int
    rows: list[list[Cell]] = field(default_factory=list)


def small(value: Any, limit: int) -> bool:
    """A count of 1 … limit-1 is withheld; 0 is shown (it identifies no one)."""
    return isinstance(value, int) and 0 < value < limit


def suppress(dataset: Dataset, rows: list[dict], limit: int) -> list[list[Cell]]:
    published = []
    for row in rows:
        cells = []
        for column in dataset.columns:
            value = row.get(column.key)
            hidden = (column.kind == COUNT and small(value, limit)) or any(
                small(row.get(base), limit) and dataset.column(base).kind == COUNT
                for base in column.base
            )
            cells.append(Cell(None if hidden else value, hidden))
        published.append(cells)
    return published


def publish(dataset: Dataset, today: date | None = None) -> Published:
    today = today or timezone.localdate()
    limit = threshold()
    return Published(
        dataset, as_of(today), limit, suppress(dataset, raw_rows(dataset, today), limit)
    )


def chart_data(published: Published) -> dict | None:
    """What static/backoffice/charts.js draws; a withheld figure is a gap."""
    dataset, chart = published.dataset, published.dataset.chart
    if chart is None or not published.rows:
        return None
    index = {c.key: i for i, c in enumerate(dataset.columns)}

    def number(cell: Cell) -> Any:
        return float(cell.value) if isinstance(cell.value, Decimal) else cell.value

    if not chart.group:
        return {
            "key": dataset.slug,
            "kind": chart.kind,
            "title": str(dataset.title),
            "categories": [str(r[index[chart.x]].value) for r in published.rows],
            "series": [
                {
                    "name": str(dataset.column(k).title),
                    "data": [number(r[index[k]]) for r in published.rows],
                }
                for k in chart.series
            ],
        }
    categories = sorted({str(r[index[chart.x]].value) for r in published.rows})
    groups: dict[str, dict[str, Any]] = {}
    for r in published.rows:
        cells = groups.setdefault(str(r[index[chart.group]].value), {})
        cells[str(r[index[chart.x]].value)] = number(r[index[chart.series[0]]])
    return {
        "key": dataset.slug,
        "kind": chart.kind,
        "title": str(dataset.title),
        "categories": categories,
        "series": [
            {"name": name, "data": [cells.get(c) for c in categories]}
            for name, cells in groups.items()
        ],
    }
