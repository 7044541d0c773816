"""Estate names for the part of a map in view (geo.map_base.estate_labels_in), for cities too
big to send every name with each map page. Public, cached and revalidated on the stock version
like the pages (a renamed estate shows at once); static/portal/js/map.js asks for a grid-aligned
box so visitors share cached answers."""

import math

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from geo.map_base import BBox, estate_labels_in
from layers.public_cache import public_page

MAX_SPAN = 1.0  # degrees: estate names show from zoom 14, whose view spans a few hundredths


def parse_bbox(value: str) -> BBox:
    """`minlon,minlat,maxlon,maxlat` in WGS84; ValueError with a Chinese message otherwise."""
    try:
        parts = [float(p) for p in value.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4 or not all(math.isfinite(p) for p in parts):
        raise ValueError(_("bbox 应为“最小经度,最小纬度,最大经度,最大纬度”四个数。"))
    xmin, ymin, xmax, ymax = parts
    if not (-180 <= xmin < xmax <= 180 and -90 <= ymin < ymax <= 90):
        raise ValueError(_("bbox 的经纬度超出范围，或最小值不小于最大值。"))
    if xmax - xmin > MAX_SPAN or ymax - ymin > MAX_SPAN:
        raise ValueError(_("bbox 范围过大：每边不超过 1 度。"))
    return xmin, ymin, xmax, ymax


@public_page
def map_labels(request: HttpRequest) -> HttpResponse:
    """`{"labels": [[name, "estate", lon, lat], …], "complete": bool}` for `?bbox=`."""
    try:
        bbox = parse_bbox(request.GET.get("bbox", ""))
    except ValueError as error:
        return JsonResponse({"error": str(error)}, status=400)
    labels, complete = estate_labels_in(bbox)
    return JsonResponse(
        {"labels": labels, "complete": complete}, json_dumps_params={"ensure_ascii": False}
    )
