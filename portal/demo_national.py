"""A national-size demo (load_demo --units above NATIONAL_UNITS): a city of about a million units
is planned and written as usual, then copied as further cities on a grid by set-based SQL
(INSERT … SELECT over generate_series), because the planner's estate placement grows with the
square of the estate count and 80,000 estates would take hours.

Each copy is a whole city shifted east/north: its city, districts, streets and communities (new
adcodes whose prefecture digits are 50 + the copy's number, names marked ·N), estates,
buildings, units and POIs, so every estate still lies in its own community, street and county,
and a tile or bbox sees a city's density, as it would anywhere in a country.
"""

import math
from collections.abc import Callable

from django.db import connection, transaction

NATIONAL_UNITS = 2_000_000  # above this, load_demo plans one city and copies it
CITY_UNITS = 1_000_000  # the size of the planned city (and of each copy)
GRID_COLUMNS = 4
MARGIN_DEGREES = 0.2
MAX_COPIES = 49  # prefecture digits 51–99 stay valid adcodes


def plan(units: int) -> tuple[int, int]:
    """(units of the planned city, number of cities) for a national target."""
    cities = math.ceil(units / CITY_UNITS)
    if cities - 1 > MAX_COPIES:
        raise ValueError(f"at most {(MAX_COPIES + 1) * CITY_UNITS:,} units")
    return round(units / cities), cities


def _one(sql: str, params: tuple = ()) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _run(sql: str, params: tuple | dict = ()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _span(table: str) -> int:
    return _one(f'SELECT coalesce(max(id), 0) FROM "{table}"')[0]


@transaction.atomic
def copy_cities(copies: int, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Copy the city's stock `copies` times on a grid; all or nothing."""
    city_id, xmin, ymin, xmax, ymax = _one(
        "SELECT id, ST_XMin(boundary), ST_YMin(boundary), ST_XMax(boundary), ST_YMax(boundary)"
        " FROM geo_region WHERE level = 'city' ORDER BY adcode LIMIT 1"
    )
    width, height = xmax - xmin + MARGIN_DEGREES, ymax - ymin + MARGIN_DEGREES
    spans = {t: _span(t) for t in ("geo_region", "geo_estate", "geo_building")}
    counts = {"regions": 0, "estates": 0, "buildings": 0, "units": 0, "pois": 0}
    # The city's regions: its own row and every region below it (ids are a tree by parent).
    _run(
        "CREATE TEMP TABLE national_region ON COMMIT DROP AS "
        "WITH RECURSIVE tree AS (SELECT id FROM geo_region WHERE id = %s "
        "UNION ALL SELECT r.id FROM geo_region r JOIN tree t ON r.parent_id = t.id) "
        "SELECT id FROM tree",
        (city_id,),
    )
    for k in range(1, copies + 1):
        p = {
            "k": k,
            "dx": (k % GRID_COLUMNS) * width,
            "dy": (k // GRID_COLUMNS) * height,
            "code": str(50 + k),
            "r": spans["geo_region"] * k,
            "e": spans["geo_estate"] * k,
            "b": spans["geo_building"] * k,
        }
        counts["regions"] += _run(
            "INSERT INTO geo_region (id, adcode, name, level, boundary, is_demo, parent_id,"
            " search_initials, search_pinyin)"
            " SELECT r.id + %(r)s, overlay(r.adcode placing %(code)s from 3 for 2),"
            " r.name || '·' || %(k)s, r.level, ST_Translate(r.boundary, %(dx)s, %(dy)s), true,"
            " CASE WHEN r.parent_id IN (SELECT id FROM national_region)"
            " THEN r.parent_id + %(r)s ELSE r.parent_id END,"
            " r.search_initials, r.search_pinyin"
            " FROM geo_region r JOIN national_region n ON n.id = r.id",
            p,
        )
        counts["estates"] += _run(
            "INSERT INTO geo_estate (id, name, address, boundary, location, year_built,"
            " facilities, description, published, is_demo, created_at, updated_at, operator_id,"
            " community_id, district_id, street_id, search_initials, search_pinyin)"
            " SELECT e.id + %(e)s, e.name, e.address, ST_Translate(e.boundary, %(dx)s, %(dy)s),"
            " ST_Translate(e.location, %(dx)s, %(dy)s), e.year_built, e.facilities,"
            " e.description, e.published, true, e.created_at, e.updated_at, e.operator_id,"
            " e.community_id + %(r)s, e.district_id + %(r)s, e.street_id + %(r)s,"
            " e.search_initials, e.search_pinyin"
            " FROM geo_estate e WHERE e.id <= %(span)s",
            {**p, "span": spans["geo_estate"]},
        )
        counts["buildings"] += _run(
            "INSERT INTO geo_building (id, number, floors, elevator, footprint, estate_id)"
            " SELECT b.id + %(b)s, b.number, b.floors, b.elevator,"
            " ST_Translate(b.footprint, %(dx)s, %(dy)s), b.estate_id + %(e)s"
            " FROM geo_building b WHERE b.id <= %(span)s",
            {**p, "span": spans["geo_building"]},
        )
        added = _run(
            "INSERT INTO geo_unit (number, floor, rooms, halls, baths, area, orientation,"
            " accessible, monthly_rent, status, created_at, updated_at, building_id)"
            " SELECT u.number, u.floor, u.rooms, u.halls, u.baths, u.area, u.orientation,"
            " u.accessible, u.monthly_rent, u.status, u.created_at, u.updated_at,"
            " u.building_id + %(b)s FROM geo_unit u WHERE u.building_id <= %(span)s",
            {**p, "span": spans["geo_building"]},
        )
        counts["units"] += added
        counts["pois"] += _run(
            "INSERT INTO geo_poi (category, name, location, is_demo)"
            " SELECT category, name, ST_Translate(location, %(dx)s, %(dy)s), true"
            " FROM geo_poi WHERE is_demo AND ST_Intersects(location, %(extent)s::geometry)",
            {**p, "extent": _extent_wkt(xmin, ymin, xmax, ymax)},
        )
        if progress:
            progress(added)
    for table in ("geo_region", "geo_estate", "geo_building"):
        _run(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
    return counts


def _extent_wkt(xmin: float, ymin: float, xmax: float, ymax: float) -> str:
    """The planned city's POIs only (not a previous copy's): its extent as SRID 4326 EWKT."""
    return (
        f"SRID=4326;POLYGON(({xmin} {ymin},{xmax} {ymin},{xmax} {ymax},{xmin} {ymax},"
        f"{xmin} {ymin}))"
    )
