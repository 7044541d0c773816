"""The columns of a housing-stock file: one row per unit, with its estate and building.

GIS formats use the short English names (Shapefile fields are at most 10 characters);
spreadsheets use the Chinese headers. Either is accepted on import.
"""

from dataclasses import dataclass

from geo.models import Unit


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str  # text | int | decimal | bool | choice
    required: bool = False
    example: str = ""


COLUMNS = [
    Column("estate", "项目名称", "text", True, "幸福家园"),
    Column("address", "地址", "text", False, "谯城区汤陵街道民生路1号"),
    Column("district", "区县", "text", False, "谯城区"),
    Column("building", "楼号", "text", True, "3号楼"),
    Column("floors", "总层数", "int", False, "18"),
    Column("elevator", "电梯", "bool", False, "是"),
    Column("unit", "房号", "text", True, "1203"),
    Column("floor", "楼层", "int", True, "12"),
    Column("rooms", "室", "int", True, "2"),
    Column("halls", "厅", "int", False, "1"),
    Column("baths", "卫", "int", False, "1"),
    Column("area", "面积", "decimal", True, "55.20"),
    Column("rent", "月租金", "decimal", True, "552"),
    Column("orient", "朝向", "choice", False, "南北通透"),
    Column("access", "无障碍", "bool", False, "否"),
    Column("status", "状态", "choice", False, "空置"),
]
LON, LAT = "经度", "纬度"
BY_NAME = {c.key: c for c in COLUMNS} | {c.header: c for c in COLUMNS}
ALIASES = {
    "orientation": "orient",
    "accessible": "access",
    "estate_name": "estate",
    "lon": LON,
    "lng": LON,
    "longitude": LON,
    "x": LON,
    "lat": LAT,
    "latitude": LAT,
    "y": LAT,
}
TRUE = {"是", "有", "1", "true", "yes", "y", "t"}
FALSE = {"否", "无", "0", "false", "no", "n", "f", ""}


def _choices(choices) -> dict[str, str]:
    table = {}
    for code, label in choices:
        table[code.lower()] = code
        table[str(label)] = code
        table[str(label).removeprefix("朝")] = code
    return table


ORIENTATIONS = _choices(Unit.Orientation.choices) | {"南北": "SN", "东西": "EW"}
STATUSES = _choices(Unit.Status.choices)


def canonical(name: str) -> str | None:
    """The column key a header means, or None for a column we do not read."""
    name = str(name).strip()
    lowered = name.lower()
    if name in (LON, LAT):
        return name
    if lowered in ALIASES:
        return ALIASES[lowered]
    column = BY_NAME.get(name) or BY_NAME.get(lowered)
    return column.key if column else None
