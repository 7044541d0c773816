"""Mapbox Vector Tiles from PostGIS in one SQL statement per tile.

The layer's own queryset (already filtered and public) is limited to the tile's box in WGS84,
so its GiST index is used, then wrapped in ST_AsMVTGeom / ST_AsMVT.
"""

import functools
import hashlib
import math
import re
import weakref
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.gis.db.backends.postgis.adapter import PostGISAdapter
from django.contrib.gis.geos import Polygon
from django.core.exceptions import EmptyResultSet

from anju.db_router import read_connection
from geo import stock_version
from geo.vacancy import VacancyQuery
from layers.registry import LAYERS, NUMBER, Layer
from layers.tile_cache import filters_key

EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 22
JIT_OFF = "SELECT set_config('jit', 'off', true); "
# The stock version and the time of its last change, read with the tile in the same snapshot.
STOCK_STATE_SQL = stock_version.STATE_SQL


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
    bounds = tile_bounds(z, x, y, margin=BUFFER / EXTENT)
    detail = not (layer.detail_zoom is not None and z < layer.detail_zoom and layer.aggregate)
    key = (layer.name, detail, filters_key(query))
    compiled = _compiled.get(key)
    if compiled is None:
        compiled = _compile(layer, query, z, bounds)
        if compiled.box_at is None:  # a statement of this tile alone
            return compiled.sql, [compiled.name, z, x, y, *compiled.params]
        if len(_compiled) < MAX_COMPILED:
            _compiled[key] = compiled
    # The same statement for every tile of this layer and filters: only the box moves.
    before, after = compiled.params[: compiled.box_at], compiled.params[compiled.box_at :]
    return compiled.sql, [compiled.name, z, x, y, *before, *bounds, *after]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: list
    name: str
    box_at: int | None  # where the box's four numbers go among the params (None: fixed box)


# Compiling the ORM query costs about as much as a small tile's SQL, so each layer's statement
# is compiled once per process and filter set, and later tiles only put their box in.
_compiled: dict[tuple, _Compiled] = {}
MAX_COMPILED = 512
_PLACEHOLDER = re.compile(r"%%|%s")


def _compile(layer: Layer, query: VacancyQuery, z: int, bounds: tuple) -> _Compiled:
    rows, name, in_box = tile_source(layer, query, z)
    box = Polygon.from_bbox(bounds)
    box.srid = 4326
    # A tile's features need no order: no sort of the rows in the box.
    inner, params = rows.filter(in_box(box)).order_by().query.sql_with_params()
    params = list(params)
    boxes = [i for i, p in enumerate(params) if isinstance(p, PostGISAdapter)]
    box_at = None
    if len(boxes) == 1 and not params[boxes[0]].geography:
        # The box as four numbers (ST_MakeEnvelope), so every tile shares the statement's text.
        box_at = boxes[0]
        inner = _replace_placeholder(inner, box_at, "ST_MakeEnvelope(%s, %s, %s, %s, 4326)")
        del params[box_at]
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
    return _Compiled(sql, params, name, box_at)


def _replace_placeholder(sql: str, index: int, replacement: str) -> str:
    """`sql` with its index-th %s (counting from 0, %% skipped) replaced."""
    seen = -1

    def swap(match: re.Match) -> str:
        nonlocal seen
        if match.group(0) == "%%":
            return "%%"
        seen += 1
        return replacement if seen == index else "%s"

    return _PLACEHOLDER.sub(swap, sql)


def _fields_of(rows, layer: Layer) -> dict[str, str]:
    """The public fields the rows carry (an aggregate carries the estate layer's)."""
    from layers.registry import ESTATE_FIELDS

    names = set(rows.query.values_select) | set(rows.query.annotation_select)
    source = layer.fields if set(layer.fields) <= names else ESTATE_FIELDS
    return {f: kind for f, kind in source.items() if f in names}


def render_tile(
    layer: Layer, query: VacancyQuery, z: int, x: int, y: int
) -> tuple[bytes, stock_version.StockState]:
    """The tile's bytes and the stock state they show, read in one statement (one snapshot)."""
    try:
        sql, params = tile_sql(layer, query, z, x, y)
    except EmptyResultSet:  # Django knows the filters match nothing: an empty tile
        return b"", stock_version.state()
    # The planner's cost estimates for a tile often pass jit_above_cost, and compiling the
    # query then takes longer (16 ms at z12) than running it: JIT off for this statement only.
    # The settings and the statement go in one round trip, which PostgreSQL runs as one
    # (implicit) transaction, so the settings end with it; inside a transaction, with that one.
    statement = _with_stock_state(sql)
    db = read_connection()  # the replica for public reads, when there is one
    with db.cursor() as cursor:
        prepared, preparing = _prepared_call(db, statement, params)
        try:
            cursor.execute(prepared or JIT_OFF + statement, params)
        except Exception:
            if preparing:  # the server may or may not hold it now: run it unprepared
                _unpreparable.add(statement)
            raise
        cursor.nextset()
        if preparing:
            cursor.nextset()
        version, changed_at, data = cursor.fetchone()
    return bytes(data or b""), stock_version.StockState(int(version), changed_at)


# Planning a tile's statement takes about as long as running it at z14 (0.3 of 0.7 ms), and
# every tile of a layer and filter set runs the same statement with another box: each
# connection prepares it once (PREPARE) and runs its one generic plan (EXECUTE) from then on.
# Prepared statements live as long as the connection and survive a rollback; they need a
# session of our own on the server (no pgbouncer in transaction mode between us).
PLAN_SETTINGS = (
    "SELECT set_config('jit', 'off', true), "
    "set_config('plan_cache_mode', 'force_generic_plan', true); "
)
_prepared: "weakref.WeakKeyDictionary[object, set[str]]" = weakref.WeakKeyDictionary()
_unpreparable: set[str] = set()
_PREPARABLE = (str, int, float, bool, Decimal)


def _prepared_call(db, statement: str, params: list) -> tuple[str | None, bool]:
    """The round trip that runs `statement` from its prepared plan, and whether it prepares it
    first on this connection; None when it runs as it is: a parameter whose type PREPARE
    cannot infer (a geometry), or a statement that failed to prepare before."""
    if statement in _unpreparable or not all(isinstance(p, _PREPARABLE) for p in params):
        return None, False
    name = _statement_name(statement)
    done = _prepared.setdefault(db.connection, set())
    call = f"EXECUTE {name}({', '.join(['%s'] * len(params))})"
    if name in done:
        return PLAN_SETTINGS + call, False
    done.add(name)
    return f"{PLAN_SETTINGS}PREPARE {name} AS {_numbered(statement)}; {call}", True


@functools.lru_cache(maxsize=MAX_COMPILED)
def _with_stock_state(sql: str) -> str:
    """The tile statement with the stock state of the same snapshot beside it."""
    return f"SELECT s.*, m.* FROM ({STOCK_STATE_SQL}) s, ({sql}) m"


@functools.lru_cache(maxsize=MAX_COMPILED)
def _statement_name(statement: str) -> str:
    return "anju_tile_" + hashlib.blake2b(statement.encode(), digest_size=8).hexdigest()


def _numbered(sql: str) -> str:
    """psycopg's %s placeholders as PREPARE's $1, $2, …"""
    count = 0

    def number(match: re.Match) -> str:
        nonlocal count
        if match.group(0) == "%%":
            return "%%"
        count += 1
        return f"${count}"

    return _PLACEHOLDER.sub(number, sql)
