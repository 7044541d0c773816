"""manage.py load_regions: dry run by default, a line per rejected feature, all or nothing."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from geo.models import Region

pytestmark = pytest.mark.django_db

REAL_FILE = Path(__file__).resolve().parents[2] / "data" / "bozhou-regions.geojson"
SQUARE = [[[117.0, 31.0], [117.2, 31.0], [117.2, 31.2], [117.0, 31.2], [117.0, 31.0]]]
BOW_TIE = [[[117.0, 31.0], [117.2, 31.2], [117.2, 31.0], [117.0, 31.2], [117.0, 31.0]]]


def feature(adcode: str | None, name: str, level: str, coords=SQUARE, kind="Polygon") -> dict:
    props = {"name": name, "level": level}
    if adcode is not None:
        props["adcode"] = adcode
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": kind, "coordinates": coords},
    }


def write(tmp_path: Path, features: list[dict]) -> Path:
    path = tmp_path / "regions.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )
    return path


def run(path: Path, *args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("load_regions", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_dry_run_of_the_shipped_file_checks_everything_and_writes_nothing():
    before = Region.objects.count()
    out, _ = run(REAL_FILE)
    assert "5 个要素全部有效" in out
    assert Region.objects.count() == before


def test_commit_creates_regions_with_their_parents(tmp_path):
    path = write(
        tmp_path, [feature("990002", "测试区", "district"), feature("990000", "测试市", "city")]
    )
    out, _ = run(path, "--commit")
    assert "新增 2 个" in out
    district = Region.objects.get(adcode="990002")
    assert district.parent.adcode == "990000"
    assert district.boundary.geom_type == "MultiPolygon"


def test_commit_again_updates_instead_of_duplicating(tmp_path):
    path = write(tmp_path, [feature("990000", "测试市", "city")])
    run(path, "--commit")
    path = write(tmp_path, [feature("990000", "测试市（新名）", "city")])
    out, _ = run(path, "--commit")
    assert "更新 1 个" in out
    assert Region.objects.get(adcode="990000").name == "测试市（新名）"


def test_broken_json_names_the_line_and_writes_nothing(tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection",\n "features": [ {"type": ', encoding="utf-8")
    before = Region.objects.count()
    with pytest.raises(CommandError, match="不是有效的 JSON：第 2 行"):
        run(path, "--commit")
    assert Region.objects.count() == before


def test_missing_adcode_rejects_the_feature_and_the_whole_file(tmp_path):
    path = write(
        tmp_path, [feature("990000", "测试市", "city"), feature(None, "无码区", "district")]
    )
    with pytest.raises(CommandError, match="1 个要素有问题，未写入任何数据"):
        run(path, "--commit")
    assert not Region.objects.filter(adcode="990000").exists()


def test_rejections_are_reported_per_feature(tmp_path, capsys):
    path = write(
        tmp_path,
        [
            feature("990000", "测试市", "city"),
            feature(None, "无码区", "district"),
            feature("990300", "蝴蝶区", "district", coords=BOW_TIE),
        ],
    )
    err = StringIO()
    with pytest.raises(CommandError, match="2 个要素有问题"):
        call_command("load_regions", str(path), "--commit", stdout=StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert any("第 2 个要素" in line and "缺少 adcode" in line for line in lines)
    assert any(
        "第 3 个要素（990300 蝴蝶区）" in line
        and "几何图形无效" in line
        and "Self-intersection" in line
        for line in lines
    )
    assert not Region.objects.filter(adcode__in=["990000", "990300"]).exists()


def test_projected_coordinates_without_a_declared_crs_are_refused(tmp_path):
    metres = [[[500000, 3700000], [501000, 3700000], [501000, 3701000], [500000, 3700000]]]
    path = write(tmp_path, [feature("990000", "测试市", "city", coords=metres)])
    with pytest.raises(CommandError):
        run(path, "--commit")
    assert not Region.objects.filter(adcode="990000").exists()


def test_a_declared_crs_is_converted_to_wgs84(tmp_path):
    # The same square in Web Mercator metres, declared in the file.
    from pyproj import Transformer

    to_merc = Transformer.from_crs(4326, 3857, always_xy=True)
    ring = [list(to_merc.transform(x, y)) for x, y in SQUARE[0]]
    data = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "EPSG:3857"}},
        "features": [feature("990000", "测试市", "city", coords=[ring])],
    }
    path = tmp_path / "merc.geojson"
    path.write_text(json.dumps(data), encoding="utf-8")
    run(path, "--commit")
    xmin, ymin, xmax, ymax = Region.objects.get(adcode="990000").boundary.extent
    assert (round(xmin, 6), round(ymin, 6), round(xmax, 6), round(ymax, 6)) == (
        117.0,
        31.0,
        117.2,
        31.2,
    )


def test_unknown_parent_is_refused(tmp_path):
    path = write(tmp_path, [feature("980200", "孤儿区", "district")])
    with pytest.raises(CommandError):
        run(path, "--commit")
    assert not Region.objects.filter(adcode="980200").exists()
