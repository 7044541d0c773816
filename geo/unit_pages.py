"""Vacant units page by page without sorting every match: pages are cut along estates.

Units are listed by district, estate, building, floor and number. Knowing how many matching
units each estate has (from the stock summary, or one grouped count when the search has
conditions the summary cannot answer), a page's offset maps to a few estates; only their units
are fetched and sorted. The count is the sum of the same numbers: no second scan of the units.

`UnitPages` behaves like a queryset for django.core.paginator.Paginator (and DRF's pagination):
`count()` and slicing.
"""

from django.db.models import Count, F, QuerySet

from anju.db_router import read_connection
from geo import summaries
from geo.models import Estate, Unit
from geo.ordering import natural
from geo.vacancy import VacancyQuery

ESTATE_ORDER = ("district__adcode", "name", "id")
# What a vacant-unit row shows (with its building), for `.only()` here and on the estate page.
UNIT_ROW_COLUMNS = (
    "id",
    "number",
    "floor",
    "rooms",
    "halls",
    "baths",
    "area",
    "monthly_rent",
    "orientation",
    "accessible",
    "building__id",
    "building__number",
    "building__elevator",
)


def _units(query: VacancyQuery) -> QuerySet[Unit]:
    """Matching vacant units with only what a list row or a GeoJSON feature shows."""
    return (
        Unit.objects.filter(query.units_q())
        .select_related("building__estate__district")
        .only(
            *UNIT_ROW_COLUMNS,
            "building__estate__id",
            "building__estate__name",
            "building__estate__district__name",
        )
        .annotate(point=F("building__map_point"))
    )


def _counted_units(query: VacancyQuery) -> list[tuple[int, int]]:
    """Matching vacant units per estate in list order, counted per building first: that count
    is an index-only scan of the vacant units' partial index, not a visit to every row."""
    per_building = (
        Unit.objects.filter(query.unit_q()).order_by().values("building_id").annotate(n=Count("*"))
    )
    estates = (
        Estate.objects.filter(query.estate_q())
        .order_by()
        .annotate(adcode=F("district__adcode"))
        .values("id", "name", "adcode")
    )
    units_sql, units_params = per_building.query.sql_with_params()
    estates_sql, estates_params = estates.query.sql_with_params()
    sql = (
        f"WITH u AS MATERIALIZED ({units_sql}), e AS ({estates_sql}) "
        "SELECT e.id, sum(u.n)::integer FROM u "
        "JOIN geo_building b ON b.id = u.building_id JOIN e ON e.id = b.estate_id "
        "GROUP BY e.id, e.adcode, e.name ORDER BY e.adcode, e.name, e.id"
    )
    with read_connection().cursor() as cursor:
        cursor.execute(sql, (*units_params, *estates_params))
        return cursor.fetchall()


class UnitPages:
    """The matching vacant units in list order, sliceable and countable cheaply."""

    ordered = True

    def __init__(self, query: VacancyQuery):
        self.query = query
        self._counts: list[tuple[int, int]] | None = None

    def estate_counts(self) -> list[tuple[int, int]]:
        """(estate id, matching vacant units) in list order, estates without any left out."""
        if self._counts is None:
            if summaries.applies(self.query):
                rows = (
                    Estate.objects.filter(self.query.estate_q())
                    .annotate(n=summaries.matching_vacant(self.query))
                    .filter(n__gt=0)
                    .order_by(*ESTATE_ORDER)
                    .values_list("id", "n")
                )
                self._counts = list(rows)
            else:
                self._counts = _counted_units(self.query)
        return self._counts

    def count(self) -> int:
        return sum(n for _, n in self.estate_counts())

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item: slice) -> list[Unit]:
        if not isinstance(item, slice) or item.step not in (None, 1):
            raise TypeError("UnitPages supports plain slices only")
        start, stop = item.start or 0, item.stop
        if stop is None:
            stop = self.count()
        ids, skip, seen = [], 0, 0
        for estate_id, n in self.estate_counts():
            if seen + n > start and seen < stop:
                if not ids:
                    skip = start - seen
                ids.append(estate_id)
            seen += n
            if seen >= stop:
                break
        if not ids or stop <= start:
            return []
        units = (
            _units(self.query)
            .filter(building__estate_id__in=ids)
            .order_by(
                *(f"building__estate__{field}" for field in ESTATE_ORDER),
                *natural("building__number"),  # 2号楼 before 10号楼
                "floor",
                *natural("number"),
            )
        )
        return list(units[skip : skip + (stop - start)])
