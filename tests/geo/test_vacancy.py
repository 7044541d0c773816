"""The vacancy search returns exactly the vacant units a visitor asked for, and nothing else."""

from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.http import QueryDict

from geo import selectors
from geo.models import Unit
from geo.vacancy import VacancyForm, VacancyQuery, parse_vacancy_query

pytestmark = pytest.mark.django_db


_ALL: list[Unit] = []


def everything() -> list[Unit]:
    """Every unit with its building and estate; the demo city is the same in every test."""
    if not _ALL:
        _ALL.extend(
            Unit.objects.select_related("building__estate__district", "building__estate__street")
        )
    return _ALL


def expected(query: VacancyQuery, units: list[Unit]) -> set[int]:
    """The same search written the slow, obvious way, over every unit."""

    def ok(u: Unit) -> bool:
        e = u.building.estate
        checks = [
            u.status == "vacant",
            e.published,
            not query.district or e.district.adcode == query.district,
            not query.street or (e.street and e.street.adcode == query.street),
            not query.rooms or (u.rooms in query.rooms or (3 in query.rooms and u.rooms >= 3)),
            query.area_min is None or u.area >= query.area_min,
            query.area_max is None or u.area <= query.area_max,
            query.rent_min is None or u.monthly_rent >= query.rent_min,
            query.rent_max is None or u.monthly_rent <= query.rent_max,
            query.floor_min is None or u.floor >= query.floor_min,
            query.floor_max is None or u.floor <= query.floor_max,
            not query.elevator or u.building.elevator,
            not query.accessible or u.accessible,
            not query.orientation or u.orientation in query.orientation,
        ]
        return all(checks)

    return {u.pk for u in units if ok(u)}


def search(params: str) -> VacancyQuery:
    query, form = parse_vacancy_query(QueryDict(params))
    assert form.is_valid(), form.errors
    return query


@pytest.mark.parametrize(
    "params",
    [
        "",
        "district=341602",
        "district=341621",
        "rooms=1",
        "rooms=2",
        "rooms=1,2",
        "rooms=1&rooms=2",
        "area_min=45",
        "area_max=40",
        "area_min=40&area_max=50",
        "rent_min=500",
        "rent_max=400",
        "floor_min=3&floor_max=6",
        "floor_max=1",
        "elevator=1",
        "accessible=1",
        "orientation=SN",
        "orientation=S,E",
        "district=341602&rooms=2&elevator=1",
        "rooms=1&rent_max=450&floor_min=2&orientation=S",
        "district=341622&accessible=1&area_min=30",
        "area_min=70",
    ],
)
def test_each_filter_and_combinations_match_a_brute_force_search(params):
    query = search(params)
    units = everything()
    want = expected(query, units)
    got = set(selectors.vacancy_units(query).values_list("pk", flat=True))
    assert got == want
    # The estates shown on the map carry exactly these units, counted per estate.
    by_estate: dict[int, int] = {}
    for u in units:
        if u.pk in want:
            by_estate[u.building.estate_id] = by_estate.get(u.building.estate_id, 0) + 1
    estates = {e.pk: e.vacant_count for e in selectors.vacancy_estates(query)}
    assert estates == by_estate


def test_the_street_filter_keeps_estates_of_that_street_only():
    unit = Unit.objects.filter(status="vacant", building__estate__published=True).first()
    street = unit.building.estate.street
    query = search(f"street={street.adcode}")
    estates = list(selectors.vacancy_estates(query))
    assert estates
    assert {e.street_id for e in estates} == {street.pk}
    assert set(selectors.vacancy_units(query).values_list("pk", flat=True)) == expected(
        query, everything()
    )


def test_within_distance_uses_metres_on_the_ground():
    centre = Point(115.78, 33.85, srid=4326)
    query = search("near=115.78,33.85&within_km=3")
    estates = list(selectors.vacancy_estates(query))
    assert estates, "the demo city has estates near its urban centre"
    distances = [e.distance.m for e in estates]
    assert distances == sorted(distances)
    assert max(distances) <= 3000
    # Every estate with vacancies inside 3 km is there, checked independently in PostGIS.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT e.id FROM geo_estate e WHERE e.published AND "
            "ST_Distance(e.location::geography, ST_GeomFromEWKT(%s)::geography) <= 3000 "
            "AND EXISTS (SELECT 1 FROM geo_unit u JOIN geo_building b ON b.id = u.building_id "
            "WHERE b.estate_id = e.id AND u.status = 'vacant')",
            [centre.ewkt],
        )
        assert {row[0] for row in cursor.fetchall()} == {e.pk for e in estates}


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ("area_min=50&area_max=40", "area_max", "上限不能小于下限"),
        ("rent_min=abc", "rent_min", ""),
        ("near=east", "near", "经度,纬度"),
        ("near=200,33", "near", "超出范围"),
        ("within_km=5", "near", "先选定一个位置"),
        ("district=Bozhou", "district", "6位"),
        ("rooms=9", "rooms", ""),
    ],
)
def test_bad_filters_name_the_field_in_chinese(params, field, message):
    form = VacancyForm(QueryDict(params))
    assert not form.is_valid()
    assert field in form.errors
    assert message in " ".join(form.errors[field])


def test_invalid_fields_are_dropped_and_the_rest_still_applies():
    query, form = parse_vacancy_query(QueryDict("rooms=2&area_min=oops"))
    assert "area_min" in form.errors
    assert query == VacancyQuery(rooms=(2,))


def test_query_round_trips_through_its_url_parameters():
    query = search(
        "district=341602&rooms=1,2&area_min=35&rent_max=500&floor_min=2&elevator=1"
        "&orientation=S&near=115.780000,33.850000&within_km=2.5"
    )
    again = search(QueryDict(mutable=True).copy().urlencode() or "")
    assert again == VacancyQuery()
    params = QueryDict(mutable=True)
    for key, value in query.as_params().items():
        params[key] = value
    assert search(params.urlencode()) == query
    assert query.area_min == Decimal("35")
