"""资产 in figures: vacancy rate and vacant days by county and estate, for a choropleth.

Vacant days are counted from the unit's `updated_at`: every status change (a manual change,
move-in, move-out, repair) saves the unit row, so for a vacant unit it is when it last became
vacant or was last edited. The archive's `unit.status` events would be exact but are written
by several actions under different names and need a per-unit latest-event lookup over the
whole log; the column is one indexed-table aggregate at a million units. An edit of a vacant
unit (its rent, say) restarts the count: the figure is a lower bound.
"""

import json
from datetime import datetime, timedelta

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

from geo.models import Building, Estate, Region, Unit
from insights.statistics.base import Dashboard, Period, Scope, Table, days, percent

LONG_VACANT_DAYS = 180
ESTATES_SHOWN = 200  # the page lists the emptiest estates; the XLSX has all of them
SIMPLIFY_DEGREES = 0.002  # about 200 m: enough for a county map, light for the page


def _figures(now: datetime) -> dict:
    vacant = Q(status=Unit.Status.VACANT)
    return {
        "units": Count("pk"),
        "vacant": Count("pk", filter=vacant),
        "spent": Sum(
            ExpressionWrapper(Value(now) - F("updated_at"), output_field=DurationField()),
            filter=vacant,
        ),
        "long": Count(
            "pk", filter=vacant & Q(updated_at__lt=now - timedelta(days=LONG_VACANT_DAYS))
        ),
    }


def _row(name: str, r: dict) -> list:
    mean = r["spent"] / r["vacant"] if r["vacant"] and r["spent"] is not None else None
    return [name, r["units"], r["vacant"], percent(r["vacant"], r["units"]), days(mean), r["long"]]


def _per_estate(scope: Scope, now: datetime) -> list[dict]:
    """The estates' figures as sums of their buildings': the units are grouped on their own
    column (one narrow scan of a million rows), the few hundred buildings named afterwards."""
    buildings = Building.objects.filter(scope.estates("estate__")).order_by().values("pk")
    per_building = (
        Unit.objects.filter(building_id__in=Subquery(buildings))
        .values("building_id")
        .annotate(**_figures(now))
        .order_by()
    )
    figures = {r["building_id"]: r for r in per_building}
    estates: dict[int, dict] = {}
    for b in Building.objects.filter(pk__in=list(figures)).values(
        "pk",
        key=F("estate_id"),
        name=F("estate__name"),
        adcode=F("estate__district__adcode"),
        county=F("estate__district__name"),
    ):
        r = figures[b.pop("pk")]
        e = estates.setdefault(b["key"], {**b, "units": 0, "vacant": 0, "long": 0, "spent": None})
        for key in ("units", "vacant", "long"):
            e[key] += r[key]
        if r["spent"] is not None:
            e["spent"] = (e["spent"] or timedelta()) + r["spent"]
    return list(estates.values())


def _roll_up(estates: list[dict]) -> list[dict]:
    """The counties' figures as sums of their estates' (one scan of the units, not two)."""
    counties: dict[str, dict] = {}
    for r in estates:
        c = counties.setdefault(
            r["adcode"],
            {"adcode": r["adcode"], "name": r["county"], "units": 0, "vacant": 0, "long": 0},
        )
        for key in ("units", "vacant", "long"):
            c[key] += r[key]
        if r["spent"] is not None:
            c["spent"] = c.get("spent", timedelta()) + r["spent"]
    for c in counties.values():
        c.setdefault("spent", None)
    return [counties[k] for k in sorted(counties)]


def vacancy(
    scope: Scope, period: Period, now: datetime | None = None, all_estates: bool = False
) -> Dashboard:
    """Units, vacant units, the vacancy rate, mean vacant days and units vacant over six
    months, per county (coloured on the map) and per estate (points). A snapshot of today:
    the period does not apply."""
    now = now or timezone.now()
    estates = sorted(
        _per_estate(scope, now),
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
        ),
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
