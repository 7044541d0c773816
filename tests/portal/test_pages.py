"""The first public pages: the map home, the estate page, and what they must never show."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from geo.models import Estate, Unit

pytestmark = pytest.mark.django_db

OUTSIDE_HOST = re.compile(r"(?:https?:)?//(?!127\.0\.0\.1|localhost)[a-z0-9.-]+\.[a-z]{2,}", re.I)


def test_home_lists_published_estates_with_vacant_counts(client, django_assert_num_queries):
    with django_assert_num_queries(3):
        response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    published = Estate.objects.published()
    for estate in published:
        assert reverse("estate-detail", args=[estate.pk]) in html
    hidden = Estate.objects.filter(published=False).first()
    assert hidden.name not in html
    vacant = Unit.objects.filter(status="vacant", building__estate__published=True).count()
    assert f"空置房源 {vacant} 套" in html
    assert "演示数据" in html  # synthetic data is marked as such


def test_home_names_no_outside_host_and_its_assets_are_ours(client):
    html = client.get("/").content.decode()
    assert not OUTSIDE_HOST.findall(html)
    assets = re.findall(r'(?:src|href)="/static/([^"]+)"', html)
    assert any(a.endswith("leaflet.js") for a in assets)
    assert any(a.endswith("leaflet.markercluster.js") for a in assets)
    for asset in assets:
        assert finders.find(asset), f"{asset} is referenced but not served"


def test_home_page_query_count_does_not_grow_with_estates(client, django_assert_num_queries):
    Estate.objects.update(published=True)
    with django_assert_num_queries(3):
        client.get("/")


def test_estate_page_shows_its_vacant_units(client, django_assert_num_queries):
    estate = Estate.objects.published().filter(buildings__units__status="vacant").distinct().first()
    with django_assert_num_queries(4):
        response = client.get(reverse("estate-detail", args=[estate.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert estate.name in html and estate.address in html
    vacant = Unit.objects.filter(building__estate=estate, status="vacant")
    assert f"空置 {vacant.count()} 套" in html
    for unit in vacant[:5]:
        assert f"<td>{unit.number}</td>" in html
    occupied = (
        Unit.objects.filter(building__estate=estate, status="occupied")
        .exclude(number__in=vacant.values("number"))
        .first()
    )
    if occupied:
        assert f"<td>{occupied.number}</td>" not in html
    assert not OUTSIDE_HOST.findall(html)


def test_unpublished_and_unknown_estates_are_not_found(client):
    hidden = Estate.objects.filter(published=False).first()
    assert client.get(reverse("estate-detail", args=[hidden.pk])).status_code == 404
    assert client.get(reverse("estate-detail", args=[10**9])).status_code == 404


def test_phone_viewport_and_language(client):
    html = client.get("/").content.decode()
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    assert '<html lang="zh-Hans">' in html
    assert 'href="#main"' in html  # skip link for keyboard users
