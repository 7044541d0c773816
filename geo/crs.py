"""Conversions between WGS84 (what we store), GCJ-02 (Gaode/AMap, Tencent) and BD-09 (Baidu).

Chinese web maps publish their tiles and geocoder results in offset coordinate systems, so data
copied from them lands a few hundred metres off unless it is shifted back to WGS84 first. The
formulas are the published ones: the GCJ-02 offset is a polynomial-plus-sine field scaled on the
Krasovsky ellipsoid, and BD-09 adds a small rotation and shift on top of GCJ-02. All functions
take and return (longitude, latitude) in degrees, matching GeoJSON and GEOS axis order.
"""

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # shapely and numpy load only when a layer is actually shifted
    from shapely.geometry.base import BaseGeometry

LonLat = tuple[float, float]
Transform = Callable[[float, float], LonLat]

# Krasovsky 1940 ellipsoid, on which the GCJ-02 offset is defined.
KRASOVSKY_A = 6378245.0
KRASOVSKY_EE = 0.00669342162296594323
BD_X_PI = math.pi * 3000.0 / 180.0

# The iterative inverses stop once the forward transform of the answer is this close to the
# input; 1e-7 degrees is about a centimetre, and the last correction makes it far closer.
INVERSE_TOLERANCE = 1e-7
INVERSE_MAX_STEPS = 10


def out_of_china(lon: float, lat: float) -> bool:
    """Whether a point is outside the rough box where GCJ-02 applies; outside it GCJ-02 is WGS84."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _offset_lat(x: float, y: float) -> float:
    """The published latitude offset field, in metre-like units, at (x, y) from (105E, 35N)."""
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _offset_lon(x: float, y: float) -> float:
    """The published longitude offset field, in metre-like units, at (x, y) from (105E, 35N)."""
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _invert(forward: Transform, lon: float, lat: float) -> LonLat:
    """Solve forward(p) == (lon, lat) by fixed-point steps; the offsets vary slowly, so 2-4 do."""
    x, y = lon, lat
    for _ in range(INVERSE_MAX_STEPS):
        fx, fy = forward(x, y)
        dx, dy = fx - lon, fy - lat
        x, y = x - dx, y - dy
        if abs(dx) < INVERSE_TOLERANCE and abs(dy) < INVERSE_TOLERANCE:
            break
    return x, y


def wgs84_to_gcj02(lon: float, lat: float) -> LonLat:
    """WGS84 to GCJ-02, to draw our data on Gaode/Tencent tiles or send it to their APIs."""
    if out_of_china(lon, lat):
        return lon, lat
    d_lat = _offset_lat(lon - 105.0, lat - 35.0)
    d_lon = _offset_lon(lon - 105.0, lat - 35.0)
    rad_lat = math.radians(lat)
    magic = 1.0 - KRASOVSKY_EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / (
        (KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * math.pi
    )
    d_lon = (d_lon * 180.0) / (KRASOVSKY_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lon + d_lon, lat + d_lat


def gcj02_to_wgs84(lon: float, lat: float) -> LonLat:
    """GCJ-02 to WGS84 by iterating the forward transform: the one-step inverse is metres off."""
    if out_of_china(lon, lat):
        return lon, lat
    return _invert(wgs84_to_gcj02, lon, lat)


def gcj02_to_bd09(lon: float, lat: float) -> LonLat:
    """GCJ-02 to BD-09, because Baidu adds its own rotation and shift on top of GCJ-02."""
    z = math.hypot(lon, lat) + 0.00002 * math.sin(lat * BD_X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * BD_X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def bd09_to_gcj02(lon: float, lat: float) -> LonLat:
    """BD-09 to GCJ-02, refined iteratively so that it exactly undoes gcj02_to_bd09."""
    return _invert(gcj02_to_bd09, lon, lat)


def wgs84_to_bd09(lon: float, lat: float) -> LonLat:
    """WGS84 to BD-09 (via GCJ-02), to draw our data on Baidu tiles or send it to Baidu's APIs."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: float, lat: float) -> LonLat:
    """BD-09 to WGS84 (via GCJ-02), for coordinates picked or geocoded on Baidu maps."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def _identity(lon: float, lat: float) -> LonLat:
    return lon, lat


_TO_WGS84: dict[str, Transform] = {
    "wgs84": _identity,
    "cgcs2000": _identity,
    "gcj02": gcj02_to_wgs84,
    "bd09": bd09_to_wgs84,
}
_FROM_WGS84: dict[str, Transform] = {
    "wgs84": _identity,
    "cgcs2000": _identity,
    "gcj02": wgs84_to_gcj02,
    "bd09": wgs84_to_bd09,
}


def _lookup(table: dict[str, Transform], crs: str) -> Transform:
    try:
        return table[crs.strip().lower()]
    except KeyError:
        known = "、".join(table)
        raise ValueError(f"未知的坐标系“{crs}”，可用的坐标系：{known}") from None


def to_wgs84(lon: float, lat: float, crs: str) -> LonLat:
    """Bring a point in a named CRS to WGS84 for storage.

    crs is "wgs84", "cgcs2000", "gcj02" or "bd09". CGCS2000 (the national datum of official
    survey data) differs from WGS84 by centimetres, far below our metre-level needs, so it
    passes through unchanged.
    """
    return _lookup(_TO_WGS84, crs)(lon, lat)


def from_wgs84(lon: float, lat: float, crs: str) -> LonLat:
    """Express a stored WGS84 point in a named CRS (the same names as to_wgs84) for export."""
    return _lookup(_FROM_WGS84, crs)(lon, lat)


def transform_geometry(geom: "BaseGeometry", func: Transform) -> "BaseGeometry":
    """Apply a (lon, lat) -> (lon, lat) function to every vertex, to shift a whole imported layer.

    Any Z coordinate is kept as it is; geometry arrays are accepted too, as by shapely.transform.
    """
    import numpy as np
    import shapely

    vectorised = np.vectorize(func, otypes=[float, float])

    def apply(coords: "np.ndarray") -> "np.ndarray":
        out = coords.copy()
        if len(coords):
            out[:, 0], out[:, 1] = vectorised(coords[:, 0], coords[:, 1])
        return out

    return shapely.transform(geom, apply, include_z=True)


def converter_to_wgs84(crs: str) -> Transform:
    """The (lon, lat) function that brings coordinates in `crs` to WGS84 (ValueError if unknown)."""
    return _lookup(_TO_WGS84, crs)


def converter_from_wgs84(crs: str) -> Transform:
    return _lookup(_FROM_WGS84, crs)


CRS_CHOICES = [
    ("wgs84", "WGS84（GPS、天地图以外的国际通用经纬度）"),
    ("cgcs2000", "CGCS2000（国家大地坐标系、天地图）"),
    ("gcj02", "GCJ-02（高德、腾讯地图坐标）"),
    ("bd09", "BD-09（百度地图坐标）"),
]
