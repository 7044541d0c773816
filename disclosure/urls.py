from django.urls import path

from disclosure import feeds, views

urlpatterns = [
    path("notices/", views.notice_list, name="notices"),
    path("notices/feed.atom", feeds.NoticeFeed(), name="notice-feed"),
    path("notices/feed/<slug:kind>.atom", feeds.NoticeFeed(), name="notice-feed-kind"),
    path("notices/feed/county/<str:county>.atom", feeds.NoticeFeed(), name="notice-feed-county"),
    path("notices/<int:series_id>/", views.notice_detail, name="notice"),
    path("notices/<int:series_id>/v<int:number>/", views.notice_detail, name="notice-version"),
    path(
        "notices/<int:series_id>/v<int:number>/objections/",
        views.file_objection,
        name="notice-objection",
    ),
    path("notices/<int:series_id>/v<int:number>/items.csv", views.download_csv, name="notice-csv"),
    path(
        "notices/<int:series_id>/v<int:number>/items.xlsx", views.download_xlsx, name="notice-xlsx"
    ),
    path(
        "notices/<int:series_id>/v<int:number>/document.json",
        views.download_json,
        name="notice-json",
    ),
    path(
        "notices/<int:series_id>/v<int:number>/lottery.json",
        views.download_lottery,
        name="notice-lottery",
    ),
    path("attachments/<int:attachment_id>/", views.attachment, name="attachment"),
    path("<slug:section>/", views.section_pages, name="section"),
    path("<slug:section>/<slug:slug>/", views.page_detail, name="page"),
]
