"""In Chromium, with every base map offered and AMap shown first: the switcher loads the
chosen base map's tiles under the real Content-Security-Policy (tile requests are answered
from a local PNG: nothing leaves the machine), GCJ-02 tiles lie under our WGS84 layers,
our own names keep the map readable when tiles fail, the scale is metric and estate popups
lead to the estate, to applying and to the self-check."""

import math
import re
import struct
import zlib

import pytest
from playwright.sync_api import sync_playwright

from disclosure.models import Publication
from geo import selectors
from geo.crs import wgs84_to_gcj02
from geo.map_base import place_labels
from geo.models import Building, Estate, Region
from geo.vacancy import VacancyQuery
from tests.conftest import _serve, _stop
from tests.e2e.test_map_browser import CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

TILE_HOSTS = re.compile(
    r"^https://(webrd0[1-4]\.is\.autonavi\.com|tile\.openstreetmap\.org|t[0-7]\.tianditu\.gov\.cn)/"
)
KEY = "e2e-tianditu-key"


def png(width: int = 256, height: int = 256, rgb: tuple[int, int, int] = (228, 236, 222)) -> bytes:
    """A plain tile, made here: a PNG needs only zlib."""
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"IDAT", zlib.compress(raw)),
            chunk(b"IEND", b""),
        ]
    )


TILE = png()


@pytest.fixture(scope="module")
def all_basemaps_url(django_db_setup, django_db_blocker, data_platform) -> str:
    """The portal offering Tianditu (with a key), AMap, OSM and none; AMap first."""
    base, proc = _serve(
        data_platform,
        ANJU_BASEMAPS="tianditu,amap,osm,none",
        ANJU_BASEMAP="amap",
        ANJU_TIANDITU_KEY=KEY,
    )
    yield base
    _stop(proc, django_db_blocker)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


def _page(browser, site: str, *, tiles: bool, width: int = 1280):
    """A page whose tile requests are answered locally (or refused, as with no internet);
    it records tile URLs, CSP violations, script errors and any other request off the site."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.tiles, page.outside, page.violations, page.errors = [], [], [], []

    def answer(route):
        page.tiles.append(route.request.url)
        if tiles:
            route.fulfill(body=TILE, content_type="image/png")
        else:
            route.abort("internetdisconnected")

    page.route(TILE_HOSTS, answer)
    page.on(
        "request",
        lambda r: r.url.startswith(site) or TILE_HOSTS.match(r.url) or page.outside.append(r.url),
    )
    page.on(
        "console", lambda m: "Content Security Policy" in m.text and page.violations.append(m.text)
    )
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    return page


def assert_clean(page) -> None:
    assert not page.violations, page.violations
    assert not page.errors, page.errors
    assert not page.outside, page.outside


@pytest.fixture
def page(browser, all_basemaps_url):
    page = _page(browser, all_basemaps_url, tiles=True)
    yield page
    assert_clean(page)
    page.close()


@pytest.fixture
def offline(browser, all_basemaps_url):
    page = _page(browser, all_basemaps_url, tiles=False)
    yield page
    assert not page.violations and not page.errors and not page.outside
    page.close()


def set_view(page, map_id: str, lat: float, lon: float, zoom: int) -> None:
    page.evaluate(
        "([id, lat, lon, zoom]) => window[id].setView([lat, lon], zoom, {animate: false})",
        [map_id, lat, lon, zoom],
    )


def labels(page, kind: str) -> list[str]:
    return page.locator(f".anju-label--{kind}").all_inner_texts()


def choose(page, title: str) -> None:
    """Open the switcher and pick a base map, as a visitor does."""
    control = page.locator(".leaflet-control-layers").first
    control.hover()  # a touch opens it too; a mouse opens it on the way to its button
    page.locator(".leaflet-control-layers-expanded").first.wait_for()
    page.locator(".leaflet-control-layers-base label", has_text=title).first.click()


def loaded_tile(page, src_part: str):
    tile = page.locator(f"img.leaflet-tile-loaded[src*='{src_part}']").first
    tile.wait_for()
    return tile


def test_the_switcher_loads_the_chosen_base_maps_tiles_under_the_policy(page, all_basemaps_url):
    page.goto(all_basemaps_url + "/")
    loaded_tile(page, "autonavi.com/appmaptile")
    assert page.locator(".leaflet-control-layers-toggle").get_attribute("title") == "切换底图"
    titles = page.locator(".leaflet-control-layers-base label").all_text_contents()
    assert [t.strip() for t in titles] == [
        "天地图",
        "高德地图",
        "OpenStreetMap",
        "无底图（本站图层）",
    ]
    # The base map names the places: ours would only repeat them, and no warning shows.
    assert labels(page, "district") == [] and page.locator(".anju-map-notice").is_hidden()

    choose(page, "OpenStreetMap")
    loaded_tile(page, "tile.openstreetmap.org/")
    page.wait_for_function("() => !document.querySelector('img.leaflet-tile[src*=autonavi]')")
    assert "OpenStreetMap" in page.locator(".leaflet-control-attribution").inner_text()

    choose(page, "天地图")
    loaded_tile(page, "T=vec_w")  # streets
    loaded_tile(page, "T=cva_w")  # and their Chinese names, over them
    assert all(f"tk={KEY}" in url for url in page.tiles if "tianditu" in url)

    choose(page, "无底图（本站图层）")
    page.wait_for_function("() => !document.querySelector('img.leaflet-tile')")
    page.wait_for_function("() => document.querySelectorAll('.anju-label--district').length === 4")
    assert "anju-map--plain" in page.locator("#map_city").get_attribute("class")

    page.reload()  # the visitor's choice is kept
    page.locator("#map_city[data-basemap='none']").wait_for()
    hosts = {re.match(r"https://([^/]+)/", url).group(1) for url in page.tiles}
    assert "tile.openstreetmap.org" in hosts
    assert any(h.endswith(".tianditu.gov.cn") for h in hosts)
    assert any(h.endswith(".is.autonavi.com") for h in hosts)


def _mercator_pixel(lon: float, lat: float, zoom: int) -> tuple[float, float]:
    size = 256 * 2**zoom
    rad = math.radians(lat)
    x = (lon + 180) / 360 * size
    y = (1 - math.log(math.tan(rad) + 1 / math.cos(rad)) / math.pi) / 2 * size
    return x, y


def _tile_point(page, src_pattern: str, lon: float, lat: float, zoom: int) -> tuple[float, float]:
    """Where (lon, lat), in the tile's own coordinates, is drawn in the home map."""
    px, py = _mercator_pixel(lon, lat, zoom)
    tx, ty = int(px // 256), int(py // 256)
    tile = loaded_tile(page, src_pattern.format(x=tx, y=ty, z=zoom)).bounding_box()
    canvas = page.locator("#map_city").bounding_box()
    scale = tile["width"] / 256  # a moved tile is drawn one pixel wider to hide seams
    return (
        tile["x"] - canvas["x"] + (px - tx * 256) * scale,
        tile["y"] - canvas["y"] + (py - ty * 256) * scale,
    )


def _ours(page, lon: float, lat: float) -> list[float]:
    """Where our layers draw (lon, lat) in the home map."""
    return page.evaluate(
        "([lat, lon]) => { const p = window.map_city.latLngToContainerPoint([lat, lon]);"
        " return [p.x, p.y]; }",
        [lat, lon],
    )


def test_amap_tiles_lie_under_our_wgs84_layers_and_clicks_stay_wgs84(page, all_basemaps_url):
    estate = Estate.objects.published().order_by("pk").first()
    # Beside an estate, not on its marker: a click there is a click on the map.
    lon, lat, zoom = estate.location.x + 0.004, estate.location.y + 0.003, 16
    page.goto(all_basemaps_url + "/")
    loaded_tile(page, "autonavi.com")
    set_view(page, "map_city", lat, lon, zoom)
    ours = _ours(page, lon, lat)
    # On AMap's tiles the place is drawn at its GCJ-02 coordinates: that spot is under ours.
    gcj = wgs84_to_gcj02(lon, lat)
    amap = _tile_point(page, "x={x}&y={y}&z={z}", *gcj, zoom)
    assert amap == pytest.approx(ours, abs=1.5)
    unshifted = _tile_point(page, "x={x}&y={y}&z={z}", lon, lat, zoom)
    assert math.dist(unshifted, ours) > 100  # hundreds of metres: the shift matters

    # A click there is the place's own WGS84 position (the lookup asks the server with it).
    canvas = page.locator("#map_city").bounding_box()
    with page.expect_request(re.compile(r"/api/locate/\?")) as asked:
        page.mouse.click(canvas["x"] + ours[0], canvas["y"] + ours[1])
    query = dict(re.findall(r"(lon|lat)=([-0-9.]+)", asked.value.url))
    metres = 6378137 * math.pi / 180  # per degree; a click lands within a pixel (2 m here)
    assert abs(float(query["lon"]) - lon) * metres * math.cos(math.radians(lat)) < 4
    assert abs(float(query["lat"]) - lat) * metres < 4
    page.locator("#locate-panel h2").wait_for()  # the answer is in; the page stops moving

    # Switching to a WGS84 base map moves the tiles, never our layers.
    choose(page, "OpenStreetMap")
    osm = _tile_point(page, "tile.openstreetmap.org/{z}/{x}/{y}.png", lon, lat, zoom)
    assert osm == pytest.approx(ours, abs=1.0)
    assert _ours(page, lon, lat) == pytest.approx(ours, abs=0.01)


def _label_at(kind: str):
    return next(label for label in place_labels() if label[1] == kind)


def _boxes_overlap(page) -> list:
    return page.evaluate(
        """() => {
          const r = [...document.querySelectorAll('.anju-label')]
            .map(e => e.getBoundingClientRect());
          const out = [];
          r.forEach((a, i) => r.slice(i + 1).forEach(b => {
            if (a.left < b.right && a.right > b.left && a.top < b.bottom && a.bottom > b.top)
              out.push([a.left, a.top, b.left, b.top]);
          }));
          return out;
        }"""
    )


def test_when_tiles_fail_our_names_keep_the_map_readable(offline, all_basemaps_url):
    page = offline
    page.goto(all_basemaps_url + "/")
    notice = page.locator(".anju-map-notice")
    notice.wait_for()
    assert "底图无法加载" in notice.inner_text()
    counties = set(Region.objects.filter(level="district").values_list("name", flat=True))
    lat, lon = Region.objects.get(level="city").boundary.point_on_surface.coords[::-1]
    set_view(page, "map_city", lat, lon, 9)
    page.wait_for_function(
        "(n) => document.querySelectorAll('.anju-label--district').length === n", arg=len(counties)
    )
    assert set(labels(page, "district")) == counties

    for kind, zoom in [("street", 12), ("community", 14)]:
        name, _kind, lon, lat = _label_at(kind)
        set_view(page, "map_city", lat, lon, zoom)
        page.wait_for_function(
            "([kind, name]) => [...document.querySelectorAll('.anju-label--' + kind)]"
            ".some(e => e.textContent === name)",
            arg=[kind, name],
        )
        assert labels(page, "district") == []  # a county name at street zoom is noise
        assert not _boxes_overlap(page)

    estate = Estate.objects.published().order_by("pk").first()
    set_view(page, "map_city", estate.location.y, estate.location.x, 16)
    page.locator(".anju-label--estate", has_text=estate.name).first.wait_for()
    assert not _boxes_overlap(page)
    scale = page.locator("#map_city .leaflet-control-scale-line")
    assert scale.count() == 1 and re.fullmatch(r"\d+ (m|km)", scale.inner_text())


def test_names_from_data_are_text_never_markup(offline, all_basemaps_url):
    page = offline
    page.goto(all_basemaps_url + "/")
    page.locator("#map_city .leaflet-control-scale").wait_for()
    markup = '<img src=x id="injected">社区'
    shown = page.evaluate(
        """(markup) => {
          const box = document.createElement('div');
          box.className = 'map-canvas';
          document.getElementById('map-home').appendChild(box);
          const map = AnjuMap.create(box, {center: [33.8, 115.8], zoom: 14,
            labels: [[markup, 'community', 115.8, 33.8]],
            basemaps: {default: 'none', maps: [{name: 'none', title: markup, crs: 'wgs84',
              attribution: markup, tiles: []}, {name: 'x', title: markup, crs: 'wgs84',
              attribution: markup, tiles: []}]}});
          map.openPopup(AnjuMap.estatePopup(map, {name: markup, lines: [markup]}), [33.8, 115.8]);
          return [...box.querySelectorAll('.anju-label, .leaflet-control-layers-base span span,'
            + ' .leaflet-control-attribution, .estate-popup strong')].map(e => e.textContent);
        }""",
        markup,
    )
    assert len(shown) >= 4 and all(markup in text for text in shown), shown
    assert page.locator("#injected").count() == 0


def test_estate_popups_lead_to_the_estate_applying_and_the_self_check(page, all_basemaps_url):
    estate = selectors.vacancy_estates(VacancyQuery(district="341623")).first()
    page.goto(all_basemaps_url + "/?district=341623")
    page.locator(".estate-marker, .estate-cluster").first.wait_for()
    set_view(page, "map_city", estate.location.y, estate.location.x, 18)
    page.locator(f".leaflet-marker-icon[title^='{estate.name}']").click()
    links = page.locator(".leaflet-popup-content .estate-popup-links a")
    links.first.wait_for()
    assert [(a.inner_text(), a.get_attribute("href")) for a in links.all()] == [
        ("查看项目与房源", f"/estates/{estate.pk}/"),
        ("申请公租房", "/apply/"),
        ("资格自测", "/self-check/"),
    ]
    assert page.locator(".leaflet-popup-content strong").inner_text() == estate.name
    links.nth(2).click()
    page.wait_for_url("**/self-check/")


def test_the_estate_page_numbers_its_buildings(page, all_basemaps_url):
    estate = Estate.objects.published().filter(boundary__isnull=False).order_by("pk").first()
    numbers = set(
        Building.objects.filter(estate=estate, footprint__isnull=False).values_list(
            "number", flat=True
        )
    )
    page.goto(f"{all_basemaps_url}/estates/{estate.pk}/")
    page.locator("#map_estate .anju-label--building").first.wait_for()
    shown = labels(page, "building")
    assert set(shown) <= numbers and len(shown) >= len(numbers) // 2
    assert estate.name in labels(page, "estate")
    assert not _boxes_overlap(page)


def test_every_public_map_has_the_switcher_and_a_metric_scale(page, all_basemaps_url):
    estate = Estate.objects.published().order_by("pk").first()
    notice = next(
        p
        for p in Publication.objects.current().order_by("pk")
        if any("lon" in item for item in p.items)
    )
    for path, map_id in [
        ("/", "map_city"),
        (f"/estates/{estate.pk}/", "map_estate"),
        (f"/notices/{notice.series_id}/", "notice-map"),
    ]:
        page.goto(all_basemaps_url + path)
        loaded_tile(page, "autonavi.com")
        assert page.locator(f"#{map_id} .leaflet-control-layers").count() == 1, path
        lines = page.locator(f"#{map_id} .leaflet-control-scale-line")
        assert lines.count() == 1, path  # metres only: no second, imperial line
        assert re.fullmatch(r"\d+ (m|km)", lines.inner_text()), path


def test_on_a_phone_the_switcher_opens_and_switches(browser, all_basemaps_url):
    page = _page(browser, all_basemaps_url, tiles=True, width=375)
    page.goto(all_basemaps_url + "/")
    loaded_tile(page, "autonavi.com")
    choose(page, "OpenStreetMap")
    loaded_tile(page, "tile.openstreetmap.org")
    box = page.locator(".leaflet-control-layers").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert_clean(page)
    page.close()
