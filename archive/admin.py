"""The archive in the admin: readable, never editable (the database refuses changes anyway)."""

from django.contrib import admin

from archive.models import AccessRecord, Event, EventSeal


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnly):
    list_display = ["at", "action", "summary", "actor", "estate_id", "unit_id", "household_id"]
    list_filter = ["action"]
    search_fields = ["summary", "reason"]
    list_select_related = ["actor"]


@admin.register(AccessRecord)
class AccessRecordAdmin(ReadOnly):
    list_display = ["at", "user", "subject_type", "subject_id", "path", "ip"]
    list_filter = ["subject_type"]
    list_select_related = ["user"]


@admin.register(EventSeal)
class EventSealAdmin(ReadOnly):
    list_display = ["position", "event_id", "digest", "sealed_at"]
    search_fields = ["=event_id"]
