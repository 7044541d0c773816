"""Estate names on maps: a small city sends them all with each map page; a big one sends none
and the map fetches the names of the estates in view from /api/map-labels/ (public, cached and
revalidated on the stock version). Rows of the demo city act as a big one by lowering
ANJU_MAP_INLINE_ESTATE_LABELS."""

import json
import re

import pytest
from django.core.cache import cache

from geo.map_base import base_config
from geo.models import Estate
from portal import maps

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cold_caches():
    cache.clear()
    maps.forget()
    yield
    maps.forget()


def city_config(client) -> dict:
    html = client.get("/").content.decode()
    match = re.search(r'<script id="map_city-config" type="application/json">(.*?)</script>', html)
    return json.loads(match.group(1))


def box_around(estate: Estate, half: float = 0.01) -> str:
    x, y = estate.location.x, estate.location.y
    return f"{x - half:.5f},{y - half:.5f},{x + half:.5f},{y + half:.5f}"


def test_a_small_city_sends_every_estate_name_with_the_map():
    config = base_config()
    named = {text for text, kind, *_ in config["labels"] if kind == "estate"}
    assert named == set(Estate.objects.published().values_list("name", flat=True))
    assert config["labelsUrl"] is None


def test_a_big_city_sends_region_names_only_and_where_to_fetch_estate_names(client, settings):
    small = len(client.get("/").content)
    cache.clear()
    maps.forget()
    settings.ANJU_MAP_INLINE_ESTATE_LABELS = 5
    config = city_config(client)
    assert config["labelsUrl"] == "/api/map-labels/"
    kinds = {kind for _text, kind, *_ in config["labels"]}
    assert "estate" not in kinds and {"district", "street"} <= kinds
    assert len(client.get("/").content) < small  # the names no longer travel with the page


def test_the_names_of_the_published_estates_in_view(client):
    estate = Estate.objects.published().order_by("pk").first()
    response = client.get("/api/map-labels/", {"bbox": box_around(estate)})
    assert response.status_code == 200
    body = response.json()
    x, y = estate.location.x, estate.location.y
    expected = sorted(
        e.name
        for e in Estate.objects.published()
        if abs(e.location.x - x) <= 0.01 and abs(e.location.y - y) <= 0.01
    )
    assert body["complete"] is True
    assert sorted(text for text, *_ in body["labels"]) == expected
    assert estate.name in expected
    assert {kind for _text, kind, *_ in body["labels"]} == {"estate"}
    unpublished = Estate.objects.exclude(pk__in=Estate.objects.published().values("pk"))
    for hidden in unpublished[:3]:
        names = client.get("/api/map-labels/", {"bbox": box_around(hidden, 0.00001)}).json()
        assert hidden.name not in {text for text, *_ in names["labels"]}


def test_names_revalidate_on_the_stock_version(client):
    estate = Estate.objects.published().order_by("pk").first()
    url = f"/api/map-labels/?bbox={box_around(estate)}"
    first = client.get(url)
    etag = first["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    Estate.objects.filter(pk=estate.pk).update(name="改名后的项目")
    renamed = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert renamed.status_code == 200 and renamed["ETag"] != etag
    assert "改名后的项目" in {label[0] for label in renamed.json()["labels"]}


@pytest.mark.parametrize(
    ("bbox", "message"),
    [
        ("", "四个数"),
        ("1,2,3", "四个数"),
        ("a,b,c,d", "四个数"),
        ("116.2,33.8,116.1,33.9", "最小值不小于最大值"),
        ("100,30,110,40", "范围过大"),
    ],
)
def test_a_bad_box_is_refused_in_chinese(client, bbox, message):
    response = client.get("/api/map-labels/", {"bbox": bbox})
    assert response.status_code == 400
    assert message in response.json()["error"]
