"""The GeoJSON API: the map's filters, RFC 7946 output, pagination, OpenAPI, one public queryset."""

import pytest
from django.core.cache import cache

from geo import selectors
from geo.models import Estate
from geo.vacancy import VacancyQuery

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cold_cache():
    """Every test asks the database: query counts do not depend on the tests before it."""
    cache.clear()


def test_estates_are_geojson_with_matching_counts(client, django_assert_num_queries):
    with django_assert_num_queries(3):  # stock version, count, page
        data = client.get("/api/estates/?rooms=2&elevator=1").json()
    assert data["type"] == "FeatureCollection"
    expected = {
        e.pk: e.vacant_count
        for e in selectors.vacancy_estates(VacancyQuery(rooms=(2,), elevator=True))
    }
    got = {f["id"]: f["properties"]["vacant_units"] for f in data["features"]}
    assert got == expected
    feature = data["features"][0]
    assert feature["geometry"]["type"] == "Point"
    lon, lat = feature["geometry"]["coordinates"]
    assert 114 < lon < 118 and 32 < lat < 35  # WGS84 lon/lat order (RFC 7946)


def test_units_api_filters_and_pages(client, django_assert_num_queries):
    query = VacancyQuery(district="341602", rooms=(1,))
    total = selectors.vacancy_units(query).count()
    with django_assert_num_queries(3):  # stock version, counts per estate, page
        data = client.get("/api/units/?district=341602&rooms=1&page_size=20").json()
    assert data["count"] == total
    assert len(data["features"]) == min(20, total)
    props = data["features"][0]["properties"]
    assert props["district"] == "谯城区" and props["rooms"] == 1
    assert data["features"][0]["geometry"]["type"] == "Point"
    if total > 20:
        assert "page=2" in data["next"]


def test_bad_filter_is_a_400_naming_the_field(client):
    response = client.get("/api/estates/?area_min=abc&within_km=3")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"area_min", "near"}


def test_unpublished_estate_is_absent_everywhere_in_the_api(client):
    hidden = Estate.objects.filter(published=False).first()
    assert hidden.pk not in {
        f["id"] for f in client.get("/api/estates/?page_size=1000").json()["features"]
    }
    assert client.get(f"/api/estates/{hidden.pk}/").status_code == 404
    units = client.get("/api/units/?page_size=1000").json()["features"]
    assert hidden.name not in {f["properties"]["estate"] for f in units}


def test_estate_detail(client):
    estate = Estate.objects.published().first()
    data = client.get(f"/api/estates/{estate.pk}/").json()
    assert data["type"] == "Feature" and data["properties"]["name"] == estate.name


def test_search_api_is_the_autocomplete(client, django_assert_num_queries):
    estate = Estate.objects.published().first()
    with django_assert_num_queries(2):
        data = client.get("/api/search/", {"q": estate.name}).json()
    assert data["results"][0]["name"] == estate.name
    assert data["results"][0]["url"] == f"/estates/{estate.pk}/"


def test_openapi_schema_and_docs(client):
    schema = client.get("/api/schema/?format=json").json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/estates/", "/api/units/", "/api/search/", "/api/locate/"} <= set(schema["paths"])
    params = {p["name"] for p in schema["paths"]["/api/estates/"]["get"]["parameters"]}
    assert {"rooms", "area_min", "near", "within_km", "district"} <= params
    docs = client.get("/api/docs/").content.decode()
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs
