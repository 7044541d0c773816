"""Folium maps for public pages, wired to Leaflet assets served from our own static files.

Folium's defaults load scripts from CDNs; each map gets its own asset lists instead (mutating
the class lists would change every map in the process).
"""

import json

import folium
from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from folium.plugins import MarkerCluster

from geo.models import Building, Estate, Region

MAX_ZOOM = 19
# A cluster shows the vacant units of the estates inside it, not how many markers it holds.
CLUSTER_ICON_JS = """
function (cluster) {
  var vacant = cluster.getAllChildMarkers().reduce(function (sum, m) {
    return sum + (m.options.vacant || 0);
  }, 0);
  return L.divIcon({
    html: '<div class="estate-cluster" aria-hidden="true">' + vacant + '</div>',
    className: 'estate-marker-wrap', iconSize: L.point(44, 44)
  });
}
"""


def _local_js() -> list[tuple[str, str]]:
    return [
        ("leaflet", static("vendor/leaflet/leaflet.js")),
        ("jquery", static("vendor/jquery/jquery.min.js")),
    ]


def _local_css() -> list[tuple[str, str]]:
    return [("leaflet_css", static("vendor/leaflet/leaflet.css"))]


def _new_map(location: tuple[float, float], zoom: int) -> folium.Map:
    fmap = folium.Map(
        location=location,
        zoom_start=zoom,
        tiles=None,
        max_zoom=MAX_ZOOM,
        control_scale=True,
        prefer_canvas=False,
    )
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
        self.script = mark_safe(f"<script>{figure.script.render()}</script>")
        self.map_id = fmap.get_name()


def _region_layer(regions: list[Region]) -> folium.GeoJson:
    features = [
        {
            "type": "Feature",
            "properties": {"name": r.name, "adcode": r.adcode},
            "geometry": json.loads(r.boundary.geojson),
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


def _count_icon(count: int) -> folium.DivIcon:
    css = "estate-marker estate-marker--vacant" if count else "estate-marker"
    return folium.DivIcon(
        html=f'<div class="{css}" aria-hidden="true">{count}</div>',
        icon_size=(34, 34),
        icon_anchor=(17, 17),
        class_name="estate-marker-wrap",
    )


def _popup(estate: Estate) -> folium.Popup:
    url = reverse("estate-detail", args=[estate.pk])
    vacant = getattr(estate, "vacant_count", 0)
    html = (
        f"<strong>{escape(estate.name)}</strong><br>{escape(estate.address)}<br>"
        f"空置房源 {vacant} 套<br>"
        f'<a href="{escape(url)}">查看项目与房源</a>'
    )
    return folium.Popup(html, max_width=260)


def city_map(estates: list[Estate], regions: list[Region]) -> MapParts:
    """The home map: county outlines and clustered estate markers labelled by vacant units."""
    fmap = _new_map(settings.ANJU_MAP_CENTER, settings.ANJU_MAP_ZOOM)
    if regions:
        _region_layer(regions).add_to(fmap)
        xmin, ymin, xmax, ymax = _extent(r.boundary.extent for r in regions)
        fmap.fit_bounds([[ymin, xmin], [ymax, xmax]])
    cluster = MarkerCluster(
        name="项目",
        options={"showCoverageOnHover": False},
        icon_create_function=CLUSTER_ICON_JS,
    )
    cluster.default_js = [
        ("markerclusterjs", static("vendor/leaflet.markercluster/leaflet.markercluster.js"))
    ]
    cluster.default_css = [
        ("markerclustercss", static("vendor/leaflet.markercluster/MarkerCluster.css")),
        (
            "markerclusterdefaultcss",
            static("vendor/leaflet.markercluster/MarkerCluster.Default.css"),
        ),
    ]
    cluster.add_to(fmap)
    for estate in estates:
        count = getattr(estate, "vacant_count", 0)
        folium.Marker(
            location=(estate.location.y, estate.location.x),
            icon=_count_icon(count),
            popup=_popup(estate),
            tooltip=f"{estate.name}：空置 {count} 套",
            vacant=count,
        ).add_to(cluster)
    return MapParts(fmap)


def estate_map(estate: Estate, buildings: list[Building]) -> MapParts:
    """An estate's site: its boundary, building footprints and entrance point."""
    fmap = _new_map((estate.location.y, estate.location.x), 17)
    if estate.boundary:
        folium.GeoJson(
            json.loads(estate.boundary.geojson),
            name="用地边界",
            style_function=lambda _f: {"color": "#b5442c", "weight": 2, "fillOpacity": 0.05},
        ).add_to(fmap)
        xmin, ymin, xmax, ymax = estate.boundary.extent
        fmap.fit_bounds([[ymin, xmin], [ymax, xmax]])
    for b in buildings:
        if b.footprint:
            folium.GeoJson(
                json.loads(b.footprint.geojson),
                style_function=lambda _f: {"color": "#555", "weight": 1, "fillOpacity": 0.3},
                tooltip=f"{b.number}（{b.floors}层{'，有电梯' if b.elevator else ''}）",
            ).add_to(fmap)
    folium.CircleMarker(
        (estate.location.y, estate.location.x), radius=7, color="#b5442c", tooltip=estate.name
    ).add_to(fmap)
    return MapParts(fmap)


def _extent(extents) -> tuple[float, float, float, float]:
    boxes = list(extents)
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
