"""信用管理 pages as staff use them: entering a report with a clear error for a wrong number,
telling the household, 认定 after an objection, the public 失信名单, and the city-wide query
that any operator may ask and that is always logged."""

from datetime import timedelta

import pytest
from django.utils import timezone

from credit.models import Conduct, Proposal, Query, Record, Subject
from disclosure.services import pending_outbox_ids, process_outbox
from geo.models import Estate, Region
from housing.models import Household, InboxMessage
from tests.personas import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def county():
    return Region.objects.get(adcode="341602")


@pytest.fixture
def clerk(county):
    return make_staff("credit-page-clerk", "district", region=county)


def _enter(client, county, **changes):
    known = Subject.objects.filter(household_id__isnull=False).values("household_id")
    household = (
        Household.objects.filter(county=county, applicant__isnull=False)
        .exclude(pk__in=known)
        .first()
    )
    data = {
        "kind": "person",
        "name": household.head_name,
        "number": household.head_id_number,
        "conduct": "",
        "county": county.pk,
        "facts": "年审时隐瞒家庭新增机动车一辆（车辆登记信息）。",
    }
    data["conduct"] = Conduct.objects.get(code="false-annual-review").pk
    data.update(changes)
    return household, client.post("/staff/credit/proposals/new/", data, follow=True)


def test_a_report_names_the_wrong_field_and_a_good_one_tells_the_household(
    client, clerk, county, django_capture_on_commit_callbacks
):
    client.force_login(clerk)
    before = Proposal.objects.count()
    _household, bad_id = _enter(client, county, number="341602198001010000")
    assert "身份证号：" in bad_id.content.decode()
    assert Proposal.objects.count() == before
    _household, bad_code = _enter(client, county, kind="organisation", number="91110000600037341A")
    assert "统一社会信用代码“91110000600037341A”不正确" in bad_code.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        household, made = _enter(client, county)
    proposal = Proposal.objects.filter(subject__name=household.head_name).latest("pk")
    assert made.redirect_chain[-1][0] == f"/staff/credit/proposals/{proposal.pk}/"
    assert "已登记并通过站内信和短信告知当事人" in made.content.decode()
    told = InboxMessage.objects.filter(applicant=household.applicant).latest("pk")
    assert told.subject == "拟认定失信：年审时隐瞒收入、住房等变化"
    assert proposal.objection_until.strftime("%Y-%m-%d") in told.body


def test_an_objection_is_answered_and_the_record_goes_on_the_public_list(client, clerk, county):
    client.force_login(clerk)
    household, _made = _enter(client, county)
    proposal = Proposal.objects.filter(subject__name=household.head_name).latest("pk")
    url = f"/staff/credit/proposals/{proposal.pk}/"
    early = client.post(url + "confirm/", {"text": "予以认定。"}, follow=True).content.decode()
    assert "期满后才能认定" in early
    client.post(url + "object/", {"text": "车辆是借用亲戚的，已提供说明。"})
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.OBJECTED
    client.post(url + "confirm/", {"text": "车辆登记在本人名下，异议不成立。"})
    record = Record.objects.get(proposal=proposal)
    assert record.level == "serious"
    for pk in pending_outbox_ids():
        process_outbox(pk)
    listing = client.get("/notices/?kind=dishonesty").content.decode()
    assert "失信名单" in listing


def test_any_operator_may_ask_city_wide_but_not_decide_and_every_question_is_logged(
    client, clerk, county
):
    client.force_login(clerk)
    household, _made = _enter(client, county)
    proposal = Proposal.objects.filter(subject__name=household.head_name).latest("pk")
    Proposal.objects.filter(pk=proposal.pk).update(
        objection_until=timezone.localdate() - timedelta(days=1)
    )
    client.post(f"/staff/credit/proposals/{proposal.pk}/confirm/", {"text": "予以认定。"})

    operator = Estate.objects.exclude(district=county).exclude(operator=None).first().operator
    client.force_login(make_staff("credit-page-op", "operator", operator=operator))
    assert client.get("/staff/credit/proposals/").status_code == 403
    assert client.get(f"/staff/credit/proposals/{proposal.pk}/").status_code == 404
    unlogged = client.post("/staff/credit/query/", {"purpose": "", "number": "x"})
    assert "查询事由" in unlogged.content.decode()
    answer = client.post(
        "/staff/credit/query/",
        {"purpose": "入住前核查 HT2026-000099", "number": household.head_id_number},
    ).content.decode()
    assert "有 1 条影响期内的失信记录" in answer
    number = household.head_id_number
    assert f'<td data-label="证件号码">{number[:6]}********{number[-4:]}</td>' in answer
    assert f"number={number}" not in answer, "an ID number never goes into a URL"
    log = Query.objects.latest("pk")
    assert log.purpose == "入住前核查 HT2026-000099" and log.found == 1


def test_another_county_cannot_open_or_decide_this_county_s_proposal(client, clerk, county):
    client.force_login(clerk)
    household, _made = _enter(client, county)
    proposal = Proposal.objects.filter(subject__name=household.head_name).latest("pk")
    woyang = make_staff(
        "credit-page-woyang", "district", region=Region.objects.get(adcode="341621")
    )
    client.force_login(woyang)
    assert client.get(f"/staff/credit/proposals/{proposal.pk}/").status_code == 404
    assert (
        client.post(f"/staff/credit/proposals/{proposal.pk}/object/", {"text": "xxxx"}).status_code
        == 404
    )
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.NOTIFIED


def test_the_proposal_list_takes_a_few_queries_however_long(
    client, clerk, county, django_assert_max_num_queries
):
    client.force_login(clerk)
    for _ in range(3):
        _enter(client, county)
    with django_assert_max_num_queries(12):
        page = client.get("/staff/credit/proposals/?tab=notified")
    assert page.status_code == 200


def test_an_organisation_gets_a_printable_notice_with_its_code_and_deadline(client, clerk, county):
    import subprocess

    client.force_login(clerk)
    made = client.post(
        "/staff/credit/proposals/new/",
        {
            "kind": "organisation",
            "name": "亳州市某某代办服务部",
            "number": "91110000600037341L",
            "conduct": Conduct.objects.get(code="intermediary-fraud").pk,
            "county": county.pk,
            "facts": "为申请人伪造收入证明。",
        },
        follow=True,
    )
    assert "请书面告知" in made.content.decode()
    proposal = Proposal.objects.get(subject__credit_code="91110000600037341L")
    pdf = client.get(f"/staff/credit/proposals/{proposal.pk}/letter/")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True
    ).stdout.decode()
    assert "失信行为认定告知书" in text and "91110000600037341L" in text
    assert f"{proposal.objection_until.year}年" in text and "严重失信" in text
    woyang = Region.objects.get(adcode="341621")
    client.force_login(make_staff("credit-letter-woyang", "district", region=woyang))
    assert client.get(f"/staff/credit/proposals/{proposal.pk}/letter/").status_code == 404
