"""Leaflet maps for public pages: described here as JSON, drawn by static/portal/js/map.js.

A page carries its map's description in a `type="application/json"` element, never as
generated script, so the Content-Security-Policy can forbid inline script; names and
addresses travel as data and are shown as text, so they cannot become markup. Every map gets
the same base maps, switcher, scale and our own labels (geo.map_base.base_config).
"""

import json
from functools import cached_property

from django.contrib.gis.geos import GEOSGeometry
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags.static import static
from django.utils.html import format_html, json_script
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from geo import selectors, stock_version
from geo.map_base import base_config, building_labels
from geo.models import Building, Estate, Region

SCRIPTS = ("vendor/leaflet/leaflet.js", "portal/js/chinacrs.js", "portal/js/map.js")
STYLES = ("vendor/leaflet/leaflet.css", "portal/map.css")


class MapParts:
    """A map split for embedding in a Django template: `head`, `body` and `script`.

    `map_id` names both the map's element and the global variable holding the Leaflet map,
    for page scripts that draw on it (map-home.js).
    """

    def __init__(self, map_id: str, config: dict):
        self.map_id = map_id
        self.config = config

    @property
    def head(self) -> SafeString:
        return SafeString(
            "\n".join(format_html('<link rel="stylesheet" href="{}">', static(s)) for s in STYLES)
        )

    @cached_property
    def body(self) -> SafeString:
        config_id = f"{self.map_id}-config"
        return format_html(
            '<div id="{}" class="map-canvas" data-map-config="{}"></div>\n{}',
            self.map_id,
            config_id,
            json_script(self.config, config_id),
        )

    @property
    def script(self) -> SafeString:
        return SafeString(
            "\n".join(format_html('<script src="{}"></script>', static(s)) for s in SCRIPTS)
        )


def _layer(
    features: list[dict], style: dict, tooltip: str | None = None, popup: str | None = None
) -> dict:
    """GeoJSON features drawn in one style; `tooltip` names the property shown on hover and
    `popup` the kind of popup a click opens ("estate": its page, applying, the self-check)."""
    return {
        "data": {"type": "FeatureCollection", "features": features},
        "style": style,
        "tooltip": tooltip,
        "popup": popup,
    }


def _feature(geometry: GEOSGeometry, **properties) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": json.loads(geometry.geojson)}


def _bounds(extent: tuple[float, float, float, float]) -> list[list[float]]:
    xmin, ymin, xmax, ymax = extent
    return [[ymin, xmin], [ymax, xmax]]


def city_map() -> MapParts:
    """The home map: county outlines and every name; estates are drawn by map-home.js. The
    same for every visitor, so built (and serialised) once per stock version and language."""
    key = (stock_version.current(), get_language())
    parts = _CITY_MAP.get(key)
    if parts is None:
        _CITY_MAP.clear()
        regions = list(selectors.districts())
        parts = _CITY_MAP[key] = MapParts("map_city", _city_config(regions, key))
    return parts


# Per process, one entry: the map's outlines and names change only with the stock.
_CITY_MAP: dict[tuple[int, str], "MapParts"] = {}
_BASE: dict[tuple[int, str], dict] = {}


def _base_config(labels: list | None = None, key: tuple[int, str] | None = None) -> dict:
    """base_config() with the place names (every region and estate) built once per stock
    version and language; the copy returned may be changed at its top level."""
    key = key or (stock_version.current(), get_language())
    base = _BASE.get(key)
    if base is None:
        _BASE.clear()
        base = _BASE[key] = base_config()
    config = dict(base)
    config["layers"] = []
    config["labels"] = base["labels"] + (labels or [])
    return config


def _city_config(regions: list[Region], key: tuple[int, str]) -> dict:
    config = _base_config(key=key)
    if regions:
        features = [_feature(r.boundary, name=r.name, adcode=r.adcode) for r in regions]
        config["layers"].append(
            _layer(
                features,
                {"color": "#2f5d8a", "weight": 2, "fillColor": "#9dc3e6", "fillOpacity": 0.08},
            )
        )
        config["bounds"] = _bounds(_extent(r.boundary.extent for r in regions))
    return config


def estate_map(estate: Estate, buildings: list[Building]) -> MapParts:
    """An estate's site: its boundary, building footprints and numbers, and its entrance."""
    location = estate.location
    config = _base_config(building_labels(buildings))
    config["center"], config["zoom"] = [location.y, location.x], 17
    if estate.boundary:
        config["layers"].append(
            _layer(
                [_feature(estate.boundary)], {"color": "#b5442c", "weight": 2, "fillOpacity": 0.05}
            )
        )
        config["bounds"] = _bounds(estate.boundary.extent)
    footprints = [
        _feature(
            b.footprint,
            label=f"{b.number}（{b.floors}层{'，有电梯' if b.elevator else ''}）",
        )
        for b in buildings
        if b.footprint
    ]
    if footprints:
        config["layers"].append(
            _layer(footprints, {"color": "#555", "weight": 1, "fillOpacity": 0.3}, "label")
        )
    # The entrance: a ring, as a circle marker without fill; a click offers to apply.
    entrance = _feature(location, label=estate.name, name=estate.name, address=estate.address)
    config["layers"].append(
        _layer([entrance], {"color": "#b5442c", "radius": 7, "fill": False}, "label", "estate")
    )
    return MapParts("map_estate", config)


def _extent(extents) -> tuple[float, float, float, float]:
    boxes = list(extents)
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def forget() -> None:
    """Drop the maps built so far (they are rebuilt on the next page)."""
    _CITY_MAP.clear()
    _BASE.clear()


@receiver(setting_changed)
def _settings_changed(**kwargs) -> None:
    """The cached maps hold settings (base maps, the city's view): forget them on a change."""
    forget()
