"""Folium maps for public pages, wired to Leaflet assets served from our own static files.

Folium's defaults load scripts from CDNs; each map gets its own asset lists instead (mutating
the class lists would change every map in the process).
"""

import json

import folium
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.templatetags.static import static
from django.utils.html import escape
from django.utils.safestring import mark_safe
from shapely import wkb

from geo import crs
from geo.models import Building, Estate, Region
from portal.basemaps import BaseMap

MAX_ZOOM = 19


def _local_js() -> list[tuple[str, str]]:
    return [
        ("leaflet", static("vendor/leaflet/leaflet.js")),
        ("jquery", static("vendor/jquery/jquery.min.js")),
    ]


def _local_css() -> list[tuple[str, str]]:
    return [("leaflet_css", static("vendor/leaflet/leaflet.css"))]


def _new_map(location: tuple[float, float], zoom: int, basemap: BaseMap) -> folium.Map:
    fmap = folium.Map(
        location=location,
        zoom_start=zoom,
        tiles=None,
        max_zoom=MAX_ZOOM,
        control_scale=True,
        prefer_canvas=False,
    )
    if basemap.tiles:
        folium.TileLayer(
            tiles=basemap.tiles,
            attr=basemap.attribution,
            name=basemap.name,
            max_zoom=basemap.max_zoom,
            subdomains=basemap.subdomains or "abc",
        ).add_to(fmap)
    # Without a tile layer the attribution still names where our boundaries come from.
    fmap.attribution = None if basemap.tiles else basemap.attribution
    # Without a tile layer folium drops max_zoom, and the marker cluster needs it on the map.
    fmap.options["max_zoom"] = MAX_ZOOM
    fmap.default_js = _local_js()
    fmap.default_css = _local_css()
    return fmap


class MapParts:
    """A rendered folium map split for embedding in a Django template."""

    def __init__(self, fmap: folium.Map):
        figure = fmap.get_root()
        figure.render()
        self.head = mark_safe(figure.header.render())
        self.body = mark_safe(figure.html.render())
        script = figure.script.render()
        attribution = getattr(fmap, "attribution", None)
        if attribution:
            script += (
                f"\n{fmap.get_name()}.attributionControl.addAttribution({_js_string(attribution)});"
            )
        self.script = mark_safe(f"<script>{script}</script>")
        self.map_id = fmap.get_name()


def _region_layer(regions: list[Region], basemap: BaseMap) -> folium.GeoJson:
    shift = _shift(basemap)
    features = [
        {
            "type": "Feature",
            "properties": {"name": safe_text(r.name), "adcode": r.adcode},
            "geometry": json.loads(shift(r.boundary).geojson),
        }
        for r in regions
    ]
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name="区县边界",
        style_function=lambda _f: {
            "color": "#2f5d8a",
            "weight": 2,
            "fillColor": "#9dc3e6",
            "fillOpacity": 0.08,
        },
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
    )


def city_map(regions: list[Region], basemap: BaseMap) -> MapParts:
    """The home map: base map and county outlines; estates are drawn by map-home.js."""
    fmap = _new_map(settings.ANJU_MAP_CENTER, settings.ANJU_MAP_ZOOM, basemap)
    if regions:
        _region_layer(regions, basemap).add_to(fmap)
        xmin, ymin, xmax, ymax = _extent(r.boundary.extent for r in regions)
        fmap.fit_bounds([[ymin, xmin], [ymax, xmax]])
    return MapParts(fmap)


def estate_map(estate: Estate, buildings: list[Building], basemap: BaseMap) -> MapParts:
    """An estate's site: its boundary, building footprints and entrance point."""
    shift = _shift(basemap)
    location = shift(estate.location)
    fmap = _new_map((location.y, location.x), 17, basemap)
    if estate.boundary:
        boundary = shift(estate.boundary)
        folium.GeoJson(
            json.loads(boundary.geojson),
            name="用地边界",
            style_function=lambda _f: {"color": "#b5442c", "weight": 2, "fillOpacity": 0.05},
        ).add_to(fmap)
        xmin, ymin, xmax, ymax = boundary.extent
        fmap.fit_bounds([[ymin, xmin], [ymax, xmax]])
    for b in buildings:
        if b.footprint:
            folium.GeoJson(
                json.loads(shift(b.footprint).geojson),
                style_function=lambda _f: {"color": "#555", "weight": 1, "fillOpacity": 0.3},
                tooltip=safe_text(f"{b.number}（{b.floors}层{'，有电梯' if b.elevator else ''}）"),
            ).add_to(fmap)
    folium.CircleMarker(
        (location.y, location.x), radius=7, color="#b5442c", tooltip=safe_text(estate.name)
    ).add_to(fmap)
    return MapParts(fmap)


def _shift(basemap: BaseMap):
    """Our WGS84 geometry as drawn on the base map: unchanged, or moved to GCJ-02."""
    if not basemap.shifted:
        return lambda geom: geom

    def to_gcj02(geom):
        moved = crs.transform_geometry(wkb.loads(bytes(geom.wkb)), crs.wgs84_to_gcj02)
        return GEOSGeometry(memoryview(moved.wkb), srid=4326)

    return to_gcj02


def safe_text(text: str) -> str:
    """Text for folium tooltips, which folium pastes unescaped into HTML inside a JS template
    string: escape HTML, and the characters that end or interpolate the template."""
    return escape(text).replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def _js_string(text: str) -> str:
    """A JavaScript string literal safe inside a <script> element."""
    return json.dumps(text, ensure_ascii=False).replace("</", "<\\/")


def _extent(extents) -> tuple[float, float, float, float]:
    boxes = list(extents)
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
