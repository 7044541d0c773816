"""Public reads from the per-estate stock summary (geo.models.EstateStockSummary).

The home page, the estate list API, the estate layers and the estate page count vacant units
per estate from one summary row each instead of joining every vacant unit. The summary knows
counts by status and by rooms, so it answers any search whose unit conditions are at most a
room count; other searches fall back to counting the matching units (`applies` tells which).
"""

from django.contrib.gis.db.models.functions import Distance
from django.db import connection
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


# Every summary row against a recount of its estate's units (the triggers of migrations geo
# 0006/0009 keep them equal); rows of estates without units may stay as zeros.
_MISMATCHED = """
WITH recount AS (
    SELECT b.estate_id,
           count(*) AS units,
           count(*) FILTER (WHERE u.status = 'vacant') AS vacant,
           count(*) FILTER (WHERE u.status = 'offered') AS offered,
           count(*) FILTER (WHERE u.status = 'occupied') AS occupied,
           count(*) FILTER (WHERE u.status = 'repair') AS repair,
           count(*) FILTER (WHERE u.status = 'withheld') AS withheld,
           count(*) FILTER (WHERE u.status = 'vacant' AND u.rooms = 1) AS rooms_1,
           count(*) FILTER (WHERE u.status = 'vacant' AND u.rooms = 2) AS rooms_2,
           count(*) FILTER (WHERE u.status = 'vacant' AND u.rooms >= 3) AS rooms_3plus,
           min(u.area) AS area_min, max(u.area) AS area_max,
           min(u.monthly_rent) AS rent_min, max(u.monthly_rent) AS rent_max,
           min(u.monthly_rent) FILTER (WHERE u.status = 'vacant') AS vacant_rent_min,
           max(u.monthly_rent) FILTER (WHERE u.status = 'vacant') AS vacant_rent_max,
           coalesce(jsonb_agg(DISTINCT jsonb_build_array(u.rooms, u.halls, u.baths))
                    FILTER (WHERE u.status = 'vacant'), '[]'::jsonb) AS layouts
      FROM geo_unit u JOIN geo_building b ON b.id = u.building_id
     GROUP BY b.estate_id
)
SELECT coalesce(s.estate_id, r.estate_id)
  FROM geo_estatestocksummary s
  FULL JOIN recount r ON r.estate_id = s.estate_id
 WHERE (s.units IS NOT NULL OR r.estate_id IN (SELECT id FROM geo_estate))
   AND (s.units, s.vacant, s.offered, s.occupied, s.repair, s.withheld, s.vacant_rooms_1,
        s.vacant_rooms_2, s.vacant_rooms_3plus, s.area_min, s.area_max, s.rent_min, s.rent_max,
        s.vacant_rent_min, s.vacant_rent_max, s.vacant_layouts)
       IS DISTINCT FROM
       (coalesce(r.units, 0), coalesce(r.vacant, 0), coalesce(r.offered, 0),
        coalesce(r.occupied, 0), coalesce(r.repair, 0), coalesce(r.withheld, 0),
        coalesce(r.rooms_1, 0), coalesce(r.rooms_2, 0), coalesce(r.rooms_3plus, 0),
        r.area_min, r.area_max, r.rent_min, r.rent_max, r.vacant_rent_min, r.vacant_rent_max,
        coalesce(r.layouts, '[]'::jsonb))
 ORDER BY 1
"""


def mismatched_estates() -> list[int]:
    """Estates whose summary row differs from a full recount of their units (should be none):
    the check behind the tests and bench/stock_summary.py, and a tool when in doubt."""
    with connection.cursor() as cursor:
        cursor.execute(_MISMATCHED)
        return [row[0] for row in cursor.fetchall()]
