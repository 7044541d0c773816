from django.contrib import admin
from django.urls import path

from portal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("estates/<int:estate_id>/", views.estate_detail, name="estate-detail"),
    path("admin/", admin.site.urls),
]
