"""Changing the stock from the back office: status with a reason, batch creation, publishing —
each change in one transaction with its event, and shown on the public portal at once."""

import re

import pytest
from django.contrib.gis.geos import Point, Polygon
from django.urls import reverse

from archive.models import AccessRecord, Event
from geo import services
from geo.geometry_text import to_text
from geo.models import Building, Estate, Unit

pytestmark = pytest.mark.django_db


def vacant_unit_of(estate: Estate) -> Unit:
    return Unit.objects.filter(building__estate=estate, status="vacant").first()


def public_row(unit: Unit) -> re.Pattern:
    """The unit's row in the estate page's list of vacant units (numbers repeat per building);
    its cells may carry attributes (lang, data-label)."""
    building, number = re.escape(unit.building.number), re.escape(unit.number)
    return re.compile(rf"<td[^>]*>{building}</td><td[^>]*>{number}</td>")


def public_vacant_count(client, estate_id: int) -> int:
    html = client.get(reverse("estate-detail", args=[estate_id])).content.decode()
    return int(re.search(r"空置 (\d+) 套", html).group(1))


def test_status_change_with_reason_writes_the_timeline(client, cast):
    user = cast.users["operator"]
    unit = vacant_unit_of(cast.inside["operator"])
    estate_id = unit.building.estate_id
    public = client.get(reverse("estate-detail", args=[estate_id])).content.decode()
    assert len(public_row(unit).findall(public)) == 1, "offered before the change"
    vacant_before = public_vacant_count(client, estate_id)
    client.force_login(user)
    response = client.post(
        reverse("asset-unit", args=[unit.pk]),
        {"status": "repair", "reason": "卫生间漏水", "expected": "vacant"},
    )
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.status == "repair"
    event = Event.objects.get(unit_id=unit.pk, action="unit.status")
    assert event.actor_id == user.pk and event.reason == "卫生间漏水"
    assert (event.before, event.after) == ({"status": "vacant"}, {"status": "repair"})
    page = client.get(reverse("asset-unit", args=[unit.pk])).content.decode()
    assert "卫生间漏水" in page and "空置 → 维修中" in page
    assert AccessRecord.objects.filter(user=user, subject_type="unit", subject_id=unit.pk).exists()
    # The public portal no longer offers it, at once.
    client.logout()
    public = client.get(reverse("estate-detail", args=[estate_id])).content.decode()
    assert not public_row(unit).search(public)
    assert public_vacant_count(client, estate_id) == vacant_before - 1


def test_status_change_needs_a_reason_and_a_manual_status(cast):
    unit = vacant_unit_of(cast.inside["district"])
    with pytest.raises(services.NotAllowed, match="原因"):
        services.change_unit_status(
            unit.pk, expected="vacant", new="repair", reason=" ", actor=None
        )
    with pytest.raises(services.NotAllowed):
        services.change_unit_status(
            unit.pk, expected="vacant", new="occupied", reason="x", actor=None
        )
    occupied = Unit.objects.filter(status="occupied").first()
    with pytest.raises(services.NotAllowed):
        services.change_unit_status(
            occupied.pk, expected="occupied", new="vacant", reason="x", actor=None
        )
    assert not Event.objects.filter(unit_id__in=[unit.pk, occupied.pk]).exists()


def test_a_stale_form_changes_nothing(client, cast):
    client.force_login(cast.users["district"])
    unit = vacant_unit_of(cast.inside["district"])
    services.change_unit_status(
        unit.pk, expected="vacant", new="withheld", reason="先到", actor=None
    )
    response = client.post(
        reverse("asset-unit", args=[unit.pk]),
        {"status": "repair", "reason": "后到", "expected": "vacant"},
        follow=True,
    )
    assert "已被他人改为“暂不分配”" in response.content.decode()
    unit.refresh_from_db()
    assert unit.status == "withheld"
    assert Event.objects.filter(unit_id=unit.pk).count() == 1


def test_batch_creation_numbers_units_by_floor_and_position(client, cast):
    client.force_login(cast.users["district"])
    estate = cast.inside["district"]
    form = {
        "number": "新3号楼",
        "floor_from": 1,
        "floor_to": 18,
        "per_floor": 6,
        "elevator": "on",
        "rent_per_m2": "10",
    }
    for pos in range(1, 7):
        form |= {
            f"p{pos}_rooms": 2 if pos in (1, 6) else 1,
            f"p{pos}_area": "55" if pos in (1, 6) else "40",
            f"p{pos}_orientation": "S",
        }
    response = client.post(reverse("asset-building-new", args=[estate.pk]), form)
    assert response.status_code == 302
    building = Building.objects.get(estate=estate, number="新3号楼")
    units = building.units.all()
    assert units.count() == 108
    assert set(units.values_list("number", flat=True)) == {
        f"{f}{p:02d}" for f in range(1, 19) for p in range(1, 7)
    }
    corner = units.get(number="1806")
    assert (corner.rooms, corner.area, corner.monthly_rent, corner.status) == (
        2,
        55,
        550,
        "withheld",
    )
    assert units.filter(accessible=True, floor=1).count() == 6
    assert Event.objects.filter(building_id=building.pk, action="unit.created").count() == 108
    # A second building with the same number is refused with a clear message.
    again = client.post(reverse("asset-building-new", args=[estate.pk]), form)
    assert "已存在" in again.content.decode()


def test_batch_form_names_missing_layouts(client, cast):
    client.force_login(cast.users["district"])
    estate = cast.inside["district"]
    form = {
        "number": "缺户型楼",
        "floor_from": 1,
        "floor_to": 6,
        "per_floor": 2,
        "rent_per_m2": "10",
        "p1_rooms": 1,
        "p1_area": "40",
    }
    html = client.post(reverse("asset-building-new", args=[estate.pk]), form).content.decode()
    assert "第 2 号位的户型需要填写" in html
    assert not Building.objects.filter(number="缺户型楼").exists()


def test_publish_and_withdraw_show_on_the_portal_at_once(client, cast):
    client.force_login(cast.users["district"])
    estate = cast.inside["district"]
    client.post(reverse("asset-estate-publish", args=[estate.pk]), {"published": "0"})
    assert client.get(reverse("estate-detail", args=[estate.pk])).status_code == 404
    assert estate.name not in client.get("/api/search/", {"q": estate.name}).content.decode()
    client.post(reverse("asset-estate-publish", args=[estate.pk]), {"published": "1"})
    assert client.get(reverse("estate-detail", args=[estate.pk])).status_code == 200
    actions = list(Event.objects.filter(estate_id=estate.pk).values_list("action", flat=True))
    assert actions[-2:] == ["estate.withdrawn", "estate.published"]


def typed(geom) -> str:
    """What the map editor posts: its text of coordinates, "经度,纬度" per line."""
    return to_text(geom)


def estate_form_data(estate: Estate, **changes) -> dict:
    data = {
        "name": estate.name,
        "address": estate.address,
        "district": estate.district_id,
        "street": estate.street_id or "",
        "community": estate.community_id or "",
        "operator": estate.operator_id or "",
        "year_built": estate.year_built or "",
        "description": estate.description,
        "facilities_text": "、".join(estate.facilities),
        "boundary": typed(estate.boundary),
        "location": typed(estate.location),
    }
    return data | changes


def test_editing_an_estate_records_what_changed_in_chinese(client, cast):
    client.force_login(cast.users["district"])
    estate = cast.inside["district"]
    response = client.post(
        reverse("asset-estate-edit", args=[estate.pk]), estate_form_data(estate, name="改名家园")
    )
    assert response.status_code == 302
    event = Event.objects.filter(estate_id=estate.pk, action="estate.changed").last()
    assert event.summary == "修改项目 改名家园：名称"
    assert event.before == {"name": estate.name} and event.after == {"name": "改名家园"}
    assert "改名家园" in client.get(reverse("estate-detail", args=[estate.pk])).content.decode()


def test_estate_geometry_is_checked_with_clear_messages(client, cast):
    client.force_login(cast.users["district"])
    estate = cast.inside["district"]
    far = typed(Point(116.215, 33.505, srid=4326))  # in another county
    html = client.post(
        reverse("asset-estate-edit", args=[estate.pk]), estate_form_data(estate, location=far)
    ).content.decode()
    assert "位置不在所选区县范围内" in html
    x, y = estate.location.x, estate.location.y
    ring = [
        (x - 0.001, y - 0.001),
        (x + 0.001, y + 0.001),
        (x + 0.001, y - 0.001),
        (x - 0.001, y + 0.001),
        (x - 0.001, y - 0.001),
    ]
    bow_tie = typed(Polygon(ring, srid=4326))
    html = client.post(
        reverse("asset-estate-edit", args=[estate.pk]), estate_form_data(estate, boundary=bow_tie)
    ).content.decode()
    assert "边界图形无效" in html
    assert not Event.objects.filter(estate_id=estate.pk, action="estate.changed").exists()


def test_operators_edit_their_estates_but_do_not_register_new_ones(client, cast):
    client.force_login(cast.users["operator"])
    assert client.get(reverse("asset-estate-new")).status_code == 403
    client.force_login(cast.users["district"])
    assert client.get(reverse("asset-estate-new")).status_code == 200


def test_operators_save_edits_of_their_estates(client, cast):
    client.force_login(cast.users["operator"])
    estate = cast.inside["operator"]
    response = client.post(
        reverse("asset-estate-edit", args=[estate.pk]), estate_form_data(estate, name="运营改名")
    )
    assert response.status_code == 302, response.content.decode()[-1500:]
    estate.refresh_from_db()
    assert (
        estate.name == "运营改名"
        and estate.operator_id == cast.users["operator"].staff_profile.operator_id
    )
