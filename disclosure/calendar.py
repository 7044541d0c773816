"""Working days for publicity periods and deadlines: the State Council's holiday arrangements
(with the make-up working days, 调休) from the chinese-calendar package, corrected by the city's
own table (CalendarDay, edited in 系统管理) and, above both, by the deployment's settings:
ANJU_HOLIDAYS (extra days off) and ANJU_WORKDAYS (extra working days).

One query reads the table per call of add_working_days or is_working_day (never one per day).

For a year the package has no data for, weekends and the settings decide; a system check
refuses to start in such a year unless ANJU_CALENDAR_YEARS declares that the settings cover it.
"""

from datetime import date, datetime, time, timedelta

import chinese_calendar
from django.conf import settings
from django.core import checks
from django.utils import timezone

from disclosure.models import CalendarDay


def holidays() -> set[date]:
    return {date.fromisoformat(d) for d in settings.ANJU_HOLIDAYS}


def workdays() -> set[date]:
    return {date.fromisoformat(d) for d in settings.ANJU_WORKDAYS}


def corrections(since: date, until: date | None = None) -> tuple[set[date], set[date]]:
    """(days off, working days) from `since` on (to `until`): the city's table under the
    settings, in one query; a day the settings name keeps the settings' answer."""
    rows = CalendarDay.objects.filter(day__gte=since)
    if until is not None:
        rows = rows.filter(day__lte=until)
    off_settings, on_settings = holidays(), workdays()
    off, on = set(off_settings), set(on_settings)
    for day, working in rows.values_list("day", "working"):
        if day in off_settings or day in on_settings:
            continue
        (on if working else off).add(day)
    return off, on


def covered(year: int) -> bool:
    """Whether the package knows the official arrangement for this year."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def is_working_day(day: date, *, off: set[date] | None = None, on: set[date] | None = None) -> bool:
    if off is None or on is None:
        off, on = corrections(day, day)
    if day in on:
        return True
    if day in off:
        return False
    if covered(day.year):
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def add_working_days(start: datetime, days: int) -> datetime:
    """The end (23:59:59 local) of the `days`-th working day after `start`'s day."""
    day = timezone.localtime(start).date()
    off, on = corrections(day)
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day, off=off, on=on):
            counted += 1
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


@checks.register()
def calendar_covers_this_year(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Deadlines this year must follow the official holidays: refuse to start without them."""
    year = timezone.localdate().year
    if covered(year) or year in settings.ANJU_CALENDAR_YEARS:
        return []
    return [
        checks.Error(
            f"工作日历没有 {year} 年的法定节假日和调休数据，公示期和期限会算错。",
            hint="升级 chinese-calendar；或在 ANJU_HOLIDAYS、ANJU_WORKDAYS 中列出该年的放假和调休"
            f"日期，并设置 ANJU_CALENDAR_YEARS={year} 声明已覆盖。",
            id="anju.E001",
        )
    ]
