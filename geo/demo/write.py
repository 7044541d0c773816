"""Storing a demo plan with COPY, so a province-size city loads in minutes, not hours."""

import json
from collections.abc import Callable, Iterable

import shapely
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection, transaction
from django.utils import timezone

from geo.demo.plan import DemoPlan, plan_units
from geo.models import POI, Building, Estate, Operator, Region, Unit
from geo.region_import import RegionRecord
from geo.services import upsert_regions


def _ewkb(geom) -> str:
    return shapely.to_wkb(shapely.set_srid(geom, 4326), hex=True, include_srid=True)


def _next_ids(model) -> int:
    """Reserve ids by locking the table and continuing after its highest id."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')
        cursor.execute(f'SELECT coalesce(max(id), 0) FROM "{table}"')
        return cursor.fetchone()[0] + 1


def _copy(model, columns: list[str], rows: Iterable[tuple]) -> int:
    table = model._meta.db_table
    cols = ", ".join(f'"{c}"' for c in columns)
    count = 0
    with connection.cursor() as cursor:
        with cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        # Continue the identity sequence after the ids we chose.
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
            f'(SELECT max(id) FROM "{table}"))'
        )
    return count


@transaction.atomic
def write_plan(plan: DemoPlan, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Write regions, operators, estates, buildings, units and POIs; all or nothing."""
    upsert_regions(
        [
            RegionRecord(
                r.adcode,
                r.name,
                r.level,
                r.parent_adcode,
                GEOSGeometry(r.geometry.wkb_hex, srid=4326),
            )
            for r in plan.regions
        ],
        is_demo=True,
    )
    region_ids = dict(Region.objects.values_list("adcode", "id"))
    now = timezone.now()

    operator_ids = []
    for name, contact, hotline in plan.operators:
        op, _ = Operator.objects.get_or_create(
            name=name, defaults={"contact": contact, "hotline": hotline}
        )
        operator_ids.append(op.pk)

    estate_id = _next_ids(Estate)
    building_id = _next_ids(Building)
    estate_rows, building_rows, building_plan = [], [], []
    for e in plan.estates:
        pinyin, initials = Estate(name=e.name, address=e.address).search_keys()
        estate_rows.append(
            {
                "id": estate_id,
                "name": e.name,
                "address": e.address,
                "district_id": region_ids[e.district],
                "street_id": region_ids[e.street],
                "community_id": region_ids[e.community],
                "boundary": _ewkb(e.boundary),
                "location": _ewkb(e.location),
                "operator_id": operator_ids[e.operator],
                "year_built": e.year_built,
                "facilities": json.dumps(e.facilities, ensure_ascii=False),
                "description": e.description,
                "published": e.published,
                "is_demo": True,
                "created_at": now,
                "updated_at": now,
                "search_pinyin": pinyin,
                "search_initials": initials,
            }
        )
        for b in e.buildings:
            building_rows.append(
                (building_id, estate_id, b.number, b.floors, b.elevator, _ewkb(b.footprint))
            )
            building_plan.append((building_id, b, e.rent_per_m2))
            building_id += 1
        estate_id += 1
    columns = list(estate_rows[0]) if estate_rows else []
    _copy(Estate, columns, (tuple(row.values()) for row in estate_rows))
    _copy(Building, ["id", "estate_id", "number", "floors", "elevator", "footprint"], building_rows)

    def unit_rows():
        for bid, b, rent in building_plan:
            for u in plan_units(plan, b, rent):
                yield (
                    bid,
                    u.number,
                    u.floor,
                    u.rooms,
                    u.halls,
                    u.baths,
                    u.area,
                    u.orientation,
                    u.accessible,
                    u.monthly_rent,
                    u.status,
                    now,
                    now,
                )
            if progress:
                progress(b.floors * b.units_per_floor)

    units = _copy(
        Unit,
        [
            "building_id",
            "number",
            "floor",
            "rooms",
            "halls",
            "baths",
            "area",
            "orientation",
            "accessible",
            "monthly_rent",
            "status",
            "created_at",
            "updated_at",
        ],
        unit_rows(),
    )
    pois = _copy(
        POI,
        ["category", "name", "location", "is_demo"],
        ((p.category, p.name, _ewkb(p.location), True) for p in plan.pois),
    )
    return {
        "regions": len(plan.regions),
        "estates": len(estate_rows),
        "buildings": len(building_rows),
        "units": units,
        "pois": pois,
    }
