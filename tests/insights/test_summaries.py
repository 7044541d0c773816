"""统计分析 summaries (insights/summaries.py): a rebuild catches up with every change since the
last one (nothing stale survives it), months are the local months the dashboards filter on,
the page says how old its figures are, a viewer below county level is counted live, and the
worker rebuilds them every ten minutes. The figures themselves are compared with brute-force
counts in test_statistics.py (live and from the summaries)."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from geo.models import Unit
from housing.models import Application, ReviewStep
from insights import summaries, tasks
from insights.models import SummaryRefresh
from insights.statistics import DASHBOARDS, Period, Scope
from insights.statistics.applications import OPEN_STAGES, review
from insights.statistics.base import percent
from insights.statistics.rent import rent
from insights.statistics.stock import vacancy
from tenancy.models import Bill

pytestmark = pytest.mark.django_db


@pytest.fixture
def everything() -> Period:
    today = timezone.localdate()
    return Period(date(2000, 1, 1), date(today.year + 3, 12, 1))


@pytest.fixture
def root(db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("summary-root", password="x")


def _figures(board, key: str) -> dict:
    """A table's rows by category, without the columns always counted live."""
    if board.slug == "review":
        return {r[0]: r[2:6] for r in board.table(key).rows}
    return {r[0]: r[1:] for r in board.table(key).rows}


def _open_case() -> Application:
    case = Application.objects.filter(stage__in=OPEN_STAGES).order_by("pk").first()
    assert case is not None, "the demo city has cases in review"
    return case


def test_a_rebuild_catches_up_with_new_decisions_and_payments(root, everything):
    """Between rebuilds the page shows the figures as of the last one (and says so); the next
    rebuild holds every change since, equal to the live count."""
    scope = Scope(root)
    summaries.refresh()
    first = SummaryRefresh.objects.get(name=summaries.REVIEW).refreshed_at
    review_before = _figures(review(scope, everything), "steps")
    rent_before = _figures(rent(scope, everything), "by_month")

    case = _open_case()
    ReviewStep.objects.create(
        application=case,
        step=case.stage,
        decision=ReviewStep.Decision.PASS,
        deadline=timezone.now() - timedelta(days=1),  # decided late
    )
    bill = Bill.objects.filter(amount__gt=F("paid")).order_by("pk").first()
    Bill.objects.filter(pk=bill.pk).update(paid=bill.amount, status=Bill.Status.PAID)

    stale = review(scope, everything)
    assert stale.as_of == first
    assert _figures(stale, "steps") == review_before
    assert _figures(rent(scope, everything), "by_month") == rent_before

    summaries.refresh()
    fresh = review(scope, everything)
    assert fresh.as_of >= first
    assert _figures(fresh, "steps") == _figures(review(scope, everything, live=True), "steps")
    assert _figures(fresh, "steps") != review_before
    label = str(Application.Stage(case.stage).label)
    assert _figures(fresh, "steps")[label][0] == review_before[label][0] + 1
    assert _figures(fresh, "steps")[label][2] == review_before[label][2] + 1
    paid = _figures(rent(scope, everything), "by_month")
    assert paid == _figures(rent(scope, everything, live=True), "by_month")
    month = f"{bill.month:%Y-%m}"
    assert paid[month][2] == rent_before[month][2] + bill.amount - bill.paid


def test_a_decision_just_after_local_midnight_counts_in_its_local_month(root):
    """The summary's months are Asia/Shanghai months, as the period's bounds are: 00:30 on the
    1st locally is still the previous month in UTC."""
    month = date(2031, 3, 1)
    moment = timezone.make_aware(datetime.combine(month, time(0, 30)))
    assert moment.astimezone(UTC).month == 2
    case = _open_case()
    step = ReviewStep.objects.create(application=case, step=case.stage, decision="pass")
    ReviewStep.objects.filter(pk=step.pk).update(decided_at=moment, deadline=moment)
    summaries.refresh([summaries.REVIEW])
    scope = Scope(root)
    march, february = Period(month, month), Period(date(2031, 2, 1), date(2031, 2, 1))
    label = str(Application.Stage(case.stage).label)
    assert _figures(review(scope, march), "steps")[label][0] == 1
    assert _figures(review(scope, february), "steps")[label][0] == 0
    for period in (march, february):
        assert _figures(review(scope, period), "steps") == _figures(
            review(scope, period, live=True), "steps"
        )


def test_a_street_is_counted_live(cast, everything):
    """A per-county summary cannot answer for part of a county: a street's figures are live."""
    summaries.refresh()
    street = Scope(cast.users["street"])
    board = review(street, everything)
    assert board.as_of is None
    assert _figures(board, "steps") == _figures(review(street, everything, live=True), "steps")
    assert review(Scope(cast.users["district"]), everything).as_of is not None


def test_the_page_says_as_of_when_it_reads_a_summary(client, cast):
    client.force_login(cast.users["city"])
    url = reverse("statistics-dashboard", args=["review"])
    assert "数据截至" not in client.get(url).content.decode()  # counted live before a rebuild
    (done, *_rest) = summaries.refresh([summaries.REVIEW])
    html = client.get(url).content.decode()
    assert f"数据截至 {timezone.localtime(done.refreshed_at):%Y-%m-%d %H:%M}" in html
    other = client.get(reverse("statistics-dashboard", args=["rent"]))
    assert "数据截至" not in other.content.decode()  # the rent summary was not built


def test_the_worker_rebuilds_every_ten_minutes():
    periodic = {
        name: p.cron for (name, _id), p in tasks.app.periodic_registry.periodic_tasks.items()
    }
    assert periodic["insights.tasks.refresh_statistics_summaries"] == "*/10 * * * *"
    assert not SummaryRefresh.objects.exists()
    tasks.refresh_statistics_summaries(timestamp=0)
    assert set(SummaryRefresh.objects.values_list("name", flat=True)) == set(summaries.TABLES)


def test_vacancy_counts_follow_a_bulk_change_at_once_and_times_at_the_rebuild(root, everything):
    """The unit counts are geo's, kept by triggers through every write (bulk updates too): a
    unit made vacant counts at once. Its vacant time joins at the next rebuild."""
    summaries.refresh()
    now = timezone.now()
    unit = (
        Unit.objects.filter(status=Unit.Status.OCCUPIED)
        .select_related("building__estate")
        .order_by("pk")
        .first()
    )
    key = unit.building.estate.name

    def row(board) -> list:
        return {r[0]: r for r in board.table("by_estate").rows}[key]

    old = row(vacancy(Scope(root), everything, now=now, all_estates=True))
    Unit.objects.filter(pk=unit.pk).update(
        status=Unit.Status.VACANT, updated_at=now - timedelta(days=200)
    )
    between = vacancy(Scope(root), everything, now=now, all_estates=True)
    new = row(between)
    assert (new[2], new[3], new[4]) == (old[2], old[3] + 1, percent(old[3] + 1, old[2]))
    assert (new[5], new[6]) == (old[5], old[6])  # the times: as of the last rebuild
    assert between.as_of is not None
    summaries.refresh([summaries.VACANCY])
    fresh = vacancy(Scope(root), everything, now=now, all_estates=True)
    assert row(fresh)[6] == old[6] + 1
    live = vacancy(Scope(root), everything, now=now, all_estates=True, live=True)
    assert fresh.table("by_estate").rows == live.table("by_estate").rows
    assert fresh.table("by_county").rows == live.table("by_county").rows


def test_arrears_are_the_rebuild_days_and_another_day_is_counted_live(root, everything):
    today = timezone.localdate()
    bill = Bill.objects.filter(amount__gt=F("paid")).order_by("pk").first()
    Bill.objects.filter(pk=bill.pk).update(due_date=today + timedelta(days=5))
    summaries.refresh([summaries.RENT])
    scope = Scope(root)

    def arrears(day: date, live: bool = False) -> list:
        return rent(scope, everything, today=day, live=live).table("arrears").rows

    later = today + timedelta(days=10)
    assert arrears(today) == arrears(today, live=True)
    assert arrears(later) == arrears(later, live=True)
    assert arrears(later) != arrears(today)  # the bill fell due in between


def test_the_pages_and_downloads_read_the_summaries_in_bounded_queries(
    client, cast, django_assert_max_num_queries
):
    summaries.refresh()
    client.force_login(cast.users["city"])
    summed = {"review", "decisions", "rent", "vacancy"}
    for slug in DASHBOARDS:
        url = reverse("statistics-dashboard", args=[slug])
        with django_assert_max_num_queries(16):
            html = client.get(url).content.decode()
        assert ("数据截至" in html) == (slug in summed), slug
        if slug in summed:
            download = client.get(f"{url}?format=xlsx")
            assert download.status_code == 200
            assert download["Content-Type"].startswith("application/vnd.openxmlformats")
