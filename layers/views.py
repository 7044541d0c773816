"""Vector tiles and TileJSON for every registered layer."""

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotFound, JsonResponse
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from geo.vacancy import VacancyQuery, parse_vacancy_query
from layers.registry import LAYERS, Layer
from layers.tile_cache import cached_tile
from layers.tiles import render_tile, valid_tile

# Kept by caches, but asked again each time: the answer is a 304 until the stock changes.
TILE_CACHE_CONTROL = "public, no-cache"
MVT = "application/vnd.mapbox-vector-tile"


def _layer(name: str) -> Layer:
    layer = LAYERS.get(name)
    if layer is None:
        raise Http404(_("没有名为 %(name)s 的图层") % {"name": name})
    return layer


def _query(request: HttpRequest, layer: Layer) -> VacancyQuery:
    if not request.GET or not layer.filterable:  # most tiles: no form to read
        return VacancyQuery()
    return parse_vacancy_query(request.GET)[0]


@require_GET
def tile(request: HttpRequest, layer: str, z: int, x: int, y: int) -> HttpResponse:
    """One tile, rendered in one SQL statement once per stock version and then served from the
    tile cache; 204 when empty. The ETag is the content's hash, Last-Modified when it was
    rendered; browsers revalidate every time (304 is cheap), so a stock change shows at once."""
    spec = _layer(layer)
    if not valid_tile(z, x, y) or not (spec.min_zoom <= z <= spec.max_zoom):
        return _bad_address(spec, z, x, y)
    query = _query(request, spec)
    cached = cached_tile(spec.name, query, z, x, y, lambda: render_tile(spec, query, z, x, y))
    if not cached.data:
        response = HttpResponse(status=204)
    else:
        response = get_conditional_response(
            request,
            etag=cached.etag,
            last_modified=int(cached.modified),
            response=HttpResponse(cached.data, content_type=MVT),
        )
        response["ETag"] = cached.etag
        response["Last-Modified"] = http_date(cached.modified)
    response["Cache-Control"] = TILE_CACHE_CONTROL
    response["Vary"] = "Accept-Encoding"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _bad_address(spec: Layer, z: int, x: int, y: int) -> HttpResponse:
    """404 naming what is wrong with the address, in plain text a tile client can show."""
    message = _(
        "瓦片坐标超出范围：z=%(z)s, x=%(x)s, y=%(y)s。图层 %(layer)s 的缩放级别为 "
        "%(low)s–%(high)s，x 和 y 应在 0 到 2^z−1 之间。"
    ) % {"z": z, "x": x, "y": y, "layer": spec.name, "low": spec.min_zoom, "high": spec.max_zoom}
    response = HttpResponseNotFound(message, content_type="text/plain; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def tilejson(request: HttpRequest, layer: str) -> JsonResponse:
    """TileJSON 3.0 describing the layer, with the request's filters carried into the URL."""
    spec = _layer(layer)
    query = _query(request, spec)
    template = request.build_absolute_uri(
        reverse("tile", kwargs={"layer": spec.name, "z": 0, "x": 0, "y": 0})
    ).replace("/0/0/0.pbf", "/{z}/{x}/{y}.pbf")
    params = query.as_params()
    if params:
        template += "?" + urlencode(params)
    layers = [
        {
            "id": spec.name,
            "fields": spec.fields,
            "minzoom": spec.detail_zoom if spec.aggregate else spec.min_zoom,
            "maxzoom": spec.max_zoom,
            "description": spec.description,
        }
    ]
    if spec.aggregate is not None:
        layers.append(
            {
                "id": "estates",
                "fields": LAYERS["estates"].fields,
                "minzoom": spec.min_zoom,
                "maxzoom": (spec.detail_zoom or 1) - 1,
                "description": _("低缩放级别按项目汇总的空置房源套数"),
            }
        )
    response = JsonResponse(
        {
            "tilejson": "3.0.0",
            "name": spec.title,
            "description": spec.description,
            "scheme": "xyz",
            "tiles": [template],
            "minzoom": spec.min_zoom,
            "maxzoom": spec.max_zoom,
            "vector_layers": layers,
        },
        json_dumps_params={"ensure_ascii": False},
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response
