"""OGC API – Features, Part 1 Core (/ogc/), so QGIS and GDAL read our layers over open standards.

Collections are the registered layers; items are each layer's public rows, filtered by bbox,
the map's filters and exact property values, paged with limit/offset and `next` links.
JSON (GeoJSON for features) by default, HTML with `f=html` or a browser's Accept header.
"""

import json
import math
from decimal import Decimal, InvalidOperation

from django.contrib.gis.db.models import Extent
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.contrib.gis.geos import Polygon
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from geo.vacancy import VacancyForm, VacancyQuery
from layers.registry import BOOLEAN, INTEGER, LAYERS, NUMBER, Layer

JSON = "application/json"
GEOJSON = "application/geo+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
DEFAULT_LIMIT, MAX_LIMIT = 10, 10_000
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]
COMMON_PARAMS = {"f", "limit", "offset", "after", "bbox", "bbox-crs", "datetime"}
FORMATS = ("json", "geojson", "html")


class BadRequest(Exception):
    """A parameter the client must fix; answered with 400 and the reason."""


def _wants_html(request: HttpRequest) -> bool:
    fmt = request.GET.get("f")
    if fmt:
        return fmt == "html"
    accept = request.headers.get("Accept", "")
    return "text/html" in accept and "json" not in accept


def _url(request: HttpRequest, name: str, **kwargs) -> str:
    return request.build_absolute_uri(reverse(name, kwargs=kwargs or None))


def _json(data: dict, content_type: str = "application/json", status: int = 200) -> JsonResponse:
    response = JsonResponse(
        data, status=status, content_type=content_type, json_dumps_params={"ensure_ascii": False}
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _error(status: int, message: str) -> JsonResponse:
    return _json({"code": str(status), "description": message}, status=status)


def _layer(collection_id: str) -> Layer:
    layer = LAYERS.get(collection_id)
    if layer is None:
        raise Http404(_("没有名为 %(name)s 的数据集") % {"name": collection_id})
    return layer


def _link(href: str, rel: str, media_type: str, title: str = "") -> dict:
    return {"href": href, "rel": rel, "type": media_type, "title": title}


def _links(request: HttpRequest, name: str, title: str, **kwargs) -> list[dict]:
    here = _url(request, name, **kwargs)
    return [
        _link(here + "?f=json", "self", JSON, title),
        _link(
            here + "?f=html", "alternate", "text/html", _("%(title)s（网页）") % {"title": title}
        ),
    ]


@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    data = {
        "title": _("安居公租房开放数据（OGC API – Features）"),
        "description": _("已公开的公租房项目、空置房源和区县边界，WGS84 经纬度（CRS84）。"),
        "links": [
            *_links(request, "ogc-landing", _("本页")),
            _link(_url(request, "ogc-openapi"), "service-desc", OPENAPI, _("OpenAPI 定义")),
            _link(_url(request, "api-docs"), "service-doc", "text/html", _("API 文档")),
            _link(_url(request, "ogc-conformance"), "conformance", JSON, _("符合的标准")),
            _link(_url(request, "ogc-collections"), "data", JSON, _("数据集")),
        ],
    }
    if _wants_html(request):
        return render(request, "ogc/landing.html", {"data": data})
    return _json(data)


@require_GET
def conformance(request: HttpRequest) -> HttpResponse:
    data = {"conformsTo": CONFORMANCE}
    if _wants_html(request):
        return render(request, "ogc/conformance.html", {"data": data})
    return _json(data)


def _extent(layer: Layer) -> list[float]:
    """The bounding box of the layer's public rows, one aggregate query."""
    extent = layer.rows(VacancyQuery()).aggregate(e=Extent("geom"))["e"]
    return list(extent) if extent else [-180.0, -90.0, 180.0, 90.0]


def _collection(request: HttpRequest, layer: Layer) -> dict:
    bbox = _extent(layer)
    items_url = _url(request, "ogc-items", collection_id=layer.name)
    return {
        "id": layer.name,
        "title": layer.title,
        "description": layer.description,
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [bbox], "crs": CRS84}},
        "links": [
            *_links(request, "ogc-collection", layer.title, collection_id=layer.name),
            _link(items_url + "?f=json", "items", GEOJSON, layer.title),
            _link(
                items_url + "?f=html",
                "items",
                "text/html",
                _("%(title)s（网页）") % {"title": layer.title},
            ),
        ],
    }


@require_GET
def collections(request: HttpRequest) -> HttpResponse:
    data = {
        "links": _links(request, "ogc-collections", _("数据集")),
        "collections": [_collection(request, layer) for layer in LAYERS.values()],
    }
    if _wants_html(request):
        return render(request, "ogc/collections.html", {"data": data})
    return _json(data)


@require_GET
def collection(request: HttpRequest, collection_id: str) -> HttpResponse:
    data = _collection(request, _layer(collection_id))
    if _wants_html(request):
        return render(request, "ogc/collection.html", {"data": data})
    return _json(data)


def _parse_bbox(raw: str | None) -> Polygon | None:
    if not raw:
        return None
    try:
        numbers = [float(v) for v in raw.split(",")]
    except ValueError:
        raise BadRequest(_("bbox 应为逗号分隔的 4 个数字：minLon,minLat,maxLon,maxLat")) from None
    if not all(math.isfinite(n) for n in numbers):
        raise BadRequest(_("bbox 含有无效数值"))
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or numbers[0] > numbers[2] or numbers[1] > numbers[3]:
        raise BadRequest(_("bbox 应为 minLon,minLat,maxLon,maxLat"))
    if not (numbers[0] >= -180 and numbers[2] <= 180 and numbers[1] >= -90 and numbers[3] <= 90):
        raise BadRequest(_("bbox 超出经纬度范围"))
    box = Polygon.from_bbox(numbers)
    box.srid = 4326
    return box


def _int_param(request: HttpRequest, name: str, default: int, low: int, high: int) -> int:
    raw = request.GET.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(_("%(name)s 应为整数") % {"name": name}) from None
    if not low <= value <= high:
        raise BadRequest(
            _("%(name)s 应在 %(low)s 到 %(high)s 之间") % {"name": name, "low": low, "high": high}
        )
    return value


def _typed(kind: str, name: str, raw: str):
    try:
        if kind == INTEGER:
            return int(raw)
        if kind == NUMBER:
            value = Decimal(raw)
            if not value.is_finite() or (value and value.adjusted() >= 12):
                raise ValueError  # NaN, infinities and numbers no column holds
            return value
        if kind == BOOLEAN:
            if raw.lower() not in {"true", "false", "1", "0"}:
                raise ValueError
            return raw.lower() in {"true", "1"}
    except (ValueError, InvalidOperation):
        raise BadRequest(
            _("属性 %(name)s 的值“%(raw)s”类型不对") % {"name": name, "raw": raw}
        ) from None
    return raw


def _filtered_rows(request: HttpRequest, layer: Layer) -> tuple[QuerySet, QuerySet]:
    """The layer's rows with the map's filters applied, and those with the exact property
    values and bbox applied too."""
    # A property of the layer is an exact-value filter (as OGC clients expect); the map's
    # filters (area_min, near, ...) add to them under their own names.
    form_fields = set(VacancyForm.base_fields) - set(layer.fields) if layer.filterable else set()
    allowed = COMMON_PARAMS | form_fields | set(layer.fields)
    unknown = sorted(set(request.GET) - allowed)
    if unknown:
        raise BadRequest(_("不支持的参数：%(names)s") % {"names": ", ".join(unknown)})
    if request.GET.get("bbox-crs", CRS84) != CRS84:
        raise BadRequest(_("bbox-crs 只支持 CRS84"))
    if request.GET.get("f", "json") not in FORMATS:
        raise BadRequest(_("f 只支持 %(formats)s") % {"formats": ", ".join(FORMATS)})
    query = VacancyQuery()
    if layer.filterable:
        data = request.GET.copy()
        for name in set(data) - form_fields:
            del data[name]
        form = VacancyForm(data)
        if not form.is_valid():
            raise BadRequest("；".join(f"{k}：{' '.join(v)}" for k, v in form.errors.items()))
        query = form.query()
    public = rows = layer.rows(query)
    for name, kind in layer.fields.items():
        if name in request.GET and name not in form_fields:
            rows = rows.filter(**{name: _typed(kind, name, request.GET[name])})
    box = _parse_bbox(request.GET.get("bbox"))
    if box is not None:
        # ST_Intersects alone: PostGIS adds the index condition (&&) itself and estimates its
        # rows from the column's statistics; an explicit && beside it counts the box twice and
        # makes the planner expect 26 buildings where 968 match.
        rows = rows.filter(geom__intersects=box)
    return public, rows


def _feature(row: dict, layer: Layer) -> dict:
    properties = {}
    for name in layer.fields:
        value = row.get(name)
        properties[name] = float(value) if isinstance(value, Decimal) else value
    return {
        "type": "Feature",
        "id": row["id"],
        "geometry": json.loads(row["geojson"]),
        "properties": properties,
    }


@require_GET
def items(request: HttpRequest, collection_id: str) -> HttpResponse:
    """A page of features in id order. The `next` link carries the last id (`after`), so a page
    reads only the ids after it through the indexes, never sorts or skips every earlier match;
    `offset` still works for clients that send it. numberMatched (optional in OGC API –
    Features) is left out of JSON pages with a bbox, where counting would cost more than the
    page: GDAL and QGIS page by the `next` link."""
    layer = _layer(collection_id)
    html = _wants_html(request)
    try:
        # Above the maximum the page is capped, not refused (OGC API – Features, 7.15.3).
        limit = min(_int_param(request, "limit", DEFAULT_LIMIT, 1, 10**9), MAX_LIMIT)
        offset = _int_param(request, "offset", 0, 0, 10**9)
        after = _int_param(request, "after", 0, 0, 2**63 - 1) if "after" in request.GET else None
        public, rows = _filtered_rows(request, layer)
    except BadRequest as exc:
        return _error(400, str(exc))
    matched = rows.count() if html or "bbox" not in request.GET else None
    spatial = "bbox" in request.GET
    page = _page(public, rows, list(layer.fields), after, offset, limit, spatial)
    more = len(page) > limit
    page = page[:limit]
    base = _url(request, "ogc-items", collection_id=layer.name)

    def page_url(fmt: str | None = None, **position: int) -> str:
        params = request.GET.copy()  # keeps repeated parameters (rooms=1&rooms=2)
        for name in ("f", "offset", "after"):
            params.pop(name, None)
        for name, value in position.items():
            params[name] = str(value)
        params["limit"] = str(limit)
        if fmt:
            params["f"] = fmt
        return f"{base}?{params.urlencode()}"

    here = {"offset": offset} if offset else {}
    if after is not None:
        here["after"] = after
    links = [
        _link(page_url("json", **here), "self", GEOJSON, _("本页")),
        _link(page_url("html", **here), "alternate", "text/html", _("本页（网页）")),
    ]
    if more:
        # By offset for a client that pages by offset; otherwise after the last id.
        following = {"offset": offset + limit} if offset else {"after": page[-1]["id"]}
        if offset and after is not None:
            following["after"] = after
        links.append(_link(page_url(**following), "next", GEOJSON, _("下一页")))
    if offset > 0:
        earlier = {"offset": max(0, offset - limit)}
        if after is not None:
            earlier["after"] = after
        links.append(_link(page_url(**earlier), "prev", GEOJSON, _("上一页")))
    data = {
        "type": "FeatureCollection",
        "features": [_feature(row, layer) for row in page],
        "numberReturned": len(page),
        "timeStamp": timezone.now().isoformat(timespec="seconds"),
        "links": links,
    }
    if matched is not None:
        data["numberMatched"] = matched
    if html:
        return render(
            request,
            "ogc/items.html",
            {"layer": layer, "data": data, "rows": page, "fields": list(layer.fields)},
        )
    return _json(data, GEOJSON)


def _page(
    public: QuerySet,
    rows: QuerySet,
    fields: list[str],
    after: int | None,
    offset: int,
    limit: int,
    spatial: bool,
) -> list:
    """Up to limit + 1 rows in id order (one more tells whether a next page exists), in one
    query: the ids first, from the filtered rows through the indexes (the unit ids of the
    buildings in a bbox come from an index alone), then the public columns of those ids only."""
    if after is not None:
        rows = rows.filter(id__gt=after)
    if spatial:
        # Given ORDER BY id LIMIT n, the planner walks every unit in id order until n of them
        # lie in the box, expecting them spread evenly; but a box's units sit together in the
        # id order (a building's are numbered together), so a box in the middle of the city
        # reads half a million rows. Behind a fence (OFFSET 0) it finds the box's ids through
        # the spatial and per-building indexes instead, and keeps the first few (top-N).
        inner, params = rows.order_by().values("id").query.sql_with_params()
        ids = RawSQL(
            f"SELECT m.id FROM ({inner} OFFSET 0) m ORDER BY m.id LIMIT %s OFFSET %s",
            (*params, limit + 1, offset),
        )
    else:
        ids = rows.order_by("id").values("id")[offset : offset + limit + 1]
    return list(
        public.filter(id__in=ids)
        .annotate(geojson=AsGeoJSON("geom", precision=7))
        .values("id", "geojson", *fields)  # not the geometry itself: GeoJSON is what is sent
        .order_by("id")
    )


@require_GET
def item(request: HttpRequest, collection_id: str, feature_id: str) -> HttpResponse:
    layer = _layer(collection_id)
    try:
        pk = int(feature_id)
    except ValueError:
        raise Http404(_("没有这个要素")) from None
    row = layer.rows(VacancyQuery()).annotate(geojson=AsGeoJSON("geom", precision=7))
    row = row.filter(id=pk).first()
    if row is None:
        raise Http404(_("没有这个要素"))
    feature = _feature(row, layer)
    here = _url(request, "ogc-item", collection_id=layer.name, feature_id=pk)
    feature["links"] = [
        {"href": here + "?f=json", "rel": "self", "type": GEOJSON},
        {"href": here + "?f=html", "rel": "alternate", "type": "text/html"},
        {
            "href": _url(request, "ogc-collection", collection_id=layer.name),
            "rel": "collection",
            "type": "application/json",
        },
    ]
    if _wants_html(request):
        return render(request, "ogc/item.html", {"layer": layer, "feature": feature})
    return _json(feature, GEOJSON)


@require_GET
def openapi(request: HttpRequest) -> HttpResponse:
    """A compact OpenAPI 3.0 description of these endpoints (the service-desc link)."""
    server = request.build_absolute_uri(reverse("ogc-landing")).rstrip("/")
    ok = {"200": {"description": "OK"}}
    paths = {
        "/": {"get": {"summary": "Landing page", "responses": ok}},
        "/conformance": {"get": {"summary": "Conformance classes", "responses": ok}},
        "/collections": {"get": {"summary": "Collections", "responses": ok}},
    }
    for layer in LAYERS.values():
        params = [
            {
                "name": "limit",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            },
            {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
            {
                "name": "bbox",
                "in": "query",
                "style": "form",
                "explode": False,
                "schema": {"type": "array", "items": {"type": "number"}},
            },
        ] + [{"name": f, "in": "query", "schema": {"type": t}} for f, t in layer.fields.items()]
        paths[f"/collections/{layer.name}"] = {"get": {"summary": layer.title, "responses": ok}}
        paths[f"/collections/{layer.name}/items"] = {
            "get": {"summary": layer.title, "parameters": params, "responses": ok}
        }
        paths[f"/collections/{layer.name}/items/{{featureId}}"] = {
            "get": {
                "summary": layer.title,
                "parameters": [
                    {
                        "name": "featureId",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {**ok, "404": {"description": "Not found"}},
            }
        }
    data = {
        "openapi": "3.0.3",
        "info": {"title": "Anju OGC API – Features", "version": "1.0"},
        "servers": [{"url": server}],
        "paths": paths,
    }
    return _json(data, OPENAPI)


urlpatterns = [
    path("", landing, name="ogc-landing"),
    path("api", openapi, name="ogc-openapi"),
    path("conformance", conformance, name="ogc-conformance"),
    path("collections", collections, name="ogc-collections"),
    path("collections/<slug:collection_id>", collection, name="ogc-collection"),
    path("collections/<slug:collection_id>/items", items, name="ogc-items"),
    path("collections/<slug:collection_id>/items/<str:feature_id>", item, name="ogc-item"),
]
