"""资产 in figures: vacancy rate and vacant days by county and estate, for a choropleth.

Units per estate come from geo's EstateStockSummary (kept current by triggers, so the figures
stay live without counting a million units per view); vacant days are counted from the unit's
`updated_at`: every status change (a manual change, move-in, move-out, repair) saves the unit
row, so for a vacant unit it is when it last became vacant or was last edited. The archive's
`unit.status` events would be exact but are written by several actions under different names
and need a per-unit latest-event lookup over the whole log; the column is one aggregate over
the vacant units. An edit of a vacant unit (its rent, say) restarts the count: the figure is a
lower bound.
"""

import json
from datetime import UTC, datetime, timedelta

from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Func,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from geo.models import Building, Estate, EstateStockSummary, Region, Unit
from insights import summaries
from insights.models import VacancyEstate
from insights.statistics.base import Dashboard, Period, Scope, Table, days, percent
from insights.summaries import LONG_VACANT_DAYS

ESTATES_SHOWN = 200  # the page lists the emptiest estates; the XLSX has all of them
SIMPLIFY_DEGREES = 0.002  # about 200 m: enough for a county map, light for the page
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def _vacant_figures(now: datetime) -> dict:
    """Over vacant units only: how many, their vacant time summed, those vacant over half a
    year."""
    return {
        "timed": Count("pk"),
        "spent": Sum(ExpressionWrapper(Value(now) - F("updated_at"), output_field=DurationField())),
        "long": Count("pk", filter=Q(updated_at__lt=now - timedelta(days=LONG_VACANT_DAYS))),
    }


def _row(name: str, r: dict) -> list:
    """`timed` counts the vacant units whose time is in `spent`: the live count, or the count
    at the summary's rebuild while `vacant` is geo's count of now."""
    mean = r["spent"] / r["timed"] if r["timed"] and r["spent"] is not None else None
    return [name, r["units"], r["vacant"], percent(r["vacant"], r["units"]), days(mean), r["long"]]


def _times_live(scope: Scope, now: datetime, estates: dict[int, dict]) -> None:
    """The vacant units' time per estate from a scan of the vacant units alone (the (status,
    building) index), grouped on their own column and named afterwards."""
    buildings = Building.objects.filter(scope.estates("estate__")).order_by()
    estate_of = dict(buildings.values_list("pk", "estate_id"))
    for r in (
        Unit.objects.filter(
            status=Unit.Status.VACANT, building_id__in=Subquery(buildings.values("pk"))
        )
        .values("building_id")
        .annotate(**_vacant_figures(now))
        .order_by()
    ):
        e = estates.get(estate_of.get(r["building_id"]))
        if e is None:  # only if geo's summary missed an estate (its triggers should not)
            continue
        e["timed"] += r["timed"]
        e["long"] += r["long"]
        if r["spent"] is not None:
            e["spent"] = (e["spent"] or timedelta()) + r["spent"]


def _times_summary(scope: Scope, now: datetime, estates: dict[int, dict]) -> None:
    """The same from the worker's per-estate summary: the time of the units vacant at its
    rebuild taken up to `now` (n × now − Σ since, exact to the microsecond)."""
    now_us = (now - EPOCH) // MICROSECOND
    for r in VacancyEstate.objects.filter(scope.estates("estate__")).values(
        "estate_id", "vacant", "since_total", "long"
    ):
        e = estates.get(r["estate_id"])
        if e is None or not r["vacant"]:
            continue
        spent_us = r["vacant"] * now_us - int(r["since_total"] * 1_000_000)
        e.update(timed=r["vacant"], long=r["long"], spent=timedelta(microseconds=spent_us))


def _per_estate(scope: Scope, now: datetime, live: bool) -> tuple[list[dict], datetime | None]:
    """The estates' units and vacant units from geo's per-estate summary (kept current by
    triggers on the units, so no million-row count per view), and their vacant time from the
    worker's summary once built (`live` scans the vacant units instead). Returns the estates
    and when the vacant times were summed (None: now)."""
    estates = {
        r["key"]: {**r, "timed": 0, "long": 0, "spent": None}
        for r in EstateStockSummary.objects.filter(scope.estates("estate__"), units__gt=0).values(
            "units",
            "vacant",
            key=F("estate_id"),
            name=F("estate__name"),
            adcode=F("estate__district__adcode"),
            county=F("estate__district__name"),
        )
    }
    as_of = None if live else summaries.as_of(summaries.VACANCY)
    (_times_live if as_of is None else _times_summary)(scope, now, estates)
    return list(estates.values()), as_of


def _roll_up(estates: list[dict]) -> list[dict]:
    """The counties' figures as sums of their estates'."""
    counties: dict[str, dict] = {}
    for r in estates:
        c = counties.setdefault(
            r["adcode"],
            {
                "adcode": r["adcode"],
                "name": r["county"],
                "units": 0,
                "vacant": 0,
                "timed": 0,
                "long": 0,
            },
        )
        for key in ("units", "vacant", "timed", "long"):
            c[key] += r[key]
        if r["spent"] is not None:
            c["spent"] = c.get("spent", timedelta()) + r["spent"]
    for c in counties.values():
        c.setdefault("spent", None)
    return [counties[k] for k in sorted(counties)]


def vacancy(
    scope: Scope,
    period: Period,
    now: datetime | None = None,
    all_estates: bool = False,
    live: bool = False,
) -> Dashboard:
    """Units, vacant units, the vacancy rate, mean vacant days and units vacant over six
    months, per county (coloured on the map) and per estate (points). A snapshot of today:
    the period does not apply. The counts are live; the vacant times come from the worker's
    summary once built (`live` counts them afresh)."""
    now = now or timezone.now()
    estates, as_of = _per_estate(scope, now, live)
    estates.sort(
        key=lambda r: (-(percent(r["vacant"], r["units"]) or 0), -r["vacant"], r["name"]),
    )
    counties = _roll_up(estates)
    shown = estates if all_estates else estates[:ESTATES_SHOWN]
    county_rows = [_row(r["name"], r) for r in counties]
    estate_rows = [[*_row(r["name"], r)[:1], r["county"], *_row(r["name"], r)[1:]] for r in shown]
    columns = [_("房屋套数"), _("空置套数"), _("空置率（%）"), _("平均空置天数"), _("空置超半年")]
    return Dashboard(
        "vacancy",
        _("房源空置"),
        [
            Table(
                "by_county",
                _("按区县（地图）"),
                [_("区县"), *columns],
                county_rows,
                chart="map",
                series=[3],
                extra=_map(counties, shown),
            ),
            Table(
                "by_estate",
                _("按项目"),
                [_("项目"), _("区县"), *columns],
                estate_rows,
                chart="",
                note=(
                    _("页面列出空置率最高的 %(n)s 个项目，下载的表格包含全部项目。")
                    % {"n": ESTATES_SHOWN}
                    if len(estates) > len(shown)
                    else ""
                ),
            ),
        ],
        note=_(
            "当前数据，不随统计期变化。空置天数自房屋最近一次状态变更（或编辑）起算，"
            "是空置时长的下限。"
        )
        + (
            _("房屋与空置套数为实时数；平均空置天数与空置超半年按汇总时空置的房屋计。")
            if as_of
            else ""
        ),
        as_of=as_of,
    )


def _map(counties: list[dict], estates: list[dict]) -> dict:
    """County outlines (simplified GeoJSON, WGS84) and estate points for the ECharts map."""
    outlines = Region.objects.filter(adcode__in=[c["adcode"] for c in counties]).annotate(
        outline=AsGeoJSON(
            Func(
                "boundary",
                Value(SIMPLIFY_DEGREES),
                function="ST_SimplifyPreserveTopology",
                output_field=GeometryField(srid=4326),
            ),
            precision=4,
        )
    )
    features = [
        {
            "type": "Feature",
            "properties": {"name": r.name, "adcode": r.adcode},
            "geometry": json.loads(r.outline),
        }
        for r in outlines.only("name", "adcode")
    ]
    points = dict(
        (e.pk, (round(e.location.x, 5), round(e.location.y, 5)))
        for e in Estate.objects.filter(pk__in=[r["key"] for r in estates]).only("location")
    )
    return {
        "geojson": {"type": "FeatureCollection", "features": features},
        "points": [
            {
                "name": r["name"],
                "value": [*points[r["key"]], float(percent(r["vacant"], r["units"]) or 0)],
            }
            for r in estates
            if r["key"] in points
        ],
    }
