"""Base maps by setting (geo/basemaps.py): what is offered and shown first, what the
Content-Security-Policy lets through, and the description every map page carries
(base maps, our own names, the estate popup's links); our layers stay in WGS84."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.gis.geos import Point
from django.core.exceptions import ImproperlyConfigured

from geo.basemaps import checked_basemaps, default_names, named_basemap
from geo.models import Building, Estate, Region

ROOT = Path(django_settings.BASE_DIR)
ALL_ORIGINS = {
    "tianditu": [f"https://t{i}.tianditu.gov.cn" for i in range(8)],
    "amap": [f"https://webrd0{i}.is.autonavi.com" for i in range(1, 5)],
    "osm": ["https://tile.openstreetmap.org"],
    "none": [],
}


def _config(html: str, map_id: str) -> dict:
    """A map's description, which static/portal/js/map.js draws."""
    match = re.search(
        rf'<script id="{map_id}-config" type="application/json">(.*?)</script>', html, re.S
    )
    return json.loads(match.group(1))


def _settings_in_a_server(**env: str) -> dict:
    """The settings module loaded as a server loads it, with this environment."""
    code = (
        "import json, portal.settings as s; print(json.dumps({"
        "'offered': s.ANJU_BASEMAPS, 'default': s.ANJU_BASEMAP,"
        "'img': s.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ANJU_BASEMAP")}
    clean.pop("ANJU_TIANDITU_KEY", None)
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_DEBUG": "true", **env},
        capture_output=True,
        text=True,
    )
    if result.returncode:
        return {"error": result.stderr.strip().splitlines()[-1]}
    return json.loads(result.stdout)


def test_without_a_key_amap_is_shown_first_and_tianditu_not_offered():
    loaded = _settings_in_a_server()
    assert loaded["offered"] == ["amap", "osm", "none"] and loaded["default"] == "amap"
    assert loaded["img"] == ["'self'", "data:", *ALL_ORIGINS["amap"], *ALL_ORIGINS["osm"]]


def test_with_a_key_tianditu_is_shown_first_and_every_offered_tile_server_is_allowed():
    loaded = _settings_in_a_server(ANJU_TIANDITU_KEY="k123")
    assert loaded["offered"] == ["tianditu", "amap", "osm", "none"]
    assert loaded["default"] == "tianditu"
    expected = [o for name in ("tianditu", "amap", "osm") for o in ALL_ORIGINS[name]]
    assert loaded["img"] == ["'self'", "data:", *expected]


def test_a_deployment_chooses_what_is_offered_and_shown_first():
    loaded = _settings_in_a_server(ANJU_BASEMAPS="osm, none", ANJU_BASEMAP="none")
    assert loaded["offered"] == ["osm", "none"] and loaded["default"] == "none"
    assert loaded["img"] == ["'self'", "data:", *ALL_ORIGINS["osm"]]  # no AMap, no Tianditu
    offline = _settings_in_a_server(ANJU_BASEMAPS="none")
    assert offline["img"] == ["'self'", "data:"] and offline["default"] == "none"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ANJU_BASEMAPS": "amap,google"}, "Unknown base map 'google'"),
        ({"ANJU_BASEMAPS": "tianditu,none"}, "ANJU_TIANDITU_KEY"),
        ({"ANJU_BASEMAP": "tianditu"}, "ANJU_TIANDITU_KEY"),
        ({"ANJU_BASEMAPS": "osm", "ANJU_BASEMAP": "amap"}, "is not among ANJU_BASEMAPS"),
    ],
)
def test_a_setting_that_cannot_work_stops_the_server(env, message):
    assert message in _settings_in_a_server(**env)["error"]


def test_every_tile_url_is_covered_by_an_allowed_origin():
    for name in ("tianditu", "amap", "osm"):
        basemap = named_basemap(name, tianditu_key="k123", boundary_note="")
        assert basemap.tile_origins == ALL_ORIGINS[name]
        for source in basemap.sources:
            for sub in source.subdomains or "-":
                url = source.url.replace("{s}", sub)
                assert any(url.startswith(o + "/") for o in basemap.tile_origins), url


def test_tianditu_draws_streets_and_their_names_and_amap_is_gcj02():
    tianditu = named_basemap("tianditu", tianditu_key="k123", boundary_note="边界")
    assert ["T=vec_w" in s.url for s in tianditu.sources] == [True, False]
    assert ["T=cva_w" in s.url for s in tianditu.sources] == [False, True]
    assert all("tk=k123" in s.url for s in tianditu.sources) and not tianditu.shifted
    assert named_basemap("amap", tianditu_key="", boundary_note="").crs == "gcj02"
    assert default_names("") == ["amap", "osm", "none"]
    with pytest.raises(ImproperlyConfigured):
        checked_basemaps([], "none", tianditu_key="", boundary_note="")


@pytest.mark.django_db
def test_the_home_map_offers_the_base_maps_and_names_every_region(client, settings):
    settings.ANJU_BASEMAPS = ["amap", "osm", "none"]
    settings.ANJU_BASEMAP = "osm"
    config = _config(client.get("/").content.decode(), "map_city")
    basemaps = config["basemaps"]
    assert basemaps["default"] == "osm"
    assert [m["name"] for m in basemaps["maps"]] == ["amap", "osm", "none"]
    assert [m["title"] for m in basemaps["maps"]] == [
        "高德地图",
        "OpenStreetMap",
        "无底图（本站图层）",
    ]
    assert all("行政区划边界" in m["attribution"] for m in basemaps["maps"])
    assert basemaps["text"]["switch"] == "切换底图"
    named = {(text, kind) for text, kind, _lon, _lat in config["labels"]}
    for region in Region.objects.all():
        assert (region.name, region.level) in named
    for estate in Estate.objects.published():
        assert (estate.name, "estate") in named
    assert config["links"] == {"apply": "/apply/", "selfCheck": "/self-check/"}
    assert config["text"]["apply"] == "申请公租房" and config["text"]["selfCheck"] == "资格自测"


@pytest.mark.django_db
def test_labels_sit_inside_their_regions(client):
    config = _config(client.get("/").content.decode(), "map_city")
    for region in Region.objects.filter(level__in=["district", "street"]):
        around = region.boundary.buffer(0.0001)
        assert any(
            around.contains(Point(lon, lat, srid=4326))
            for text, kind, lon, lat in config["labels"]
            if (text, kind) == (region.name, region.level)  # names repeat across counties
        ), region.name


@pytest.mark.django_db
def test_the_estate_map_numbers_its_buildings_and_its_entrance_offers_to_apply(client):
    estate = Estate.objects.published().filter(boundary__isnull=False).order_by("pk").first()
    config = _config(client.get(f"/estates/{estate.pk}/").content.decode(), "map_estate")
    numbers = sorted(t for t, kind, *_ in config["labels"] if kind == "building")
    expected = Building.objects.filter(estate=estate, footprint__isnull=False)
    assert numbers == sorted(expected.values_list("number", flat=True))
    entrance = config["layers"][-1]
    assert entrance["popup"] == "estate"
    assert entrance["data"]["features"][0]["properties"]["address"] == estate.address


@pytest.mark.django_db
@pytest.mark.parametrize("default", ["amap", "osm", "none"])
def test_our_layers_stay_in_wgs84_whatever_base_map_comes_first(client, settings, default):
    """A GCJ-02 base map's tiles are moved in the browser; our coordinates never are."""
    settings.ANJU_BASEMAPS = ["amap", "osm", "none"]
    settings.ANJU_BASEMAP = default
    estate = Estate.objects.published().filter(boundary__isnull=False).order_by("pk").first()
    config = _config(client.get(f"/estates/{estate.pk}/").content.decode(), "map_estate")
    assert config["layers"][-1]["data"]["features"][0]["geometry"]["coordinates"] == [
        estate.location.x,
        estate.location.y,
    ]
    assert config["basemaps"]["default"] == default


@pytest.mark.django_db
def test_the_scripts_come_in_order_and_from_us(client):
    html = client.get("/").content.decode()
    scripts = re.findall(r'<script src="([^"]+)"', html)
    order = [s for s in scripts if s.rsplit("/", 1)[-1] in ("leaflet.js", "chinacrs.js", "map.js")]
    assert [s.rsplit("/", 1)[-1] for s in order] == ["leaflet.js", "chinacrs.js", "map.js"]
    assert all(s.startswith("/static/") for s in order)  # ours, never a CDN
