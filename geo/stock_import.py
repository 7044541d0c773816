"""Reading a housing-stock file into a checked plan: every problem by row and field, nothing
written. `geo.services.import_stock` then writes a plan without problems, all or nothing.

Formats: GeoJSON, zipped Shapefile, GeoPackage, KML (through pyogrio/GDAL), and XLSX/CSV with
经度/纬度 columns. Coordinates may be WGS84, CGCS2000, GCJ-02 or BD-09 (declared by the user);
projected files with a declared CRS are reprojected first.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

from exchange.spreadsheets import formula_problem
from geo import crs as crs_module
from geo.models import MANUAL_STATUSES, Estate, Unit
from geo.stock_columns import COLUMNS, FALSE, LAT, LON, ORIENTATIONS, STATUSES, TRUE, canonical

if TYPE_CHECKING:  # pandas, pyogrio and shapely load in the import, not in every web worker
    import pandas as pd
    from shapely.geometry import Point
    from shapely.geometry.base import BaseGeometry

SPATIAL = {".geojson", ".json", ".zip", ".gpkg", ".kml", ".shp"}
TABLES = {".xlsx", ".csv"}
MAX_ROWS = 200_000
# Members of a zip that are archives themselves: a reader may open them too, unchecked.
NESTED_ARCHIVES = (".zip", ".kmz", ".xlsx", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".tar")
# Control characters in a text cell: invisible to the clerk, and PostgreSQL refuses a NUL.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class StockFileError(Exception):
    """The file as a whole cannot be read: wrong type, broken archive, missing columns."""


@dataclass
class Problem:
    row: int
    field: str
    message: str
    repaired: bool = False  # a warning: fixed automatically, the row is kept

    def __str__(self) -> str:
        where = f"第 {self.row} 行" if self.row else "文件"
        column = f"“{self.field}”" if self.field else ""
        return f"{where}{column}：{self.message}"


@dataclass
class StockRow:
    row: int
    estate: str
    address: str
    district: str
    building: str
    floors: int | None
    elevator: bool | None
    unit: str
    floor: int
    rooms: int
    # Optional columns: None when the file does not give them, so an update leaves them as they
    # are (a rent sheet without 状态 must not reset statuses); new units get defaults.
    halls: int | None
    baths: int | None
    area: Decimal
    rent: Decimal
    orientation: str | None
    accessible: bool | None
    status: str | None
    geometry: BaseGeometry | None  # WGS84: a Point (building position) or Polygon (footprint)


@dataclass
class StockPlan:
    rows: list[StockRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    row_count: int = 0
    new_estates: list[str] = field(default_factory=list)
    existing_estates: dict[str, int] = field(default_factory=dict)
    existing_units: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.repaired]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.repaired]

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


# --- reading files ---------------------------------------------------------------------------


def read_frame(path: Path, declared_crs: str) -> tuple[pd.DataFrame, int, bool]:
    """The file as a frame of strings plus a `geometry` column in WGS84 degrees.

    Returns (frame, first row number, spatial?) so problems can name rows as staff see them:
    spreadsheet rows count from 2 (after the header), GIS features from 1.
    """
    import pandas as pd
    import pyogrio

    suffix = path.suffix.lower()
    shift = crs_module.converter_to_wgs84(declared_crs)
    check_archive(path)
    if suffix in TABLES:
        frame = _read_table(path, suffix)
        return frame, 2, False
    if suffix not in SPATIAL:
        raise StockFileError(
            f"不支持的文件类型“{suffix}”："
            "请用 GeoJSON、Shapefile（zip）、GeoPackage、KML、XLSX 或 CSV。"
        )
    try:
        gdf = pyogrio.read_dataframe(path)
    except Exception as exc:  # GDAL reports a broken file in many ways
        raise StockFileError(f"文件无法读取（{_short(exc)}）：文件可能已损坏或不完整。") from exc
    if gdf.crs is not None and not gdf.crs.is_geographic:
        if declared_crs not in ("wgs84", "cgcs2000"):
            raise StockFileError(
                "文件自带投影坐标系，不能再按高德/百度坐标换算；请选择 WGS84 或 CGCS2000。"
            )
        gdf = gdf.to_crs(4326)
    frame = pd.DataFrame(gdf.drop(columns="geometry").astype(object).where(gdf.notna(), None))
    geoms = list(gdf.geometry)
    if declared_crs not in ("wgs84", "cgcs2000"):
        geoms = [
            crs_module.transform_geometry(g, shift) if g is not None and _in_degrees(g) else g
            for g in geoms
        ]
    frame["geometry"] = geoms
    return frame, 1, True


def _read_table(path: Path, suffix: str) -> pd.DataFrame:
    import pandas as pd

    try:
        if suffix == ".csv":
            try:
                frame = pd.read_csv(
                    path,
                    dtype=str,
                    encoding="utf-8-sig",
                    keep_default_na=False,
                    skip_blank_lines=False,
                )
            except UnicodeDecodeError:
                frame = pd.read_csv(
                    path,
                    dtype=str,
                    encoding="gb18030",
                    keep_default_na=False,
                    skip_blank_lines=False,
                )
        else:
            frame = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
    except Exception as exc:
        raise StockFileError(f"表格无法读取（{_short(exc)}）。") from exc
    return frame


def check_archive(path: Path) -> None:
    """A zip (a zipped Shapefile; an XLSX is one too) is measured by its directory before
    anything extracts or reads it: a few kilobytes may expand to gigabytes."""
    if not zipfile.is_zipfile(path):
        return  # not a zip, or one too broken to open: the reader says so
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise StockFileError("压缩文件已损坏，无法读取。") from exc
    most = settings.ANJU_UPLOAD_MAX_ZIP_MEMBERS
    if len(members) > most:
        raise StockFileError(
            f"压缩文件中有 {len(members)} 个文件，超过上限 {most} 个：请只打包要导入的文件。"
        )
    expanded, limit = sum(m.file_size for m in members), settings.ANJU_UPLOAD_MAX_UNZIPPED_BYTES
    if expanded > limit:
        raise StockFileError(
            f"压缩文件解压后有 {_megabytes(expanded)} MB，超过上限 {_megabytes(limit)} MB："
            "请拆分后分批导入。"
        )
    nested = next((m for m in members if m.filename.lower().endswith(NESTED_ARCHIVES)), None)
    if nested is not None and path.suffix.lower() != ".xlsx":
        raise StockFileError(
            f"压缩文件中不能再含压缩文件（{Path(nested.filename).name}）：请解压后重新打包。"
        )


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f}" if size >= 1024 * 1024 else f"{size / (1024 * 1024):.2f}"


# An absolute path (also GDAL's /vsizip/...), not a fraction such as 1/2.
_PATH = re.compile(r"(?<![\w.])/[^\s'\"()（），,;]+")


def _short(exc: Exception) -> str:
    """The first line of a reader's complaint, without the server's paths in it."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    text = _PATH.sub(lambda m: Path(m.group().rstrip(":")).name or "…", text)
    return text[:160]


def _in_degrees(geom: BaseGeometry) -> bool:
    xmin, ymin, xmax, ymax = geom.bounds
    return -180 <= xmin <= xmax <= 180 and -90 <= ymin <= ymax <= 90


# --- checking rows ---------------------------------------------------------------------------


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(value).strip()
    return text[:-2] if text.endswith(".0") and text[:-2].isdigit() else text


def _parse(column, raw: str, row: int, problems: list[Problem]):
    """One cell to its type; a problem (and None) if it does not fit."""
    if raw == "":
        if column.required:
            problems.append(Problem(row, column.header, "不能为空"))
        return None
    if CONTROL.search(raw):
        problems.append(Problem(row, column.header, "含有不可见的控制字符，请删除后重新导入"))
        return None
    try:
        if column.kind in ("int", "decimal"):
            value = Decimal(raw)
            # Finite and of a sane size: int(Decimal("1e999999999")) would never finish.
            if not value.is_finite() or value.adjusted() >= 12:
                raise InvalidOperation
            return int(value) if column.kind == "int" else value
    except (ArithmeticError, ValueError):  # decimal's InvalidOperation is an ArithmeticError
        problems.append(Problem(row, column.header, f"“{raw[:40]}”不是数字"))
        return None
    if column.kind == "bool":
        lowered = raw.lower()
        if lowered in TRUE:
            return True
        if lowered in FALSE:
            return False
        problems.append(Problem(row, column.header, f"“{raw[:40]}”应为 是/否"))
        return None
    if column.kind == "choice":
        table = ORIENTATIONS if column.key == "orient" else STATUSES
        code = table.get(raw) or table.get(raw.lower())
        if code is None:
            problems.append(Problem(row, column.header, f"无法识别“{raw[:40]}”"))
        return code
    if reason := formula_problem(raw):
        problems.append(Problem(row, column.header, reason))
        return None
    return raw


def _point_from_columns(record: dict, row: int, problems: list[Problem], shift) -> Point | None:
    lon_raw, lat_raw = _text(record.get(LON)), _text(record.get(LAT))
    if not lon_raw and not lat_raw:
        return None
    try:
        lon, lat = float(lon_raw), float(lat_raw)
    except ValueError:
        problems.append(Problem(row, LON, f"经纬度“{lon_raw},{lat_raw}”不是数字"))
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        problems.append(Problem(row, LON, "坐标超出经纬度范围：是否为投影坐标？请换算为经纬度"))
        return None
    from shapely.geometry import Point

    return Point(*shift(lon, lat))


def _check_geometry(geom, row: int, label: str, problems: list[Problem]) -> BaseGeometry | None:
    import shapely
    from shapely.geometry import MultiPolygon, Point, Polygon

    if geom is None or geom.is_empty:
        return None
    if not _in_degrees(geom):
        problems.append(
            Problem(
                row, label, "坐标超出经纬度范围：文件未声明坐标系或声明有误（投影坐标需带 .prj）"
            )
        )
        return None
    if isinstance(geom, MultiPolygon) and len(geom.geoms) == 1:
        geom = geom.geoms[0]
    if not isinstance(geom, Point | Polygon):
        problems.append(Problem(row, label, f"几何类型应为点或面，而不是 {geom.geom_type}"))
        return None
    if geom.is_valid:
        return geom
    reason = shapely.is_valid_reason(geom)
    # "structure" drops collapsed parts (a spike becomes nothing), keeping real areas.
    fixed = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    if (
        isinstance(fixed, Polygon)
        and fixed.is_valid
        and abs(fixed.area - abs(geom.area)) <= 0.01 * fixed.area
    ):
        problems.append(Problem(row, label, f"几何图形无效（{reason}），已自动修复", repaired=True))
        return fixed
    problems.append(
        Problem(row, label, f"几何图形无效（{reason}），无法自动修复，请在 GIS 软件中修正")
    )
    return None


def check_rows(
    frame: pd.DataFrame,
    first_row: int,
    spatial: bool,
    declared_crs: str,
    progress: Callable[[int], None] | None = None,
) -> StockPlan:
    """Every row checked on its own, then duplicates across rows."""
    plan = StockPlan(row_count=len(frame))
    if len(frame) > MAX_ROWS:
        raise StockFileError(
            f"文件有 {len(frame)} 行，超过单次导入上限 {MAX_ROWS} 行，请分批导入。"
        )
    # Columns already named by their key win; other spellings fill in what is missing.
    taken = {name for name in frame.columns if canonical(name) == name}
    renamed = {}
    for name in frame.columns:
        key = canonical(name)
        if key and key != name and key not in taken:
            renamed[name] = key
            taken.add(key)
    frame = frame.rename(columns=renamed)
    missing = [c.header for c in COLUMNS if c.required and c.key not in frame.columns]
    if missing:
        raise StockFileError(f"缺少必填列：{'、'.join(missing)}（可下载模板对照）")
    if not spatial and not {LON, LAT} <= set(frame.columns):
        raise StockFileError("表格需要“经度”“纬度”两列，标明楼栋位置。")
    shift = crs_module.converter_to_wgs84(declared_crs)
    seen: dict[tuple[str, str, str], int] = {}
    for offset, record in enumerate(frame.to_dict("records")):
        row = first_row + offset
        if not any(_text(record.get(c.key)) for c in COLUMNS) and record.get("geometry") is None:
            continue  # a blank line keeps its number but is no unit
        problems: list[Problem] = []
        values = {c.key: _parse(c, _text(record.get(c.key)), row, problems) for c in COLUMNS}
        if spatial:
            geom = _check_geometry(record.get("geometry"), row, "几何", problems)
        else:
            geom = _point_from_columns(record, row, problems, shift)
        _check_ranges(values, row, problems)
        _check_limits(values, row, problems)
        key = (values["estate"] or "", values["building"] or "", values["unit"] or "")
        if all(key):
            if key in seen:
                problems.append(
                    Problem(row, "房号", f"{key[0]} {key[1]} {key[2]} 与第 {seen[key]} 行重复")
                )
            else:
                seen[key] = row
        plan.problems += problems
        if progress and offset % 500 == 499:
            progress(500)
        if any(not p.repaired for p in problems):
            continue
        plan.rows.append(
            StockRow(
                row=row,
                estate=values["estate"],
                address=values["address"] or "",
                district=values["district"] or "",
                building=values["building"],
                floors=values["floors"],
                elevator=values["elevator"],
                unit=values["unit"],
                floor=values["floor"],
                rooms=values["rooms"],
                halls=values["halls"],
                baths=values["baths"],
                area=values["area"],
                rent=values["rent"],
                orientation=values["orient"],
                accessible=values["access"],
                status=values["status"],
                geometry=geom,
            )
        )
    if not plan.row_count:
        plan.problems.append(Problem(0, "", "文件中没有数据行"))
    return plan


TEXT_LIMITS = {"estate": 120, "address": 200, "building": 20, "unit": 20}


def _check_limits(values: dict, row: int, problems: list[Problem]) -> None:
    """The database's own limits, checked here so the clerk sees the row, not a failed commit."""
    for key, limit in TEXT_LIMITS.items():
        if values[key] and len(values[key]) > limit:
            header = next(c.header for c in COLUMNS if c.key == key)
            problems.append(Problem(row, header, f"超过 {limit} 个字"))
    for key, header in (("halls", "厅"), ("baths", "卫")):
        if values[key] is not None and not 0 <= values[key] <= 10:
            problems.append(Problem(row, header, f"{header}数 {values[key]} 不正确"))
    if values["rent"] is not None and values["rent"] >= 1_000_000:
        problems.append(Problem(row, "月租金", "月租金过大"))
    if values["floor"] is not None and values["floor"] > 300:
        problems.append(Problem(row, "楼层", f"楼层 {values['floor']} 不正确"))


def _check_ranges(values: dict, row: int, problems: list[Problem]) -> None:
    if values["area"] is not None and not (Decimal("5") <= values["area"] <= Decimal("500")):
        problems.append(Problem(row, "面积", f"面积 {values['area']} ㎡ 不在 5–500 之间"))
    if values["rent"] is not None and values["rent"] <= 0:
        problems.append(Problem(row, "月租金", "月租金应大于 0"))
    if values["floor"] is not None and (values["floor"] == 0 or values["floor"] < -5):
        problems.append(Problem(row, "楼层", f"楼层 {values['floor']} 不正确"))
    if values["rooms"] is not None and not 0 <= values["rooms"] <= 10:
        problems.append(Problem(row, "室", f"室数 {values['rooms']} 不正确"))
    if (
        values["floors"] is not None
        and values["floor"] is not None
        and values["floor"] > values["floors"]
    ):
        problems.append(
            Problem(row, "楼层", f"楼层 {values['floor']} 高于总层数 {values['floors']}")
        )


# --- checking against the database and the user's jurisdiction --------------------------------


def check_against_stock(plan: StockPlan, visible_estates, districts_in_scope) -> None:
    """Existing estates the user may change, new ones inside the jurisdiction, points in place."""
    import shapely
    from shapely.geometry import Point
    from shapely.prepared import prep

    names = sorted({r.estate for r in plan.rows})
    visible = list(visible_estates.filter(name__in=names).values_list("name", "id"))
    existing = dict(visible)
    ambiguous = {n for n in existing if sum(1 for name, _ in visible if name == n) > 1}
    elsewhere = set(
        Estate.objects.filter(name__in=set(names) - set(existing)).values_list("name", flat=True)
    )
    areas = [
        (d.pk, d.name, d.adcode, prep(shapely.from_wkb(bytes(d.boundary.wkb))))
        for d in districts_in_scope
    ]
    first_rows: dict[str, StockRow] = {}
    kept = []
    for r in plan.rows:
        if r.estate in ambiguous:
            plan.problems.append(
                Problem(
                    r.row,
                    "项目名称",
                    f"辖区内有多个项目名为“{r.estate}”，无法确定，请先在后台改名区分",
                )
            )
            continue
        if r.estate in elsewhere:
            plan.problems.append(Problem(r.row, "项目名称", f"项目“{r.estate}”不在您的管辖范围内"))
            continue
        if r.geometry is not None:
            point = (
                r.geometry if isinstance(r.geometry, Point) else r.geometry.representative_point()
            )
            if not any(area.contains(point) for _, _, _, area in areas):
                plan.problems.append(
                    Problem(
                        r.row, "几何", f"位置（{point.x:.5f}, {point.y:.5f}）不在您的管辖区域内"
                    )
                )
                continue
        if r.estate not in existing:
            first = first_rows.setdefault(r.estate, r)
            if first is r and r.geometry is None:
                plan.problems.append(
                    Problem(r.row, "几何", f"新项目“{r.estate}”需要位置（经纬度或图形）")
                )
                continue
            if first is r and not r.address:
                plan.problems.append(Problem(r.row, "地址", f"新项目“{r.estate}”需要地址"))
                continue
        kept.append(r)
    plan.rows = kept
    plan.existing_estates = existing
    plan.new_estates = [n for n in names if n not in existing and n not in elsewhere]
    current: dict[tuple, str] = {}
    if existing:
        keys = {(r.estate, r.building, r.unit) for r in kept if r.estate in existing}
        units = Unit.objects.filter(building__estate_id__in=existing.values()).values_list(
            "building__estate__name", "building__number", "number", "status"
        )
        current = {(e, b, n): st for e, b, n, st in units if (e, b, n) in keys}
        plan.existing_units = len(current)
    _check_statuses(plan, current)


def _check_statuses(plan: StockPlan, current: dict[tuple, str]) -> None:
    """An import may set a unit vacant, under repair or withheld; who lives in it, or is
    offered it, is for the allocation and tenancy workflow to change."""
    kept = []
    for r in plan.rows:
        now = current.get((r.estate, r.building, r.unit))
        wanted = r.status
        if wanted is None or wanted == now:
            kept.append(r)
            continue
        if wanted not in MANUAL_STATUSES:
            message = "导入只能设为空置、维修中或暂不分配；入住与配租由业务流程变更"
        elif now is not None and now not in MANUAL_STATUSES:
            message = f"该房屋现为“{Unit.Status(now).label}”，不能由导入改变状态"
        else:
            kept.append(r)
            continue
        plan.problems.append(Problem(r.row, "状态", message))
    plan.rows = kept


def plan_stock_file(
    path: Path,
    declared_crs: str,
    *,
    visible_estates,
    districts_in_scope,
    progress: Callable[[int], None] | None = None,
) -> StockPlan:
    """Read and check a file completely; the plan says what a commit would do."""
    frame, first_row, spatial = read_frame(path, declared_crs)
    plan = check_rows(frame, first_row, spatial, declared_crs, progress)
    check_against_stock(plan, visible_estates, districts_in_scope)
    return plan
