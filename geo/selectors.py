"""Read queries on the housing stock. Public callers start from published estates only."""

from django.db.models import Count, Q, QuerySet

from geo.models import Estate, Region, Unit

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
