"""Writing housing stock in the same shape the importer reads, in every format it reads.

A file exported here can be edited and imported back: one row per unit, its building's
position as a point (WGS84, or shifted to GCJ-02/BD-09 on request).
"""

from __future__ import annotations

import csv
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from django.contrib.gis.db.models import PointField
from django.contrib.gis.db.models.functions import AsWKB
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce

from exchange.spreadsheets import neutralize_row, xlsx_text_cells
from geo import crs as crs_module
from geo.models import Unit
from geo.stock_columns import COLUMNS, LAT, LON

if TYPE_CHECKING:  # geopandas, pandas and openpyxl load in the export, not in every web worker
    import geopandas as gpd
    import pandas as pd
    from openpyxl import Workbook

FORMATS = {
    "geojson": ("GeoJSON", "application/geo+json", ".geojson"),
    "shp": ("ESRI Shapefile", "application/zip", ".zip"),
    "gpkg": ("GPKG", "application/geopackage+sqlite3", ".gpkg"),
    "kml": ("KML", "application/vnd.google-earth.kml+xml", ".kml"),
    "xlsx": (None, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    "csv": (None, "text/csv; charset=utf-8", ".csv"),
}
ORIENT_LABELS = dict(Unit.Orientation.choices)
STATUS_LABELS = dict(Unit.Status.choices)


def stock_rows(units: QuerySet[Unit]) -> QuerySet:
    """One values row per unit with what the file carries, in one query."""
    return (
        units.annotate(
            point=AsWKB(
                Coalesce(
                    F("building__position"),
                    F("building__estate__location"),
                    output_field=PointField(srid=4326),
                )
            ),
            estate=F("building__estate__name"),
            address=F("building__estate__address"),
            district=F("building__estate__district__name"),
            building_no=F("building__number"),
            floors=F("building__floors"),
            elevator=F("building__elevator"),
        )
        .values(
            "point",
            "estate",
            "address",
            "district",
            "building_no",
            "floors",
            "elevator",
            "number",
            "floor",
            "rooms",
            "halls",
            "baths",
            "area",
            "monthly_rent",
            "orientation",
            "accessible",
            "status",
        )
        .order_by("building__estate__name", "building__number", "floor", "number")
    )


def _frame(units: QuerySet[Unit], target_crs: str) -> gpd.GeoDataFrame:
    import geopandas as gpd
    import pandas as pd
    import shapely

    shift = crs_module.converter_from_wgs84(target_crs)
    records, points = [], []
    for r in stock_rows(units).iterator(chunk_size=5000):
        point = shapely.from_wkb(bytes(r["point"]))
        points.append(shapely.Point(*shift(point.x, point.y)))
        records.append(
            {
                "estate": r["estate"],
                "address": r["address"],
                "district": r["district"],
                "building": r["building_no"],
                "floors": r["floors"],
                "elevator": "是" if r["elevator"] else "否",
                "unit": r["number"],
                "floor": r["floor"],
                "rooms": r["rooms"],
                "halls": r["halls"],
                "baths": r["baths"],
                "area": float(r["area"]),
                "rent": float(r["monthly_rent"]),
                "orient": str(ORIENT_LABELS[r["orientation"]]),
                "access": "是" if r["accessible"] else "否",
                "status": str(STATUS_LABELS[r["status"]]),
            }
        )
    columns = [c.key for c in COLUMNS]
    frame = pd.DataFrame.from_records(records, columns=columns)
    return gpd.GeoDataFrame(frame, geometry=points, crs=4326)


def export_stock(units: QuerySet[Unit], fmt: str, target_crs: str = "wgs84") -> Path:
    """A temporary file holding the units; the caller streams it and removes it."""
    import pandas as pd

    driver, _, suffix = FORMATS[fmt]
    gdf = _frame(units, target_crs)
    workdir = Path(tempfile.mkdtemp(prefix="anju-export-"))
    if fmt in ("xlsx", "csv"):
        table = pd.DataFrame(gdf.drop(columns="geometry"))
        table[LON] = [round(p.x, 7) for p in gdf.geometry]
        table[LAT] = [round(p.y, 7) for p in gdf.geometry]
        table = table.rename(columns={c.key: c.header for c in COLUMNS})
        out = workdir / f"stock{suffix}"
        _write_table(table, out, fmt)
        return out
    if fmt == "shp":
        shp_dir = workdir / "shp"
        shp_dir.mkdir()
        gdf.to_file(shp_dir / "stock.shp", driver=driver, engine="pyogrio", encoding="UTF-8")
        out = workdir / "stock.zip"
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(shp_dir.iterdir()):
                archive.write(part, part.name)
        return out
    out = workdir / f"stock{suffix}"
    gdf.to_file(out, driver=driver, engine="pyogrio")
    return out


def _write_table(table: pd.DataFrame, out: Path, fmt: str) -> None:
    """A spreadsheet of plain cells: text that looks like a formula is neutralized (a name typed
    as "=HYPERLINK(...)" in the back office must not run on the clerk's machine)."""
    import pandas as pd
    from openpyxl import Workbook

    records = (
        [None if pd.isna(v) else v for v in record]
        for record in table.itertuples(index=False, name=None)
    )
    if fmt == "csv":
        with out.open("w", encoding="utf-8-sig", newline="") as fh:  # the BOM lets Excel read UTF-8
            writer = csv.writer(fh)
            writer.writerow(table.columns)
            writer.writerows(neutralize_row(r) for r in records)
        return
    book = Workbook(write_only=True)
    sheet = book.create_sheet("房源")
    sheet.append(list(table.columns))
    for record in records:
        sheet.append(xlsx_text_cells(sheet, record))
    book.save(out)


def template_workbook() -> Workbook:
    """The XLSX template staff fill in: headers, one example row, and a sheet of instructions."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    book = Workbook()
    sheet = book.active
    sheet.title = "房源"
    headers = [c.header for c in COLUMNS] + [LON, LAT]
    sheet.append(headers)
    sheet.append([c.example for c in COLUMNS] + ["115.7800", "33.8500"])
    bold = Font(bold=True)
    required = PatternFill("solid", fgColor="FFF2CC")
    for cell, column in zip(sheet[1], [*COLUMNS, None, None], strict=True):
        cell.font = bold
        if column is None or column.required:
            cell.fill = required
        sheet.column_dimensions[cell.column_letter].width = max(10, len(cell.value) * 3)
    notes = book.create_sheet("填写说明")
    notes.append(["列", "必填", "说明"])
    for column in COLUMNS:
        notes.append([column.header, "是" if column.required else "否", column.example])
    notes.append(
        [
            LON + "/" + LAT,
            "是",
            "楼栋位置；导入时选择坐标系（WGS84、CGCS2000、高德 GCJ-02、百度 BD-09）",
        ]
    )
    notes.append(["", "", "每行一套房屋；同一项目、楼号、房号不能重复；已有房屋将按房号更新。"])
    return book
