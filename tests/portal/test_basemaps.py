"""Base maps by setting; on a GCJ-02 base map (AMap) our WGS84 layers are drawn shifted."""

import json
import re

import pytest
from django.core.exceptions import ImproperlyConfigured

from geo import crs
from geo.models import Region
from portal.basemaps import current_basemap

pytestmark = pytest.mark.django_db


def _map_config(html: str) -> dict:
    """The home map's description, which static/portal/js/map.js draws."""
    match = re.search(
        r'<script id="map_city-config" type="application/json">(.*?)</script>', html, re.S
    )
    return json.loads(match.group(1))


def test_default_is_our_own_boundaries_with_attribution(client, settings):
    assert settings.ANJU_BASEMAP == "none"
    config = _map_config(client.get("/").content.decode())
    assert config["tiles"] is None
    assert "行政区划边界" in config["attribution"]


@pytest.mark.parametrize(
    ("name", "host", "credit"),
    [("osm", "tile.openstreetmap.org", "OpenStreetMap"), ("amap", "autonavi.com", "高德地图")],
)
def test_named_base_maps_are_drawn_with_attribution(client, settings, name, host, credit):
    settings.ANJU_BASEMAP = name
    config = _map_config(client.get("/").content.decode())
    assert host in config["tiles"]["url"]
    assert credit in config["tiles"]["attribution"] and config["attribution"] is None


def test_tianditu_needs_its_key(settings):
    settings.ANJU_BASEMAP = "tianditu"
    settings.ANJU_TIANDITU_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="ANJU_TIANDITU_KEY"):
        current_basemap()
    settings.ANJU_TIANDITU_KEY = "k123"
    basemap = current_basemap()
    assert "tk=k123" in basemap.tiles and not basemap.shifted


def test_unknown_base_map_is_refused(settings):
    settings.ANJU_BASEMAP = "google"
    with pytest.raises(ImproperlyConfigured):
        current_basemap()


def _first_coordinate(html: str) -> tuple[float, float]:
    match = re.search(r'"coordinates": \[\[\[\[([0-9.]+), ([0-9.]+)\]', html)
    return float(match.group(1)), float(match.group(2))


def test_amap_shifts_our_outlines_to_gcj02_and_loads_the_click_converter(client, settings):
    plain = _first_coordinate(client.get("/").content.decode())
    settings.ANJU_BASEMAP = "amap"
    html = client.get("/").content.decode()
    shifted = _first_coordinate(html)
    expected = crs.wgs84_to_gcj02(*plain)
    assert shifted == pytest.approx(expected, abs=1e-9)
    assert shifted != pytest.approx(plain, abs=1e-4)  # hundreds of metres, not nothing
    assert "portal/js/chinacrs.js" in html and 'data-shift="gcj02"' in html
    county = Region.objects.filter(level="district").order_by("adcode").first()
    assert json.dumps(county.name, ensure_ascii=False).strip('"') in html
