"""Superusers create staff accounts and their jurisdiction here."""

from django.contrib import admin

from backoffice.models import LoginAttempt, StaffProfile


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "region", "operator"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__first_name", "region__name", "operator__name"]
    raw_id_fields = ["user", "region"]
    list_select_related = ["user", "region", "operator"]


@admin.register(LoginAttempt)
class LoginAttemptAdmin(admin.ModelAdmin):
    list_display = ["at", "username", "ip", "success"]
    list_filter = ["success"]
    search_fields = ["username"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
