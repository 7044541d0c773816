"""Public reads from the per-estate stock summary (geo.models.EstateStockSummary).

The home page, the estate list API, the estate layers and the estate page count vacant units
per estate from one summary row each instead of joining every vacant unit. The summary knows
counts by status and by rooms, so it answers any search whose unit conditions are at most a
room count; other searches fall back to counting the matching units (`applies` tells which).
"""

from django.contrib.gis.db.models.functions import Distance
from django.db.models import Count, F, IntegerField, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from geo.models import Estate, EstateStockSummary
from geo.vacancy import VacancyQuery

# What an estate row on the home page, in the estate API and on a marker shows.
ESTATE_COLUMNS = (
    "id",
    "name",
    "address",
    "year_built",
    "location",
    "district__name",
    "district__adcode",
    "street__name",
)
_ROOM_BUCKETS = {1: "vacant_rooms_1", 2: "vacant_rooms_2", 3: "vacant_rooms_3plus"}
_UNIT_FILTERS = (
    "area_min",
    "area_max",
    "rent_min",
    "rent_max",
    "floor_min",
    "floor_max",
    "elevator",
    "accessible",
    "orientation",
)


def applies(query: VacancyQuery) -> bool:
    """True when the summary alone answers the search (no condition on a unit but rooms)."""
    return not any(getattr(query, name) for name in _UNIT_FILTERS)


def matching_vacant(query: VacancyQuery, prefix: str = "stock_summary__"):
    """The summary's count of vacant units matching the search's rooms (an expression)."""
    if not query.rooms:
        return F(f"{prefix}vacant")
    columns = [F(f"{prefix}{_ROOM_BUCKETS[r]}") for r in sorted(set(query.rooms))]
    total = columns[0]
    for column in columns[1:]:
        total = total + column
    return total


def _estates(query: VacancyQuery) -> QuerySet[Estate]:
    """Published estates matching the search's place, with a summary row and the count."""
    return (
        Estate.objects.filter(query.estate_q())
        .annotate(vacant_count=matching_vacant(query))
        .filter(vacant_count__gt=0)
    )


def vacancy_estates(query: VacancyQuery) -> QuerySet[Estate] | None:
    """Estates with matching vacant units, showing only their listed columns, ordered as the
    home page lists them; None when the summary cannot answer the search."""
    if not applies(query):
        return None
    estates = _estates(query).select_related("district", "street").only(*ESTATE_COLUMNS)
    if query.near is not None:
        return estates.annotate(distance=Distance("location_geog", query.near)).order_by(
            "distance", "id"
        )
    return estates.order_by("district__adcode", "-vacant_count", "name", "id")


def vacancy_totals(query: VacancyQuery) -> dict[str, int] | None:
    """How many estates and vacant units match, in one aggregate over summary rows; None when
    the summary cannot answer the search."""
    if not applies(query):
        return None
    totals = _estates(query).aggregate(estates=Count("id"), units=Sum("vacant_count"))
    return {"estates": totals["estates"], "units": totals["units"] or 0}


def estate_summary(estate: Estate) -> EstateStockSummary:
    """The estate's summary row (zeros when it has no units yet)."""
    return EstateStockSummary.objects.filter(estate=estate).first() or EstateStockSummary(
        estate=estate
    )


def vacant_count_expression(query: VacancyQuery) -> Coalesce:
    """Matching vacant units per estate from the summary (0 without a row), for layers."""
    return Coalesce(matching_vacant(query), Value(0), output_field=IntegerField())
