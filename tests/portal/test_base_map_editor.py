"""The staff map editor (geo/widgets.py): geometry as a text of coordinates that the staff
forms and the admin save, Chinese errors that name the line, the same reading in the browser
(static/geo/geometry-text.js, run in node) and the site's Leaflet map, not OpenLayers."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.core.exceptions import ValidationError
from django.urls import reverse

from archive.models import Event
from backoffice.forms import BuildingBatchForm
from geo.geometry_text import from_text, messages, to_text
from geo.models import Estate, Region
from geo.widgets import LocalMapWidget

GEOMETRY_TEXT_JS = Path(settings.BASE_DIR) / "static" / "geo" / "geometry-text.js"
SQUARE = "115.78,33.84\n115.781,33.84\n115.781,33.841\n115.78,33.841"


def test_lines_become_the_geometry_the_field_asks_for():
    assert from_text(" 115.7812 , 33.8456 ", "POINT") == Point(115.7812, 33.8456, srid=4326)
    polygon = from_text(SQUARE, "POLYGON")
    assert polygon.srid == 4326 and len(polygon.exterior_ring) == 5  # closed for us
    assert from_text(SQUARE + "\n115.78,33.84", "POLYGON") == polygon  # typed closed: the same
    assert from_text(SQUARE.replace(",", "，"), "POLYGON") == polygon  # a Chinese comma
    assert from_text(SQUARE.replace(",", " "), "POLYGON") == polygon
    two = from_text(SQUARE + "\n\n116.0,33.0\n116.001,33.0\n116.0,33.001", "MULTIPOLYGON")
    assert isinstance(two, MultiPolygon) and len(two) == 2
    assert from_text("   \n", "POLYGON") is None


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        (
            "115.78,33.84\n115.78;33.84;1\n115.8,33.9",
            "POLYGON",
            "第 2 行“115.78;33.84;1”应为“经度,纬度”两个数",
        ),
        ("115.78,33.84\n东经115,33\n115.8,33.9", "POLYGON", "第 2 行“东经115,33”"),
        ("115.78,33.84\n\n\n115.781,33.84\n115.78,133.84", "POLYGON", "第 5 行：纬度 133.84"),
        ("33.84,115.78", "POINT", "是否把经度和纬度写反了"),
        ("215.78,33.84", "POINT", "第 1 行：经度 215.78 应在 -180 到 180 之间"),
        ("115.78,33.84\n115.79,33.85", "POINT", "位置只需要一行“经度,纬度”，这里有 2 行"),
        (
            "115.78,33.84\n115.79,33.85\n115.78,33.84",
            "POLYGON",
            "从第 1 行开始的多边形至少需要 3 个不同的点，这里只有 2 个",
        ),
        (SQUARE + "\n\n116,33\n116.1,33", "MULTIPOLYGON", "从第 6 行开始的多边形"),
        (
            '{"type": "Polygon", "coordinates": [[[1, 2], [3',
            "POLYGON",
            "无法读取粘贴的 GeoJSON 或 WKT",
        ),
        ("POINT (12972000 4005000)", "POINT", "粘贴的坐标超出经纬度范围"),
    ],
)
def test_mistakes_are_named_in_chinese_with_their_line(text, kind, message):
    with pytest.raises(ValidationError) as caught:
        from_text(text, kind)
    assert message in caught.value.messages[0]


def test_pasted_geojson_and_wkt_are_read_and_geometries_with_holes_stay_geojson():
    point = from_text('{"type": "Point", "coordinates": [115.78, 33.84]}', "POINT")
    assert point == Point(115.78, 33.84, srid=4326)
    assert from_text("SRID=4326;POINT (115.78 33.84)", "POINT") == point
    polygon = from_text(SQUARE, "POLYGON")
    assert from_text(to_text(polygon), "MULTIPOLYGON") == MultiPolygon(polygon, srid=4326)
    outer = [(115.0, 33.0), (116.0, 33.0), (116.0, 34.0), (115.0, 34.0), (115.0, 33.0)]
    inner = [(115.4, 33.4), (115.6, 33.4), (115.6, 33.6), (115.4, 33.4)]
    holed = Polygon(outer, inner, srid=4326)
    text = to_text(holed)
    assert json.loads(text)["type"] == "Polygon"  # lines cannot say "hole"
    assert from_text(text, "POLYGON").equals_exact(holed, 0)


@pytest.mark.django_db
def test_stored_geometry_reads_back_exactly():
    """What the form shows is what is saved again: no rounding on an unchanged save."""
    for region in Region.objects.filter(level="district"):
        assert from_text(to_text(region.boundary), "MULTIPOLYGON").equals_exact(region.boundary, 0)
    estate = Estate.objects.filter(boundary__isnull=False).first()
    assert from_text(to_text(estate.boundary), "POLYGON").equals_exact(estate.boundary, 0)
    assert from_text(to_text(estate.location), "POINT").equals_exact(estate.location, 0)


def _run_js(cases: list[tuple[str, str]]) -> list[dict]:
    node = shutil.which("node") or "/usr/bin/node"
    script = f"""
globalThis.window = globalThis;
const fs = require("fs"), vm = require("vm");
const path = {json.dumps(str(GEOMETRY_TEXT_JS))};
vm.runInThisContext(fs.readFileSync(path, "utf8"), {{ filename: path }});
const messages = {json.dumps(messages(), ensure_ascii=False)};
const cases = {json.dumps(cases, ensure_ascii=False)};
console.log(JSON.stringify(cases.map(([text, kind]) => {{
  const r = window.GeometryText.parse(text, kind, messages);
  const again = r.parts && window.GeometryText.format(r.parts);
  return {{ error: r.error, parts: r.parts, again: again }};
}})));
"""
    out = subprocess.run([node, "-e", script], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.django_db  # messages() is translated; the Chinese source is the reference
def test_the_browser_reads_the_text_exactly_as_the_server():
    cases = [
        (SQUARE, "POLYGON"),
        (SQUARE + "\n115.78,33.84", "POLYGON"),
        ("115.7812，33.8456", "POINT"),
        (SQUARE + "\n\n116.0,33.0\n116.001,33.0\n116.0,33.001", "MULTIPOLYGON"),
        ("115.78,33.84\n115.78;33.84;1", "POLYGON"),
        ("115.78,33.84\n\n\n115.781,33.84\n115.78,133.84", "POLYGON"),
        ("33.84,115.78", "POINT"),
        ("215.78,33.84", "POINT"),
        ("115.78,33.84\n115.79,33.85", "POINT"),
        ("115.78,33.84\n115.79,33.85\n115.78,33.84", "POLYGON"),
        (SQUARE + "\n\n116,33\n116.1,33", "MULTIPOLYGON"),
        ("1e-7,2.5E+1", "POINT"),
    ]
    for (text, kind), js in zip(cases, _run_js(cases), strict=True):
        try:
            geom = from_text(text, kind)
        except ValidationError as exc:
            assert js["error"] == exc.messages[0], text
            continue
        assert js["error"] is None, text
        polygons = [geom] if kind != "MULTIPOLYGON" else list(geom)
        expected = (
            [[list(geom.coords)]]
            if kind == "POINT"
            else [[list(c) for c in p.exterior_ring.coords[:-1]] for p in polygons]
        )
        assert js["parts"] == expected, text
        assert from_text(js["again"], kind).equals_exact(geom, 0), text  # its text reads back


@pytest.mark.django_db
def test_the_editor_is_a_labelled_text_field_on_our_own_map(client, cast):
    client.force_login(cast.users["district"])
    estate = cast.inside["district"]
    html = client.get(reverse("asset-estate-edit", args=[estate.pk])).content.decode()
    boundary = re.search(r'<textarea name="boundary"[^>]*>\n(.*?)</textarea>', html, re.S)
    assert boundary and from_text(boundary.group(1), "POLYGON").equals_exact(estate.boundary, 0)
    assert 'id="id_boundary"' in boundary.group(0) and 'for="id_boundary"' in html
    assert 'aria-describedby="id_boundary_helptext id_boundary_hint"' in boundary.group(0)
    assert "每行输入一个“经度,纬度”" in html
    assert 'data-editor="id_location_editor" data-config="id_location_editor_config"' in html
    config = json.loads(
        re.search(
            r'id="id_boundary_editor_config" type="application/json">(.*?)</script>', html
        ).group(1)
    )
    assert [m["name"] for m in config["map"]["basemaps"]["maps"]] == settings.ANJU_BASEMAPS
    assert config["messages"]["number"] == messages()["number"]
    for script in ("vendor/leaflet/leaflet.js", "portal/js/map.js", "geo/geometry-text.js"):
        assert f"/static/{script}" in html
    assert "ol.js" not in html and "OLMapWidget" not in html


@pytest.mark.django_db
def test_typed_coordinates_are_saved_and_a_bad_line_saves_nothing(client, cast):
    from tests.backoffice.test_stock_changes import estate_form_data

    client.force_login(cast.users["district"])
    estate = cast.inside["district"]
    x, y = round(estate.location.x, 5), round(estate.location.y, 5)
    corners = [(x - 0.001, y - 0.001), (x + 0.001, y - 0.001), (x + 0.001, y + 0.001)]
    typed = "\n".join(f"{a:.5f}，{b:.5f}" for a, b in corners)  # as typed, Chinese commas
    url = reverse("asset-estate-edit", args=[estate.pk])
    lines = typed.splitlines()
    bad = "\n".join([lines[0], lines[1].split("，")[0] + "，北纬33度", lines[2]])
    html = client.post(url, estate_form_data(estate, boundary=bad)).content.decode()
    assert "第 2 行“" in html and "应为“经度,纬度”两个数" in html
    assert "北纬33度" in html  # the mistake is shown back to be corrected, not lost
    assert not Event.objects.filter(estate_id=estate.pk, action="estate.changed").exists()

    response = client.post(url, estate_form_data(estate, boundary=typed, location=f"{x},{y}"))
    assert response.status_code == 302
    estate.refresh_from_db()
    assert estate.boundary.equals_exact(Polygon([*corners, corners[0]], srid=4326), 1e-9)
    assert estate.location.equals_exact(Point(x, y, srid=4326), 1e-9)


def test_the_building_form_takes_a_typed_footprint():
    data = {
        "number": "9号楼",
        "floor_from": 1,
        "floor_to": 6,
        "per_floor": 1,
        "rent_per_m2": "10",
        "p1_rooms": 1,
        "p1_area": "40",
        "p1_orientation": "S",
        "footprint": SQUARE,
    }
    form = BuildingBatchForm(data)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["footprint"] == from_text(SQUARE, "POLYGON")
    form = BuildingBatchForm(data | {"footprint": "115.78,33.84"})
    assert not form.is_valid()
    assert "至少需要 3 个不同的点" in form.errors["footprint"][0]


@pytest.mark.django_db
def test_the_admin_saves_a_region_typed_as_lines(client):
    admin = get_user_model().objects.create_superuser("root-editor", password="x-very-long-pw")
    client.force_login(admin)
    region = Region.objects.filter(level="community").first()
    url = f"/admin/geo/region/{region.pk}/change/"
    html = client.get(url).content.decode()
    assert 'data-geom-type="MULTIPOLYGON"' in html and "再画一块" in html
    assert from_text(
        re.search(r'<textarea name="boundary"[^>]*>\n(.*?)</textarea>', html, re.S).group(1),
        "MULTIPOLYGON",
    ).equals_exact(region.boundary, 0)
    two_parts = SQUARE + "\n\n115.79,33.84\n115.791,33.84\n115.791,33.841"
    data = {
        "adcode": region.adcode,
        "name": region.name,
        "level": region.level,
        "parent": region.parent_id,
        "boundary": two_parts,
        "is_demo": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-2000:]
    region.refresh_from_db()
    assert region.boundary.equals_exact(from_text(two_parts, "MULTIPOLYGON"), 0)
    widget = LocalMapWidget(attrs={"geom_type": "MULTIPOLYGON"})
    assert isinstance(widget.deserialize(SQUARE), MultiPolygon)  # one polygon, as a multi


@pytest.mark.django_db
def test_a_new_buildings_footprint_is_drawn_at_its_estate(client, cast):
    client.force_login(cast.users["district"])
    estate = cast.inside["district"]
    html = client.get(reverse("asset-building-new", args=[estate.pk])).content.decode()
    config = json.loads(
        re.search(
            r'id="id_footprint_editor_config" type="application/json">(.*?)</script>', html
        ).group(1)
    )
    assert config["map"]["center"] == [estate.location.y, estate.location.x]
    assert config["map"]["zoom"] == 17
