"""The short path for public tiles in front of Django (layers/tile_wsgi.py, portal/wsgi.py):
the same bytes and headers as the view behind the full middleware stack, 304s, one query per
rendered tile, and every other request (a bad address, filters, HEAD) left to Django."""

import io
import math
import sys

import mapbox_vector_tile
import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext

from geo.models import Estate, Unit
from portal import wsgi

pytestmark = pytest.mark.django_db

SAME_HEADERS = [
    "Content-Type",
    "Content-Length",
    "ETag",
    "Last-Modified",
    "Cache-Control",
    "Access-Control-Allow-Origin",
    "X-Frame-Options",
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
]


@pytest.fixture(autouse=True)
def tile_cache_dir(settings, tmp_path):
    settings.TILE_CACHE_DIR = str(tmp_path / "tiles")
    return tmp_path / "tiles"


@pytest.fixture(autouse=True)
def keep_the_test_transaction():
    """Django's handler closes old connections around a request; in a test that would end
    the test's transaction (the test client disconnects it the same way)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def call(app, path: str, query: str = "", method: str = "GET", **headers):
    """One WSGI request, as gunicorn makes it: (status code, headers, body)."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "443",
        "HTTP_HOST": "testserver",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()},
    }
    started = {}

    def start_response(status, response_headers, exc_info=None):
        started["status"] = int(status.split()[0])
        started["headers"] = dict(response_headers)

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return started["status"], started["headers"], body


def tile_path(layer: str, lon: float, lat: float, z: int) -> str:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return f"/tiles/{layer}/{z}/{x}/{y}.pbf"


@pytest.fixture
def busy_estate() -> Estate:
    return Estate.objects.published().filter(buildings__units__status="vacant").distinct().first()


def test_short_path_gives_the_bytes_and_headers_of_the_full_stack(busy_estate, tile_cache_dir):
    loc = busy_estate.location
    path = tile_path("vacant-units", loc.x, loc.y, 12)
    lean_status, lean, lean_body = call(wsgi.application, path)  # rendered here
    full_status, full, full_body = call(wsgi.django_application, path)  # read from the cache
    assert lean_status == full_status == 200
    assert lean_body == full_body
    for name in SAME_HEADERS:
        assert lean[name] == full[name], name
    # Nothing on a tile varies with language or cookies: it may be shared by every cache.
    assert lean["Vary"] == "Accept-Encoding"
    features = mapbox_vector_tile.decode(lean_body)["estates"]["features"]
    vacant = Unit.objects.filter(building__estate=busy_estate, status="vacant").count()
    assert {f["id"]: f["properties"]["vacant_units"] for f in features}[busy_estate.pk] == vacant
    # A second cache, rendered by the full stack: the same tile.
    tile_cache_dir.rename(tile_cache_dir.with_name("older"))
    assert call(wsgi.django_application, path)[2] == lean_body


def test_short_path_answers_304_and_a_changed_stock_at_once(busy_estate):
    loc = busy_estate.location
    path = tile_path("estates", loc.x, loc.y, 12)
    _status, first, _body = call(wsgi.application, path)
    status, again, body = call(wsgi.application, path, if_none_match=first["ETag"])
    assert status == 304 and again["ETag"] == first["ETag"] and body == b""
    status, _h, _b = call(wsgi.application, path, if_modified_since=first["Last-Modified"])
    assert status == 304
    unit = Unit.objects.filter(building__estate=busy_estate, status="vacant").first()
    unit.status = "occupied"
    unit.save()
    status, changed, _body = call(wsgi.application, path, if_none_match=first["ETag"])
    assert status == 200 and changed["ETag"] != first["ETag"]


def test_empty_tile_is_204_on_the_short_path():
    status, headers, body = call(wsgi.application, tile_path("estates", 121.47, 31.23, 14))
    assert status == 204 and body == b""
    assert headers["Cache-Control"] == "public, no-cache"


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/estates/3/9/9.pbf",  # x beyond 2^3 − 1
        "/tiles/estates/23/0/0.pbf",  # beyond the deepest zoom
        "/tiles/districts/17/0/0.pbf",  # beyond this layer's deepest zoom (16)
    ],
)
def test_a_bad_address_is_a_404_saying_why(path):
    status, headers, body = call(wsgi.application, path)
    assert status == 404
    assert headers["Content-Type"].startswith("text/plain")
    text = body.decode()
    assert "瓦片坐标超出范围" in text and "z=" in text


def test_an_unknown_layer_and_other_methods_go_through_django():
    assert call(wsgi.application, "/tiles/nothing/3/1/1.pbf")[0] == 404
    assert call(wsgi.application, "/tiles/estates/3/1/1.pbf", method="HEAD")[0] == 405


def test_filters_go_through_django_and_still_filter(busy_estate):
    loc = busy_estate.location
    path = tile_path("vacant-units", loc.x, loc.y, 12)
    everything = call(wsgi.application, path)[2]
    two_rooms = call(wsgi.application, path, query="rooms=2")
    assert two_rooms[0] == 200 and two_rooms[2] != everything


def test_a_rendered_tile_costs_one_query_and_a_cached_one_one_query(client, busy_estate):
    """The stock version is read in the tile's own statement (one snapshot, one round trip);
    a cached tile asks only the stock version."""
    loc = busy_estate.location
    client.get(tile_path("estates", loc.x, loc.y, 10))  # this process knows its database now
    path = tile_path("vacant-units", loc.x, loc.y, 15)
    for attempt in ("rendered", "cached"):
        with CaptureQueriesContext(connection) as captured:
            status, _headers, body = call(wsgi.application, path)
        assert status == 200 and body, attempt
        assert len(captured) == 1, (attempt, [q["sql"][:80] for q in captured])
        sql = captured[0]["sql"]
        assert "geo_stockversion" in sql or "EXECUTE anju_tile_" in sql
        if attempt == "rendered":
            assert "ST_AsMVT(" in sql or "EXECUTE anju_tile_" in sql
        else:
            assert "ST_AsMVT(" not in sql and "EXECUTE" not in sql
