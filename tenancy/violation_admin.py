"""Admin for the violation catalogue: a city edits kinds, their step deadlines, the credit
conduct each may propose and the idle thresholds (the 闲置 kind's rule) here, not in code."""

from django.contrib import admin

from tenancy.models import ViolationKind


@admin.register(ViolationKind)
class ViolationKindAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "code",
        "investigation_days",
        "decision_days",
        "rectification_days",
        "credit_conduct",
        "active",
        "order",
    ]
    list_editable = ["active", "order"]
    ordering = ["order", "code"]

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj is not None else []  # cases and imports name a kind by its code
