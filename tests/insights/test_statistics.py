"""统计分析 (issue 16 point 1): every dashboard figure equals a brute-force count over the demo
city (Python over ORM rows, not the dashboards' SQL), a county department sees only its
county, the XLSX holds the same numbers, bad filters get a Chinese message and each page's
query count does not grow with the data."""

import io
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from allocation.models import Round, WaitlistEntry
from credit.models import Level, Record
from geo.models import Estate, Region, Unit
from housing.models import Application, ReviewStep
from insights import summaries
from insights.statistics import DASHBOARDS, Period, Scope
from insights.statistics.applications import applications, decisions, review
from insights.statistics.base import days, hours, percent
from insights.statistics.credit import credit
from insights.statistics.operations import recheck, repairs
from insights.statistics.operators import operators, quarters
from insights.statistics.rent import rent
from insights.statistics.stock import vacancy
from insights.statistics.waitlist import BANDS, waitlist
from tenancy.models import Bill, OperatorScore, RecheckHit, Repair
from tests.e2e.test_csp_browser import PASSWORD as CLERK_PASSWORD
from tests.e2e.test_csp_browser import assert_clean, browser, clerk, page  # noqa: F401

pytestmark = pytest.mark.django_db

OPEN = {"accept", "first_review", "data_check", "second_review", "publicity"}


@pytest.fixture
def everything() -> Period:
    """A period holding every demo row (the demo city is dated around today)."""
    today = timezone.localdate()
    return Period(date(2000, 1, 1), date(today.year + 3, 12, 1))


@pytest.fixture
def root(db):
    return get_user_model().objects.create_superuser("stats-root", password="x")


def _in(period: Period, moment) -> bool:
    return moment is not None and period.start <= moment < period.end


def _rows(board, key: str) -> dict:
    return {row[0]: row[1:] for row in board.table(key).rows}


def _district(cast) -> Region:
    return cast.users["district"].staff_profile.region


# --- brute force per dashboard, as the whole city and as one county -------------------------


@pytest.mark.parametrize("who", ["root", "district"])
def test_applications_by_month_and_stage(root, cast, everything, who):
    user = root if who == "root" else cast.users["district"]
    mine = [
        a
        for a in Application.objects.all()
        if a.submitted_at
        and _in(everything, a.submitted_at)
        and (who == "root" or a.county_id == _district(cast).pk)
    ]
    assert mine, "the demo city has submitted applications"
    board = applications(Scope(user), everything)
    by_month = _rows(board, "by_month")
    expected = defaultdict(lambda: [0, 0, 0, 0])
    for a in mine:
        row = expected[f"{timezone.localtime(a.submitted_at):%Y-%m}"]
        row[0] += 1
        row[1] += a.stage in OPEN
        row[2] += a.stage == "approved"
        row[3] += a.stage == "rejected"
    assert {k: v for k, v in by_month.items() if v[0]} == {k: v for k, v in expected.items()}
    stages = Counter(str(Application.Stage(a.stage).label) for a in mine)
    assert {k: v[0] for k, v in _rows(board, "by_stage").items() if v[0]} == dict(stages)


@pytest.mark.parametrize("source", ["live", "summary"])
@pytest.mark.parametrize("who", ["root", "district"])
def test_review_time_per_step_against_deadline(root, cast, everything, who, source):
    """Counted live, and from the worker's summary once rebuilt: the same brute-force figures,
    for the city and for one county (the summary is kept per county)."""
    user = root if who == "root" else cast.users["district"]
    county = None if who == "root" else _district(cast).pk
    if source == "summary":
        summaries.refresh()
    steps = list(
        ReviewStep.objects.select_related("application").order_by(
            "application_id", "decided_at", "id"
        )
    )
    decided, late, with_deadline, spent = Counter(), Counter(), Counter(), defaultdict(list)
    previous = {}
    for s in steps:
        entered = previous.get(s.application_id)
        previous[s.application_id] = s.decided_at
        if s.decision == "submit" or not _in(everything, s.decided_at):
            continue
        if county is not None and s.application.county_id != county:
            continue
        decided[s.step] += 1
        if s.deadline is not None:
            with_deadline[s.step] += 1
            late[s.step] += s.decided_at > s.deadline
        if entered is not None:
            spent[s.step].append(s.decided_at - entered)
    assert decided, "the demo city has review decisions"
    board = review(Scope(user), everything)
    assert (board.as_of is not None) == (source == "summary")
    rows = {r[0]: r for r in board.table("steps").rows}
    assert {k: r[2] for k, r in rows.items() if r[2]} == {
        str(Application.Stage(k).label): n for k, n in decided.items()
    }
    for step, n in decided.items():
        row = rows[str(Application.Stage(step).label)]
        mean = sum(spent[step], timedelta()) / len(spent[step]) if spent[step] else None
        assert row[2:6] == [n, days(mean), late[step], percent(late[step], with_deadline[step])]
    now = timezone.now()
    overdue = Counter(
        a.stage
        for a in Application.objects.all()
        if a.stage in OPEN
        and not a.returned
        and a.stage_deadline
        and a.stage_deadline < now
        and (county is None or a.county_id == county)
    )
    assert {r[0]: r[6] for r in rows.values() if r[6]} == {
        str(Application.Stage(k).label): v for k, v in overdue.items()
    }


@pytest.mark.parametrize("source", ["live", "summary"])
def test_approval_rate_and_rejection_reasons(root, everything, source):
    if source == "summary":
        summaries.refresh()
    done = [
        a
        for a in Application.objects.select_related("county")
        if a.stage in ("approved", "rejected") and _in(everything, a.decided_at)
    ]
    assert done
    board = decisions(Scope(root), everything)
    assert (board.as_of is not None) == (source == "summary")
    per_county = defaultdict(lambda: [0, 0, 0])
    for a in done:
        row = per_county[a.county.name]
        row[0] += 1
        row[1] += a.stage == "approved"
        row[2] += a.stage == "rejected"
    assert _rows(board, "by_county") == {
        name: [*row, percent(row[1], row[0])] for name, row in per_county.items()
    }
    refused = Counter(
        str(Application.Stage(s.step).label)
        for s in ReviewStep.objects.all()
        if s.decision == "reject" and _in(everything, s.decided_at)
    )
    assert {k: v[0] for k, v in _rows(board, "by_step").items()} == dict(refused)
    reasons = Counter(a.rejection_reasons for a in done if a.stage == "rejected")
    assert sum(v[0] for v in _rows(board, "reasons").values()) == sum(
        n for _text, n in reasons.most_common(10)
    )


@pytest.mark.parametrize("who", ["root", "district"])
def test_waitlist_length_and_waiting_time(root, cast, everything, who):
    user = root if who == "root" else cast.users["district"]
    now = timezone.now()
    waiting = [
        e
        for e in WaitlistEntry.objects.select_related("county", "household")
        if e.status == "waiting" and (who == "root" or e.county_id == _district(cast).pk)
    ]
    assert waiting
    board = waitlist(Scope(user), everything, now=now)
    per_county = defaultdict(list)
    for e in waiting:
        per_county[e.county.name].append(now - e.queued_at)
    assert _rows(board, "by_county") == {
        name: [len(w), days(sum(w, timedelta()) / len(w)), days(max(w))]
        for name, w in per_county.items()
    }
    bands = [0] * len(BANDS)
    for e in waiting:
        waited = now - e.queued_at
        for i, (low, high) in enumerate(BANDS):
            if waited >= timedelta(days=low) and (high is None or waited < timedelta(days=high)):
                bands[i] += 1
    assert [r[1] for r in board.table("bands").rows] == bands
    rounds = [
        r
        for r in Round.objects.all()
        if _in(everything, r.announced_at) and (who == "root" or r.county_id == _district(cast).pk)
    ]
    table = board.table("rounds")
    assert [row[0] for row in table.rows] == [
        r.name for r in sorted(rounds, key=lambda r: (r.announced_at, r.pk))
    ]
    for row, r in zip(
        table.rows, sorted(rounds, key=lambda r: (r.announced_at, r.pk)), strict=True
    ):
        accepted = sum(o.status == "accepted" for o in r.offers.all())
        assert row[5:] == [r.round_units.count(), r.participants.count(), accepted]


@pytest.mark.parametrize("source", ["live", "summary"])
@pytest.mark.parametrize("who", ["root", "district", "filtered"])
def test_vacancy_by_county_and_estate(root, cast, everything, who, source):
    """As the city, as a county department, and as the city filtering one county; the vacant
    times counted live and from the worker's summary once rebuilt."""
    user = cast.users["district"] if who == "district" else root
    if source == "summary":
        summaries.refresh()
    now = timezone.now()
    units = [
        u
        for u in Unit.objects.select_related("building__estate__district")
        if who == "root" or u.building.estate.district_id == _district(cast).pk
    ]
    scope = Scope(user, _district(cast) if who == "filtered" else None)
    board = vacancy(scope, everything, now=now, all_estates=True)
    assert (board.as_of is not None) == (source == "summary")
    per_county, per_estate = defaultdict(list), defaultdict(list)
    for u in units:
        per_county[u.building.estate.district.name].append(u)
        per_estate[u.building.estate.name, u.building.estate.district.name].append(u)

    def figures(group):
        vacant = [u for u in group if u.status == "vacant"]
        spent = [now - u.updated_at for u in vacant]
        return [
            len(group),
            len(vacant),
            percent(len(vacant), len(group)),
            days(sum(spent, timedelta()) / len(spent)) if spent else None,
            sum(s > timedelta(days=180) for s in spent),
        ]

    assert _rows(board, "by_county") == {k: figures(v) for k, v in per_county.items()}
    got = {(r[0], r[1]): r[2:] for r in board.table("by_estate").rows}
    assert got == {k: figures(v) for k, v in per_estate.items()}
    shown = {f["properties"]["name"] for f in board.table("by_county").extra["geojson"]["features"]}
    assert shown == set(per_county)
    if who != "root":
        assert set(per_county) == {_district(cast).name}


@pytest.mark.parametrize("source", ["live", "summary"])
@pytest.mark.parametrize("who", ["root", "district"])
def test_rent_collection_and_arrears(root, cast, everything, who, source):
    """Counted live, and from the worker's per-(month, estate) summary once rebuilt."""
    user = root if who == "root" else cast.users["district"]
    if source == "summary":
        summaries.refresh()
    today = timezone.localdate()
    bills = [
        b
        for b in Bill.objects.select_related("contract__unit__building__estate__district")
        if who == "root" or b.contract.unit.building.estate.district_id == _district(cast).pk
    ]
    assert bills
    board = rent(Scope(user), everything, today=today)
    assert (board.as_of is not None) == (source == "summary")
    per_month = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    for b in bills:
        row = per_month[f"{b.month:%Y-%m}"]
        row[0] += 1
        row[1] += b.amount
        row[2] += b.paid
    got = {k: v for k, v in _rows(board, "by_month").items() if v[0]}
    assert got == {k: [*v, percent(v[2], v[1])] for k, v in per_month.items()}
    per_county = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    for b in bills:
        if everything.first <= b.month <= everything.last:
            row = per_county[b.contract.unit.building.estate.district.name]
            row[0] += 1
            row[1] += b.amount
            row[2] += b.paid
    assert _rows(board, "by_county") == {
        k: [*v, percent(v[2], v[1])] for k, v in per_county.items()
    }
    late = defaultdict(lambda: [set(), Decimal(0)])
    for b in bills:
        if b.due_date < today and b.status != "paid":
            row = late[b.contract.unit.building.estate.district.name]
            row[0].add(b.contract_id)
            row[1] += b.amount - b.paid
    arrears = {k: v[:2] for k, v in _rows(board, "arrears").items() if v[0]}
    assert arrears == {k: [len(v[0]), v[1]] for k, v in late.items()}


def test_repair_response_times(root, everything):
    reported = [
        r
        for r in Repair.objects.select_related("category", "estate__district")
        if _in(everything, r.reported_at)
    ]
    assert reported
    board = repairs(Scope(root), everything)
    per_category = defaultdict(list)
    for r in reported:
        per_category[r.category.name].append(r)
    expected = {}
    for name, group in per_category.items():
        assigned = [r for r in group if r.assigned_at]
        closed = [r for r in group if r.closed_at]
        expected[name] = [
            len(group),
            len(assigned),
            hours(
                sum((r.assigned_at - r.reported_at for r in assigned), timedelta()) / len(assigned)
            )
            if assigned
            else None,
            percent(sum(r.assigned_at <= r.respond_by for r in assigned), len(group)),
            len(closed),
            hours(sum((r.closed_at - r.reported_at for r in closed), timedelta()) / len(closed))
            if closed
            else None,
            percent(sum(r.closed_at <= r.complete_by for r in closed), len(group)),
        ]
    assert _rows(board, "by_category") == expected
    per_county = Counter(r.estate.district.name for r in reported)
    assert {k: v[0] for k, v in _rows(board, "by_county").items()} == dict(per_county)


def test_recheck_hits(root, everything):
    hits = [h for h in RecheckHit.objects.all() if _in(everything, h.first_seen_at)]
    board = recheck(Scope(root), everything)
    assert sum(v[0] for v in _rows(board, "by_rule").values()) == len(hits)
    statuses = list(RecheckHit.Status)
    by_status = Counter(h.status for h in hits)
    rows = _rows(board, "by_rule").values()
    assert {s.value: sum(v[1 + i] for v in rows) for i, s in enumerate(statuses)} == {
        s.value: by_status.get(s.value, 0) for s in statuses
    }


@pytest.mark.parametrize("who", ["root", "district", "street"])
def test_credit_records_by_level(root, cast, everything, who):
    user = root if who == "root" else cast.users[who]
    today = timezone.localdate()
    records = [
        r
        for r in Record.objects.all()
        if who == "root" or (who == "district" and r.county_id == _district(cast).pk)
    ]
    board = credit(Scope(user), everything, today=today)
    expected = {}
    for level, label in Level.choices:
        mine = [r for r in records if r.level == level]
        expected[str(label)] = [
            sum(everything.first <= r.decided_on < everything.end_date for r in mine),
            sum(
                r.repaired_on is not None
                and everything.first <= r.repaired_on < everything.end_date
                for r in mine
            ),
            sum(r.in_effect(today) for r in mine),
        ]
    assert _rows(board, "by_level") == expected
    if who == "root":
        assert any(v[0] for v in expected.values()), "the demo city has credit records"


def test_operator_scores(root, cast, everything):
    wanted = quarters(everything)
    scores = [s for s in OperatorScore.objects.select_related("operator") if s.quarter in wanted]
    board = operators(Scope(root), everything)
    got = {}
    for row in board.table("scores").rows:
        for quarter, score in zip(wanted, row[1:], strict=True):
            if score is not None:
                got[row[0], quarter] = score
    running = {e.operator_id for e in Estate.objects.all() if e.operator_id}
    assert got == {
        (s.operator.name, s.quarter): s.score
        for s in scores
        if s.score is not None and s.operator_id in running
    }
    own = operators(Scope(cast.users["operator"]), everything)
    assert {row[0] for row in own.table("scores").rows} <= {
        cast.users["operator"].staff_profile.operator.name
    }


# --- the pages -------------------------------------------------------------------------------


def test_a_county_user_sees_only_their_county(client, cast):
    district = _district(cast)
    client.force_login(cast.users["district"])
    html = client.get(reverse("statistics-dashboard", args=["vacancy"])).content.decode()
    others = Region.objects.filter(level="district").exclude(pk=district.pk)
    assert district.name in html
    for other in others:
        assert f'<th scope="row" lang="zh-Hans">{other.name}</th>' not in html
    # A county outside their area does not exist for them; the city may pick it.
    outside = others.first()
    url = reverse("statistics-dashboard", args=["applications"])
    assert client.get(f"{url}?county={outside.adcode}").status_code == 404
    client.force_login(cast.users["city"])
    assert client.get(f"{url}?county={outside.adcode}").status_code == 200


@pytest.mark.parametrize(
    "query, message",
    [
        ("county=abc", "区县代码应为 6 位数字"),
        ("county=999999", "没有代码为 999999 的区县"),
        ("from=2026-13", "应为年月"),
        ("to=abc", "应为年月"),
        ("from=2026-05&to=2026-01", "起始月份不能晚于截止月份"),
        ("from=1990-01&to=2026-01", "统计期最长"),
    ],
)
def test_bad_filters_get_a_chinese_message(client, cast, query, message):
    client.force_login(cast.users["city"])
    response = client.get(f"{reverse('statistics-dashboard', args=['rent'])}?{query}")
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_xlsx_holds_the_same_numbers(client, cast):
    from openpyxl import load_workbook

    client.force_login(cast.users["city"])
    url = reverse("statistics-dashboard", args=["applications"])
    response = client.get(f"{url}?format=xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    board = applications(Scope(cast.users["city"]), Period.default(timezone.localdate()))
    assert len(book.sheetnames) == len(board.tables)
    for sheet, table in zip(book.worksheets, board.tables, strict=True):
        width = len(table.columns)  # the title line above may be wider
        rows = [list(r)[:width] for r in sheet.iter_rows(min_row=2, values_only=True)]
        assert rows[0] == table.columns
        assert rows[1:] == [[c for c in row] for row in table.rows]
    assert sum(r[1] for r in board.table("by_month").rows) > 0


@pytest.mark.parametrize("slug", ["", *DASHBOARDS])
def test_pages_render_with_bounded_queries(client, cast, slug, django_assert_max_num_queries):
    client.force_login(cast.users["city"])
    url = reverse("statistics-dashboard", args=[slug]) if slug else reverse("statistics")
    with django_assert_max_num_queries(16):
        response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    if slug:
        assert 'id="stat-charts"' in html and "vendor/echarts/echarts.min.js" in html
        assert "<table>" in html


@pytest.mark.browser
def test_charts_draw_in_chromium_under_the_csp(page, site_url, clerk):  # noqa: F811
    """ECharts (served from node_modules) draws every chart, the map too, with its tooltips,
    and the browser reports no CSP violation, script error or request leaving the site."""
    page.goto(f"{site_url}/staff/login/")
    page.fill("#id_username", clerk.username)
    page.fill("#id_password", CLERK_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{site_url}/staff/")
    for slug in ("vacancy", "rent", "decisions"):
        page.goto(f"{site_url}/staff/statistics/{slug}/")
        expected = page.locator(".stat-chart").count()
        assert expected > 0
        page.wait_for_function(
            "n => document.querySelectorAll('.stat-chart canvas').length >= n", arg=expected
        )
        box = page.locator(".stat-chart").first.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_timeout(300)  # let a tooltip appear: it must not need inline styles
    assert_clean(page)
