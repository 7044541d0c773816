"""Base maps chosen by setting; a GCJ-02 base map (AMap) needs our WGS84 layers shifted."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class BaseMap:
    name: str
    tiles: str | None  # a Leaflet URL template, or None for our own boundaries only
    attribution: str
    crs: str = "wgs84"  # "gcj02": draw our layers shifted, shift clicks back
    subdomains: str = "abc"
    max_zoom: int = 18

    @property
    def shifted(self) -> bool:
        return self.crs == "gcj02"

    @property
    def tile_origins(self) -> list[str]:
        """Every scheme://host the tiles come from, one per subdomain ({s}) Leaflet may use."""
        if not self.tiles:
            return []
        parts = urlsplit(self.tiles)
        hosts = [parts.netloc]
        if "{s}" in parts.netloc:
            hosts = [parts.netloc.replace("{s}", s) for s in self.subdomains or "abc"]
        return [f"{parts.scheme}://{host}" for host in hosts]


def current_basemap() -> BaseMap:
    """The base map the deployment configured (ANJU_BASEMAP), checked for what it needs."""
    return named_basemap(
        settings.ANJU_BASEMAP,
        tianditu_key=settings.ANJU_TIANDITU_KEY,
        boundary_note=settings.ANJU_BOUNDARY_ATTRIBUTION,
    )


def named_basemap(name: str, *, tianditu_key: str, boundary_note: str) -> BaseMap:
    """A base map by name, without reading settings: the settings module itself needs the
    tile servers (for the Content-Security-Policy) before settings can be read."""
    if name == "none":
        return BaseMap("none", None, boundary_note)
    if name == "osm":
        return BaseMap(
            "osm",
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            f"© OpenStreetMap 贡献者 | {boundary_note}",
            subdomains="",
            max_zoom=19,
        )
    if name == "tianditu":
        if not tianditu_key:
            raise ImproperlyConfigured("ANJU_BASEMAP=tianditu needs ANJU_TIANDITU_KEY.")
        # Tianditu's web-mercator layer is in CGCS2000, within a metre of WGS84: no shift.
        return BaseMap(
            "tianditu",
            "https://t{s}.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk=" + tianditu_key,
            f"© 天地图 国家地理信息公共服务平台 | {boundary_note}",
            subdomains="01234567",
        )
    if name == "amap":
        return BaseMap(
            "amap",
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
            "&x={x}&y={y}&z={z}",
            f"© 高德地图 | {boundary_note}",
            crs="gcj02",
            subdomains="1234",
        )
    raise ImproperlyConfigured(f"ANJU_BASEMAP={name!r}: use none, osm, tianditu or amap.")
