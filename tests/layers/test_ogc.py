"""OGC API – Features Part 1 Core, checked by its paths and by a real client (GDAL's OAPIF)."""

import json
import shutil
import subprocess

import pytest

from geo.models import Estate, Unit

pytestmark = pytest.mark.django_db


def test_landing_page_links(client):
    data = client.get("/ogc/").json()
    rels = {link["rel"] for link in data["links"]}
    assert {"self", "alternate", "service-desc", "conformance", "data"} <= rels


def test_conformance_declares_core_and_geojson(client):
    classes = client.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in classes
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in classes


def test_collections_list_the_layers_with_extent(client):
    data = client.get("/ogc/collections").json()
    ids = {c["id"] for c in data["collections"]}
    assert {"estates", "vacant-units", "districts"} <= ids
    estates = next(c for c in data["collections"] if c["id"] == "estates")
    (bbox,) = estates["extent"]["spatial"]["bbox"]
    assert 115 < bbox[0] < bbox[2] < 117.5 and 32.5 < bbox[1] < bbox[3] < 34.5
    assert client.get("/ogc/collections/estates").json()["id"] == "estates"
    assert client.get("/ogc/collections/nothing").status_code == 404


def test_items_page_with_limit_and_next_links(client, django_assert_num_queries):
    with django_assert_num_queries(2):
        response = client.get("/ogc/collections/vacant-units/items?limit=7")
    assert response["Content-Type"] == "application/geo+json"
    data = response.json()
    total = Unit.objects.filter(status="vacant", building__estate__published=True).count()
    assert data["numberMatched"] == total and data["numberReturned"] == 7
    nxt = next(link["href"] for link in data["links"] if link["rel"] == "next")
    assert f"after={data['features'][-1]['id']}" in nxt and "limit=7" in nxt  # keyset
    second = client.get(nxt.replace("http://testserver", "")).json()
    assert not {f["id"] for f in data["features"]} & {f["id"] for f in second["features"]}


def test_items_bbox_and_property_filters(client):
    estate = Estate.objects.published().filter(buildings__units__status="vacant").first()
    x, y = estate.location.x, estate.location.y
    bbox = f"{x - 0.01},{y - 0.01},{x + 0.01},{y + 0.01}"
    data = client.get(f"/ogc/collections/estates/items?bbox={bbox}&limit=100").json()
    assert estate.pk in {f["id"] for f in data["features"]}
    for f in data["features"]:
        fx, fy = f["geometry"]["coordinates"]
        assert x - 0.01 <= fx <= x + 0.01 and y - 0.01 <= fy <= y + 0.01
    two_rooms = client.get("/ogc/collections/vacant-units/items?rooms=2&limit=50").json()
    assert two_rooms["features"] and all(
        f["properties"]["rooms"] == 2 for f in two_rooms["features"]
    )
    named = client.get(
        "/ogc/collections/vacant-units/items", {"estate_name": estate.name, "limit": 500}
    ).json()
    assert (
        named["numberMatched"]
        == Unit.objects.filter(building__estate=estate, status="vacant").count()
    )


def test_bad_parameters_are_400(client):
    assert client.get("/ogc/collections/estates/items?bbox=1,2,3").status_code == 400
    assert client.get("/ogc/collections/estates/items?limit=0").status_code == 400
    assert client.get("/ogc/collections/estates/items?colour=red").status_code == 400
    assert client.get("/ogc/collections/vacant-units/items?floor=high").status_code == 400
    unknown_format = client.get("/ogc/collections/estates/items?f=xml")
    assert unknown_format.status_code == 400 and "f 只支持 json, geojson, html" in (
        unknown_format.content.decode()
    )
    assert client.get("/ogc/collections/estates/items?f=geojson").status_code == 200


def test_single_item_and_its_absence(client):
    estate = Estate.objects.published().first()
    data = client.get(f"/ogc/collections/estates/items/{estate.pk}").json()
    assert data["type"] == "Feature" and data["properties"]["name"] == estate.name
    hidden = Estate.objects.filter(published=False).first()
    assert client.get(f"/ogc/collections/estates/items/{hidden.pk}").status_code == 404
    assert client.get("/ogc/collections/estates/items/abc").status_code == 404


def test_html_for_browsers(client):
    html = client.get(
        "/ogc/collections/estates/items?limit=100", HTTP_ACCEPT="text/html"
    ).content.decode()
    assert "<table>" in html and Estate.objects.published().first().name in html


def test_openapi_service_description(client):
    response = client.get("/ogc/api")
    assert "openapi" in response["Content-Type"]
    assert "/collections/vacant-units/items" in response.json()["paths"]


@pytest.mark.skipif(not shutil.which("ogrinfo"), reason="gdal-bin is installed by make")
def test_gdal_reads_estates_and_vacant_units_over_http(site_url):
    url = f"OAPIF:{site_url}/ogc"
    listing = subprocess.run(
        ["ogrinfo", "-ro", "-q", url], capture_output=True, text=True, timeout=120
    )
    assert listing.returncode == 0, listing.stderr
    assert "estates" in listing.stdout and "vacant-units" in listing.stdout
    dump = subprocess.run(
        ["ogr2ogr", "-f", "GeoJSON", "/vsistdout/", url, "vacant-units", "-where", "rooms = 2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dump.returncode == 0, dump.stderr
    features = json.loads(dump.stdout)["features"]
    expected = Unit.objects.filter(
        status="vacant", rooms=2, building__estate__published=True
    ).count()
    assert len(features) == expected
    assert all(f["properties"]["rooms"] == 2 for f in features)


def test_next_link_keeps_repeated_parameters(client):
    data = client.get("/ogc/collections/vacant-units/items?rooms=1&rooms=2&limit=5").json()
    nxt = next(link["href"] for link in data["links"] if link["rel"] == "next")
    assert "rooms=1" in nxt and "rooms=2" in nxt
    # rooms is a property of the layer: an exact filter, repeated values are "any of".


def test_limit_above_the_maximum_is_capped_not_refused(client):
    data = client.get("/ogc/collections/vacant-units/items?limit=50000").json()
    assert data["numberReturned"] == min(10_000, data["numberMatched"])


def test_non_finite_bbox_is_a_400(client):
    assert client.get("/ogc/collections/estates/items?bbox=nan,nan,nan,nan").status_code == 400
    assert client.get("/ogc/collections/estates/items?bbox=0,0,200,10").status_code == 400


def test_each_collection_has_its_own_extent(client):
    districts = client.get("/ogc/collections/districts").json()["extent"]["spatial"]["bbox"][0]
    estates = client.get("/ogc/collections/estates").json()["extent"]["spatial"]["bbox"][0]
    assert districts[0] < estates[0] and districts[2] > estates[2]


def test_boolean_properties_filter_exactly(client):
    on = client.get("/ogc/collections/vacant-units/items?elevator=true&limit=1").json()
    off = client.get("/ogc/collections/vacant-units/items?elevator=false&limit=1").json()
    total = Unit.objects.filter(status="vacant", building__estate__published=True).count()
    assert on["numberMatched"] + off["numberMatched"] == total
    assert (
        on["numberMatched"]
        == Unit.objects.filter(
            status="vacant", building__estate__published=True, building__elevator=True
        ).count()
    )
