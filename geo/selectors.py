"""Read queries on the housing stock. Public callers start from published estates only."""

import math

from django.contrib.gis.db.models import PointField
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Polygon
from django.db.models import Count, F, QuerySet
from django.db.models.functions import Coalesce

from geo.models import POI, Estate, Region, Unit
from geo.ordering import natural
from geo.vacancy import VacancyQuery

# Estates carry their regions for display; the regions' outlines stay in the database.
REGION_GEOMETRY = ("district__boundary", "street__boundary")


def demo_data_present() -> bool:
    """True when any published estate is synthetic, so pages can say so plainly."""
    return Estate.objects.published().filter(is_demo=True).exists()


def public_estate(estate_id: int) -> Estate:
    """One published estate with its regions and operator; DoesNotExist otherwise."""
    return (
        Estate.objects.published()
        .select_related("district", "street", "community", "operator")
        .defer("district__boundary", "street__boundary", "community__boundary")
        .get(pk=estate_id)
    )


def estate_units(estate: Estate) -> QuerySet[Unit]:
    return Unit.objects.filter(building__estate=estate).select_related("building")


def summarize_units(units: list[Unit]) -> dict:
    """Counts and ranges shown at the top of an estate page, from units already fetched."""
    vacant = [u for u in units if u.status == Unit.Status.VACANT]
    areas = [u.area for u in units]
    rents = [u.monthly_rent for u in units]
    layouts = sorted({u.layout_label for u in vacant})
    return {
        "total": len(units),
        "vacant": len(vacant),
        "area_min": min(areas, default=None),
        "area_max": max(areas, default=None),
        "rent_min": min(rents, default=None),
        "rent_max": max(rents, default=None),
        "vacant_layouts": layouts,
    }


def districts() -> QuerySet[Region]:
    return Region.objects.filter(level=Region.Level.DISTRICT).order_by("adcode")


def vacancy_estates(query: VacancyQuery) -> QuerySet[Estate]:
    """Published estates with vacant units matching the search, each with its matching count."""
    # Filtering on units before counting them joins only matching vacant units (the partial
    # index), instead of counting every unit of every estate.
    estates = (
        Estate.objects.filter(query.estate_q())
        .filter(query.unit_q("buildings__units__"))
        .select_related("district", "street")
        .defer(*REGION_GEOMETRY)
        .annotate(vacant_count=Count("buildings__units"))
    )
    if query.near is not None:
        estates = estates.annotate(distance=Distance("location_geog", query.near)).order_by(
            "distance"
        )
    else:
        estates = estates.order_by("district__adcode", "-vacant_count", "name")
    return estates


def vacancy_units(query: VacancyQuery) -> QuerySet[Unit]:
    """Vacant units matching the search, with what a list row shows, in one query."""
    return (
        Unit.objects.filter(query.units_q())
        .select_related("building__estate__district")
        .defer(
            "building__footprint",
            "building__estate__boundary",
            "building__estate__district__boundary",
        )
        .annotate(
            point=Coalesce(
                F("building__position"),
                F("building__estate__location"),
                output_field=PointField(srid=4326),
            )
        )
        .order_by(
            "building__estate__district__adcode",
            "building__estate__name",
            *natural("building__number"),  # 2号楼 before 10号楼
            "floor",
            *natural("number"),
        )
    )


def estate_vacant_count(estate: Estate) -> int:
    return Unit.objects.filter(building__estate=estate, status=Unit.Status.VACANT).count()


POI_RADIUS_M = 1500


def nearby_pois(estate: Estate, radius_m: int = POI_RADIUS_M) -> dict[str, list[POI]]:
    """POIs around an estate by category, nearest first, with distances in metres."""
    x, y = estate.location.x, estate.location.y
    dlon, dlat = radius_m / (111_320 * math.cos(math.radians(y))), radius_m / 110_540
    box = Polygon.from_bbox((x - dlon, y - dlat, x + dlon, y + dlat))  # served by the GiST index
    box.srid = 4326
    pois = (
        POI.objects.filter(location__intersects=box)
        .annotate(distance=Distance("location", estate.location))
        .order_by("distance")
    )
    grouped: dict[str, list[POI]] = {}
    for poi in pois:
        if poi.distance.m <= radius_m:
            grouped.setdefault(poi.get_category_display(), []).append(poi)
    return grouped


def vacancy_totals(query: VacancyQuery) -> dict[str, int]:
    """How many vacant units and estates match, in one aggregate query (for very large lists)."""
    return Unit.objects.filter(query.units_q()).aggregate(
        units=Count("id"), estates=Count("building__estate", distinct=True)
    )
