"""State changes to the housing stock. Each is one transaction; views never write on their own."""

import json
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.gis.geos import GEOSGeometry
from django.db import transaction

from archive.models import Event
from archive.services import record_event, record_events
from geo.models import MANUAL_STATUSES, Building, Estate, Region, Unit
from geo.region_import import RegionRecord, sorted_for_insert
from geo.stock_import import StockPlan


@dataclass
class RegionLoadResult:
    created: int
    updated: int


@transaction.atomic
def upsert_regions(records: list[RegionRecord], *, is_demo: bool = False) -> RegionLoadResult:
    """Create or update regions by adcode, parents first, all or nothing."""
    created = updated = 0
    ids: dict[str, int] = dict(
        Region.objects.filter(
            adcode__in={r.parent_adcode for r in records if r.parent_adcode}
        ).values_list("adcode", "id")
    )
    for record in sorted_for_insert(records):
        region, was_created = Region.objects.update_or_create(
            adcode=record.adcode,
            defaults={
                "name": record.name,
                "level": record.level,
                "parent_id": ids.get(record.parent_adcode) if record.parent_adcode else None,
                "boundary": record.boundary,
                "is_demo": is_demo,
            },
        )
        ids[record.adcode] = region.pk
        created += was_created
        updated += not was_created
    return RegionLoadResult(created=created, updated=updated)


# --- housing stock: every change appends an archive event in the same transaction ------------


class StaleState(Exception):
    """Someone else changed the record first; the caller should reload and decide again."""


class NotAllowed(Exception):
    """The change is not one this action may make (the message says why, in Chinese)."""


NEW_UNIT_DEFAULTS = {
    "halls": 1,
    "baths": 1,
    "orientation": Unit.Orientation.SOUTH,
    "accessible": False,
    "status": Unit.Status.WITHHELD,
}
ESTATE_FIELDS = [
    "name",
    "address",
    "district_id",
    "street_id",
    "community_id",
    "operator_id",
    "year_built",
    "facilities",
    "description",
    "published",
    "boundary",
    "location",
]


def _snapshot(obj, fields: list[str]) -> dict:
    """Field values for the archive; geometry as GeoJSON rounded to ~1 cm, so a round trip
    through a map widget (WGS84 -> web mercator -> WGS84) is not reported as a change."""
    data = {}
    for name in fields:
        value = getattr(obj, name)
        if hasattr(value, "geojson"):
            value = json.dumps(_rounded(json.loads(value.geojson)["coordinates"]))
        data[name] = value
    return data


def _rounded(coords):
    if isinstance(coords, float | int):
        return round(coords, 7)
    return [_rounded(c) for c in coords]


def _labels(fields: list[str]) -> str:
    names = [str(Estate._meta.get_field(f.removesuffix("_id")).verbose_name) for f in fields]
    return "、".join(names) or "无变化"


@transaction.atomic
def save_estate(estate: Estate, *, actor) -> Estate:
    """Create or edit an estate; the event carries the fields that changed, before and after."""
    is_new = estate.pk is None
    before = {} if is_new else _snapshot(Estate.objects.get(pk=estate.pk), ESTATE_FIELDS)
    estate.full_clean()
    estate.save()
    after = _snapshot(estate, ESTATE_FIELDS)
    changed = [k for k in ESTATE_FIELDS if before.get(k) != after[k]] if not is_new else []
    record_event(
        "estate.created" if is_new else "estate.changed",
        f"新建项目 {estate.name}" if is_new else f"修改项目 {estate.name}：{_labels(changed)}",
        actor=actor,
        estate_id=estate.pk,
        before={k: before[k] for k in changed} or None,
        after=after if is_new else {k: after[k] for k in changed} or None,
    )
    return estate


@transaction.atomic
def set_estate_published(estate_id: int, published: bool, *, actor) -> Estate:
    """Publish or withdraw an estate: the public portal shows or hides it at once."""
    estate = Estate.objects.select_for_update().get(pk=estate_id)
    if estate.published == published:
        return estate
    estate.published = published
    estate.save(update_fields=["published", "updated_at"])
    record_event(
        "estate.published" if published else "estate.withdrawn",
        f"{'公开' if published else '撤回'}项目 {estate.name}",
        actor=actor,
        estate_id=estate.pk,
        before={"published": not published},
        after={"published": published},
    )
    return estate


@transaction.atomic
def change_unit_status(unit_id: int, *, expected: str, new: str, reason: str, actor) -> Unit:
    """Set a unit vacant, under repair or withheld, with a reason; two clerks, one result."""
    if new not in MANUAL_STATUSES:
        raise NotAllowed("只能在“空置”“维修中”“暂不分配”之间调整；入住与配租由配租、退租流程变更。")
    if not reason.strip():
        raise NotAllowed("请填写变更原因。")
    unit = Unit.objects.select_for_update().select_related("building").get(pk=unit_id)
    if unit.status != expected:
        raise StaleState(f"房屋状态已被他人改为“{unit.get_status_display()}”，请刷新后再操作。")
    if unit.status not in MANUAL_STATUSES:
        raise NotAllowed("该房屋已入住或已配租，不能在此直接变更状态。")
    if new == expected:
        return unit
    old_label = unit.get_status_display()
    unit.status = new
    unit.save(update_fields=["status", "updated_at"])
    record_event(
        "unit.status",
        f"{unit.building.number} {unit.number}：{old_label} → {unit.get_status_display()}",
        actor=actor,
        estate_id=unit.building.estate_id,
        building_id=unit.building_id,
        unit_id=unit.pk,
        before={"status": expected},
        after={"status": new},
        reason=reason.strip(),
    )
    return unit


@dataclass(frozen=True)
class Layout:
    """What the unit at one position of each floor looks like."""

    rooms: int
    halls: int
    baths: int
    area: Decimal
    orientation: str = Unit.Orientation.SOUTH
    accessible_on_ground_floor: bool = False


@transaction.atomic
def create_building_with_units(
    estate: Estate,
    *,
    number: str,
    floors: tuple[int, int],
    layouts: list[Layout],
    rent_per_m2: Decimal,
    elevator: bool,
    footprint=None,
    actor,
) -> Building:
    """A building with its units, numbered floor + position (1203 = floor 12, position 3)."""
    low, high = floors
    if not (1 <= low <= high <= 200):
        raise NotAllowed("楼层范围不正确。")
    if not 1 <= len(layouts) <= 20:
        raise NotAllowed("每层户数应为 1–20。")
    if Building.objects.filter(estate=estate, number=number).exists():
        raise NotAllowed(f"楼号“{number}”在本项目中已存在。")
    building = Building.objects.create(
        estate=estate, number=number, floors=high, elevator=elevator, footprint=footprint
    )
    units = [
        Unit(
            building=building,
            number=f"{floor}{pos:02d}",
            floor=floor,
            rooms=layout.rooms,
            halls=layout.halls,
            baths=layout.baths,
            area=layout.area,
            orientation=layout.orientation,
            accessible=layout.accessible_on_ground_floor and floor == low,
            monthly_rent=(layout.area * rent_per_m2).quantize(Decimal("1")),
            status=Unit.Status.WITHHELD,
        )
        for floor in range(low, high + 1)
        for pos, layout in enumerate(layouts, start=1)
    ]
    Unit.objects.bulk_create(units, batch_size=1000)
    record_event(
        "building.created",
        f"新建楼栋 {number}：{low}–{high} 层，每层 {len(layouts)} 户，共 {len(units)} 套",
        actor=actor,
        estate_id=estate.pk,
        building_id=building.pk,
        after={"floors": [low, high], "units": len(units), "elevator": elevator},
    )
    record_events(
        Event(
            action="unit.created",
            summary=f"{number} {u.number} 登记入库（暂不分配）",
            actor=actor if actor is not None and actor.is_authenticated else None,
            estate_id=estate.pk,
            building_id=building.pk,
            unit_id=u.pk,
            after={"status": u.status, "area": str(u.area), "rent": str(u.monthly_rent)},
        )
        for u in units
    )
    return building


@transaction.atomic
def import_stock(plan: StockPlan, *, actor) -> dict[str, int]:
    """Write a checked stock file: new estates (unpublished), buildings and units; existing units
    are updated. All or nothing; every created or changed record gets its archive event."""
    if not plan.ok:
        raise NotAllowed("文件中还有问题，未导入任何数据。请修正后重新上传。")
    estate_ids = dict(plan.existing_estates)
    for name in plan.new_estates:
        first = next(r for r in plan.rows if r.estate == name)
        estate_ids[name] = _new_estate_from_row(first, actor=actor).pk

    buildings = {
        (b.estate_id, b.number): b
        for b in Building.objects.filter(estate_id__in=estate_ids.values())
    }
    groups: dict[tuple[int, str], list] = {}
    for r in plan.rows:
        groups.setdefault((estate_ids[r.estate], r.building), []).append(r)
    new_buildings = []
    for (estate_id, number), rows in groups.items():
        if (estate_id, number) in buildings:
            continue
        footprint = next(
            (
                GEOSGeometry(memoryview(r.geometry.wkb), srid=4326)
                for r in rows
                if r.geometry is not None and r.geometry.geom_type == "Polygon"
            ),
            None,
        )
        new_buildings.append(
            Building(
                estate_id=estate_id,
                number=number,
                floors=max([r.floors or 0 for r in rows] + [r.floor for r in rows]),
                elevator=any(r.elevator for r in rows),
                footprint=footprint,
            )
        )
    Building.objects.bulk_create(new_buildings)
    buildings |= {(b.estate_id, b.number): b for b in new_buildings}

    existing = {
        (u.building_id, u.number): u
        for u in Unit.objects.select_for_update()
        .select_related("building")
        .filter(building__in=list(buildings.values()))
    }
    fields = [
        "floor",
        "rooms",
        "halls",
        "baths",
        "area",
        "monthly_rent",
        "orientation",
        "accessible",
        "status",
    ]
    created, updated, events = [], [], []
    for r in plan.rows:
        building = buildings[(estate_ids[r.estate], r.building)]
        given = {
            "floor": r.floor,
            "rooms": r.rooms,
            "halls": r.halls,
            "baths": r.baths,
            "area": r.area,
            "monthly_rent": r.rent,
            "orientation": r.orientation,
            "accessible": r.accessible,
            "status": r.status,
        }
        values = {f: v for f, v in given.items() if v is not None}  # columns the file has
        unit = existing.get((building.pk, r.unit))
        if unit is None:
            created.append(Unit(building=building, number=r.unit, **(NEW_UNIT_DEFAULTS | values)))
            continue
        if (
            "status" in values
            and values["status"] != unit.status
            and unit.status not in MANUAL_STATUSES
        ):
            raise NotAllowed(
                f"第 {r.row} 行“状态”：{r.building} {r.unit} 现为“{unit.get_status_display()}”，"
                "不能由导入改变；未写入任何数据。"
            )
        changed = [f for f in values if getattr(unit, f) != values[f]]  # 406.00 == 406.0
        if changed:
            before = {f: str(getattr(unit, f)) for f in changed}
            for f in changed:
                setattr(unit, f, values[f])
            after = {f: str(getattr(unit, f)) for f in changed}
            updated.append(unit)
            events.append(
                _unit_event(
                    unit,
                    "unit.imported",
                    "导入更新",
                    actor,
                    before,
                    after,
                )
            )
    Unit.objects.bulk_create(created, batch_size=2000)
    Unit.objects.bulk_update(updated, fields, batch_size=2000)
    events += [
        _unit_event(
            u,
            "unit.created",
            "导入登记",
            actor,
            None,
            {"status": u.status, "area": str(u.area), "rent": str(u.monthly_rent)},
        )
        for u in created
    ]
    record_events(events)
    for b in new_buildings:
        record_event(
            "building.created",
            f"导入新建楼栋 {b.number}（{b.floors} 层）",
            actor=actor,
            estate_id=b.estate_id,
            building_id=b.pk,
        )
    return {
        "estates": len(plan.new_estates),
        "buildings": len(new_buildings),
        "created": len(created),
        "updated": len(updated),
    }


def _unit_event(unit: Unit, action: str, what: str, actor, before, after) -> Event:
    return Event(
        action=action,
        summary=f"{unit.building.number} {unit.number} {what}",
        actor=actor if actor is not None and actor.is_authenticated else None,
        estate_id=unit.building.estate_id,
        building_id=unit.building_id,
        unit_id=unit.pk,
        before=before,
        after=after,
    )


def _new_estate_from_row(row, *, actor) -> Estate:
    """A new estate placed where its first row says, in the regions that point lies in."""
    point = (
        row.geometry if row.geometry.geom_type == "Point" else row.geometry.representative_point()
    )
    location = GEOSGeometry(memoryview(point.wkb), srid=4326)
    regions = {
        r.level: r for r in Region.objects.filter(boundary__intersects=location).defer("boundary")
    }
    estate = Estate(
        name=row.estate,
        address=row.address,
        district=regions[Region.Level.DISTRICT],
        street=regions.get(Region.Level.STREET),
        community=regions.get(Region.Level.COMMUNITY),
        location=location,
        published=False,
    )
    return save_estate(estate, actor=actor)
