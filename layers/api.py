"""The public GeoJSON API (/api/): estates and vacant units with the map's filters, search, locate.

Every list starts from the same public querysets as the pages; responses are RFC 7946 GeoJSON.
"""

from django.contrib.gis.db import models as gis_models
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.fields import GeoJsonDict, GeometryField
from rest_framework_gis.pagination import GeoJsonPagination
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from geo import selectors, summaries
from geo.locate import locate
from geo.models import Estate, Unit
from geo.search import search_places
from geo.unit_pages import UnitPages
from geo.vacancy import VacancyForm, VacancyQuery
from layers import schema as layer_schema
from layers.public_cache import cached_public

_TYPES = {
    "DecimalField": OpenApiTypes.NUMBER,
    "FloatField": OpenApiTypes.NUMBER,
    "IntegerField": OpenApiTypes.INT,
    "BooleanField": OpenApiTypes.BOOL,
}
FILTER_PARAMETERS = [
    OpenApiParameter(name, _TYPES.get(type(f).__name__, OpenApiTypes.STR), description=str(f.label))
    for name, f in VacancyForm.base_fields.items()
]


def vacancy_query(request: Request) -> VacancyQuery:
    """The filters from the query string; a bad value is a 400 naming the field."""
    form = VacancyForm(request.query_params)
    if not form.is_valid():
        raise ValidationError({name: [str(e) for e in errs] for name, errs in form.errors.items()})
    return form.query()


class StockCached:
    """A public list or feature cached and revalidated on the stock version (ETag, 304)."""

    def dispatch(self, request, *args, **kwargs):
        parent = super().dispatch
        return cached_public(request, type(self).__name__, lambda: parent(request, *args, **kwargs))


class Pagination(GeoJsonPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return layer_schema.feature_page_schema(schema)


class PointField(GeometryField):
    """A point as GeoJSON straight from its coordinates: going through GDAL for each feature
    of a page costs more than the rest of the feature."""

    def to_representation(self, value):
        if value is None or isinstance(value, dict) or value.geom_type != "Point" or value.empty:
            return super().to_representation(value)
        return GeoJsonDict({"type": "Point", "coordinates": [value.x, value.y]})


class EstateSerializer(GeoFeatureModelSerializer):
    serializer_field_mapping = {
        **GeoFeatureModelSerializer.serializer_field_mapping,
        gis_models.PointField: PointField,
    }
    district = serializers.CharField(source="district.name")
    street = serializers.CharField(source="street.name", default=None)
    vacant_units = serializers.IntegerField(source="vacant_count", read_only=True)
    distance_m = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Estate
        geo_field = "location"
        fields = [
            "id",
            "name",
            "address",
            "district",
            "street",
            "year_built",
            "vacant_units",
            "distance_m",
            "url",
        ]

    def get_distance_m(self, estate: Estate) -> float | None:
        distance = getattr(estate, "distance", None)
        return round(distance.m) if distance is not None else None

    def get_url(self, estate: Estate) -> str:
        return f"/estates/{estate.pk}/"


@extend_schema_field(layer_schema.POINT)
class AnnotatedPointField(PointField):
    """A point computed by the query (not a model field), described for the OpenAPI schema."""


class UnitSerializer(GeoFeatureModelSerializer):
    # The unit's building on the map (annotated by the selector).
    point = AnnotatedPointField(read_only=True)
    estate_id = serializers.IntegerField(source="building.estate_id")
    estate = serializers.CharField(source="building.estate.name")
    district = serializers.CharField(source="building.estate.district.name")
    building = serializers.CharField(source="building.number")
    elevator = serializers.BooleanField(source="building.elevator")
    layout = serializers.CharField()

    class Meta:
        model = Unit
        geo_field = "point"
        fields = [
            "id",
            "point",
            "estate_id",
            "estate",
            "district",
            "building",
            "number",
            "floor",
            "rooms",
            "halls",
            "baths",
            "layout",
            "area",
            "monthly_rent",
            "orientation",
            "accessible",
            "elevator",
        ]


# Any parameter may be refused: by the form (naming the field) or, for control characters,
# before it reaches a view.
BAD_REQUEST = OpenApiResponse(description=_("参数不正确（按字段给出原因）"))
NOT_FOUND = OpenApiResponse(description=_("没有这个已公开的项目"))
NO_SUCH_PAGE = OpenApiResponse(description=_("没有这一页（page 超出范围）"))


@extend_schema(
    parameters=FILTER_PARAMETERS,
    responses={200: EstateSerializer(many=True), 400: BAD_REQUEST, 404: NO_SUCH_PAGE},
    summary=_("有符合条件空置房源的项目（GeoJSON）"),
)
class EstateList(StockCached, ListAPIView):
    serializer_class = EstateSerializer
    pagination_class = Pagination

    def get_queryset(self):
        query = vacancy_query(self.request)
        estates = summaries.vacancy_estates(query)
        if estates is None:  # conditions the summary cannot answer: count matching units
            estates = selectors.vacancy_estates(query).only(*summaries.ESTATE_COLUMNS)
        return estates


@extend_schema(
    responses={200: EstateSerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
    summary=_("一个已公开项目（GeoJSON Feature）"),
)
class EstateDetail(StockCached, RetrieveAPIView):
    serializer_class = EstateSerializer

    def get_object(self) -> Estate:
        try:
            estate = selectors.public_estate(self.kwargs["pk"])
        except Estate.DoesNotExist as exc:
            raise Http404 from exc
        estate.vacant_count = summaries.estate_summary(estate).vacant
        return estate


@extend_schema(
    parameters=FILTER_PARAMETERS,
    responses={200: UnitSerializer(many=True), 400: BAD_REQUEST, 404: NO_SUCH_PAGE},
    summary=_("符合条件的空置房源（GeoJSON）"),
)
class UnitList(StockCached, ListAPIView):
    serializer_class = UnitSerializer
    pagination_class = Pagination

    def get_queryset(self):
        # Paged along estates: no sort of every match, no separate count.
        return UnitPages(vacancy_query(self.request))


class SearchHitSerializer(serializers.Serializer):
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    name = serializers.CharField()
    detail = serializers.CharField()
    url = serializers.CharField()
    lon = serializers.FloatField()
    lat = serializers.FloatField()


class SearchResultsSerializer(serializers.Serializer):
    results = SearchHitSerializer(many=True)


class Search(APIView):
    """Autocomplete for the search box: estates, counties, streets and communities, ranked."""

    @extend_schema(
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, required=True, description=_("关键词"))
        ],
        responses={200: SearchResultsSerializer, 400: BAD_REQUEST},
        summary=_("搜索项目与地点（名称、地址、拼音、首字母）"),
    )
    def get(self, request: Request) -> Response:
        hits = search_places(request.query_params.get("q", ""))
        return Response({"results": SearchHitSerializer(hits, many=True).data})


class Locate(APIView):
    """Which county, street and community a point lies in, and the nearest vacancies."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "lon", OpenApiTypes.NUMBER, required=True, description=_("经度 WGS84")
            ),
            OpenApiParameter(
                "lat", OpenApiTypes.NUMBER, required=True, description=_("纬度 WGS84")
            ),
        ],
        responses={200: OpenApiTypes.OBJECT, 400: BAD_REQUEST},
        summary=_("位置查询"),
    )
    def get(self, request: Request) -> Response:
        try:
            lon = float(request.query_params["lon"])
            lat = float(request.query_params["lat"])
        except (KeyError, ValueError):
            raise ValidationError({"lon": [_("需要经度 lon 和纬度 lat（数字）")]}) from None
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValidationError({"lon": [_("经纬度超出范围")]})
        return Response(locate(lon, lat).as_dict())
