"""Writing the city's working-day table (CalendarDay): one day off or one extra working day,
or taking it back, each with its archive event. Who may do it is the back office's question
(backoffice/system/calendar_services.py); what a valid change is lives here, beside the reader.
"""

from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from archive.services import record_event
from disclosure.calendar import is_working_day
from disclosure.models import CalendarDay


class CalendarChangeRefused(Exception):
    """A day that cannot be changed; the message says why, in Chinese, naming the date."""


def _label(working: bool) -> str:
    return "调休上班" if working else "放假"


@transaction.atomic
def add_day(day: date, *, working: bool, reason: str, actor: AbstractBaseUser) -> CalendarDay:
    """One day off or one extra working day, from today on; a day already so is refused."""
    if day < timezone.localdate():
        raise CalendarChangeRefused(f"日期：{day:%Y-%m-%d} 已经过去，只能调整今天及以后的日期。")
    if CalendarDay.objects.filter(day=day).exists():
        raise CalendarChangeRefused(f"日期：{day:%Y-%m-%d} 已有调整，请先撤销原调整。")
    if is_working_day(day) == working:
        state = "工作日" if working else "休息日"
        raise CalendarChangeRefused(f"日期：{day:%Y-%m-%d} 本来就是{state}，无需调整。")
    try:
        with transaction.atomic():
            row = CalendarDay.objects.create(
                day=day, working=working, reason=reason[:200], created_by=actor
            )
    except IntegrityError as exc:  # added by someone else a moment ago
        raise CalendarChangeRefused(f"日期：{day:%Y-%m-%d} 已有调整，请先撤销原调整。") from exc
    record_event(
        "calendar.day_added",
        f"工作日历：{day:%Y-%m-%d} {_label(working)}",
        actor=actor,
        after={"day": day.isoformat(), "working": working},
        reason=reason,
    )
    return row


@transaction.atomic
def remove_day(day_id: int, *, reason: str, actor: AbstractBaseUser) -> CalendarDay:
    """Take a correction back (the day follows the official calendar again)."""
    row = CalendarDay.objects.select_for_update().filter(pk=day_id).first()
    if row is None:
        raise CalendarChangeRefused("该调整已被撤销。")
    if row.day < timezone.localdate():
        raise CalendarChangeRefused(f"{row.day:%Y-%m-%d} 已经过去，不能撤销。")
    row.delete()
    record_event(
        "calendar.day_removed",
        f"工作日历：撤销 {row.day:%Y-%m-%d} {_label(row.working)}",
        actor=actor,
        before={"day": row.day.isoformat(), "working": row.working},
        reason=reason,
    )
    return row
