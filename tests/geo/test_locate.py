"""Location lookup: which county, street and community a point lies in, and what is near."""

import pytest
from django.db import connection

from geo.locate import locate
from geo.models import Region

pytestmark = pytest.mark.django_db


def inside(region: Region) -> tuple[float, float]:
    point = region.boundary.point_on_surface
    return point.x, point.y


@pytest.mark.parametrize("adcode", ["341602", "341621", "341622", "341623"])
def test_a_point_in_each_county_resolves_to_it(adcode):
    county = Region.objects.get(adcode=adcode)
    lon, lat = inside(county)
    result = locate(lon, lat)
    assert result.regions["district"]["adcode"] == adcode
    assert result.regions["city"]["adcode"] == "341600"
    street = Region.objects.get(adcode=result.regions["street"]["adcode"])
    community = Region.objects.get(adcode=result.regions["community"]["adcode"])
    assert street.parent_id == county.pk and community.parent_id == street.pk
    assert county.name in result.place_name


def test_nearest_estates_have_vacancies_and_true_distances():
    result = locate(115.78, 33.85)
    assert len(result.nearest) == 5
    distances = [n.distance_m for n in result.nearest]
    assert distances == sorted(distances)
    with connection.cursor() as cursor:
        for n in result.nearest:
            cursor.execute(
                "SELECT ST_Distance(location::geography, "
                "ST_SetSRID(ST_MakePoint(115.78, 33.85), 4326)::geography) FROM geo_estate "
                "WHERE id = %s",
                [n.id],
            )
            assert abs(cursor.fetchone()[0] - n.distance_m) <= 1
            assert n.vacant_units > 0


def test_a_point_outside_the_city_belongs_to_no_region():
    result = locate(121.47, 31.23)  # Shanghai
    assert result.regions == {}
    assert result.place_name == ""


def test_locate_api(client, django_assert_num_queries):
    with django_assert_num_queries(2):
        data = client.get("/api/locate/?lon=115.78&lat=33.85").json()
    assert data["regions"]["district"]["name"] == "谯城区"
    assert data["nearest"][0]["url"].startswith("/estates/")
    bad = client.get("/api/locate/?lon=east&lat=33")
    assert bad.status_code == 400 and "经度" in bad.content.decode()
