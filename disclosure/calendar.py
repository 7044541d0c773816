"""Working days for publicity periods: weekends and the configured public holidays are skipped."""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone


def holidays() -> set[date]:
    return {date.fromisoformat(d) for d in settings.ANJU_HOLIDAYS}


def add_working_days(start: datetime, days: int) -> datetime:
    """The end (23:59:59 local) of the `days`-th working day after `start`'s day."""
    off = holidays()
    day = timezone.localtime(start).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in off:
            counted += 1
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))
