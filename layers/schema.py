"""OpenAPI descriptions drf-spectacular cannot derive: GeoJSON features whose geometry is
computed by the query, and GeoJSON pages (a FeatureCollection with count and links, not DRF's
`results`). Imported by layers.api so the extensions are registered."""

from drf_spectacular.contrib.rest_framework_gis import GeoFeatureModelSerializerExtension
from drf_spectacular.plumbing import build_object_type

POINT = {
    "type": "object",
    "description": "GeoJSON Point (RFC 7946), WGS84",
    "properties": {
        "type": {"type": "string", "enum": ["Point"]},
        "coordinates": {"type": "array", "items": {"type": "number"}, "minItems": 2},
    },
    "required": ["type", "coordinates"],
}


class AnnotatedGeometryFeatureExtension(GeoFeatureModelSerializerExtension):
    """Features whose geo_field is an annotation (a building's point for a unit): the geometry
    is described by the field itself, not looked up on the model."""

    target_class = "layers.api.UnitSerializer"
    priority = 1

    def map_geo_feature_model_serializer(self, serializer, base_schema):
        properties = dict(base_schema["properties"])
        geometry = properties.pop(serializer.Meta.geo_field, None) or POINT
        feature_id = (
            properties.pop(serializer.Meta.id_field, None) if serializer.Meta.id_field else None
        )
        base_schema = {**base_schema, "properties": properties}
        base_schema.pop("required", None)
        base_schema.pop("description", None)
        schema = {"type": {"type": "string", "enum": ["Feature"]}, "geometry": geometry}
        if feature_id is not None:
            schema["id"] = feature_id
        schema["properties"] = base_schema
        return build_object_type(properties=schema)


def feature_page_schema(collection: dict) -> dict:
    """What GeoJsonPagination answers: the FeatureCollection drf-spectacular describes for the
    list (`collection`, usually a reference), plus the count and the page links."""
    return {
        "allOf": [
            collection,
            {
                "type": "object",
                "required": ["count", "next", "previous"],
                "properties": {
                    "count": {"type": "integer"},
                    "next": {"type": "string", "nullable": True, "format": "uri"},
                    "previous": {"type": "string", "nullable": True, "format": "uri"},
                },
            },
        ]
    }
