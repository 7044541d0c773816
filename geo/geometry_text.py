"""Geometry as staff can type it: one "经度,纬度" per line, a blank line before each further
polygon of a multipolygon; GeoJSON or WKT may be pasted instead.

This is the value of the map editor's text field (geo/widgets.py), so a geometry can be
entered, read and corrected by keyboard alone; the browser reads it the same way
(static/geo/geometry-text.js) with the same messages, which name the line at fault.
"""

import re

from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon, Point, Polygon
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

LINE_KINDS = ("POINT", "POLYGON", "MULTIPOLYGON")
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
SEPARATORS = re.compile(r"[,，;；\s]+")


def messages() -> dict[str, str]:
    """Every message, with %(name)s placeholders, for the server and the browser alike."""
    return {
        "number": _("第 %(line)s 行“%(text)s”应为“经度,纬度”两个数，例如 115.7812,33.8456。"),
        "lon": _("第 %(line)s 行：经度 %(value)s 应在 -180 到 180 之间。"),
        "lat": _("第 %(line)s 行：纬度 %(value)s 应在 -90 到 90 之间，是否把经度和纬度写反了？"),
        "point": _("位置只需要一行“经度,纬度”，这里有 %(count)s 行。"),
        "ring": _("从第 %(line)s 行开始的多边形至少需要 3 个不同的点，这里只有 %(count)s 个。"),
        "pasted": _("无法读取粘贴的 GeoJSON 或 WKT，请检查格式，或改为每行一个“经度,纬度”。"),
        "lines": _("这里请粘贴 GeoJSON 或 WKT。"),
        "range": _("粘贴的坐标超出经纬度范围（经度 -180 到 180，纬度 -90 到 90）。"),
    }


def _error(key: str, **values) -> ValidationError:
    return ValidationError(messages()[key] % values, code=f"geometry_text_{key}")


def _number(raw: str) -> str:
    """Shortest text that reads back as the same float (Python and JavaScript agree)."""
    return repr(float(raw))


def to_text(geom: GEOSGeometry | None) -> str:
    """A stored geometry as lines; GeoJSON when lines cannot say it (holes, other kinds)."""
    if geom is None:
        return ""
    if isinstance(geom, Point):
        return f"{_number(geom.x)},{_number(geom.y)}"
    polygons = list(geom) if isinstance(geom, MultiPolygon) else [geom]
    if not all(isinstance(p, Polygon) and p.num_interior_rings == 0 for p in polygons):
        return geom.json
    return "\n\n".join(
        "\n".join(f"{_number(x)},{_number(y)}" for x, y in p.exterior_ring.coords[:-1])
        for p in polygons
    )


def _pasted(text: str, kind: str) -> GEOSGeometry:
    try:
        geom = GEOSGeometry(text)
    except (GEOSException, ValueError, TypeError) as exc:
        raise _error("pasted") from exc
    if geom.srid is None:
        geom.srid = 4326
    if geom.srid == 4326 and not geom.empty:
        xmin, ymin, xmax, ymax = geom.extent
        if xmin < -180 or xmax > 180 or ymin < -90 or ymax > 90:
            raise _error("range")
    if kind == "MULTIPOLYGON" and isinstance(geom, Polygon):
        geom = MultiPolygon(geom, srid=geom.srid)
    return geom


def _groups(text: str) -> list[list[tuple[int, float, float]]]:
    """Numbered coordinates, grouped by blank lines."""
    groups: list[list[tuple[int, float, float]]] = [[]]
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            if groups[-1]:
                groups.append([])
            continue
        values = [v for v in SEPARATORS.split(line) if v]
        if len(values) != 2 or not all(NUMBER.match(v) for v in values):
            raise _error("number", line=number, text=line)
        lon, lat = float(values[0]), float(values[1])
        if not -180 <= lon <= 180:
            raise _error("lon", line=number, value=values[0])
        if not -90 <= lat <= 90:
            raise _error("lat", line=number, value=values[1])
        groups[-1].append((number, lon, lat))
    return [g for g in groups if g]


def _polygon(group: list[tuple[int, float, float]]) -> Polygon:
    ring = [(lon, lat) for _line, lon, lat in group]
    if len(ring) > 1 and ring[0] == ring[-1]:
        ring.pop()  # a closed ring typed in full
    if len(set(ring)) < 3:
        raise _error("ring", line=group[0][0], count=len(set(ring)))
    return Polygon([*ring, ring[0]], srid=4326)


def from_text(text: str, kind: str) -> GEOSGeometry | None:
    """The geometry the text describes, in WGS84, or ValidationError naming what is wrong.

    `kind` is the field's geometry type (POINT, POLYGON, MULTIPOLYGON; other kinds take
    pasted GeoJSON or WKT only)."""
    text = (text or "").strip()
    if not text:
        return None
    if text[0] in "{[" or (text[0].isascii() and text[0].isalpha()):
        return _pasted(text, kind)
    if kind not in LINE_KINDS:
        raise _error("lines")
    groups = _groups(text)
    if kind == "POINT":
        points = [p for g in groups for p in g]
        if len(points) != 1:
            raise _error("point", count=len(points))
        return Point(points[0][1], points[0][2], srid=4326)
    if kind == "POLYGON":
        return _polygon([p for g in groups for p in g])
    return MultiPolygon([_polygon(g) for g in groups], srid=4326)
