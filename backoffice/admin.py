"""Superusers create staff accounts and their jurisdiction here."""

from django.contrib import admin

from backoffice.models import StaffProfile


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "region", "operator"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__first_name", "region__name", "operator__name"]
    raw_id_fields = ["user", "region"]
    list_select_related = ["user", "region", "operator"]
