"""The demo city: deterministic for a seed, plausible, and every place where it claims to be."""

import json
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Max, Min
from shapely.geometry import shape

from geo.demo.plan import County, plan_city, plan_units
from geo.models import POI, Building, Estate, Region, Unit

DATA = Path(__file__).resolve().parents[2] / "data"


def counties() -> list[County]:
    features = json.loads((DATA / "bozhou-regions.geojson").read_text(encoding="utf-8"))["features"]
    conf = json.loads((DATA / "demo-city.json").read_text(encoding="utf-8"))["counties"]
    return [
        County(
            adcode=f["properties"]["adcode"],
            name=f["properties"]["name"],
            geometry=shape(f["geometry"]),
            centre=tuple(conf[f["properties"]["adcode"]]["centre"]),
            share=conf[f["properties"]["adcode"]]["share"],
        )
        for f in features
        if f["properties"]["level"] == "district"
    ]


def fingerprint(seed: int, units: int = 1500) -> list:
    plan = plan_city(counties(), seed=seed, units=units)
    rows = [(r.adcode, r.name, r.geometry.wkt) for r in plan.regions]
    for e in plan.estates:
        rows.append((e.name, e.address, e.boundary.wkt, e.published))
        for b in e.buildings:
            rows.append((b.number, b.floors, b.footprint.wkt))
            rows += [tuple(vars(u).values()) for u in plan_units(plan, b, e.rent_per_m2)]
    rows += [(p.category, p.name, p.location.wkt) for p in plan.pois]
    return rows


def test_same_seed_gives_the_same_city():
    assert fingerprint(seed=3) == fingerprint(seed=3)


def test_another_seed_gives_another_city():
    assert fingerprint(seed=3) != fingerprint(seed=4)


@pytest.mark.django_db
def test_demo_city_has_the_promised_size_and_mix():
    estates = Estate.objects.filter(is_demo=True)
    assert 35 <= estates.count() <= 45
    per_county = dict(estates.values_list("district__name").annotate(n=Count("id")))
    assert set(per_county) == {"谯城区", "涡阳县", "蒙城县", "利辛县"}
    assert per_county["谯城区"] > estates.count() / 2
    assert estates.filter(published=False).exists(), "an unpublished estate shows the filter works"

    units = Unit.objects.filter(building__estate__is_demo=True)
    total = units.count()
    assert 7000 <= total <= 9000
    vacant = units.filter(status=Unit.Status.VACANT).count()
    assert 0.05 <= vacant / total <= 0.10
    stats = units.aggregate(Min("area"), Max("area"), Min("rooms"), Max("rooms"))
    assert Decimal("30") <= stats["area__min"] and stats["area__max"] <= Decimal("60")
    assert (stats["rooms__min"], stats["rooms__max"]) == (1, 2)
    rent_per_m2 = [float(r / a) for r, a in units.values_list("monthly_rent", "area")]
    assert min(rent_per_m2) >= 7.8
    assert max(rent_per_m2) <= 15.2
    assert POI.objects.filter(is_demo=True).values("category").distinct().count() >= 5


def _scalar(sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_every_estate_building_and_unit_lies_inside_its_county():
    assert (
        _scalar(
            "SELECT count(*) FROM geo_estate e JOIN geo_region d ON d.id = e.district_id "
            "WHERE NOT ST_Within(e.boundary, d.boundary) OR NOT ST_Within(e.location, d.boundary)"
        )
        == 0
    )
    # Units are placed by their building: a building inside its estate puts them in the county.
    assert (
        _scalar(
            "SELECT count(*) FROM geo_building b JOIN geo_estate e ON e.id = b.estate_id "
            "JOIN geo_region d ON d.id = e.district_id "
            "WHERE NOT ST_Within(b.footprint, e.boundary) OR NOT ST_Within(b.footprint, d.boundary)"
        )
        == 0
    )
    assert not Unit.objects.filter(building__footprint__isnull=True).exists()
    # An estate's street and community are the ones its location falls in.
    assert (
        _scalar(
            "SELECT count(*) FROM geo_estate e JOIN geo_region c ON c.id = e.community_id "
            "JOIN geo_region s ON s.id = e.street_id "
            "WHERE NOT ST_Intersects(e.location, c.boundary) OR c.parent_id <> s.id "
            "OR s.parent_id <> e.district_id"
        )
        == 0
    )


@pytest.mark.django_db
def test_streets_and_communities_partition_each_county():
    for county in Region.objects.filter(level=Region.Level.DISTRICT):
        streets = Region.objects.filter(parent=county)
        assert streets.count() >= 5
        pieces = [r.boundary for r in streets]
        union = pieces[0]
        for piece in pieces[1:]:
            union = union.union(piece)
        # Covering the county (union) without overlapping (areas add up) is a partition.
        assert abs(union.area - county.boundary.area) / county.boundary.area < 1e-6
        assert abs(sum(p.area for p in pieces) - county.boundary.area) / county.boundary.area < 1e-6
        for street in streets:
            communities = list(Region.objects.filter(parent=street))
            assert communities, street.name
            total = sum(c.boundary.area for c in communities)
            assert abs(total - street.boundary.area) / street.boundary.area < 1e-6


@pytest.mark.django_db
def test_if_empty_leaves_existing_data_alone():
    before = Unit.objects.count()
    out = StringIO()
    call_command("load_demo", if_empty=True, stdout=out)
    assert "跳过" in out.getvalue()
    assert Unit.objects.count() == before


@pytest.mark.django_db
def test_loading_again_adds_a_second_city_after_the_first():
    before = Building.objects.aggregate(Max("id"))["id__max"]
    call_command("load_demo", seed=9, units=400, verbosity=0, stdout=StringIO())
    new = Building.objects.filter(id__gt=before)
    assert new.exists()
    new_units = Unit.objects.filter(building__in=new)
    assert 300 <= new_units.count() <= 520
    # The identity sequence continues after the ids COPY chose.
    estate = Estate.objects.create(
        name="序列检查",
        address="-",
        district=Region.objects.get(adcode="341602"),
        location=Estate.objects.first().location,
    )
    assert estate.pk > Estate.objects.exclude(pk=estate.pk).aggregate(Max("id"))["id__max"]
