"""Publications: immutable in the database, corrected by new versions, hashed, downloadable,
fed as Atom, objected to during publicity, and published for vacancies from the back office."""

import csv
import io
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from archive.models import Event
from disclosure import services
from disclosure.calendar import add_working_days
from disclosure.models import Objection, Outbox, Page, Publication
from tests.disclosure.conftest import COLUMNS, PEOPLE, publish

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def test_published_rows_are_masked_snapshots(notice):
    assert notice.items[0] == {
        "_key": "SQ2026-0001",
        "name": "张*丰",
        "id": "340321********1234",
        "phone": "138****5678",
        "members": 3,
    }
    assert "income" not in json.dumps(notice.items)
    outbox = Outbox.objects.get(pk=notice.outbox_id)
    assert "340321199001011234" not in json.dumps(outbox.payload, ensure_ascii=False)


def test_the_database_refuses_to_change_or_delete_a_publication(notice):
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        Publication.objects.filter(pk=notice.pk).update(title="改过的标题")
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
        Publication.objects.filter(pk=notice.pk).delete()
    notice.refresh_from_db()
    assert notice.title == "2026 年第 1 批公租房申请审核公示"


def test_a_correction_names_the_rows_it_changed_as_the_list_shows_them(client, notice):
    """Readers compare versions by what they can see (masked name and ID, the cells that
    changed), never by internal row keys."""
    fixed = publish(
        supersedes=notice,
        reason="第 2 户家庭人口有误，第 3 户撤回",
        rows=[PEOPLE[0], PEOPLE[1] | {"members": 3}],
    )
    page = client.get(reverse("notice-version", args=[fixed.series_id, 2])).content.decode()
    diff = page[page.index('id="diff-title"') :]
    diff = re.sub(r"<[^>]+>", "", diff[: diff.index("</section>")])
    assert "修改 李*" in diff and "家庭人口 2 → 3" in diff
    assert "删除 欧**明 341621********3333" in diff
    assert "SQ2026-" not in diff, "internal keys stay out of the comparison"
    assert "34160219851231567X" not in diff and "欧阳晓明" not in diff


def test_processing_an_outbox_row_twice_publishes_once(notice):
    again = services.process_outbox(notice.outbox_id)
    assert again.pk == notice.pk
    assert Publication.objects.filter(outbox_id=notice.outbox_id).count() == 1


def test_a_correction_is_a_new_version_naming_the_old_one(client, notice):
    with pytest.raises(services.PublishError, match="原因"):
        publish(supersedes=notice, reason="")
    fixed = publish(
        supersedes=notice,
        reason="第 2 户家庭人口有误",
        rows=[PEOPLE[0], PEOPLE[1] | {"members": 3}],
    )
    assert (fixed.version, fixed.series_id, fixed.supersedes_id) == (2, notice.series_id, notice.pk)
    assert fixed.correction_reason == "第 2 户家庭人口有误"
    with pytest.raises(services.PublishError, match="最新版本"):
        publish(supersedes=notice, reason="对旧版本的更正")  # would silently undo version 2
    third = publish(supersedes=fixed, reason="再次更正")
    assert (third.version, third.supersedes_id) == (3, fixed.pk)
    assert third.period_ends_at == notice.period_ends_at, "a correction keeps the period"
    assert list(Publication.objects.current().filter(series=notice.series)) == [third]
    old = client.get(reverse("notice-version", args=[notice.series_id, 1])).content.decode()
    assert "这是历史版本，已被更正" in old
    v2 = client.get(reverse("notice-version", args=[notice.series_id, 2])).content.decode()
    shown = re.sub(r"<[^>]+>", "", v2)
    assert "删除 欧**明" in shown and "修改 李*" in shown
    latest = client.get(reverse("notice", args=[notice.series_id])).content.decode()
    assert "第 3 版" in latest


def test_hash_is_stable_across_processes_and_matches_the_json_download(client, notice):
    document = services.document_of(notice)
    code = (
        "import json, sys; sys.path.insert(0, '.');"
        "from disclosure.hashing import content_hash;"
        "print(content_hash(json.loads(sys.stdin.read())))"
    )
    for _ in range(2):  # fresh interpreters: no dict-order or hash-seed luck
        out = subprocess.run(
            [sys.executable, "-c", code],
            input=json.dumps(document),
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": "random", "PATH": "/usr/bin"},
        )
        assert out.stdout.strip() == notice.content_hash
    body = client.get(reverse("notice-json", args=[notice.series_id, 1])).content
    import hashlib

    assert hashlib.sha256(body).hexdigest() == notice.content_hash


@pytest.mark.parametrize(
    "change",
    [
        {"title": "标题改一个字"},
        {"body": "正文"},
        {"items": [{"_key": "SQ2026-0001", "name": "张*丰", "members": 4}]},
        {"kind": "waitlist"},
        {"version": 2},
        {"published_at": "2030-01-01T00:00:00+08:00"},
    ],
)
def test_any_edit_changes_the_hash(notice, change):
    document = services.document_of(notice)
    assert services.content_hash(document) == notice.content_hash
    assert services.content_hash(document | change) != notice.content_hash


CST = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CST)


# Hand-written calendars. March 2026 has no public holiday (weekends: 7/8, 14/15, 21/22).
# The State Council's arrangements: 2025 National Day Oct 1–8 off, Sun Sep 28 and Sat Oct 11
# worked; 2026 Spring Festival Feb 15–23 off, Sat Feb 14 and Sat Feb 28 worked.
@pytest.mark.parametrize(
    ("start", "days", "off", "on", "end"),
    [
        ("2026-03-06 10:00", 1, [], [], "2026-03-09 23:59:59"),  # Friday + 1 = Monday
        ("2026-03-06 23:50", 1, [], [], "2026-03-09 23:59:59"),  # late Friday is still Friday
        ("2026-03-07 09:00", 1, [], [], "2026-03-09 23:59:59"),  # from a Saturday
        ("2026-03-08 09:00", 1, [], [], "2026-03-09 23:59:59"),  # from a Sunday
        ("2026-03-02 09:00", 5, [], [], "2026-03-09 23:59:59"),  # Monday + 5 = next Monday
        ("2026-03-04 15:00", 7, [], [], "2026-03-13 23:59:59"),  # Wednesday + 7 = Friday week
        ("2026-03-06 10:00", 10, [], [], "2026-03-20 23:59:59"),
        # Configured days off (ANJU_HOLIDAYS) and extra working days (ANJU_WORKDAYS).
        ("2026-03-06 10:00", 1, ["2026-03-09"], [], "2026-03-10 23:59:59"),
        ("2026-03-06 10:00", 2, ["2026-03-09", "2026-03-10"], [], "2026-03-12 23:59:59"),
        ("2026-03-04 15:00", 7, ["2026-03-11"], [], "2026-03-16 23:59:59"),
        ("2026-03-06 10:00", 1, ["2026-03-07"], [], "2026-03-09 23:59:59"),  # a Saturday off
        ("2026-03-06 10:00", 1, [], ["2026-03-07"], "2026-03-07 23:59:59"),  # a Saturday worked
        # Official holidays and make-up working days (调休).
        ("2025-09-30 10:00", 1, [], [], "2025-10-09 23:59:59"),  # over the National Day week
        ("2025-09-26 10:00", 1, [], [], "2025-09-28 23:59:59"),  # Friday + 1 = a worked Sunday
        ("2025-10-10 10:00", 1, [], [], "2025-10-11 23:59:59"),  # Friday + 1 = a worked Saturday
        ("2026-02-13 10:00", 2, [], [], "2026-02-24 23:59:59"),  # Sat 14, then after the holiday
        ("2026-02-13 10:00", 2, ["2026-02-24"], [], "2026-02-25 23:59:59"),
    ],
)
def test_add_working_days_on_a_hand_written_calendar(settings, start, days, off, on, end):
    settings.ANJU_HOLIDAYS, settings.ANJU_WORKDAYS = off, on
    assert add_working_days(at(start), days) == at(end)


def test_working_days_count_from_the_local_day_not_the_utc_day(settings):
    settings.ANJU_HOLIDAYS, settings.ANJU_WORKDAYS = [], []
    thursday_utc = datetime(2026, 3, 5, 17, 0, tzinfo=UTC)  # Friday 01:00 in 亳州
    assert add_working_days(thursday_utc, 1) == at("2026-03-09 23:59:59")


def test_a_publicity_period_ends_at_the_end_of_its_last_working_day(settings):
    """Published on a Friday morning for 7 working days, with the Monday a holiday."""
    settings.ANJU_HOLIDAYS, settings.ANJU_WORKDAYS = ["2026-03-09"], []
    with mock.patch("django.utils.timezone.now", return_value=at("2026-03-06 10:00")):
        notice = publish()
    assert timezone.localtime(notice.published_at) == at("2026-03-06 10:00")
    # Tue 10, Wed 11, Thu 12, Fri 13, Mon 16, Tue 17, Wed 18.
    assert timezone.localtime(notice.period_ends_at) == at("2026-03-18 23:59:59")


def test_csv_has_the_columns_and_excel_friendly_encoding(client, notice):
    response = client.get(reverse("notice-csv", args=[notice.series_id, 1]))
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == [c["label"] for c in COLUMNS]
    assert rows[1] == ["张*丰", "340321********1234", "138****5678", "3"]
    assert len(rows) == 1 + len(PEOPLE)


def test_xlsx_and_json_downloads(client, notice):
    response = client.get(reverse("notice-xlsx", args=[notice.series_id, 1]))
    assert response.streaming
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [c.value for c in sheet[1]] == [c["label"] for c in COLUMNS]
    assert sheet["A2"].value == "张*丰"
    data = json.loads(client.get(reverse("notice-json", args=[notice.series_id, 1])).content)
    assert data["items"][1]["name"] == "李*" and data["version"] == 1


@pytest.mark.parametrize(
    "url", ["/notices/feed.atom", "/notices/feed/review.atom", "/notices/feed/county/341602.atom"]
)
def test_feeds_are_valid_atom(client, notice, url):
    response = client.get(url)
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{required}") is not None, required
    assert feed.find(f"{ATOM}link[@rel='self']") is not None
    entries = feed.findall(f"{ATOM}entry")
    assert entries
    for entry in entries:
        for required in ("id", "title", "updated"):
            assert entry.find(f"{ATOM}{required}") is not None, required
        assert entry.find(f"{ATOM}link[@rel='alternate']") is not None
        assert entry.find(f"{ATOM}author") is not None or feed.find(f"{ATOM}author") is not None
    titles = [e.find(f"{ATOM}title").text for e in entries]
    assert notice.title in titles


def test_county_and_kind_feeds_filter(client, notice):
    other = client.get("/notices/feed/county/341621.atom").content.decode()
    assert notice.title not in other
    assert client.get("/notices/feed/nothing.atom").status_code == 404


def test_notice_list_filters(client, notice, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        html = client.get(
            reverse("notices"), {"kind": "review", "county": "341602"}
        ).content.decode()
    assert notice.title in html
    assert notice.title not in client.get(reverse("notices"), {"kind": "waitlist"}).content.decode()
    assert notice.title not in client.get(reverse("notices"), {"county": "341621"}).content.decode()
    today = timezone.localdate()
    assert (
        notice.title
        in client.get(reverse("notices"), {"date_from": today.isoformat()}).content.decode()
    )
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert (
        notice.title not in client.get(reverse("notices"), {"date_from": tomorrow}).content.decode()
    )
    assert notice.title in client.get(reverse("notices"), {"q": "第 1 批"}).content.decode()


def items_table(html: str) -> str:
    return html.split('<table class="items">')[1].split("</table>")[0]


def test_items_table_is_searchable_and_sortable_without_javascript(client, notice):
    url = reverse("notice", args=[notice.series_id])
    table = items_table(client.get(url, {"q": "欧*"}).content.decode())
    assert "欧**明" in table and "张*丰" not in table
    table = items_table(client.get(url, {"sort": "members", "dir": "desc"}).content.decode())
    assert table.index("欧**明") < table.index("张*丰") < table.index("李*")


def test_objections_during_publicity_reach_the_department(client, notice, cast):
    url = reverse("notice-objection", args=[notice.series_id, 1])
    response = client.post(
        url,
        {
            "item_key": "SQ2026-0002",
            "name": "王五",
            "contact": "13700000000",
            "reason": "该户有房产",
        },
        follow=True,
    )
    assert "异议已提交" in response.content.decode()
    objection = Objection.objects.get(publication=notice)
    client.force_login(cast.users["district"])
    queue = client.get(reverse("publishing-objections")).content.decode()
    assert "该户有房产" in queue
    client.post(
        reverse("publishing-objections"),
        {"objection": objection.pk, "sustained": "1", "handling": "经核查属实，取消资格"},
    )
    objection.refresh_from_db()
    assert objection.status == "sustained" and objection.handled_by == cast.users["district"]
    assert Event.objects.filter(action="objection.handled", reason="经核查属实，取消资格").exists()
    client.force_login(cast.users["operator"])
    assert "该户有房产" not in client.get(reverse("publishing-objections")).content.decode()


def test_objections_are_rate_limited_and_only_during_the_period(client, notice, db):
    url = reverse("notice-objection", args=[notice.series_id, 1])
    form = {
        "item_key": "SQ2026-0001",
        "name": "赵六",
        "contact": "x@example.cn",
        "reason": "有异议",
    }
    for _ in range(6):
        client.post(url, form)
    assert Objection.objects.filter(publication=notice).count() == 5
    done = publish(period_working_days=None, title="无公示期的名单")
    with pytest.raises(services.PublishError, match="公示期已结束"):
        services.file_objection(
            done, item_key="SQ2026-0001", name="a", contact="b", reason="c", ip=None
        )
    with pytest.raises(services.PublishError, match="没有这一项"):
        services.file_objection(notice, item_key="nope", name="a", contact="b", reason="c", ip=None)


def test_vacancy_release_from_the_back_office(client, cast, django_capture_on_commit_callbacks):
    client.force_login(cast.users["district"])
    estate = cast.inside["district"]
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("asset-estate-release", args=[estate.pk]))
    outbox = Outbox.objects.filter(kind="vacancy").latest("pk")
    publication = services.process_outbox(outbox.pk)
    vacant = estate.buildings.filter(units__status="vacant").count()
    assert len(publication.items) == vacant
    assert publication.region == estate.district and estate.name in publication.title
    html = client.get(reverse("notice", args=[publication.series_id])).content.decode()
    assert 'id="notice-map"' in html and "notice-points" in html
    client.force_login(cast.users["street"])
    assert client.post(reverse("asset-estate-release", args=[estate.pk])).status_code == 403


def test_general_notice_and_correction_from_the_back_office(client, cast):
    client.force_login(cast.users["city"])
    city = cast.users["city"].staff_profile.region
    client.post(
        reverse("publishing-notice-new"),
        {"region": city.pk, "title": "停水通知", "body": "周六停水"},
    )
    first = services.process_outbox(Outbox.objects.latest("pk").pk)
    client.post(
        reverse("publishing-correct", args=[first.pk]),
        {"title": "停水通知（更正）", "body": "周日停水", "reason": "日期有误"},
    )
    second = services.process_outbox(Outbox.objects.latest("pk").pk)
    assert (second.version, second.supersedes_id, second.correction_reason) == (
        2,
        first.pk,
        "日期有误",
    )


def test_pages_render_sanitized_markdown(client):
    Page.objects.create(
        section="guide",
        slug="xss",
        title="测试指南",
        body="## 步骤\n\n- 一\n\n<script>alert(1)</script><img src=x onerror=alert(2)>"
        "[链接](javascript:alert(3))",
    )
    html = client.get(reverse("page", args=["guide", "xss"])).content.decode()
    assert "<h2>步骤</h2>" in html and "<li>一</li>" in html
    assert "<script>alert(1)" not in html and "onerror" not in html and "javascript:" not in html


def test_staff_keep_guides_with_attachments_shown_in_the_portal(client, cast):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(cast.users["district"])
    response = client.post(
        reverse("publishing-page-new"),
        {
            "page-section": "guide",
            "page-title": "续租办理指南",
            "page-slug": "renewal",
            "page-body": "## 材料\n\n- 身份证",
            "page-published": "on",
            "page-ordering": 1,
            "file-title": "续租申请表",
            "file-file": SimpleUploadedFile("form.pdf", b"%PDF-1.4 test", "application/pdf"),
        },
    )
    assert response.status_code == 302
    listing = client.get("/guide/").content.decode()
    assert "续租办理指南" in listing
    page = client.get("/guide/renewal/").content.decode()
    assert "<h2>材料</h2>" in page and "续租申请表" in page
    link = page.split('href="/attachments/')[1].split('"')[0]
    download = client.get(f"/attachments/{link}")
    assert b"".join(download.streaming_content) == b"%PDF-1.4 test"
    client.force_login(cast.users["community"])
    assert client.get(reverse("publishing-pages")).status_code == 403


def test_vacancy_releases_need_a_published_estate_and_replace_the_last_one(cast):
    estate = cast.inside["district"]
    first = services.process_outbox(services.release_vacancies(estate, actor=None).pk)
    second = services.process_outbox(services.release_vacancies(estate, actor=None).pk)
    assert second.supersedes_id == first.pk and second.series_id == first.series_id
    assert list(Publication.objects.current().filter(series=first.series)) == [second]
    estate.published = False
    estate.save()
    with pytest.raises(services.PublishError, match="尚未公开"):
        services.release_vacancies(estate, actor=None)


def test_corrections_do_not_mask_twice(client, cast, notice):
    client.force_login(cast.users["district"])
    client.post(
        reverse("publishing-correct", args=[notice.pk]),
        {"title": notice.title, "body": "更正正文", "reason": "正文有误"},
    )
    fixed = services.process_outbox(Outbox.objects.latest("pk").pk)
    assert fixed.items == notice.items, "already masked rows are published as they were"
    assert fixed.period_ends_at == notice.period_ends_at


def test_notice_map_tooltips_are_text(client, cast):
    from pathlib import Path

    from django.contrib.staticfiles import finders

    from geo.models import Building

    estate = cast.inside["district"]
    for i, building in enumerate(Building.objects.filter(estate=estate)):
        building.number = f"<img src=x{i} onerr"
        building.save()
    publication = services.process_outbox(services.release_vacancies(estate, actor=None).pk)
    html = client.get(reverse("notice", args=[publication.series_id])).content.decode()
    assert "/static/disclosure/notice-map.js" in html  # the map script, a file under the CSP
    script = Path(finders.find("disclosure/notice-map.js")).read_text()
    assert "bindTooltip(document.createTextNode(p.label))" in script
    assert "<img src=x" not in html
