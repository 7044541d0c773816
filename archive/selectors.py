"""Reading the archive: timelines of a unit or an estate."""

from django.db.models import QuerySet

from archive.models import Event


def unit_timeline(unit_id: int) -> QuerySet[Event]:
    return Event.objects.filter(unit_id=unit_id).select_related("actor").order_by("-at", "-id")


def estate_timeline(estate_id: int, limit: int = 50) -> QuerySet[Event]:
    return (
        Event.objects.filter(estate_id=estate_id, unit_id__isnull=True)
        .select_related("actor")
        .order_by("-at", "-id")[:limit]
    )
