"""存量数据整理校核 (issue 15 point 6): every stock fault kind is found on a seeded bad record
of the demo city, a clean record is not, staff see only their jurisdiction, the download's
cells cannot run as formulas, and the report's query count does not grow with the faults."""

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point, Polygon
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from exchange.idcard import make_id_number
from geo.models import Building, Estate, Unit
from housing.models import Household, HouseholdMember
from insights import checks

pytestmark = pytest.mark.django_db


def _square(center: Point, half: float) -> Polygon:
    x, y = center.x, center.y
    ring = ((x - half, y - half), (x + half, y - half), (x + half, y + half), (x - half, y + half))
    return Polygon((*ring, ring[0]), srid=4326)


def _unit_like(unit: Unit, **changes) -> Unit:
    fields = {
        "building": unit.building,
        "number": unit.number,
        "floor": unit.floor,
        "rooms": unit.rooms,
        "area": unit.area,
        "monthly_rent": unit.monthly_rent,
    }
    return Unit.objects.create(**(fields | changes))


def _estate(district, location: Point, **extra) -> Estate:
    return Estate.objects.create(
        name=extra.pop("name", "校核测试项目"),
        address=extra.pop("address", "测试路 1 号"),
        district=district,
        location=location,
        **extra,
    )


@pytest.fixture
def seeded(cast):
    """One bad record of every kind in the district persona's county (the household whose
    county is not a county lies outside every county's jurisdiction, by its nature)."""
    home = cast.inside["district"]
    district = home.district
    unit = Unit.objects.filter(building__estate=home).order_by("pk").first()
    clean = Unit.objects.filter(building__estate=home).exclude(pk=unit.pk).order_by("pk").first()
    inside = home.location
    boxed = _estate(district, inside, name="用地测试项目", boundary=_square(inside, 0.001))
    far = Point(inside.x + 0.05, inside.y, srid=4326)
    households = list(Household.objects.filter(county=district).order_by("pk")[:3])
    no_members, bad_id, bad_county = households
    HouseholdMember.objects.filter(household=no_members).delete()
    member = bad_id.members.order_by("pk").first()
    good = make_id_number("341602", member.household.approved_at.date().replace(year=1980), 7)
    member.id_number = good[:17] + ("0" if good[17] != "0" else "1")
    member.save()
    bad_county.county = district.parent
    bad_county.save()
    seeded = {
        "duplicate_unit": _unit_like(unit, number=f"{unit.number}室").pk,
        "estate_no_location": _estate(district, Point(0, 0, srid=4326)).pk,
        "estate_outside_county": _estate(district, Point(116.4, 39.9, srid=4326)).pk,
        "building_outside_estate": Building.objects.create(
            estate=boxed, number="9号楼", floors=6, footprint=_square(far, 0.0002)
        ).pk,
        "unit_bad_area": _unit_like(unit, number="A1", area=Decimal("350")).pk,
        "unit_bad_rent": _unit_like(unit, number="A2", monthly_rent=Decimal("99999")).pk,
        "household_no_members": no_members.pk,
        "export_estate_address": _estate(district, inside, address=" ").pk,
        "export_unit_layout": _unit_like(unit, number="A3", rooms=0).pk,
        "export_household_county": bad_county.pk,
        "bad_id_number": member.pk,
    }
    return {"ids": seeded, "clean_unit": clean, "home": home, "unit": unit}


def _found(faults) -> dict[str, set[int]]:
    by_kind: dict[str, set[int]] = {}
    for f in faults:
        by_kind.setdefault(f.kind, set()).add(f.obj_id)
    return by_kind


def test_each_stock_fault_kind_is_found_on_a_seeded_bad_record(seeded):
    found = _found(checks.all_faults(checks.Scope.everything()))
    assert set(seeded["ids"]) == set(checks.BY_CODE)  # the test covers every kind
    for kind, pk in seeded["ids"].items():
        assert pk in found.get(kind, set()), kind
    clean = seeded["clean_unit"].pk
    assert all(clean not in found.get(k, set()) for k in ("duplicate_unit", "unit_bad_area"))
    assert not any(
        clean in ids for k, ids in found.items() if checks.BY_CODE[k].link == "asset-unit"
    )
    # The home estate is inside its county and has an address.
    home = seeded["home"].pk
    assert home not in found.get("estate_outside_county", set())
    assert home not in found.get("export_estate_address", set())
    # Both units of the duplicate pair are named, each pointing at the other's number.
    assert seeded["unit"].pk in found["duplicate_unit"]


def test_the_page_counts_every_kind_and_links_to_the_fix(client, django_user_model, seeded):
    admin = django_user_model.objects.create_superuser("checks-admin", password="x-9-long-pw")
    client.force_login(admin)
    response = client.get(reverse("data-checks"))
    assert response.status_code == 200
    counted = dict((k.code, n) for k, n in response.context["kinds"])
    assert all(counted[kind] >= 1 for kind in seeded["ids"]), counted
    one = client.get(reverse("data-checks"), {"kind": "unit_bad_rent"})
    rows = one.context["faults"]
    target = seeded["ids"]["unit_bad_rent"]
    assert [link for f, link in rows if f.obj_id == target] == [
        reverse("asset-unit", args=[target])
    ]
    assert all(f.kind == "unit_bad_rent" for f, _ in rows)
    assert "99999" in one.content.decode()


def test_command_prints_counts_per_kind(seeded):
    out = io.StringIO()
    call_command("check_stock_data", stdout=out, verbosity=0)
    text = out.getvalue()
    for kind in checks.KINDS:
        assert str(kind.label) in text


def test_staff_see_only_their_jurisdiction(client, cast, seeded):
    elsewhere = cast.outside
    other_unit = Unit.objects.filter(building__estate=elsewhere).order_by("pk").first()
    other_unit.monthly_rent = Decimal("88888")
    other_unit.save()
    client.force_login(cast.users["district"])
    page = client.get(reverse("data-checks"), {"kind": "unit_bad_rent"})
    shown = {f.obj_id for f, _ in page.context["faults"]}
    assert seeded["ids"]["unit_bad_rent"] in shown
    assert other_unit.pk not in shown
    assert all(c[0] == cast.inside["district"].district_id for c, _ in page.context["counties"])
    export = client.get(reverse("data-checks-export"), {"format": "csv"})
    assert "88888" not in export.content.decode("utf-8-sig")
    # The other county's fix link is a 404 for this user, as every out-of-scope page is.
    assert client.get(reverse("asset-unit", args=[other_unit.pk])).status_code == 404
    # Asking for the other county by its id shows nothing of it.
    page = client.get(reverse("data-checks"), {"county": elsewhere.district_id})
    assert page.context["page"].paginator.count == 0
    # An operator sees the faults of its estates, and no household's.
    client.force_login(cast.users["operator"])
    page = client.get(reverse("data-checks"))
    counted = dict((k.code, n) for k, n in page.context["kinds"])
    assert counted["household_no_members"] == 0 and counted["bad_id_number"] == 0


def test_export_cells_cannot_run_as_formulas(client, django_user_model, cast):
    admin = django_user_model.objects.create_superuser("checks-admin", password="x-9-long-pw")
    client.force_login(admin)
    home = cast.inside["district"]
    _estate(home.district, home.location, name='=HYPERLINK("http://x")', address="")
    query = {"kind": "export_estate_address"}
    text = client.get(reverse("data-checks-export"), query | {"format": "csv"}).content
    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    assert rows[0][:4] == ["类别", "对象", "县/区", "问题"]
    assert [r[1] for r in rows[1:] if "HYPERLINK" in r[1]] == ['\'=HYPERLINK("http://x")']
    assert all(r[4].startswith("http") for r in rows[1:])

    from openpyxl import load_workbook

    response = client.get(reverse("data-checks-export"), query | {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [row[1] for row in sheet.iter_rows(min_row=2) if "HYPERLINK" in str(row[1].value)]
    assert len(cells) == 1
    assert cells[0].data_type == "s" and cells[0].value.startswith("'=")


def test_report_query_count_does_not_grow_with_faults(client, django_user_model, cast):
    admin = django_user_model.objects.create_superuser("checks-admin", password="x-9-long-pw")
    client.force_login(admin)
    home = cast.inside["district"]
    unit = Unit.objects.filter(building__estate=home).order_by("pk").first()

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("data-checks")).status_code == 200
        return len(captured.captured_queries)

    _unit_like(unit, number="Q1", area=Decimal("400"))
    few = queries()
    for n in range(60):  # more than a page
        _unit_like(unit, number=f"Q{n + 2}", area=Decimal("400"))
        _estate(home.district, Point(0, 0, srid=4326), name=f"无坐标{n}")
    assert queries() == few
    assert few <= 10


def test_paging_runs_from_the_database_rows_into_the_id_number_faults(
    client, django_user_model, seeded
):
    admin = django_user_model.objects.create_superuser("checks-admin", password="x-9-long-pw")
    client.force_login(admin)
    unit = seeded["unit"]
    for n in range(55):
        _unit_like(unit, number=f"P{n}", area=Decimal("301"))
    first = client.get(reverse("data-checks"))
    total = first.context["page"].paginator.count
    assert total == first.context["total"] and total > 55
    seen = []
    for number in first.context["page"].paginator.page_range:
        page = client.get(reverse("data-checks"), {"page": number})
        seen += [(f.kind, f.obj_id) for f, _ in page.context["faults"]]
    assert len(seen) == len(set(seen)) == total
    assert seen[-1] == ("bad_id_number", seeded["ids"]["bad_id_number"])
    ranks = [checks.RANK[kind] for kind, _ in seen]
    assert ranks == sorted(ranks)
