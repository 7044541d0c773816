"""Coordinate conversions (geo/crs.py and chinacrs.js) checked against published pairs."""

import json
import math
import shutil
import subprocess
from pathlib import Path

import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st
from shapely import LineString, Point, Polygon

from geo.crs import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    out_of_china,
    to_wgs84,
    transform_geometry,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

ROOT = Path(__file__).resolve().parents[2]
CHINACRS_JS = ROOT / "static" / "portal" / "js" / "chinacrs.js"

# Published WGS84 -> GCJ-02 pairs, as ((wgs_lon, wgs_lat), (gcj_lon, gcj_lat)).
WGS_TO_GCJ = [
    # googollee/eviltransform, python/test.py and go/transform_test.go: Shanghai.
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    # googollee/eviltransform, same tests: Shenzhen.
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    # googollee/eviltransform, same tests: Beijing.
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
    # wandergis/coordtransform, test/app.js ("wgs84togcj02: [116.41024449916938, ...]").
    ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    # hujiulong/gcoord, test/unit/crs/WGS84.spec.ts ("WGS84 to GCJ02", 5 decimals).
    ((123.0, 45.0), (123.00607541, 45.00197815)),
]

# Published GCJ-02 -> BD-09 pairs, as ((gcj_lon, gcj_lat), (bd_lon, bd_lat)).
GCJ_TO_BD = [
    # wandergis/coordtransform, test/app.js ("gcj02tobd09: [116.41036949371029, ...]").
    ((116.404, 39.915), (116.41036949371029, 39.92133699351021)),
    # hujiulong/gcoord, test/unit/crs/GCJ02.spec.js ("GCJ02 to BD09", 5 decimals).
    ((123.0, 45.0), (123.00636499, 45.00636899)),
]

BOZHOU = (115.78, 33.85)
OUTSIDE_CHINA = [(139.6917, 35.6895), (-0.1276, 51.5072), (151.2093, -33.8688), (0.0, 0.0)]

# Well inside the rough box, so neither end of a round trip falls outside it.
china_lon = st.floats(min_value=73.5, max_value=134.5)
china_lat = st.floats(min_value=18.0, max_value=53.5)


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine distance between two (lon, lat) points on a mean-radius sphere."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371008.8 * math.asin(math.sqrt(h))


@pytest.mark.parametrize(("wgs", "gcj"), WGS_TO_GCJ)
def test_wgs84_to_gcj02_matches_published_pairs(wgs, gcj):
    assert metres(wgs84_to_gcj02(*wgs), gcj) < 0.5


@pytest.mark.parametrize(("wgs", "gcj"), WGS_TO_GCJ)
def test_gcj02_to_wgs84_recovers_published_pairs(wgs, gcj):
    assert metres(gcj02_to_wgs84(*gcj), wgs) < 0.5


@pytest.mark.parametrize(("gcj", "bd"), GCJ_TO_BD)
def test_gcj02_to_bd09_matches_published_pairs(gcj, bd):
    assert metres(gcj02_to_bd09(*gcj), bd) < 0.5


def test_bd09_to_gcj02_matches_published_pair():
    # wandergis/coordtransform, test/app.js: "bd09togcj02: [116.39762729119315, 39.90865673957631]"
    # (their one-step inverse; ours iterates, so it is a few centimetres closer to exact).
    assert metres(bd09_to_gcj02(116.404, 39.915), (116.39762729119315, 39.90865673957631)) < 0.5


def test_wgs84_to_bd09_matches_published_pair():
    # hujiulong/gcoord, test/unit/crs/WGS84.spec.ts ("WGS84 to BD09", 7 decimals).
    assert metres(wgs84_to_bd09(123.0, 45.0), (123.0124491, 45.0083293)) < 0.5


def test_bozhou_offset_is_a_few_hundred_metres():
    offset = metres(wgs84_to_gcj02(*BOZHOU), BOZHOU)
    assert 300 < offset < 700


@given(china_lon, china_lat)
def test_gcj02_round_trip_is_centimetre_accurate(lon, lat):
    assert metres(gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat)), (lon, lat)) < 0.01


@given(china_lon, china_lat)
def test_bd09_round_trip_is_centimetre_accurate(lon, lat):
    assert metres(bd09_to_wgs84(*wgs84_to_bd09(lon, lat)), (lon, lat)) < 0.01
    assert metres(bd09_to_gcj02(*gcj02_to_bd09(lon, lat)), (lon, lat)) < 0.01


@pytest.mark.parametrize("point", OUTSIDE_CHINA)
def test_points_outside_china_are_unchanged(point):
    assert out_of_china(*point)
    assert wgs84_to_gcj02(*point) == point
    assert gcj02_to_wgs84(*point) == point


def test_bozhou_is_inside_china():
    assert not out_of_china(*BOZHOU)


@pytest.mark.parametrize("crs", ["wgs84", "cgcs2000", "gcj02", "bd09"])
def test_named_crs_round_trip(crs):
    assert metres(to_wgs84(*from_wgs84(*BOZHOU, crs), crs), BOZHOU) < 0.01


def test_named_crs_dispatch():
    assert to_wgs84(*BOZHOU, "cgcs2000") == BOZHOU
    assert to_wgs84(*BOZHOU, "GCJ02") == gcj02_to_wgs84(*BOZHOU)
    assert from_wgs84(*BOZHOU, "bd09") == wgs84_to_bd09(*BOZHOU)


@pytest.mark.parametrize("convert", [to_wgs84, from_wgs84])
def test_unknown_crs_is_refused_in_chinese(convert):
    with pytest.raises(ValueError, match="EPSG:3857") as excinfo:
        convert(*BOZHOU, "EPSG:3857")
    assert "坐标系" in str(excinfo.value)


def test_transform_geometry_shifts_every_vertex():
    ring = [(115.7, 33.8), (115.8, 33.8), (115.8, 33.9), (115.7, 33.8)]
    shifted = transform_geometry(Polygon(ring), wgs84_to_gcj02)
    assert shifted.geom_type == "Polygon"
    expected = [wgs84_to_gcj02(*p) for p in ring]
    assert shapely.get_coordinates(shifted).tolist() == [list(p) for p in expected]


def test_transform_geometry_keeps_z_and_handles_empty():
    shifted = transform_geometry(Point(*BOZHOU, 42.0), wgs84_to_gcj02)
    assert (shifted.x, shifted.y) == wgs84_to_gcj02(*BOZHOU)
    assert shifted.z == 42.0
    line = transform_geometry(LineString([(*BOZHOU, 1.0), (116.0, 34.0, 2.0)]), bd09_to_wgs84)
    assert shapely.get_coordinates(line, include_z=True)[:, 2].tolist() == [1.0, 2.0]
    assert transform_geometry(Point(), wgs84_to_gcj02).is_empty


def run_chinacrs_js(points: list[tuple[float, float]]) -> dict[str, list[list[float]]]:
    """Run static/portal/js/chinacrs.js in node, as a browser would, and convert the points."""
    node = shutil.which("node") or "/usr/bin/node"
    script = f"""
globalThis.window = globalThis;
const fs = require("fs");
const vm = require("vm");
const path = {json.dumps(str(CHINACRS_JS))};
vm.runInThisContext(fs.readFileSync(path, "utf8"), {{ filename: path }});
const points = {json.dumps(points)};
console.log(JSON.stringify({{
  toGcj: points.map(([lng, lat]) => window.ChinaCRS.wgs84ToGcj02(lng, lat)),
  toWgs: points.map(([lng, lat]) => window.ChinaCRS.gcj02ToWgs84(lng, lat)),
  outside: points.map(([lng, lat]) => window.ChinaCRS.outOfChina(lng, lat)),
}}));
"""
    result = subprocess.run(
        [node, "-e", script], capture_output=True, text=True, check=True, timeout=30
    )
    return json.loads(result.stdout)


def test_browser_script_matches_python():
    points = [wgs for wgs, _ in WGS_TO_GCJ] + [gcj for _, gcj in WGS_TO_GCJ]
    points += [BOZHOU, *OUTSIDE_CHINA]
    js = run_chinacrs_js(points)
    for point, js_gcj, js_wgs, js_outside in zip(
        points, js["toGcj"], js["toWgs"], js["outside"], strict=True
    ):
        assert js_outside == out_of_china(*point)
        for js_value, py_value in [
            (js_gcj, wgs84_to_gcj02(*point)),
            (js_wgs, gcj02_to_wgs84(*point)),
        ]:
            assert js_value == pytest.approx(list(py_value), abs=1e-9, rel=0)
