"""What every map shares, public or staff: the base maps offered, the names our maps write
themselves (so a map stays readable when no base map tile loads) and where an estate's popup
leads. Drawn by static/portal/js/map.js; pages add their view and their own layers.

Each label is `[text, kind, lon, lat]` (WGS84, rounded to about a metre): compact, because a
city's regions travel with every map page. Which zooms show which kind, and how labels avoid
each other, is the browser's business.
"""

from collections.abc import Iterable

from django.conf import settings
from django.contrib.gis.db.models.functions import PointOnSurface
from django.contrib.gis.geos import Point
from django.db.models import CharField, F, Value
from django.urls import reverse
from django.utils.translation import gettext as _

from geo.basemaps import browser_basemaps
from geo.models import Building, Estate, Region

Label = list  # [text, kind, lon, lat]
DIGITS = 5
MAX_ZOOM = 19


def _label(text: str, kind: str, point: Point | None) -> Label | None:
    if point is None or not text:
        return None
    return [text, kind, round(point.x, DIGITS), round(point.y, DIGITS)]


def place_labels() -> list[Label]:
    """The city, its counties, streets and communities (each at a point inside its outline)
    and every published estate at its entrance: one query, as every map page asks for it."""
    regions = Region.objects.annotate(kind=F("level"), at=PointOnSurface("boundary"))
    estates = Estate.objects.published().annotate(
        kind=Value("estate", output_field=CharField()), at=F("location")
    )
    rows = (
        regions.order_by()
        .values_list("name", "kind", "at")
        .union(estates.order_by().values_list("name", "kind", "at"), all=True)
    )
    return [label for name, kind, at in rows if (label := _label(name, kind, at))]


def building_labels(buildings: Iterable[Building]) -> list[Label]:
    """Building numbers inside their footprints (buildings without one have no place)."""
    return [label for b in buildings if (label := _label(b.number, "building", b.position))]


def base_config(labels: list[Label] | None = None) -> dict:
    """A map's description before the page adds its view and layers: the city's view, the
    base maps, region and estate names (plus `labels`), and the estate popup's links."""
    return {
        "center": list(settings.ANJU_MAP_CENTER),
        "zoom": settings.ANJU_MAP_ZOOM,
        "maxZoom": MAX_ZOOM,
        "bounds": None,
        "basemaps": browser_basemaps(),
        "labels": place_labels() + (labels or []),
        "layers": [],
        "links": {"apply": reverse("apply"), "selfCheck": reverse("self-check")},
        "text": {
            "estate": _("查看项目与房源"),
            "apply": _("申请公租房"),
            "selfCheck": _("资格自测"),
        },
    }
