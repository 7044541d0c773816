"""Statistics over time: records taking effect, expiring and repaired in each of the last 12
months equal a count made row by row over the demo data, for the user's counties only; the same
rows download as CSV and XLSX."""

import csv
import io
import json
import re
from collections import Counter
from datetime import date

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from credit.models import Record
from credit.selectors import month_starts
from geo.models import Region
from tests.personas import make_staff

pytestmark = pytest.mark.django_db

URL = "/staff/credit/statistics/"


def brute_force(counties: list[int], today: date) -> dict[str, list[int]]:
    """The same definitions, one record at a time in Python."""
    starts = month_starts(today)
    first = starts[0]
    effective, expired, repaired = Counter(), Counter(), Counter()
    for r in Record.objects.filter(county_id__in=counties):
        if first <= r.decided_on <= today:
            effective[r.decided_on.replace(day=1)] += 1
        ended = r.effective_until
        if first <= ended <= today and (r.repaired_on is None or r.repaired_on >= ended):
            expired[ended.replace(day=1)] += 1
        if r.repaired_on and first <= r.repaired_on <= today:
            repaired[r.repaired_on.replace(day=1)] += 1
    return {
        "effective": [effective[m] for m in starts],
        "expired": [expired[m] for m in starts],
        "repaired": [repaired[m] for m in starts],
    }


def _csv(client) -> dict[str, list[int]]:
    response = client.get(URL, {"format": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["月份", "新增生效", "影响期届满", "信用修复"]
    starts = month_starts(timezone.localdate())
    assert [r[0] for r in rows[1:]] == [f"{m:%Y-%m}" for m in starts]
    return {
        "effective": [int(r[1]) for r in rows[1:]],
        "expired": [int(r[2]) for r in rows[1:]],
        "repaired": [int(r[3]) for r in rows[1:]],
    }


def test_month_starts_cross_the_year():
    assert month_starts(date(2026, 2, 17), 4) == [
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]


def test_monthly_counts_equal_a_brute_force_count_within_the_users_counties(client):
    today = timezone.localdate()
    bozhou = Region.objects.get(adcode="341602")
    woyang = Region.objects.get(adcode="341621")
    city = bozhou.parent
    counties = list(
        Region.objects.filter(parent=city, level="district").values_list("pk", flat=True)
    )

    client.force_login(make_staff("stats-district", "district", region=bozhou))
    mine = _csv(client)
    assert mine == brute_force([bozhou.pk], today)
    page = client.get(URL).content.decode()
    assert "失信记录按月统计" in page and f"{today:%Y-%m}" in page
    island = re.search(r'<script id="stat-charts" type="application/json">(.*?)</script>', page)
    [chart] = json.loads(island.group(1))  # the chart is drawn from the table's own numbers
    assert [s["data"] for s in chart["series"]] == list(mine.values())

    client.force_login(make_staff("stats-woyang", "district", region=woyang))
    assert _csv(client) == brute_force([woyang.pk], today)

    client.force_login(make_staff("stats-city", "city", region=city))
    everywhere = _csv(client)
    assert everywhere == brute_force(counties, today)
    # The demo has movement in more than one county, so the scoping is visible in the numbers.
    assert sum(map(sum, everywhere.values())) > sum(map(sum, mine.values())) > 0
    assert sum(everywhere["repaired"]) > 0 and sum(everywhere["expired"]) > 0

    book = load_workbook(io.BytesIO(client.get(URL, {"format": "xlsx"}).content))
    rows = list(book.active.iter_rows(values_only=True))
    assert len(rows) == 13
    assert [int(r[1]) for r in rows[1:]] == everywhere["effective"]


def test_staff_who_do_not_decide_credit_are_refused(client):
    street = Region.objects.get(adcode="341602").children.first()
    client.force_login(make_staff("stats-street", "street", region=street))
    assert client.get(URL).status_code == 403
    assert client.get(URL, {"format": "csv"}).status_code == 403


def test_the_page_takes_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    city = Region.objects.get(adcode="341602").parent
    client.force_login(make_staff("stats-city-q", "city", region=city))
    with django_assert_max_num_queries(12):
        assert client.get(URL).status_code == 200
