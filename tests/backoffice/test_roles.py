"""The role matrix: each role × list, detail and edit, inside and outside its jurisdiction."""

import pytest
from django.urls import reverse

from geo.models import Estate, Unit

pytestmark = pytest.mark.django_db

EDITORS = {"city", "district", "operator"}
PUBLISHERS = {"city", "district"}
ROLES = ["city", "district", "street", "community", "operator"]


def listed(client, estate: Estate) -> bool:
    html = client.get(reverse("assets"), {"q": estate.name}).content.decode()
    return f'href="/staff/assets/estates/{estate.pk}/"' in html


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_and_edits_only_inside_its_jurisdiction(client, cast, role):
    client.force_login(cast.users[role])
    inside = cast.inside[role]
    unit = Unit.objects.filter(building__estate=inside).first()
    assert listed(client, inside)
    assert client.get(reverse("asset-estate", args=[inside.pk])).status_code == 200
    assert client.get(reverse("asset-unit", args=[unit.pk])).status_code == 200
    edit = client.get(reverse("asset-estate-edit", args=[inside.pk])).status_code
    assert edit == (200 if role in EDITORS else 403)
    batch = client.get(reverse("asset-building-new", args=[inside.pk])).status_code
    assert batch == (200 if role in EDITORS else 403)

    if role == "city":
        return  # the whole city is inside
    outside = cast.outside
    outside_unit = Unit.objects.filter(building__estate=outside).first()
    assert not listed(client, outside)
    for url in [
        reverse("asset-estate", args=[outside.pk]),
        reverse("asset-estate-edit", args=[outside.pk]),
        reverse("asset-building-new", args=[outside.pk]),
        reverse("asset-unit", args=[outside_unit.pk]),
    ]:
        assert client.get(url).status_code == 404, url
    assert (
        client.post(
            reverse("asset-estate-publish", args=[outside.pk]), {"published": "0"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            reverse("asset-unit", args=[outside_unit.pk]),
            {"status": "repair", "reason": "x", "expected": outside_unit.status},
        ).status_code
        == 404
    )


@pytest.mark.parametrize("role", ROLES)
def test_only_housing_departments_publish(client, cast, role):
    client.force_login(cast.users[role])
    estate = cast.inside[role]
    response = client.post(reverse("asset-estate-publish", args=[estate.pk]), {"published": "0"})
    assert response.status_code == (302 if role in PUBLISHERS else 403)
    estate.refresh_from_db()
    assert estate.published == (role not in PUBLISHERS)


def test_start_page_counts_only_the_jurisdiction(client, cast):
    client.force_login(cast.users["district"])
    html = client.get(reverse("staff-home")).content.decode()
    district_units = Unit.objects.filter(building__estate__district__adcode="341602").count()
    assert f"<strong>{district_units}</strong>" in html
    for name in [
        "申请审核",
        "轮候配租",
        "合同签订",
        "运营管理",
        "信用管理",
        "资产管理",
        "档案管理",
    ]:
        assert name in html


def test_visitors_sign_in_and_non_staff_are_refused(client, cast):
    response = client.get(reverse("assets"))
    assert response.status_code == 302 and "/staff/login/" in response["Location"]
    client.force_login(cast.users["outsider"])
    assert client.get(reverse("assets")).status_code == 403


def test_queries_do_not_grow_with_the_list(client, cast, django_assert_max_num_queries):
    client.force_login(cast.users["city"])
    with django_assert_max_num_queries(8):
        client.get(reverse("assets"))
    with django_assert_max_num_queries(8):
        client.get(reverse("asset-units"))
