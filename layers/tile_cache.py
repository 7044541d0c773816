"""Rendered tiles kept on disk, keyed on the database, the stock version, the layer, the
filters and z/x-y: a tile is rendered once per stock version and then read back from a file, and
any stock change (geo.stock_version) moves every key, so the next request sees it at once.

The database's identity (name and OID) is part of the key because a recreated database (a new
test run, a restore) starts its stock version again, and so is the time of the last change: a
rolled-back change (a test's) can bring a version number back, never its time. Files of older
versions are pruned when a process first writes at a newer one. Writes are atomic (a temporary
file renamed into place), so concurrent workers never read half a tile.
"""

import functools
import hashlib
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from anju.db_router import read_connection
from geo import stock_version
from geo.vacancy import VacancyQuery

_identities: dict[str, str] = {}
_pruned: set[Path] = set()


@dataclass(frozen=True)
class CachedTile:
    data: bytes
    etag: str
    modified: float  # when this content was rendered (seconds since the epoch)


def cache_root() -> Path:
    """TILE_CACHE_DIR, or .local/tile-cache in the checkout (development and the bench)."""
    configured = getattr(settings, "TILE_CACHE_DIR", None)
    return Path(configured) if configured else Path(settings.BASE_DIR) / ".local" / "tile-cache"


def _database_identity() -> str:
    """name-OID of the connected database, asked once per process and database name."""
    db = read_connection()
    name = db.settings_dict["NAME"]
    if name not in _identities:
        with db.cursor() as cursor:
            cursor.execute("SELECT oid FROM pg_database WHERE datname = current_database()")
            _identities[name] = f"{name}-{cursor.fetchone()[0]}"
    return _identities[name]


@functools.lru_cache(maxsize=1024)  # asked several times a tile; a query is immutable
def filters_key(query: VacancyQuery) -> str:
    """A short, stable name for every filter of the query ("all" when there is none)."""
    params = query.as_params()
    if query.near is not None:  # as_params rounds; the key must not merge two searches
        params["near"] = f"{query.near.x!r},{query.near.y!r}"
    if not params:
        return "all"
    text = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _version_name(stock: stock_version.StockState) -> str:
    changed = f"{stock.changed_at.timestamp():.6f}" if stock.changed_at else "0"
    return f"v{stock.version}-{changed}"


def tile_path(
    stock: stock_version.StockState, layer: str, query: VacancyQuery, z: int, x: int, y: int
) -> Path:
    # One string, one Path: a tile asks for its path two or three times.
    return Path(
        f"{cache_root()}/{_database_identity()}/{_version_name(stock)}/{layer}/"
        f"{filters_key(query)}/{z}/{x}-{y}.pbf"  # x in the name: one directory fewer to make
    )


def _etag(data: bytes) -> str:
    return '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'


def _prune_older(version_dir: Path, version: int) -> None:
    """Remove the files of versions before `version` (once per process and version)."""
    if version_dir in _pruned:
        return
    _pruned.add(version_dir)
    for other in version_dir.parent.glob("v*"):
        try:
            older = int(other.name[1:].split("-")[0]) < version
        except ValueError:
            continue
        if older:
            shutil.rmtree(other, ignore_errors=True)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name no other process or thread writes to at the same time, then renamed into place.
    temporary = f"{path.parent}/.tile-{os.getpid()}-{threading.get_ident()}-{path.name}"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            rest = memoryview(data)
            while rest:
                rest = rest[os.write(fd, rest) :]
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def cached_tile(
    layer: str,
    query: VacancyQuery,
    z: int,
    x: int,
    y: int,
    render: Callable[[], tuple[bytes, stock_version.StockState]],
) -> CachedTile:
    """The tile from the cache of the current stock version, rendered and stored on a miss.
    An empty tile is stored too (an empty file), so empty areas cost no query either.

    One query either way: when this process already holds the tile at the last version it saw,
    only the stock version is asked; otherwise `render()` returns the tile together with the
    version of the same snapshot, which names the file it is kept in."""
    known = _last_state.get(read_connection().settings_dict["NAME"])
    if known is not None:
        path = tile_path(known, layer, query, z, x, y)
        if path.is_file():
            stock = stock_version.state()
            hit = _read(tile_path(stock, layer, query, z, x, y))
            if hit is not None:
                _remember(stock)
                return hit
    data, stock = render()
    _remember(stock)
    path = tile_path(stock, layer, query, z, x, y)
    hit = _read(path)  # another worker rendered it first: serve its bytes (and ETag)
    if hit is not None:
        return hit
    try:
        _write(path, data)
        _prune_older(path.parents[3], stock.version)
        modified = path.stat().st_mtime
    except OSError:  # a full or read-only disk costs speed, never the tile
        modified = time.time()
    return CachedTile(data, _etag(data), modified)


# The last stock state each database showed this process: where its tiles are looked for first.
_last_state: dict[str, stock_version.StockState] = {}


def _remember(stock: stock_version.StockState) -> None:
    _last_state[read_connection().settings_dict["NAME"]] = stock


def _read(path: Path) -> CachedTile | None:
    try:
        with path.open("rb") as kept:
            data = kept.read()
            modified = os.fstat(kept.fileno()).st_mtime
    except FileNotFoundError:
        return None
    return CachedTile(data, _etag(data), modified)
