"""Mapbox Vector Tiles from PostGIS in one SQL statement per tile.

The layer's own queryset (already filtered and public) is limited to the tile's box in WGS84,
so its GiST index is used, then wrapped in ST_AsMVTGeom / ST_AsMVT.
"""

import math

from django.contrib.gis.geos import Polygon
from django.core.exceptions import EmptyResultSet
from django.db import connection

from geo.vacancy import VacancyQuery
from layers.registry import LAYERS, NUMBER, Layer

EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 22


def tile_bounds(z: int, x: int, y: int, margin: float = 0.0) -> tuple[float, float, float, float]:
    """The tile's (west, south, east, north) in degrees, grown by `margin` of its size."""
    n = 2**z
    west, east = x / n * 360 - 180, (x + 1) / n * 360 - 180
    north = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))
    south = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + 1) / n))))
    dx, dy = (east - west) * margin, (north - south) * margin
    return (
        max(west - dx, -180),
        max(south - dy, -85.06),
        min(east + dx, 180),
        min(north + dy, 85.06),
    )


def valid_tile(z: int, x: int, y: int) -> bool:
    return 0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z


def tile_source(layer: Layer, query: VacancyQuery, z: int):
    """The rows a tile at zoom z shows (detail rows, or per-estate aggregates at low zoom),
    and how to find them in a box through an index."""
    if layer.detail_zoom is not None and z < layer.detail_zoom and layer.aggregate:
        return layer.aggregate(query), "estates", LAYERS["estates"].in_box
    return layer.rows(query), layer.name, layer.in_box


def tile_sql(layer: Layer, query: VacancyQuery, z: int, x: int, y: int) -> tuple[str, list]:
    rows, name, in_box = tile_source(layer, query, z)
    box = Polygon.from_bbox(tile_bounds(z, x, y, margin=BUFFER / EXTENT))
    box.srid = 4326
    inner, params = rows.filter(in_box(box)).query.sql_with_params()
    fields = _fields_of(rows, layer)
    columns = ", ".join(
        f'q."{f}"::float8 AS "{f}"' if kind == NUMBER else f'q."{f}"' for f, kind in fields.items()
    )
    sql = (
        f"SELECT ST_AsMVT(t, %s, {EXTENT}, 'geom', 'id') FROM ("
        "SELECT ST_AsMVTGeom(ST_Transform(q.geom, 3857), ST_TileEnvelope(%s, %s, %s), "
        f"{EXTENT}, {BUFFER}, true) AS geom, q.id, q.id AS ref, {columns} FROM ({inner}) q"
        ") t WHERE t.geom IS NOT NULL"
    )
    return sql, [name, z, x, y, *params]


def _fields_of(rows, layer: Layer) -> dict[str, str]:
    """The public fields the rows carry (an aggregate carries the estate layer's)."""
    from layers.registry import ESTATE_FIELDS

    names = set(rows.query.values_select) | set(rows.query.annotation_select)
    source = layer.fields if set(layer.fields) <= names else ESTATE_FIELDS
    return {f: kind for f, kind in source.items() if f in names}


def render_tile(layer: Layer, query: VacancyQuery, z: int, x: int, y: int) -> bytes:
    try:
        sql, params = tile_sql(layer, query, z, x, y)
    except EmptyResultSet:  # Django knows the filters match nothing: an empty tile
        return b""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        data = cursor.fetchone()[0]
    return bytes(data or b"")
