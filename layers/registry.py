"""The map layers, each defined once: source rows, public fields, zoom range and style.

Tiles, the OGC API and the pages' maps all read a layer's `rows(query)`: a queryset of plain
values with a `geom` column (WGS84) and nothing but public fields, starting from published
estates. Nothing else decides what leaves the database.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.gis.geos import Polygon
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from geo import summaries
from geo.models import Estate, Region, Unit
from geo.vacancy import VacancyQuery

# Field types as OGC API queryables and MVT attributes know them.
STRING, INTEGER, NUMBER, BOOLEAN = "string", "integer", "number", "boolean"


@dataclass(frozen=True)
class Layer:
    name: str
    title: str
    description: str
    geometry_type: str
    fields: dict[str, str]
    rows: Callable[[VacancyQuery], QuerySet]
    min_zoom: int = 0
    max_zoom: int = 22
    style: dict = field(default_factory=dict)
    # Below this zoom a tile carries one aggregated feature per estate, never every row.
    detail_zoom: int | None = None
    aggregate: Callable[[VacancyQuery], QuerySet] | None = None
    filterable: bool = True
    # The condition that finds rows in a box through a spatial index.
    in_box: Callable[[Polygon], Q] = lambda box: Q(geom__bboverlaps=box)


ESTATE_VALUES = (
    "id",
    "geom",
    "name",
    "address",
    "district_name",
    "street_name",
    "year_built",
    "vacant_units",
)


def _estate_labels(estates: QuerySet) -> QuerySet:
    return estates.annotate(
        geom=F("location"), district_name=F("district__name"), street_name=F("street__name")
    )


def estate_rows(query: VacancyQuery) -> QuerySet:
    """Every published estate with its count of vacant units matching the query (maybe 0)."""
    if summaries.applies(query):
        return (
            _estate_labels(Estate.objects.filter(query.estate_q()))
            .annotate(vacant_units=summaries.vacant_count_expression(query))
            .values(*ESTATE_VALUES)
            .order_by("id")
        )
    matching = (
        Unit.objects.filter(query.unit_q(), building__estate=OuterRef("pk"))
        .order_by()
        .values("building__estate")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        _estate_labels(Estate.objects.filter(query.estate_q()))
        .annotate(vacant_units=Coalesce(Subquery(matching, output_field=IntegerField()), 0))
        .values(*ESTATE_VALUES)
        .order_by("id")
    )


def estates_with_vacancy_rows(query: VacancyQuery) -> QuerySet:
    """Only estates with matching vacant units, counted over the matching units alone (or
    read from the stock summary when it answers the query)."""
    if summaries.applies(query):
        return (
            _estate_labels(Estate.objects.filter(query.estate_q()))
            .annotate(vacant_units=summaries.matching_vacant(query))
            .filter(vacant_units__gt=0)
            .values(*ESTATE_VALUES)
            .order_by("id")
        )
    return (
        _estate_labels(
            Estate.objects.filter(query.estate_q()).filter(query.unit_q("buildings__units__"))
        )
        .annotate(vacant_units=Count("buildings__units"))
        .values(*ESTATE_VALUES)
        .order_by("id")
    )


def vacant_unit_rows(query: VacancyQuery) -> QuerySet:
    """Vacant units matching the query, at their building's map point (its footprint's point,
    or the estate's entrance while it has none)."""
    return (
        Unit.objects.filter(query.units_q())
        .annotate(
            geom=F("building__map_point"),
            estate_id=F("building__estate_id"),
            estate_name=F("building__estate__name"),
            district_name=F("building__estate__district__name"),
            building_number=F("building__number"),
            elevator=F("building__elevator"),
        )
        .values(
            "id",
            "geom",
            "estate_id",
            "estate_name",
            "district_name",
            "building_number",
            "number",
            "floor",
            "rooms",
            "halls",
            "baths",
            "area",
            "monthly_rent",
            "orientation",
            "accessible",
            "elevator",
        )
        .order_by("id")
    )


def district_rows(query: VacancyQuery) -> QuerySet:
    return (
        Region.objects.filter(level=Region.Level.DISTRICT)
        .annotate(geom=F("boundary"))
        .values("id", "geom", "adcode", "name")
        .order_by("adcode")
    )


ESTATE_FIELDS = {
    "name": STRING,
    "address": STRING,
    "district_name": STRING,
    "street_name": STRING,
    "year_built": INTEGER,
    "vacant_units": INTEGER,
}

LAYERS: dict[str, Layer] = {
    layer.name: layer
    for layer in [
        Layer(
            name="estates",
            title=_("公租房项目"),
            description=_("已公开的公租房项目及其符合条件的空置房源套数。"),
            geometry_type="Point",
            fields=ESTATE_FIELDS,
            rows=estate_rows,
            style={"color": "#b5442c", "radius": 8},
        ),
        Layer(
            name="vacant-units",
            title=_("空置房源"),
            description=_("已公开项目中的空置房屋，位于所在楼栋；低缩放级别按项目汇总。"),
            geometry_type="Point",
            fields={
                "estate_id": INTEGER,
                "estate_name": STRING,
                "district_name": STRING,
                "building_number": STRING,
                "number": STRING,
                "floor": INTEGER,
                "rooms": INTEGER,
                "halls": INTEGER,
                "baths": INTEGER,
                "area": NUMBER,
                "monthly_rent": NUMBER,
                "orientation": STRING,
                "accessible": BOOLEAN,
                "elevator": BOOLEAN,
            },
            rows=vacant_unit_rows,
            # One indexed column (never null), so the planner estimates a bbox's rows well.
            in_box=lambda box: Q(building__map_point__bboverlaps=box),
            detail_zoom=15,
            aggregate=estates_with_vacancy_rows,
            style={"color": "#1f5fa8", "radius": 4},
        ),
        Layer(
            name="districts",
            title=_("区县边界"),
            description=_("县级行政区边界。"),
            geometry_type="MultiPolygon",
            fields={"adcode": STRING, "name": STRING},
            rows=district_rows,
            max_zoom=16,
            style={"color": "#2f5d8a", "weight": 2},
            filterable=False,
        ),
    ]
}


def get_layer(name: str) -> Layer | None:
    return LAYERS.get(name)
