"""轮候配租 in figures: how many households wait and for how long, and the lottery rounds."""

from datetime import datetime, timedelta

from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from allocation.models import Offer, Participant, Round, RoundUnit, WaitlistEntry
from insights.statistics.base import Dashboard, Period, Scope, Table, days

# Waiting time bands in days (upper bounds, exclusive); the last band is open.
BANDS = [(0, 180), (180, 365), (365, 730), (730, None)]


def band_label(low: int, high: int | None) -> str:
    months = {0: 0, 180: 6, 365: 12, 730: 24}
    if high is None:
        return _("%(m)s 个月以上") % {"m": months[low]}
    return _("%(a)s–%(b)s 个月") % {"a": months[low], "b": months[high]}


def _waited(now: datetime):
    return ExpressionWrapper(Value(now) - F("queued_at"), output_field=DurationField())


def waitlist(scope: Scope, period: Period, now: datetime | None = None) -> Dashboard:
    """The waitlist today (length and waiting time since the queue date, per county and in
    bands), households entering it per month of the period, and the rounds announced in it."""
    now = now or timezone.now()
    # A county's waitlist is the entries of its county (their own column, under the waiting
    # entries' index); below county level, those of the households placed in the area.
    counties = scope.whole_counties()
    waiting = WaitlistEntry.objects.filter(
        scope.households("household__") if counties is None else counties,
        status=WaitlistEntry.Status.WAITING,
    )
    # One scan: the bands are counted per county too and summed here.
    bands = {
        f"b{i}": Count(
            "pk",
            filter=Q(queued_at__lte=now - timedelta(days=low))
            & (Q(queued_at__gt=now - timedelta(days=high)) if high else Q()),
        )
        for i, (low, high) in enumerate(BANDS)
    }
    per_county = list(
        waiting.values("county__name")
        .annotate(n=Count("pk"), mean=Avg(_waited(now)), oldest=Min("queued_at"), **bands)
        .order_by("county__adcode")
    )
    county_rows = [
        [r["county__name"], r["n"], days(r["mean"]), days(now - r["oldest"])] for r in per_county
    ]
    band_counts = {key: sum(r[key] for r in per_county) for key in bands}
    band_rows = [
        [band_label(low, high), band_counts[f"b{i}"]] for i, (low, high) in enumerate(BANDS)
    ]
    return Dashboard(
        "waitlist",
        _("轮候与摇号"),
        [
            Table(
                "by_county",
                _("轮候家庭（当前）"),
                [_("区县"), _("轮候户数"), _("平均已等待（天）"), _("最长已等待（天）")],
                county_rows,
                series=[1],
            ),
            Table("bands", _("已等待时长分布"), [_("已等待"), _("户数")], band_rows, "pie"),
            _rounds(scope, period),
        ],
        note=_("轮候户数与等待时长为当前数据（自排队时间起算）；摇号批次按公告时间统计。"),
    )


def _count(model, **where):
    """A correlated count per round, so three counts do not multiply each other's rows."""
    return Coalesce(
        Subquery(
            model.objects.filter(round=OuterRef("pk"), **where)
            .order_by()
            .values("round")
            .annotate(c=Count("pk"))
            .values("c"),
            output_field=IntegerField(),
        ),
        0,
    )


def _rounds(scope: Scope, period: Period) -> Table:
    rounds = (
        Round.objects.filter(
            scope.counties_only(), announced_at__gte=period.start, announced_at__lt=period.end
        )
        .annotate(
            unit_count=_count(RoundUnit),
            household_count=_count(Participant),
            accepted=_count(Offer, status=Offer.Status.ACCEPTED),
        )
        .values(
            "name",
            "county__name",
            "method",
            "status",
            "announced_at",
            "unit_count",
            "household_count",
            "accepted",
        )
        .order_by("announced_at", "pk")
    )
    methods = dict(Round._meta.get_field("method").choices)
    statuses = dict(Round.Status.choices)
    rows = [
        [
            r["name"],
            r["county__name"],
            str(methods.get(r["method"], r["method"])),
            str(statuses.get(r["status"], r["status"])),
            timezone.localtime(r["announced_at"]).date().isoformat(),
            r["unit_count"],
            r["household_count"],
            r["accepted"],
        ]
        for r in rounds
    ]
    return Table(
        "rounds",
        _("摇号配租批次"),
        [
            _("批次"),
            _("区县"),
            _("选房顺序"),
            _("状态"),
            _("公告日期"),
            _("房源套数"),
            _("参加户数"),
            _("已确认配租"),
        ],
        rows,
        series=[5, 6, 7],
    )
