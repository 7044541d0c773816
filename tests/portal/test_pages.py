"""Public pages: the map home with its filters, the unit list, the estate page, and what they
must never show (outside hosts, unpublished estates)."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from geo import selectors, services
from geo.basemaps import offered_basemaps
from geo.models import Estate, Unit
from geo.vacancy import VacancyQuery
from portal import maps

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cold_caches():
    """Every test builds its pages: query counts do not depend on the tests before it."""
    cache.clear()
    maps.forget()


OUTSIDE_HOST = re.compile(r"(?:https?:)?//(?!127\.0\.0\.1|localhost)[a-z0-9.-]+\.[a-z]{2,}", re.I)
PAGES = [
    "/",
    "/?rooms=2&elevator=1",
    "/units/",
    "/units/?district=341602&rooms=1",
    "/search/?q=xfjy",
    "/locate/?at=115.78,33.85",
    "/ogc/?f=html",
    "/ogc/collections?f=html",
    "/ogc/collections/vacant-units/items?f=html",
    "/api/docs/",
]


@pytest.mark.parametrize("url", PAGES)
def test_pages_render_and_name_no_outside_host(client, url):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    tile_servers = {o for basemap in offered_basemaps() for o in basemap.tile_origins}
    outside = [host for host in OUTSIDE_HOST.findall(html) if host not in tile_servers]
    assert not outside, outside  # base map tile servers (in a map's JSON) only, never a CDN
    for asset in re.findall(r'(?:src|href)="/static/([^"?]+)"', html):
        assert finders.find(asset), f"{asset} is referenced but not served"


def test_home_lists_estates_with_vacancies_and_marks_demo_data(client, django_assert_num_queries):
    # Stock version, regions, totals, estates, map (version, outlines, names), demo notice.
    with django_assert_num_queries(8):
        response = client.get("/")
    html = response.content.decode()
    for estate in selectors.vacancy_estates(VacancyQuery()):
        assert reverse("estate-detail", args=[estate.pk]) in html
    hidden = Estate.objects.filter(published=False).first()
    assert hidden.name not in html
    vacant = Unit.objects.filter(status="vacant", building__estate__published=True).count()
    assert f"符合条件的空置房源 {vacant} 套" in html
    assert "演示数据" in html


def test_home_filters_the_list_server_side(client):
    html = client.get("/?district=341621&rooms=2").content.decode()
    query = VacancyQuery(district="341621", rooms=(2,))
    estates = list(selectors.vacancy_estates(query))
    assert estates
    others = Estate.objects.published().exclude(district__adcode="341621")
    for estate in estates:
        assert f'href="/estates/{estate.pk}/"' in html
    for estate in others:
        assert f'href="/estates/{estate.pk}/"' not in html
    assert 'value="341621" selected' in html  # the form shows the filter state


def test_home_empty_state_is_helpful(client):
    html = client.get("/?area_min=500").content.decode()
    assert "没有符合条件的空置房源" in html
    assert 'id="estate-table" class="estate-list" hidden' in html


def test_home_reports_a_bad_filter_in_chinese_and_keeps_the_rest(client):
    html = client.get("/?rooms=2&area_min=abc").content.decode()
    assert "field-error" in html
    vacant = selectors.vacancy_units(VacancyQuery(rooms=(2,))).count()
    assert f"符合条件的空置房源 {vacant} 套" in html


def test_home_query_count_does_not_grow_with_estates(client, django_assert_num_queries):
    Estate.objects.update(published=True)
    with django_assert_num_queries(8):
        client.get("/?rooms=1")


def test_unit_list_without_javascript_matches_the_search(client, django_assert_num_queries):
    query = VacancyQuery(district="341602", rooms=(1,), elevator=True)
    expected = list(selectors.vacancy_units(query).values_list("pk", flat=True))
    with django_assert_num_queries(5):  # stock version, context, regions, counts, page
        response = client.get("/units/?district=341602&rooms=1&elevator=1")
    html = response.content.decode()
    assert f"符合条件的空置房源共 {len(expected)} 套" in html
    rows = re.findall(r"<tr>\s*<td[^>]*><a href=\"/estates/", html)
    assert len(rows) == min(len(expected), 50)
    if len(expected) > 50:
        assert "page=2" in html and "district=341602" in html


def test_estate_page_shows_units_pois_and_how_to_apply(client, django_assert_max_num_queries):
    estate = Estate.objects.published().filter(buildings__units__status="vacant").distinct().first()
    # Version, estate, units, buildings, summary, POIs, map (version, names), demo notice, and
    # the first time in a process the spatial reference (GDAL asks PostGIS once).
    with django_assert_max_num_queries(10):
        response = client.get(reverse("estate-detail", args=[estate.pk]))
    html = response.content.decode()
    assert estate.name in html and estate.address in html
    vacant = Unit.objects.filter(building__estate=estate, status="vacant")
    assert f"空置 {vacant.count()} 套" in html
    for unit in vacant[:5]:
        assert f">{unit.number}</td>" in html
    assert "周边设施" in html and "如何申请" in html
    assert re.search(r"约 \d+ 米", html), "POIs come with distances"


def test_estate_page_filters_its_units(client):
    estate = Estate.objects.published().filter(buildings__units__status="vacant").first()
    units = Unit.objects.filter(building__estate=estate, status="vacant")
    one_room = units.filter(rooms=1).count()
    html = client.get(reverse("estate-detail", args=[estate.pk]) + "?rooms=1").content.decode()
    assert f"符合条件的空置房屋 {one_room} 套" in html


def test_unpublished_and_unknown_estates_are_not_found(client):
    hidden = Estate.objects.filter(published=False).first()
    assert client.get(reverse("estate-detail", args=[hidden.pk])).status_code == 404
    assert client.get(reverse("estate-detail", args=[10**9])).status_code == 404


def test_phone_viewport_language_and_skip_link(client):
    html = client.get("/").content.decode()
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    assert '<html lang="zh-Hans">' in html
    assert 'href="#main"' in html


def test_large_text_mode_persists_in_a_cookie(client):
    response = client.post("/preferences/text-size/", {"size": "large", "next": "/units/"})
    assert response.status_code == 302 and response["Location"] == "/units/"
    assert client.cookies["text_size"].value == "large"
    assert '<html lang="zh-Hans" class="large-text">' in client.get("/").content.decode()
    client.post("/preferences/text-size/", {"size": "normal", "next": "/"})
    assert 'class="large-text"' not in client.get("/").content.decode()


def test_large_text_redirect_stays_on_this_site(client):
    response = client.post(
        "/preferences/text-size/", {"size": "large", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_hostile_names_cannot_run_script_on_the_estate_page(client):
    estate = Estate.objects.published().first()
    estate.name = "X`+alert(1)+`<img src=x onerror=alert(2)>${alert(3)}"
    estate.save()
    building = estate.buildings.first()
    building.number = "<script>alert(4)`"
    building.save()
    html = client.get(reverse("estate-detail", args=[estate.pk])).content.decode()
    assert "<img src=x" not in html and "<script>alert(4)" not in html
    # The map gets names as JSON data, shown as text: there is no inline script to break
    # into, and json_script escapes what could end its element early.
    assert not re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    assert "\\u003Cscript\\u003Ealert(4)`" in html


def test_many_estates_switch_the_map_to_vector_tiles(
    client, settings, django_assert_max_num_queries
):
    settings.ANJU_MAP_MARKER_LIMIT = 5
    settings.HOME_LIST_LIMIT = 3
    with django_assert_max_num_queries(8):
        html = client.get("/?rooms=1").content.decode()
    assert 'data-mode="tiles"' in html and "Leaflet.VectorGrid.bundled.min.js" in html
    assert 'id="estates-data"' not in html, "no marker per estate at this size"
    assert len(re.findall(r'<tr>\s*<td[^>]*><a href="/estates/', html)) == 3
    totals = selectors.vacancy_totals(VacancyQuery(rooms=(1,)))
    assert f"符合条件的空置房源 {totals['units']} 套，分布在 {totals['estates']} 个项目" in html
    settings.ANJU_BASEMAP = "amap"  # GCJ-02 tiles are moved under our layers: tiles stay
    assert 'data-mode="tiles"' in client.get("/?rooms=1").content.decode()


def vacant_count_shown(html: str) -> int:
    return int(re.search(r"符合条件的空置房源 (\d+) 套", html).group(1))


def test_public_pages_revalidate_on_the_stock_version(client, django_assert_num_queries):
    first = client.get("/")
    etag = first["ETag"]
    assert first["Cache-Control"] == "public, no-cache" and first["Last-Modified"]
    with django_assert_num_queries(1):  # the stock version, nothing else
        again = client.get("/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert client.get("/?rooms=2", HTTP_IF_NONE_MATCH=etag).status_code == 200, "per query"
    with django_assert_num_queries(1):  # served from the page cache
        cached = client.get("/")
    assert cached.content == first.content.replace(
        re.search(rb'csrfmiddlewaretoken" value="([^"]+)', first.content).group(1),
        re.search(rb'csrfmiddlewaretoken" value="([^"]+)', cached.content).group(1),
    )
    # A unit let go vacant changes the page at once, for a revalidating browser too.
    unit = Unit.objects.filter(status="repair", building__estate__published=True).first()
    services.change_unit_status(unit.pk, expected="repair", new="vacant", reason="修好", actor=None)
    changed = client.get("/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert (
        vacant_count_shown(changed.content.decode())
        == vacant_count_shown(first.content.decode()) + 1
    )


@pytest.mark.parametrize("url", ["/", "/units/?rooms=2", "/api/units/?rooms=2"])
def test_a_page_from_the_cache_changes_with_the_unit_list(client, url):
    client.get(url)
    unit = Unit.objects.filter(status="vacant", rooms=2, building__estate__published=True).first()
    Unit.objects.filter(pk=unit.pk).update(status="withheld")
    response = client.get(url)
    if url.startswith("/api/"):
        assert response.json()["count"] == selectors.vacancy_units(VacancyQuery(rooms=(2,))).count()
    else:
        html = response.content.decode()
        total = selectors.vacancy_units(VacancyQuery(rooms=(2,) if "rooms" in url else ()))
        assert f"空置房源{'共' if 'units' in url else ''} {total.count()} 套" in html


def test_a_cached_page_carries_each_visitors_own_csrf_token():
    Client().get("/")  # rendered and cached for someone else
    visitor = Client(enforce_csrf_checks=True)
    html = visitor.get("/").content.decode()
    token = re.search(r'csrfmiddlewaretoken" value="([^"]+)', html).group(1)
    response = visitor.post(
        reverse("text-size"), {"size": "large", "next": "/", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302 and response.cookies["text_size"].value == "large"


def test_pages_of_a_signed_in_visitor_are_private(client, django_user_model):
    user = django_user_model.objects.create_user("p-public-visitor", password="x-9-correct-horse")
    client.force_login(user)
    response = client.get("/")
    assert response["Cache-Control"] == "private, no-cache"
    assert not response.has_header("ETag")
    assert "Cookie" in response["Vary"]
