"""Reading administrative regions from GeoJSON: every feature checked before anything is written."""

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.gis.gdal import SpatialReference
from django.contrib.gis.gdal.error import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon

from geo.models import Region

LEVEL_BY_LENGTH = {6: None, 9: Region.Level.STREET, 12: Region.Level.COMMUNITY}
LEVEL_ALIASES = {
    "city": Region.Level.CITY,
    "市": Region.Level.CITY,
    "district": Region.Level.DISTRICT,
    "county": Region.Level.DISTRICT,
    "区": Region.Level.DISTRICT,
    "县": Region.Level.DISTRICT,
    "street": Region.Level.STREET,
    "township": Region.Level.STREET,
    "街道": Region.Level.STREET,
    "乡镇": Region.Level.STREET,
    "community": Region.Level.COMMUNITY,
    "社区": Region.Level.COMMUNITY,
}
WGS84_NAMES = {"urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:EPSG::4326", "EPSG:4326"}


class RegionFileError(Exception):
    """The file as a whole cannot be read (not JSON, not a FeatureCollection)."""


@dataclass
class RegionRecord:
    adcode: str
    name: str
    level: str
    parent_adcode: str | None
    boundary: MultiPolygon


@dataclass
class RegionFile:
    records: list[RegionRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def read_region_file(path: Path, srid: int | None = None) -> RegionFile:
    """Parse and check every feature; errors name the feature by position, adcode and name."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RegionFileError(f"找不到文件：{path}") from exc
    except UnicodeDecodeError as exc:
        raise RegionFileError(f"文件不是 UTF-8 编码：{exc}") from exc
    except json.JSONDecodeError as exc:
        raise RegionFileError(
            f"文件不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}"
        ) from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise RegionFileError("文件必须是 GeoJSON FeatureCollection。")
    source_srid = srid or _declared_srid(data)
    result = RegionFile()
    seen: dict[str, int] = {}
    for index, feature in enumerate(data.get("features") or [], start=1):
        label, record, problem = _read_feature(index, feature, source_srid)
        if problem:
            result.errors.append(f"{label}：{problem}")
            continue
        assert record is not None
        if record.adcode in seen:
            result.errors.append(
                f"{label}：adcode {record.adcode} 与第 {seen[record.adcode]} 个要素重复"
            )
            continue
        seen[record.adcode] = index
        result.records.append(record)
    if not result.records and not result.errors:
        result.errors.append("文件中没有任何要素。")
    _check_parents(result)
    return result


def _declared_srid(data: dict) -> int:
    name = ((data.get("crs") or {}).get("properties") or {}).get("name")
    if not name or name in WGS84_NAMES:
        return 4326
    try:
        srs = SpatialReference(name)
        return int(srs.srid) if srs.srid else 4326
    except (GDALException, TypeError, ValueError) as exc:
        raise RegionFileError(f"无法识别文件声明的坐标系：{name}") from exc


def _read_feature(index: int, feature: object, srid: int):
    if not isinstance(feature, dict):
        return f"第 {index} 个要素", None, "不是 GeoJSON Feature"
    props = feature.get("properties") or {}
    adcode = str(props.get("adcode") or "").strip()
    name = str(props.get("name") or "").strip()
    label = f"第 {index} 个要素（{adcode or '无 adcode'}{' ' + name if name else ''}）"
    if not adcode:
        return label, None, "缺少 adcode（行政区划代码）"
    if not adcode.isdigit() or len(adcode) not in LEVEL_BY_LENGTH:
        return label, None, f"adcode “{adcode}” 应为 6、9 或 12 位数字"
    if not name:
        return label, None, "缺少 name（名称）"
    level = _level(props.get("level"), adcode)
    if level is None:
        return (
            label,
            None,
            f"无法识别层级 level “{props.get('level')}”（可用 city/district/street/community）",
        )
    geometry = feature.get("geometry")
    if not geometry:
        return label, None, "缺少几何图形"
    try:
        geom = GEOSGeometry(json.dumps(geometry))
        geom.srid = srid  # GeoJSON parsing assumes WGS84; the file may declare otherwise
    except (GEOSException, GDALException, ValueError, TypeError) as exc:
        return label, None, f"几何图形无法解析：{exc}"
    if geom.geom_type == "Polygon":
        geom = MultiPolygon(geom, srid=srid)
    if geom.geom_type != "MultiPolygon":
        return label, None, f"几何类型应为 Polygon 或 MultiPolygon，而不是 {geom.geom_type}"
    if not geom.valid:
        return label, None, f"几何图形无效（{geom.valid_reason}），请修复后再导入"
    if srid != 4326:
        geom.transform(4326)
    xmin, ymin, xmax, ymax = geom.extent
    if xmin < -180 or xmax > 180 or ymin < -90 or ymax > 90:
        return label, None, "坐标超出经纬度范围：文件是否使用了未声明的投影坐标系？"
    parent = str(props.get("parent_adcode") or props.get("parent") or "").strip() or None
    if parent is None:
        parent = _implied_parent(adcode, level)
    return label, RegionRecord(adcode, name, level, parent, geom), None


def _level(raw: object, adcode: str) -> str | None:
    if raw:
        return LEVEL_ALIASES.get(str(raw).strip().lower())
    by_length = LEVEL_BY_LENGTH[len(adcode)]
    if by_length:
        return by_length
    return Region.Level.CITY if adcode.endswith("00") else Region.Level.DISTRICT


def _implied_parent(adcode: str, level: str) -> str | None:
    """Administrative codes nest: 341602 lies in 341600, 341602001 in 341602, and so on."""
    if level == Region.Level.CITY:
        return None
    if len(adcode) == 6:
        city = adcode[:4] + "00"
        return city if city != adcode else adcode[:2] + "0000"  # a county under the province
    return adcode[:-3]


def _check_parents(result: RegionFile) -> None:
    in_file = {r.adcode for r in result.records}
    wanted = {r.parent_adcode for r in result.records if r.parent_adcode} - in_file
    in_db = set(Region.objects.filter(adcode__in=wanted).values_list("adcode", flat=True))
    for r in result.records:
        if r.parent_adcode and r.parent_adcode not in in_file and r.parent_adcode not in in_db:
            result.errors.append(
                f"要素（{r.adcode} {r.name}）：上级区域 {r.parent_adcode} "
                "既不在文件中也不在数据库中"
            )


def sorted_for_insert(records: list[RegionRecord]) -> list[RegionRecord]:
    """Parents before children: shorter administrative codes are higher in the tree."""
    rank = {level: i for i, level in enumerate(Region.Level.values)}
    return sorted(records, key=lambda r: (len(r.adcode), rank[r.level], r.adcode))
