"""Mapbox Vector Tiles from PostGIS in one SQL statement per tile.

The layer's own queryset (already filtered and public) is limited to the tile's box in WGS84,
so its GiST index is used, then wrapped in ST_AsMVTGeom / ST_AsMVT.
"""

import math
from dataclasses import dataclass

from django.contrib.gis.db.backends.postgis.adapter import PostGISAdapter
from django.contrib.gis.geos import Polygon
from django.core.exceptions import EmptyResultSet
from django.db import connection

from geo.vacancy import VacancyQuery
from layers.registry import LAYERS, NUMBER, Layer
from layers.tile_cache import filters_key

EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 22
JIT_OFF = "SELECT set_config('jit', 'off', true); "


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
    box = Polygon.from_bbox(tile_bounds(z, x, y, margin=BUFFER / EXTENT))
    box.srid = 4326
    detail = not (layer.detail_zoom is not None and z < layer.detail_zoom and layer.aggregate)
    key = (layer.name, detail, filters_key(query))
    compiled = _compiled.get(key)
    if compiled is None:
        compiled = _compile(layer, query, z, box)
        if compiled.box_at is not None and len(_compiled) < MAX_COMPILED:
            _compiled[key] = compiled
        params = compiled.params
    else:  # the same statement for every tile of this layer and filters: only the box moves
        params = list(compiled.params)
        sentinel = params[compiled.box_at]
        params[compiled.box_at] = PostGISAdapter(box, geography=sentinel.geography)
    return compiled.sql, [compiled.name, z, x, y, *params]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: list
    name: str
    box_at: int | None  # where the box is among the params (None: not found once)


# Compiling the ORM query costs about as much as a small tile's SQL, so each layer's statement
# is compiled once per process and filter set, and later tiles only put their box in.
_compiled: dict[tuple, _Compiled] = {}
MAX_COMPILED = 512


def _compile(layer: Layer, query: VacancyQuery, z: int, box: Polygon) -> _Compiled:
    rows, name, in_box = tile_source(layer, query, z)
    # A tile's features need no order: no sort of the rows in the box.
    inner, params = rows.filter(in_box(box)).order_by().query.sql_with_params()
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
    boxes = [i for i, p in enumerate(params) if isinstance(p, PostGISAdapter)]
    return _Compiled(sql, list(params), name, boxes[0] if len(boxes) == 1 else None)


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
    # The planner's cost estimates for a tile often pass jit_above_cost, and compiling the
    # query then takes longer (16 ms at z12) than running it: JIT off for this statement only.
    # Both go in one round trip, which PostgreSQL runs as one (implicit) transaction, so the
    # setting ends with it; inside a transaction it ends with that one.
    with connection.cursor() as cursor:
        cursor.execute(JIT_OFF + sql, params)
        cursor.nextset()
        data = cursor.fetchone()[0]
    return bytes(data or b"")
