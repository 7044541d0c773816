"""房源发布 from an estate's page: offered only for a public estate with vacant units, and refused
by the server for an estate the public cannot see."""

import pytest
from django.urls import reverse

from disclosure.models import Kind, Outbox
from geo.models import Estate, Unit

pytestmark = pytest.mark.django_db

BUTTON = "发布空置房源公告（"  # the button names how many units it lists


def vacant_estate(district, *, published: bool) -> Estate:
    estate = (
        Estate.objects.filter(district=district, buildings__units__status=Unit.Status.VACANT)
        .distinct()
        .order_by("pk")
        .first()
    )
    Estate.objects.filter(pk=estate.pk).update(published=published)
    return estate


def releases(estate: Estate):
    return Outbox.objects.filter(kind=Kind.VACANCY_RELEASE, payload__subject__estate=estate.pk)


@pytest.fixture
def district_clerk(client, cast):
    client.force_login(cast.users["district"])
    return cast.users["district"]


def test_a_public_estate_with_vacancies_offers_the_release(client, district_clerk):
    estate = vacant_estate(district_clerk.staff_profile.region, published=True)
    vacant = Unit.objects.filter(building__estate=estate, status=Unit.Status.VACANT).count()
    html = client.get(reverse("asset-estate", args=[estate.pk])).content.decode()
    assert f"{BUTTON}{vacant} 套）" in html
    before = releases(estate).count()
    response = client.post(reverse("asset-estate-release", args=[estate.pk]), follow=True)
    assert "房源发布已提交" in response.content.decode()
    assert releases(estate).count() == before + 1


def test_an_unpublished_estate_has_no_release_button(client, district_clerk):
    estate = vacant_estate(district_clerk.staff_profile.region, published=False)
    html = client.get(reverse("asset-estate", args=[estate.pk])).content.decode()
    assert BUTTON not in html
    assert reverse("asset-estate-release", args=[estate.pk]) not in html
    assert "项目公开到门户后，才能发布空置房源公告" in html


def test_the_server_refuses_releasing_an_unpublished_estate(client, district_clerk):
    estate = vacant_estate(district_clerk.staff_profile.region, published=False)
    before = releases(estate).count()
    response = client.post(reverse("asset-estate-release", args=[estate.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("asset-estate", args=[estate.pk])
    assert "项目尚未公开，请先公开项目再发布房源" in response.content.decode()
    assert releases(estate).count() == before


def test_an_estate_without_vacancies_has_no_release_button(client, district_clerk):
    estate = vacant_estate(district_clerk.staff_profile.region, published=True)
    Unit.objects.filter(building__estate=estate, status=Unit.Status.VACANT).update(
        status=Unit.Status.OCCUPIED
    )
    html = client.get(reverse("asset-estate", args=[estate.pk])).content.decode()
    assert BUTTON not in html


@pytest.mark.parametrize("role", ["street", "community", "operator"])
def test_only_publishers_see_the_release(client, cast, role):
    estate = cast.inside[role]
    Estate.objects.filter(pk=estate.pk).update(published=True)
    client.force_login(cast.users[role])
    assert BUTTON not in client.get(reverse("asset-estate", args=[estate.pk])).content.decode()
