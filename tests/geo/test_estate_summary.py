"""The per-estate stock summary always equals a recount of the estate's units, whatever path
changed them: a service, a bulk update, new buildings, deletions, a building moved."""

from decimal import Decimal

import pytest

from geo import services, summaries
from geo.models import Building, Estate, EstateStockSummary, Unit
from geo.vacancy import VacancyQuery

pytestmark = pytest.mark.django_db


def recount(estate_id: int) -> dict:
    """The summary written the slow, obvious way, from every unit of the estate."""
    units = list(Unit.objects.filter(building__estate_id=estate_id))
    vacant = [u for u in units if u.status == "vacant"]
    return {
        "units": len(units),
        "vacant": len(vacant),
        "repair": sum(u.status == "repair" for u in units),
        "withheld": sum(u.status == "withheld" for u in units),
        "occupied": sum(u.status == "occupied" for u in units),
        "offered": sum(u.status == "offered" for u in units),
        "vacant_rooms_1": sum(u.rooms == 1 for u in vacant),
        "vacant_rooms_2": sum(u.rooms == 2 for u in vacant),
        "vacant_rooms_3plus": sum(u.rooms >= 3 for u in vacant),
        "area_min": min((u.area for u in units), default=None),
        "rent_max": max((u.monthly_rent for u in units), default=None),
        "vacant_rent_min": min((u.monthly_rent for u in vacant), default=None),
        "vacant_layouts": sorted({(u.rooms, u.halls, u.baths) for u in vacant}),
    }


def stored(estate_id: int) -> dict:
    row = EstateStockSummary.objects.filter(estate_id=estate_id).first()
    if row is None:
        return recount(-1)  # no row: the same as no units
    values = {name: getattr(row, name) for name in recount(-1)}
    values["vacant_layouts"] = sorted(tuple(x) for x in row.vacant_layouts)
    return values


def test_every_estate_of_the_demo_city_is_summarised_correctly():
    for estate_id in Estate.objects.values_list("id", flat=True):
        assert stored(estate_id) == recount(estate_id), estate_id


def test_a_status_change_through_the_service_updates_the_summary():
    unit = Unit.objects.filter(status="vacant").select_related("building").first()
    estate_id = unit.building.estate_id
    before = stored(estate_id)
    services.change_unit_status(unit.pk, expected="vacant", new="repair", reason="漏水", actor=None)
    after = stored(estate_id)
    assert after == recount(estate_id)
    assert (after["vacant"], after["repair"]) == (before["vacant"] - 1, before["repair"] + 1)


def test_bulk_updates_new_buildings_and_deletions_keep_it_current():
    estates = list(Estate.objects.order_by("id")[:3])
    ids = [e.pk for e in estates]
    # A bulk update across estates, as an import or a script would do it.
    Unit.objects.filter(building__estate_id__in=ids, status="occupied").update(status="vacant")
    Unit.objects.filter(building__estate_id=ids[0], rooms=2).update(monthly_rent=Decimal("99"))
    services.create_building_with_units(
        estates[1],
        number="新99号楼",
        floors=(1, 3),
        layouts=[services.Layout(rooms=4, halls=2, baths=2, area=Decimal("120.50"))],
        rent_per_m2=Decimal("8"),
        elevator=True,
        actor=None,
    )
    Unit.objects.filter(building__estate_id=ids[1], building__number="新99号楼").update(
        status="vacant"
    )
    Unit.objects.filter(building__estate_id=ids[2], floor=1).delete()
    for estate_id in ids:
        assert stored(estate_id) == recount(estate_id)


def test_a_building_moved_to_another_estate_moves_its_counts():
    first, second = Estate.objects.order_by("id")[:2]
    building = Building.objects.filter(estate=first).first()
    Building.objects.filter(pk=building.pk).update(estate=second, number="迁入1号楼")
    assert stored(first.pk) == recount(first.pk)
    assert stored(second.pk) == recount(second.pk)


def test_home_and_api_counts_from_the_summary_match_the_units():
    query = VacancyQuery(rooms=(1, 3))
    from_summary = {e.pk: e.vacant_count for e in summaries.vacancy_estates(query)}
    counted = {}
    for unit in Unit.objects.filter(query.units_q()).select_related("building"):
        counted[unit.building.estate_id] = counted.get(unit.building.estate_id, 0) + 1
    assert from_summary == counted
    totals = summaries.vacancy_totals(query)
    assert totals == {"estates": len(counted), "units": sum(counted.values())}


def test_searches_on_unit_details_are_not_answered_from_the_summary():
    assert summaries.vacancy_estates(VacancyQuery(area_min=Decimal("50"))) is None
    assert summaries.vacancy_estates(VacancyQuery(district="341602", rooms=(2,))) is not None
