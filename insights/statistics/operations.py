"""运营管理 in figures: repair response and completion times, and 动态核查 hits."""

from datetime import timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.utils.translation import gettext as _

from housing.models import EligibilityRule
from insights.statistics.base import Dashboard, Period, Scope, Table, hours, percent
from tenancy.models import RecheckHit, Repair


def _elapsed(field: str):
    return Sum(
        ExpressionWrapper(F(field) - F("reported_at"), output_field=DurationField()),
        filter=Q(**{f"{field}__isnull": False}),
    )


COUNTS = ("reported", "assigned", "assigned_in_time", "closed", "closed_in_time")


def _repair_figures() -> dict:
    return {
        "reported": Count("pk"),
        "assigned": Count("pk", filter=Q(assigned_at__isnull=False)),
        "assigned_in_time": Count("pk", filter=Q(assigned_at__lte=F("respond_by"))),
        "to_assign": _elapsed("assigned_at"),
        "closed": Count("pk", filter=Q(closed_at__isnull=False)),
        "closed_in_time": Count("pk", filter=Q(closed_at__lte=F("complete_by"))),
        "to_close": _elapsed("closed_at"),
    }


def _add(total: dict, r: dict) -> None:
    for key in COUNTS:
        total[key] = total.get(key, 0) + r[key]
    for key in ("to_assign", "to_close"):
        if r[key] is not None:
            total[key] = total.get(key, timedelta()) + r[key]


def _repair_row(name: str, r: dict) -> list:
    def mean(key: str, count: str):
        return hours(r[key] / r[count]) if r.get(key) is not None and r[count] else None

    return [
        name,
        r["reported"],
        r["assigned"],
        mean("to_assign", "assigned"),
        percent(r["assigned_in_time"], r["reported"]),
        r["closed"],
        mean("to_close", "closed"),
        percent(r["closed_in_time"], r["reported"]),
    ]


def repairs(scope: Scope, period: Period) -> Dashboard:
    """Repairs reported in the period, per category and per county: how many, the mean hours
    to dispatch (响应) and to finish, and the share dispatched and finished within the
    category's deadlines (of all reported, so one still waiting counts as not in time)."""
    reported = Repair.objects.filter(
        scope.estates("estate__"), reported_at__gte=period.start, reported_at__lt=period.end
    )
    # One scan grouped by category and county; both tables are sums of its cells.
    by_category: dict = {}
    by_county: dict = {}
    for r in (
        reported.values(
            "category__order",
            "category__code",
            "category__name",
            "estate__district__adcode",
            "estate__district__name",
        )
        .annotate(**_repair_figures())
        .order_by()
    ):
        category = (r["category__order"], r["category__code"], r["category__name"])
        _add(by_category.setdefault(category, {}), r)
        county = (r["estate__district__adcode"], r["estate__district__name"])
        _add(by_county.setdefault(county, {}), r)
    category_rows = [_repair_row(k[2], r) for k, r in sorted(by_category.items())]
    county_rows = [_repair_row(k[1], r) for k, r in sorted(by_county.items())]
    columns = [
        _("报修"),
        _("已派单"),
        _("平均响应（小时）"),
        _("按时响应率（%）"),
        _("已完工"),
        _("平均完工（小时）"),
        _("按时完工率（%）"),
    ]
    return Dashboard(
        "repairs",
        _("维修响应"),
        [
            Table("by_category", _("按类别"), [_("类别"), *columns], category_rows, series=[3, 6]),
            Table("by_county", _("按区县"), [_("区县"), *columns], county_rows, series=[4, 7]),
        ],
        note=_("统计期内报修的工单；响应为派单，按时率以全部报修为分母。"),
    )


def recheck(scope: Scope, period: Period) -> Dashboard:
    """动态核查 hits first found in the period, per rule broken and per county, by what became
    of them."""
    hits = RecheckHit.objects.filter(
        scope.households("household__"),
        first_seen_at__gte=period.start,
        first_seen_at__lt=period.end,
    )
    statuses = list(RecheckHit.Status)
    per_status = {s.value: Count("pk", filter=Q(status=s.value)) for s in statuses}
    labels = dict(EligibilityRule.Criterion.choices)
    rule_rows = [
        [str(labels.get(r["criterion"], r["criterion"])), r["n"], *(r[s.value] for s in statuses)]
        for r in hits.values("criterion")
        .annotate(n=Count("pk"), **per_status)
        .order_by("criterion")
    ]
    county_rows = [
        [r["county__name"], r["n"], *(r[s.value] for s in statuses)]
        for r in hits.values("county__name")
        .annotate(n=Count("pk"), **per_status)
        .order_by("county__adcode")
    ]
    columns = [_("疑点"), *(str(s.label) for s in statuses)]
    series = list(range(2, 2 + len(statuses)))
    return Dashboard(
        "recheck",
        _("动态核查疑点"),
        [
            Table("by_rule", _("按核查条件"), [_("条件"), *columns], rule_rows, "stacked", series),
            Table("by_county", _("按区县"), [_("区县"), *columns], county_rows, "stacked", series),
        ],
        note=_("统计期内首次发现的疑点，按目前的处理状态统计。"),
    )
