"""Changing the city's working-day calendar (disclosure.CalendarDay): city account
administrators add a local day off or an extra working day, or take one back, with a reason;
disclosure/calendar_changes.py writes the change and its archive event. Deadlines already set
keep their date; the next deadline computed (publicity, offers, review steps, objections)
counts with the change.
"""

from datetime import date

from django.contrib.auth.models import AbstractBaseUser

from backoffice.models import StaffProfile
from backoffice.system import scope
from disclosure import calendar_changes
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


def add_day(day: date, *, working: bool, reason: str, actor: AbstractBaseUser) -> CalendarDay:
    """One day off or one extra working day, by a city administrator with a reason."""
    reason = _check(actor, reason)
    try:
        return calendar_changes.add_day(day, working=working, reason=reason, actor=actor)
    except calendar_changes.CalendarChangeRefused as exc:
        raise NotAllowed(str(exc)) from exc


def remove_day(day_id: int, *, reason: str, actor: AbstractBaseUser) -> CalendarDay:
    """Take a correction back, by a city administrator with a reason."""
    reason = _check(actor, reason)
    try:
        return calendar_changes.remove_day(day_id, reason=reason, actor=actor)
    except calendar_changes.CalendarChangeRefused as exc:
        raise NotAllowed(str(exc)) from exc
