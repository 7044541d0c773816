"""The staff map editor: a geometry field that is a text of coordinates, drawn and edited on
the site's Leaflet map (same base maps and names as the public maps).

The text is the field's value ("经度,纬度" per line, geo/geometry_text.py), so a geometry can
be typed, pasted or corrected by keyboard, works without JavaScript, and a mistake is reported
with its line; clicking and dragging on the map (static/geo/map-widget.js) rewrites the text.
"""

from django.contrib.gis.forms.widgets import BaseGeometryWidget
from django.contrib.gis.geos import GEOSGeometry
from django.utils.translation import gettext_lazy as _

from geo import geometry_text
from geo.map_base import base_config

# Widget settings that are not HTML attributes.
OPTIONS = ("geom_type", "map_srid", "display_raw", "default_lat", "default_lon", "default_zoom")
HINTS = {
    "POINT": _(
        "在地图上点击选定位置（可拖动标记调整），或在下框输入“经度,纬度”，如 115.7812,33.8456。"
    ),
    "POLYGON": _(
        "在地图上依次点击各个角点（可拖动调整，右键删除一点），或在下框每行输入一个“经度,纬度”。"
    ),
    "MULTIPOLYGON": _(
        "在地图上依次点击各块的角点，或在下框每行输入一个“经度,纬度”，各块之间空一行。"
    ),
}
PASTE_HINT = _("请粘贴 GeoJSON 或 WKT。")


class LocalMapWidget(BaseGeometryWidget):
    template_name = "geo/widgets/map.html"
    map_srid = 4326

    class Media:
        css = {"all": ("vendor/leaflet/leaflet.css", "portal/map.css", "geo/map-widget.css")}
        js = (
            "vendor/leaflet/leaflet.js",
            "portal/js/chinacrs.js",
            "portal/js/map.js",
            "geo/geometry-text.js",
        )

    def serialize(self, value: GEOSGeometry | None) -> str:
        return geometry_text.to_text(value)

    def deserialize(self, value: str) -> GEOSGeometry | None:
        """Raises ValidationError naming the line at fault (GeometryField shows it)."""
        return geometry_text.from_text(value, self.attrs["geom_type"])

    def format_value(self, value) -> str:
        # A bound form shows exactly what was typed, mistakes included, to be corrected.
        return value if isinstance(value, str) else self.serialize(value)

    def get_context(self, name: str, value, attrs: dict | None) -> dict:
        kind = str(self.attrs["geom_type"]).upper()
        html_attrs = {
            k: v for k, v in self.build_attrs(self.attrs, attrs).items() if k not in OPTIONS
        }
        widget_id = html_attrs.get("id") or f"id_{name}"
        hint_id = f"{widget_id}_hint"
        described = " ".join(filter(None, [html_attrs.pop("aria-describedby", ""), hint_id]))
        map_config = base_config()
        if self.attrs.get("default_lat") is not None:  # e.g. a new building: at its estate
            map_config["center"] = [self.attrs["default_lat"], self.attrs["default_lon"]]
            map_config["zoom"] = self.attrs.get("default_zoom", 17)
        return {
            "widget": {
                "name": name,
                "id": widget_id,
                "kind": kind,
                "value": self.format_value(value),
                "attrs": {**html_attrs, "id": widget_id, "aria-describedby": described},
                "rows": 1 if kind == "POINT" else 6,
                "hint": HINTS.get(kind, PASTE_HINT),
                "hint_id": hint_id,
                "config_id": f"{widget_id}_editor_config",
                "config": {"map": map_config, "messages": geometry_text.messages()},
            }
        }
