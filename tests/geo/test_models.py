"""The database itself refuses stock data that must never exist."""

from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point, Polygon
from django.db import IntegrityError, transaction

from geo.models import Building, Estate, Region, Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def building() -> Building:
    district = Region.objects.get(adcode="341602")
    estate = Estate.objects.create(
        name="测试家园",
        address="测试路1号",
        district=district,
        location=Point(115.78, 33.85, srid=4326),
        published=True,
    )
    return Building.objects.create(estate=estate, number="1号楼", floors=6)


def unit(building: Building, **overrides) -> Unit:
    fields = {
        "number": "101",
        "floor": 1,
        "rooms": 1,
        "area": Decimal("40"),
        "monthly_rent": Decimal("400"),
    }
    return Unit(building=building, **{**fields, **overrides})


@pytest.mark.parametrize(
    "overrides",
    [
        {"area": Decimal("0")},
        {"area": Decimal("-12.5")},
        {"monthly_rent": Decimal("0")},
        {"monthly_rent": Decimal("-1")},
        {"floor": 0},
    ],
    ids=["zero-area", "negative-area", "zero-rent", "negative-rent", "floor-zero"],
)
def test_database_rejects_impossible_units(building, overrides):
    with pytest.raises(IntegrityError), transaction.atomic():
        unit(building, **overrides).save()


def test_unit_number_is_unique_within_its_building(building):
    unit(building).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        unit(building).save()
    other = Building.objects.create(estate=building.estate, number="2号楼", floors=6)
    unit(other).save()  # the same number in another building is fine
    assert Unit.objects.filter(number="101", building__estate=building.estate).count() == 2


def test_building_number_is_unique_within_its_estate(building):
    with pytest.raises(IntegrityError), transaction.atomic():
        Building.objects.create(estate=building.estate, number="1号楼", floors=11)


def test_self_intersecting_boundary_is_refused(building):
    bow_tie = Polygon(
        ((115.0, 33.0), (115.1, 33.1), (115.1, 33.0), (115.0, 33.1), (115.0, 33.0)), srid=4326
    )
    estate = building.estate
    estate.boundary = bow_tie
    with pytest.raises(IntegrityError), transaction.atomic():
        estate.save()


def test_region_adcode_format_is_enforced():
    district = Region.objects.get(adcode="341602")
    with pytest.raises(IntegrityError), transaction.atomic():
        Region.objects.create(
            adcode="34-602",
            name="坏代码",
            level="street",
            parent=district,
            boundary=district.boundary,
        )


def test_published_manager_hides_unpublished_estates(building):
    estate = building.estate
    assert Estate.objects.published().filter(pk=estate.pk).exists()
    estate.published = False
    estate.save()
    assert not Estate.objects.published().filter(pk=estate.pk).exists()


def test_a_building_is_drawn_inside_its_footprint_or_at_its_estate_entrance():
    estate = Estate.objects.published().first()
    bare = Building.objects.create(estate=estate, number="无轮廓1号楼", floors=3)
    bare.refresh_from_db()
    assert bare.map_point.equals(estate.location), "unmapped: at the entrance"
    mapped = Building.objects.filter(footprint__isnull=False).first()
    assert mapped.footprint.contains(mapped.map_point)
    moved = Point(estate.location.x + 0.001, estate.location.y, srid=4326)
    Estate.objects.filter(pk=estate.pk).update(location=moved)
    bare.refresh_from_db()
    assert bare.map_point.equals(moved), "follows the entrance when it moves"
    assert not Building.objects.filter(map_point__isnull=True).exists()
