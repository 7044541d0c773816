"""Changing the city's working-day calendar (disclosure.CalendarDay): city account
administrators add a local day off or an extra working day, or take one back, with a reason;
each change is an archive event. Deadlines already set keep their date; the next deadline
computed (publicity, offers, review steps, objections) counts with the change.
"""

from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from archive.services import record_event
from backoffice.models import StaffProfile
from backoffice.system import scope
from disclosure.calendar import is_working_day
from disclosure.models import CalendarDay
from geo.jurisdiction import profile_of


class NotAllowed(Exception):
    """Not a city account administrator, or a day that cannot be changed; says why."""


def is_city_admin(user: AbstractBaseUser) -> bool:
    """City-wide data (the calendar, the credit catalogue) is the city's administrators'."""
    if not scope.is_admin(user):
        return False
    if user.is_superuser:
        return True
    profile = profile_of(user)
    return profile is not None and profile.role == StaffProfile.Role.CITY


def _check(actor: AbstractBaseUser, reason: str) -> str:
    if not is_city_admin(actor):
        raise NotAllowed("只有市级账号管理员可以调整工作日历。")
    if not (reason or "").strip():
        raise NotAllowed("原因：请写明调整原因（如市政府通知文号）。")
    return reason.strip()


def _label(working: bool) -> str:
    return "调休上班" if working else "放假"


@transaction.atomic
def add_day(day: date, *, working: bool, reason: str, actor: AbstractBaseUser) -> CalendarDay:
    """One day off or one extra working day, from today on; a day already so is refused."""
    reason = _check(actor, reason)
    if day < timezone.localdate():
        raise NotAllowed(f"日期：{day:%Y-%m-%d} 已经过去，只能调整今天及以后的日期。")
    if CalendarDay.objects.filter(day=day).exists():
        raise NotAllowed(f"日期：{day:%Y-%m-%d} 已有调整，请先撤销原调整。")
    if is_working_day(day) == working:
        state = "工作日" if working else "休息日"
        raise NotAllowed(f"日期：{day:%Y-%m-%d} 本来就是{state}，无需调整。")
    try:
        with transaction.atomic():
            row = CalendarDay.objects.create(
                day=day, working=working, reason=reason[:200], created_by=actor
            )
    except IntegrityError as exc:  # added by someone else a moment ago
        raise NotAllowed(f"日期：{day:%Y-%m-%d} 已有调整，请先撤销原调整。") from exc
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
    reason = _check(actor, reason)
    row = CalendarDay.objects.select_for_update().filter(pk=day_id).first()
    if row is None:
        raise NotAllowed("该调整已被撤销。")
    if row.day < timezone.localdate():
        raise NotAllowed(f"{row.day:%Y-%m-%d} 已经过去，不能撤销。")
    row.delete()
    record_event(
        "calendar.day_removed",
        f"工作日历：撤销 {row.day:%Y-%m-%d} {_label(row.working)}",
        actor=actor,
        before={"day": row.day.isoformat(), "working": row.working},
        reason=reason,
    )
    return row
