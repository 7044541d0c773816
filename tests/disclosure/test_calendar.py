"""Working days follow the State Council's arrangement, make-up Saturdays (调休) included, with
settings to correct it; a year without data stops the system at start-up, not silently later."""

from datetime import date, datetime
from unittest import mock

import pytest
from django.core import checks
from django.utils import timezone

from disclosure.calendar import add_working_days, calendar_covers_this_year, is_working_day

pytestmark = pytest.mark.django_db  # the city's own corrections are a table (CalendarDay)


def at(y: int, m: int, d: int, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime(y, m, d, hour))


def end_of(y: int, m: int, d: int) -> datetime:
    return timezone.make_aware(datetime(y, m, d, 23, 59, 59))


def test_national_day_week_is_skipped_and_its_make_up_saturday_counts(settings):
    settings.ANJU_HOLIDAYS, settings.ANJU_WORKDAYS = [], []
    # 2026: 1–7 October off; Saturday 10 October is a working day (调休).
    assert not is_working_day(date(2026, 10, 5))
    assert is_working_day(date(2026, 10, 10))
    # From 30 September, the 1st working day is Thursday 8 October …
    assert add_working_days(at(2026, 9, 30), 1) == end_of(2026, 10, 8)
    # … and the 3rd is Saturday 10 October, not Monday 12 October.
    assert add_working_days(at(2026, 9, 30), 3) == end_of(2026, 10, 10)
    # Seven working days from a Friday in an ordinary week: the next Tuesday but one.
    assert add_working_days(at(2026, 11, 20), 7) == end_of(2026, 12, 1)


def test_settings_correct_the_official_calendar(settings):
    settings.ANJU_HOLIDAYS = ["2026-12-01"]  # a local day off on a Tuesday
    settings.ANJU_WORKDAYS = ["2026-11-29"]  # a Sunday worked
    assert not is_working_day(date(2026, 12, 1))
    assert is_working_day(date(2026, 11, 29))
    # Friday 27 November + 2 working days: Sunday 29th (worked), then Monday 30th.
    assert add_working_days(at(2026, 11, 27), 2) == end_of(2026, 11, 30)
    # + 3 skips Tuesday 1 December: Wednesday 2nd.
    assert add_working_days(at(2026, 11, 27), 3) == end_of(2026, 12, 2)


def test_a_year_without_data_uses_weekends_and_the_settings(settings):
    settings.ANJU_HOLIDAYS, settings.ANJU_WORKDAYS = ["2031-01-02"], []
    assert not is_working_day(date(2031, 1, 4))  # a Saturday
    assert not is_working_day(date(2031, 1, 2))  # declared off
    assert is_working_day(date(2031, 1, 3))


def test_start_up_refuses_a_year_the_calendar_does_not_cover(settings):
    settings.ANJU_CALENDAR_YEARS = []
    with mock.patch("disclosure.calendar.timezone.localdate", return_value=date(2031, 3, 2)):
        errors = calendar_covers_this_year()
        assert [e.id for e in errors] == ["anju.E001"]
        assert "2031" in errors[0].msg and errors[0].level == checks.ERROR
        settings.ANJU_CALENDAR_YEARS = [2031]
        assert calendar_covers_this_year() == []
    # This year is covered by the package: no error, and the check runs with the others.
    settings.ANJU_CALENDAR_YEARS = []
    assert calendar_covers_this_year() == []
    assert not [e for e in checks.run_checks() if e.id == "anju.E001"]
