from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from layers import api, ogc
from layers import views as layer_views
from portal import embedding, map_labels, open_data, operator_scores, resident, views


def superusers_only(request) -> bool:
    """/admin/ is for superusers alone; staff run accounts and rules from /staff/system/."""
    return request.user.is_active and request.user.is_superuser


admin.site.has_permission = superusers_only

api_patterns = [
    path("estates/", api.EstateList.as_view(), name="api-estates"),
    path("estates/<int:pk>/", api.EstateDetail.as_view(), name="api-estate"),
    path("units/", api.UnitList.as_view(), name="api-units"),
    path("search/", api.Search.as_view(), name="api-search"),
    path("locate/", api.Locate.as_view(), name="api-locate"),
    path("map-labels/", map_labels.map_labels, name="map-labels"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Split: the page loads its start-up script from ?script, as the CSP allows no inline one.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="portal/api_docs.html"
        ),
        name="api-docs",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("units/", views.units, name="units"),
    path("estates/<int:estate_id>/", views.estate_detail, name="estate-detail"),
    path("search/", views.search, name="search"),
    path("locate/", views.locate_page, name="locate"),
    path("preferences/text-size/", views.text_size, name="text-size"),
    path("manifest.webmanifest", embedding.manifest, name="web-manifest"),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the language switch
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("api/", include(api_patterns)),
    path("tiles/<slug:layer>/<int:z>/<int:x>/<int:y>.pbf", layer_views.tile, name="tile"),
    path("tiles/<slug:layer>.json", layer_views.tilejson, name="tilejson"),
    path("ogc/", include(ogc.urlpatterns)),
    path("staff/", include("backoffice.urls")),
    path("my/", resident.my_cases, name="my-cases"),
    path("status/", resident.status, name="status"),
    path("my/rounds/<int:round_id>/", resident.my_round, name="my-round"),
    path("my/rounds/<int:round_id>/choose/", resident.my_choose, name="my-choose"),
    path("my/offers/<int:offer_id>/accept/", resident.my_offer_accept, name="my-offer-accept"),
    path("my/offers/<int:offer_id>/refuse/", resident.my_offer_refuse, name="my-offer-refuse"),
    path(
        "my/credit/proposals/<int:proposal_id>/object/",
        resident.my_credit_objection,
        name="my-credit-objection",
    ),
    path(
        "my/credit/records/<int:record_id>/repair/",
        resident.my_credit_repair,
        name="my-credit-repair",
    ),
    path(
        "my/credit/<int:proposal_id>/files/<str:sha256>/",
        resident.my_credit_file,
        name="my-credit-file",
    ),
    path("operators/", operator_scores.operator_scores, name="operator-scores"),  # 考核结果
    path("open-data/", open_data.catalogue, name="open-data"),  # 开放数据
    path("open-data/<slug:slug>/", open_data.dataset_page, name="open-dataset"),
    path("open-data/<slug:slug>.csv", open_data.dataset_csv, name="open-dataset-csv"),
    path("open-data/<slug:slug>.json", open_data.dataset_json, name="open-dataset-json"),
    path("", include("housing.urls")),
    path("", include("tenancy.urls")),
    path("admin/", admin.site.urls),
    # Last: disclosure's section pages (/policy/, /guide/, /contact/) take single-word paths.
    path("", include("disclosure.urls")),
]
