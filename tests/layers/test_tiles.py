"""Vector tiles: decoded content, one tile statement per tile and none once cached, 204 when
empty, ETag and Last-Modified track the data, a stock change shows at once."""

import math

import mapbox_vector_tile
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.http import http_date

from geo.models import Building, Estate, Unit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def tile_cache_dir(settings, tmp_path):
    """A tile cache of the test's own: nothing cached by another test is served here."""
    settings.TILE_CACHE_DIR = str(tmp_path / "tiles")
    return tmp_path / "tiles"


def tile_statements(captured: CaptureQueriesContext) -> list[str]:
    """The tile statements run: written out, or run from the connection's prepared plan."""
    return [
        q["sql"]
        for q in captured.captured_queries
        if "ST_AsMVT(" in q["sql"] or "EXECUTE anju_tile_" in q["sql"]
    ]


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def get_tile(client, layer: str, lon: float, lat: float, z: int, query: str = ""):
    x, y = tile_of(lon, lat, z)
    return client.get(f"/tiles/{layer}/{z}/{x}/{y}.pbf{query}")


@pytest.fixture
def busy_estate() -> Estate:
    return Estate.objects.published().filter(buildings__units__status="vacant").distinct().first()


def test_estates_tile_carries_public_fields_and_vacancy(client, busy_estate):
    loc = busy_estate.location
    with CaptureQueriesContext(connection) as captured:
        response = get_tile(client, "estates", loc.x, loc.y, 12)
    assert len(tile_statements(captured)) == 1
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert response["ETag"] and response["Last-Modified"]
    assert "no-cache" in response["Cache-Control"]  # revalidated each time: changes show at once
    layer = mapbox_vector_tile.decode(response.content)["estates"]
    feature = next(f for f in layer["features"] if f["id"] == busy_estate.pk)
    vacant = Unit.objects.filter(building__estate=busy_estate, status="vacant").count()
    assert feature["properties"]["name"] == busy_estate.name
    assert feature["properties"]["vacant_units"] == vacant
    assert set(feature["properties"]) == {
        "name",
        "address",
        "district_name",
        "street_name",
        "year_built",
        "vacant_units",
        "ref",  # the id again, for clients that cannot read MVT feature ids (VectorGrid)
    }


def test_low_zoom_vacant_units_are_aggregated_per_estate(client, busy_estate):
    loc = busy_estate.location
    tile = mapbox_vector_tile.decode(get_tile(client, "vacant-units", loc.x, loc.y, 10).content)
    assert set(tile) == {"estates"}, "no single units below the detail zoom"
    counts = {f["id"]: f["properties"]["vacant_units"] for f in tile["estates"]["features"]}
    assert (
        counts[busy_estate.pk]
        == Unit.objects.filter(building__estate=busy_estate, status="vacant").count()
    )


def test_high_zoom_vacant_units_are_single_units_with_filters(client, busy_estate):
    building = busy_estate.buildings.filter(units__status="vacant").first()
    centre = building.footprint.point_on_surface
    tile = mapbox_vector_tile.decode(
        get_tile(client, "vacant-units", centre.x, centre.y, 17).content
    )
    features = tile["vacant-units"]["features"]
    vacant_here = Unit.objects.filter(building=building, status="vacant")
    ids = {f["id"] for f in features}
    assert set(vacant_here.values_list("pk", flat=True)) <= ids
    one = next(f for f in features if f["id"] in ids)
    assert {"number", "floor", "rooms", "area", "monthly_rent"} <= set(one["properties"])
    rooms = mapbox_vector_tile.decode(
        get_tile(client, "vacant-units", centre.x, centre.y, 17, "?rooms=1").content
    )
    assert all(
        f["properties"]["rooms"] == 1
        for f in rooms.get("vacant-units", {"features": []})["features"]
    )


def test_empty_tile_is_204_and_bad_coordinates_404(client):
    assert get_tile(client, "estates", 121.47, 31.23, 14).status_code == 204  # Shanghai
    assert client.get("/tiles/estates/3/9/9.pbf").status_code == 404
    assert client.get("/tiles/nothing/3/1/1.pbf").status_code == 404


def test_a_cached_tile_is_served_without_rendering(client, busy_estate, tile_cache_dir):
    loc = busy_estate.location
    first = get_tile(client, "estates", loc.x, loc.y, 12)
    assert any(tile_cache_dir.rglob("*.pbf")), "the rendered tile is kept"
    with CaptureQueriesContext(connection) as captured:
        again = get_tile(client, "estates", loc.x, loc.y, 12)
    assert tile_statements(captured) == []
    assert len(captured) == 1, "only the stock version is asked"
    assert again.content == first.content and again["ETag"] == first["ETag"]


def test_tile_statement_runs_without_jit(client, busy_estate):
    """JIT compiling costs more than a tile's query: it is off for that statement only."""
    loc = busy_estate.location
    with CaptureQueriesContext(connection) as captured:
        get_tile(client, "vacant-units", loc.x, loc.y, 12)
    (statement,) = tile_statements(captured)
    assert statement.startswith("SELECT set_config('jit', 'off', true)")
    with connection.cursor() as cursor:
        cursor.execute(statement.split(";")[0] + "; SELECT current_setting('jit')")
        cursor.nextset()
        assert cursor.fetchone() == ("off",)


def test_etag_changes_when_the_data_change_and_304_when_not(client, busy_estate):
    loc = busy_estate.location
    first = get_tile(client, "estates", loc.x, loc.y, 12)
    x, y = tile_of(loc.x, loc.y, 12)
    again = client.get(f"/tiles/estates/12/{x}/{y}.pbf", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again["ETag"] == first["ETag"]
    assert not again.content
    unit = Unit.objects.filter(building__estate=busy_estate, status="vacant").first()
    unit.status = "occupied"
    unit.save()
    changed = client.get(f"/tiles/estates/12/{x}/{y}.pbf", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200, "a stock change is visible at once, despite the cache"
    assert changed["ETag"] != first["ETag"]
    feature = next(
        f
        for f in mapbox_vector_tile.decode(changed.content)["estates"]["features"]
        if f["id"] == busy_estate.pk
    )
    vacant = Unit.objects.filter(building__estate=busy_estate, status="vacant").count()
    assert feature["properties"]["vacant_units"] == vacant


def test_304_when_not_modified_since_the_tile_was_rendered(client, busy_estate):
    loc = busy_estate.location
    first = get_tile(client, "estates", loc.x, loc.y, 12)
    x, y = tile_of(loc.x, loc.y, 12)
    url = f"/tiles/estates/12/{x}/{y}.pbf"
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=http_date(0)).status_code == 200


def test_filters_are_part_of_the_cache_key(client, busy_estate):
    loc = busy_estate.location
    everything = get_tile(client, "vacant-units", loc.x, loc.y, 12)
    two_rooms = get_tile(client, "vacant-units", loc.x, loc.y, 12, "?rooms=2")
    one_room = get_tile(client, "vacant-units", loc.x, loc.y, 12, "?rooms=1")
    assert len({everything.content, two_rooms.content, one_room.content}) == 3


def test_unpublished_estates_never_reach_a_tile(client):
    hidden = Estate.objects.filter(published=False).first()
    loc = hidden.location
    for layer, z in [("estates", 12), ("vacant-units", 10)]:
        response = get_tile(client, layer, loc.x, loc.y, z)
        if response.status_code == 200:
            for features in mapbox_vector_tile.decode(response.content).values():
                assert hidden.pk not in {f["id"] for f in features["features"]}


def test_tilejson_describes_the_layer_and_carries_filters(client):
    data = client.get("/tiles/vacant-units.json?rooms=2").json()
    assert data["tilejson"] == "3.0.0"
    assert data["tiles"][0].endswith("/tiles/vacant-units/{z}/{x}/{y}.pbf?rooms=2")
    assert {layer["id"] for layer in data["vector_layers"]} == {"vacant-units", "estates"}


def test_every_tile_of_a_layer_shows_its_own_place(client):
    """The statement is compiled once per layer and filters; each tile still gets its box."""
    buildings = (
        Building.objects.filter(units__status="vacant", estate__published=True)
        .exclude(footprint=None)
        .order_by("estate_id")
        .distinct()
    )
    first, last = buildings.first(), buildings.last()
    assert first.estate_id != last.estate_id
    for building in (first, last):
        centre = building.footprint.point_on_surface
        tile = mapbox_vector_tile.decode(
            get_tile(client, "vacant-units", centre.x, centre.y, 17).content
        )
        ids = {f["id"] for f in tile["vacant-units"]["features"]}
        vacant = Unit.objects.filter(building=building, status="vacant")
        assert set(vacant.values_list("pk", flat=True)) <= ids
