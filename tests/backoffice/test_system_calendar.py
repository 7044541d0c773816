"""系统管理 · 工作日历: the city's administrators add local days off and extra working days,
the next deadline counts with them, the settings still win, and nobody else may touch it."""

from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from archive.models import Event
from disclosure.calendar import add_working_days, is_working_day
from disclosure.models import CalendarDay
from tests.disclosure.conftest import publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(cast):
    return cast.users["city"]  # the city's account administrator (tests/personas.py)


def add(client, day: date, working: bool, reason: str = "市政府通知〔2026〕12 号"):
    return client.post(
        reverse("system-calendar"),
        {"day": day.isoformat(), "working": "1" if working else "0", "reason": reason},
    )


def next_day(working: bool, after: date) -> date:
    day = after + timedelta(days=1)
    while is_working_day(day) != working:
        day += timedelta(days=1)
    return day


def test_a_new_day_off_moves_the_next_publicity_deadline(client, city, settings):
    settings.ANJU_HOLIDAYS, settings.ANJU_WORKDAYS = [], []
    first = publish(title="第一批公示", period_working_days=7)
    # The third working day of that period becomes a local day off.
    off = timezone.localtime(add_working_days(first.published_at, 3)).date()
    client.force_login(city)
    assert add(client, off, working=False).status_code == 302
    second = publish(title="第二批公示", period_working_days=7)
    assert timezone.localdate(second.period_ends_at) == next_day(
        True, timezone.localdate(first.period_ends_at)
    )
    assert timezone.localdate(first.period_ends_at) < timezone.localdate(second.period_ends_at)
    assert CalendarDay.objects.get(day=off).created_by == city

    # Archived with who and why, and listed on the page.
    event = Event.objects.filter(action="calendar.day_added").order_by("-id").first()
    assert event.after == {"day": off.isoformat(), "working": False}
    assert (event.actor, event.reason) == (city, "市政府通知〔2026〕12 号")
    page = client.get(reverse("system-calendar")).content.decode()
    assert off.isoformat() in page and "市政府通知〔2026〕12 号" in page


def test_an_extra_working_day_counts_and_can_be_taken_back(client, city, settings):
    settings.ANJU_HOLIDAYS, settings.ANJU_WORKDAYS = [], []
    today = timezone.localdate()
    rest = next_day(False, today + timedelta(days=1))
    start = timezone.make_aware(datetime.combine(rest - timedelta(days=1), time(10)))
    client.force_login(city)
    add(client, rest, working=True, reason="调休上班")
    assert is_working_day(rest)
    assert timezone.localtime(add_working_days(start, 1)).date() == rest
    row = CalendarDay.objects.get(day=rest)
    client.post(reverse("system-calendar-remove", args=[row.pk]), {"reason": "通知撤回"})
    assert not CalendarDay.objects.filter(day=rest).exists() and not is_working_day(rest)
    event = Event.objects.filter(action="calendar.day_removed").order_by("-id").first()
    assert event.before == {"day": rest.isoformat(), "working": True}
    assert (event.actor, event.reason) == (city, "通知撤回")


def test_the_settings_still_win_over_the_table(client, city, settings):
    day = next_day(True, timezone.localdate() + timedelta(days=1))
    client.force_login(city)
    add(client, day, working=False)
    assert not is_working_day(day)
    settings.ANJU_WORKDAYS = [day.isoformat()]
    assert is_working_day(day)


def test_bad_days_are_refused_with_a_reason_and_nothing_is_written(client, city, settings):
    settings.ANJU_HOLIDAYS, settings.ANJU_WORKDAYS = [], []
    today = timezone.localdate()
    weekend = next_day(False, today)
    client.force_login(city)
    rows, events = CalendarDay.objects.count(), Event.objects.count()
    page = add(client, today - timedelta(days=1), working=False).content.decode()
    assert "已经过去" in page
    page = add(client, weekend, working=False).content.decode()
    assert f"日期：{weekend:%Y-%m-%d} 本来就是休息日，无需调整。" in page
    page = add(client, weekend, working=True, reason="").content.decode()
    assert "原因：请写明调整原因。" in page
    page = client.post(reverse("system-calendar"), {"day": "2026-13-01", "working": "0"})
    assert "日期：请按 2026-10-01 的格式填写。" in page.content.decode()
    assert (CalendarDay.objects.count(), Event.objects.count()) == (rows, events)


def test_only_the_citys_administrators_edit_the_calendar(client, cast):
    day = next_day(True, timezone.localdate() + timedelta(days=1))
    for role in ("district", "street", "operator"):  # a county's administrator included
        client.force_login(cast.users[role])
        assert client.get(reverse("system-calendar")).status_code == 403
        assert add(client, day, working=False).status_code == 403
    assert not CalendarDay.objects.filter(day=day).exists()


def test_a_deadline_reads_the_table_once(city, django_assert_num_queries):
    """However many days the period spans, one query (not one per day)."""
    for n in range(3):
        CalendarDay.objects.create(
            day=next_day(True, timezone.localdate() + timedelta(days=10 * n + 1)),
            working=False,
            reason="测试",
            created_by=city,
        )
    with django_assert_num_queries(1):
        add_working_days(timezone.now(), 60)


def test_the_calendar_page_does_not_grow_in_queries(
    client, city, cast, django_assert_max_num_queries
):
    def day(n: int, user) -> None:
        CalendarDay.objects.create(
            day=timezone.localdate() + timedelta(days=400 + n),
            working=False,
            reason=f"调整原因甲{n}",
            created_by=user,
        )

    day(0, city)
    client.force_login(city)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("system-calendar"))
    adders = [city, cast.users["district"], cast.users["street"]]
    for n, user in enumerate(adders * 2, start=1):
        day(n, user)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("system-calendar")).content.decode()
    assert page.count("调整原因甲") >= 6
