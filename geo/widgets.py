"""An OpenLayers geometry widget whose scripts and styles are served by us, with no remote tiles."""

from django.conf import settings
from django.contrib.gis.forms.widgets import OSMWidget


class LocalMapWidget(OSMWidget):
    template_name = "geo/widgets/map.html"

    class Media:
        extend = False  # replace, not add to, Django's CDN-hosted OpenLayers
        css = {"all": ("vendor/ol/ol.css", "gis/css/ol3.css")}
        js = ("vendor/ol/dist/ol.js", "gis/js/OLMapWidget.js")

    def __init__(self, attrs: dict | None = None):
        lat, lon = settings.ANJU_MAP_CENTER
        defaults = {"default_lat": lat, "default_lon": lon, "default_zoom": 10}
        super().__init__({**defaults, **(attrs or {})})
