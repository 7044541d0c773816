"""What every map shares, public or staff: the base maps offered, the names our maps write
themselves (so a map stays readable when no base map tile loads) and where an estate's popup
leads. Drawn by static/portal/js/map.js; pages add their view and their own layers.

Each label is `[text, kind, lon, lat]` (WGS84, rounded to about a metre): compact, because a
city's regions travel with every map page. Estate names travel with the page only in a small
city (settings.ANJU_MAP_INLINE_ESTATE_LABELS); a province's 5,000 would make every map page
440 KB for names that show only from zoom 14, so there the map fetches the names of the
estates in view (`estate_labels_in`, served at `labelsUrl`). Which zooms show which kind, and
how labels avoid each other, is the browser's business.
"""

from collections.abc import Iterable

from django.conf import settings
from django.contrib.gis.db.models.functions import PointOnSurface
from django.contrib.gis.geos import Point, Polygon
from django.db.models import CharField, F, QuerySet, Value
from django.urls import reverse
from django.utils.translation import gettext as _

from geo.basemaps import browser_basemaps
from geo.models import Building, Estate, Region

Label = list  # [text, kind, lon, lat]
BBox = tuple[float, float, float, float]  # min lon, min lat, max lon, max lat (WGS84)
DIGITS = 5
MAX_ZOOM = 19
LABELS_PER_VIEW = 1000  # a view at estate zoom holds a few dozen; this only bounds a response


def _label(text: str, kind: str, point: Point | None) -> Label | None:
    if point is None or not text:
        return None
    return [text, kind, round(point.x, DIGITS), round(point.y, DIGITS)]


def _estates() -> QuerySet:
    return Estate.objects.published().annotate(
        kind=Value("estate", output_field=CharField()), at=F("location")
    )


def _place_labels() -> tuple[list[Label], bool]:
    """The place labels, and whether every published estate is among them."""
    regions = Region.objects.annotate(kind=F("level"), at=PointOnSurface("boundary"))
    inline = settings.ANJU_MAP_INLINE_ESTATE_LABELS
    estates = _estates().order_by()[: inline + 1]
    rows = list(
        regions.order_by()
        .values_list("name", "kind", "at")
        .union(estates.values_list("name", "kind", "at"), all=True)
    )
    labels = [label for name, kind, at in rows if (label := _label(name, kind, at))]
    if sum(kind == "estate" for _name, kind, _at in rows) <= inline:
        return labels, True
    return [label for label in labels if label[1] != "estate"], False


def place_labels() -> list[Label]:
    """The city, its counties, streets and communities (each at a point inside its outline)
    and, in a small city, every published estate at its entrance: one query, as every map page
    asks for it. No estates when there are more than settings.ANJU_MAP_INLINE_ESTATE_LABELS."""
    return _place_labels()[0]


def estate_labels_in(bbox: BBox) -> tuple[list[Label], bool]:
    """The published estates whose entrance is inside `bbox`, and whether that is all of them
    (False when LABELS_PER_VIEW cut the list)."""
    box = Polygon.from_bbox(bbox)
    box.srid = 4326
    rows = list(
        _estates()
        .filter(location__contained=box)
        .order_by("id")
        .values_list("name", "kind", "at")[: LABELS_PER_VIEW + 1]
    )
    labels = [
        label for name, kind, at in rows[:LABELS_PER_VIEW] if (label := _label(name, kind, at))
    ]
    return labels, len(rows) <= LABELS_PER_VIEW


def building_labels(buildings: Iterable[Building]) -> list[Label]:
    """Building numbers inside their footprints (buildings without one have no place)."""
    return [label for b in buildings if (label := _label(b.number, "building", b.position))]


def base_config(extra_labels: list[Label] | None = None) -> dict:
    """A map's description before the page adds its view and layers: the city's view, the
    base maps, region and estate names (plus `extra_labels`), and the estate popup's links. In a
    big city `labelsUrl` is where the map fetches the estate names of its view."""
    labels, inline = _place_labels()
    return {
        "center": list(settings.ANJU_MAP_CENTER),
        "zoom": settings.ANJU_MAP_ZOOM,
        "maxZoom": MAX_ZOOM,
        "bounds": None,
        "basemaps": browser_basemaps(),
        "labels": labels + (extra_labels or []),
        "labelsUrl": None if inline else reverse("map-labels"),
        "layers": [],
        "links": {"apply": reverse("apply"), "selfCheck": reverse("self-check")},
        "text": {
            "estate": _("查看项目与房源"),
            "apply": _("申请公租房"),
            "selfCheck": _("资格自测"),
        },
    }
