from django.contrib.auth import views as auth_views
from django.urls import path

from backoffice import allocation, assets, publishing, review, views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="staff-login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="staff-login"), name="staff-logout"),
    path("", views.home, name="staff-home"),
    path("assets/", assets.estate_list, name="assets"),
    path("assets/estates/new/", assets.estate_edit, name="asset-estate-new"),
    path("assets/estates/<int:estate_id>/", assets.estate_detail, name="asset-estate"),
    path("assets/estates/<int:estate_id>/edit/", assets.estate_edit, name="asset-estate-edit"),
    path(
        "assets/estates/<int:estate_id>/publish/",
        assets.estate_publish,
        name="asset-estate-publish",
    ),
    path(
        "assets/estates/<int:estate_id>/buildings/new/",
        assets.building_batch,
        name="asset-building-new",
    ),
    path("assets/units/", assets.unit_list, name="asset-units"),
    path("assets/units/<int:unit_id>/", assets.unit_detail, name="asset-unit"),
    path("assets/import/", assets.stock_import, name="asset-import"),
    path("assets/import/commit/", assets.stock_import_commit, name="asset-import-commit"),
    path("assets/export/", assets.stock_export, name="asset-export"),
    path("assets/template.xlsx", assets.stock_template, name="asset-template"),
    path(
        "assets/estates/<int:estate_id>/release/",
        publishing.release_vacancies,
        name="asset-estate-release",
    ),
    path("publishing/", publishing.overview, name="publishing"),
    path("publishing/notices/new/", publishing.notice_new, name="publishing-notice-new"),
    path(
        "publishing/notices/<int:publication_id>/correct/",
        publishing.notice_correct,
        name="publishing-correct",
    ),
    path("publishing/objections/", publishing.objections, name="publishing-objections"),
    path("publishing/pages/", publishing.pages, name="publishing-pages"),
    path("publishing/pages/new/", publishing.page_edit, name="publishing-page-new"),
    path("publishing/pages/<int:page_id>/", publishing.page_edit, name="publishing-page-edit"),
    path("review/", review.queue, name="review-queue"),
    path("review/counter/", review.counter, name="review-counter"),
    path("review/<int:application_id>/", review.detail, name="review-detail"),
    path("review/<int:application_id>/decide/", review.decide, name="review-decide"),
    path("review/<int:application_id>/data-check/", review.data_check, name="review-data-check"),
    path("review/publicity/<int:county_id>/", review.start_publicity, name="review-publicity"),
    path("allocation/", allocation.waitlist, name="allocation"),
    path("allocation/rounds/", allocation.round_list, name="allocation-rounds"),
    path("allocation/rounds/new/", allocation.round_new, name="allocation-round-new"),
    path("allocation/rounds/<int:round_id>/", allocation.round_detail, name="allocation-round"),
    path(
        "allocation/rounds/<int:round_id>/announce/",
        allocation.round_announce,
        name="allocation-round-announce",
    ),
    path(
        "allocation/rounds/<int:round_id>/draw/",
        allocation.round_draw,
        name="allocation-round-draw",
    ),
    path(
        "allocation/rounds/<int:round_id>/open/",
        allocation.round_open,
        name="allocation-round-open",
    ),
    path(
        "allocation/rounds/<int:round_id>/close/",
        allocation.round_close,
        name="allocation-round-close",
    ),
    path(
        "allocation/rounds/<int:round_id>/delete/",
        allocation.round_delete,
        name="allocation-round-delete",
    ),
    path(
        "allocation/rounds/<int:round_id>/choose/",
        allocation.round_choose,
        name="allocation-round-choose",
    ),
    path(
        "allocation/rounds/<int:round_id>/offers/<int:offer_id>/accept/",
        allocation.offer_accept,
        name="allocation-offer-accept",
    ),
    path(
        "allocation/rounds/<int:round_id>/offers/<int:offer_id>/refuse/",
        allocation.offer_refuse,
        name="allocation-offer-refuse",
    ),
    path("<slug:slug>/", views.module, name="staff-module"),
]
