"""Leaflet maps for public pages: described here as JSON, drawn by static/portal/js/map.js.

A page carries its map's description in a `type="application/json"` element, never as
generated script, so the Content-Security-Policy can forbid inline script; names and
addresses travel as data and are shown as text, so they cannot become markup.
"""

import json

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.templatetags.static import static
from django.utils.html import format_html, json_script
from django.utils.safestring import SafeString
from shapely import wkb

from geo import crs
from geo.models import Building, Estate, Region
from portal.basemaps import BaseMap

MAX_ZOOM = 19


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
        return format_html(
            '<link rel="stylesheet" href="{}">\n<link rel="stylesheet" href="{}">',
            static("vendor/leaflet/leaflet.css"),
            static("portal/map.css"),
        )

    @property
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
        return format_html(
            '<script src="{}"></script>\n<script src="{}"></script>',
            static("vendor/leaflet/leaflet.js"),
            static("portal/js/map.js"),
        )


def _config(location: tuple[float, float], zoom: int, basemap: BaseMap) -> dict:
    """A map centred on (lat, lon) over the base map, with no layers yet."""
    tiles = None
    if basemap.tiles:
        tiles = {
            "url": basemap.tiles,
            "attribution": basemap.attribution,
            "subdomains": basemap.subdomains or "abc",
            "maxZoom": basemap.max_zoom,
        }
    return {
        "center": list(location),
        "zoom": zoom,
        "maxZoom": MAX_ZOOM,
        "tiles": tiles,
        # Without a tile layer the attribution still names where our boundaries come from.
        "attribution": None if basemap.tiles else basemap.attribution,
        "bounds": None,
        "layers": [],
    }


def _layer(features: list[dict], style: dict, tooltip: str | None = None) -> dict:
    """GeoJSON features drawn in one style; `tooltip` names the property shown on hover."""
    return {
        "data": {"type": "FeatureCollection", "features": features},
        "style": style,
        "tooltip": tooltip,
    }


def _feature(geometry: GEOSGeometry, **properties) -> dict:
    return {"type": "Feature", "properties": properties, "geometry": json.loads(geometry.geojson)}


def _bounds(extent: tuple[float, float, float, float]) -> list[list[float]]:
    xmin, ymin, xmax, ymax = extent
    return [[ymin, xmin], [ymax, xmax]]


def city_map(regions: list[Region], basemap: BaseMap) -> MapParts:
    """The home map: base map and county outlines; estates are drawn by map-home.js."""
    config = _config(settings.ANJU_MAP_CENTER, settings.ANJU_MAP_ZOOM, basemap)
    if regions:
        shift = _shift(basemap)
        features = [_feature(shift(r.boundary), name=r.name, adcode=r.adcode) for r in regions]
        config["layers"].append(
            _layer(
                features,
                {"color": "#2f5d8a", "weight": 2, "fillColor": "#9dc3e6", "fillOpacity": 0.08},
                tooltip="name",
            )
        )
        config["bounds"] = _bounds(_extent(r.boundary.extent for r in regions))
    return MapParts("map_city", config)


def estate_map(estate: Estate, buildings: list[Building], basemap: BaseMap) -> MapParts:
    """An estate's site: its boundary, building footprints and entrance point."""
    shift = _shift(basemap)
    location = shift(estate.location)
    config = _config((location.y, location.x), 17, basemap)
    if estate.boundary:
        boundary = shift(estate.boundary)
        config["layers"].append(
            _layer([_feature(boundary)], {"color": "#b5442c", "weight": 2, "fillOpacity": 0.05})
        )
        config["bounds"] = _bounds(boundary.extent)
    footprints = [
        _feature(
            shift(b.footprint),
            label=f"{b.number}（{b.floors}层{'，有电梯' if b.elevator else ''}）",
        )
        for b in buildings
        if b.footprint
    ]
    if footprints:
        config["layers"].append(
            _layer(footprints, {"color": "#555", "weight": 1, "fillOpacity": 0.3}, "label")
        )
    # The entrance: a ring, as a circle marker without fill.
    config["layers"].append(
        _layer(
            [_feature(location, label=estate.name)],
            {"color": "#b5442c", "radius": 7, "fill": False},
            "label",
        )
    )
    return MapParts("map_estate", config)


def _shift(basemap: BaseMap):
    """Our WGS84 geometry as drawn on the base map: unchanged, or moved to GCJ-02."""
    if not basemap.shifted:
        return lambda geom: geom

    def to_gcj02(geom):
        moved = crs.transform_geometry(wkb.loads(bytes(geom.wkb)), crs.wgs84_to_gcj02)
        return GEOSGeometry(memoryview(moved.wkb), srid=4326)

    return to_gcj02


def _extent(extents) -> tuple[float, float, float, float]:
    boxes = list(extents)
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
