"""Read queries on the housing stock. Public callers start from published estates only."""

from django.contrib.gis.db.models.functions import Distance
from django.db.models import Count, Q, QuerySet

from geo.models import Estate, Region, Unit
from geo.vacancy import VacancyQuery

VACANT = Q(buildings__units__status=Unit.Status.VACANT)


def demo_data_present() -> bool:
    """True when any published estate is synthetic, so pages can say so plainly."""
    return Estate.objects.published().filter(is_demo=True).exists()


def public_estates_with_vacancy() -> QuerySet[Estate]:
    """Published estates with their vacant-unit and total-unit counts, in one query."""
    return (
        Estate.objects.published()
        .select_related("district", "street")
        .annotate(
            vacant_count=Count("buildings__units", filter=VACANT),
            unit_count=Count("buildings__units"),
        )
        .order_by("district__adcode", "-vacant_count", "name")
    )


def public_estate(estate_id: int) -> Estate:
    """One published estate with its regions and operator; DoesNotExist otherwise."""
    return (
        Estate.objects.published()
        .select_related("district", "street", "community", "operator")
        .get(pk=estate_id)
    )


def estate_units(estate: Estate) -> QuerySet[Unit]:
    return Unit.objects.filter(building__estate=estate).select_related("building")


def summarize_units(units: list[Unit]) -> dict:
    """Counts and ranges shown at the top of an estate page, from units already fetched."""
    vacant = [u for u in units if u.status == Unit.Status.VACANT]
    areas = [u.area for u in units]
    rents = [u.monthly_rent for u in units]
    layouts = sorted({u.layout for u in vacant})
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
    estates = (
        Estate.objects.filter(query.estate_q())
        .select_related("district", "street")
        .annotate(vacant_count=Count("buildings__units", filter=query.unit_q("buildings__units__")))
        .filter(vacant_count__gt=0)
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
        .order_by(
            "building__estate__district__adcode",
            "building__estate__name",
            "building__number",
            "floor",
            "number",
        )
    )
