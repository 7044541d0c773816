"""Writing to the archive: called by other services inside their own transaction."""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from archive.client_ip import client_ip
from archive.models import AccessRecord, Event


def record_event(
    action: str,
    summary: str,
    *,
    actor: AbstractBaseUser | None,
    estate_id: int | None = None,
    building_id: int | None = None,
    unit_id: int | None = None,
    household_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
) -> Event:
    """Append one event; the caller's transaction makes it part of the change it describes."""
    return Event.objects.create(
        action=action,
        summary=summary[:300],
        actor=actor if actor is not None and actor.is_authenticated else None,
        estate_id=estate_id,
        building_id=building_id,
        unit_id=unit_id,
        household_id=household_id,
        before=before,
        after=after,
        reason=reason,
    )


def record_events(events: Iterable[Event]) -> int:
    """Append many events at once (bulk imports)."""
    return len(Event.objects.bulk_create(list(events), batch_size=2000))


def record_access(request: HttpRequest, subject_type: str, subject_id: int) -> None:
    """Note that a staff member opened a record."""
    AccessRecord.objects.create(
        user=request.user,
        path=request.get_full_path()[:300],
        subject_type=subject_type,
        subject_id=subject_id,
        ip=client_ip(request),
    )
