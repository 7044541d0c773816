"""The base maps a deployment offers under our layers, and the one shown first.

The settings module needs every tile server (for the Content-Security-Policy) before settings
can be read, so the definitions take their inputs as arguments; only `offered_basemaps()` and
`browser_basemaps()` read settings. Our layers stay in WGS84 on every base map: the browser
moves the tiles of a GCJ-02 base map instead (static/portal/js/map.js).
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

NAMES = ("tianditu", "amap", "osm", "none")


@dataclass(frozen=True)
class TileSource:
    """One tile layer: a Leaflet URL template, the values of its {s} and its deepest zoom."""

    url: str
    subdomains: str = ""
    max_native_zoom: int = 18

    @property
    def origins(self) -> list[str]:
        parts = urlsplit(self.url)
        hosts = [parts.netloc]
        if "{s}" in parts.netloc:
            hosts = [parts.netloc.replace("{s}", s) for s in self.subdomains]
        return [f"{parts.scheme}://{host}" for host in hosts]


@dataclass(frozen=True)
class BaseMap:
    name: str
    title: str
    sources: tuple[TileSource, ...]  # drawn in order (Tianditu: streets, then names); or none
    attribution: str
    crs: str = "wgs84"  # "gcj02": the tiles are offset and the browser moves them back

    @property
    def shifted(self) -> bool:
        return self.crs == "gcj02"

    @property
    def tile_origins(self) -> list[str]:
        """Every scheme://host the tiles come from, one per subdomain Leaflet may use."""
        return list(dict.fromkeys(o for s in self.sources for o in s.origins))

    def for_browser(self) -> dict:
        return {
            "name": self.name,
            "title": str(self.title),
            "crs": self.crs,
            "attribution": self.attribution,
            "tiles": [
                {"url": s.url, "subdomains": s.subdomains, "maxNativeZoom": s.max_native_zoom}
                for s in self.sources
            ],
        }


def default_names(tianditu_key: str) -> list[str]:
    """What a deployment offers unless ANJU_BASEMAPS says otherwise (docs/decisions/0004)."""
    return ["tianditu", "amap", "osm", "none"] if tianditu_key else ["amap", "osm", "none"]


def named_basemap(name: str, *, tianditu_key: str, boundary_note: str) -> BaseMap:
    """A base map by name, without reading settings."""
    if name == "none":
        return BaseMap("none", _("无底图（本站图层）"), (), boundary_note)
    if name == "osm":
        source = TileSource("https://tile.openstreetmap.org/{z}/{x}/{y}.png", max_native_zoom=19)
        return BaseMap(
            "osm", "OpenStreetMap", (source,), f"© OpenStreetMap 贡献者 | {boundary_note}"
        )
    if name == "tianditu":
        if not tianditu_key:
            raise ImproperlyConfigured("The tianditu base map needs ANJU_TIANDITU_KEY.")
        # Web-mercator streets and their Chinese names (CGCS2000, within a metre of WGS84).
        url = "https://t{s}.tianditu.gov.cn/DataServer?T=%s&x={x}&y={y}&l={z}&tk=" + tianditu_key
        layers = tuple(TileSource(url % kind, subdomains="01234567") for kind in ("vec_w", "cva_w"))
        return BaseMap(
            "tianditu", _("天地图"), layers, f"© 天地图 国家地理信息公共服务平台 | {boundary_note}"
        )
    if name == "amap":
        source = TileSource(
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
            "&x={x}&y={y}&z={z}",
            subdomains="1234",
        )
        return BaseMap(
            "amap", _("高德地图"), (source,), f"© 高德地图 | {boundary_note}", crs="gcj02"
        )
    raise ImproperlyConfigured(f"Unknown base map {name!r}: use {', '.join(NAMES)}.")


def checked_basemaps(
    names: list[str], default: str, *, tianditu_key: str, boundary_note: str
) -> list[BaseMap]:
    """The offered base maps, in the switcher's order; refuses a setting that cannot work
    (an unknown name, Tianditu without its key, a default that is not offered)."""
    if not names:
        raise ImproperlyConfigured("ANJU_BASEMAPS offers no base map.")
    named_basemap(default, tianditu_key=tianditu_key, boundary_note=boundary_note)
    offered = [
        named_basemap(n, tianditu_key=tianditu_key, boundary_note=boundary_note)
        for n in dict.fromkeys(names)
    ]
    if default not in names:
        raise ImproperlyConfigured(
            f"ANJU_BASEMAP={default!r} is not among ANJU_BASEMAPS ({', '.join(names)})."
        )
    return offered


def offered_basemaps() -> list[BaseMap]:
    """The base maps this deployment offers (ANJU_BASEMAPS), in the switcher's order."""
    return checked_basemaps(
        settings.ANJU_BASEMAPS,
        settings.ANJU_BASEMAP,
        tianditu_key=settings.ANJU_TIANDITU_KEY,
        boundary_note=settings.ANJU_BOUNDARY_ATTRIBUTION,
    )


def browser_basemaps() -> dict:
    """What every map's script needs to draw the base maps and the switcher."""
    return {
        "default": settings.ANJU_BASEMAP,
        "maps": [b.for_browser() for b in offered_basemaps()],
        "text": {
            "switch": str(_("切换底图")),
            "offline": str(_("底图无法加载，已改为显示本站地名。")),
        },
    }
