"""The whole path over real HTTP to the demo data platform: apply (zero proof), accept, first
review, data check, second review, publicity notice, objection, approval — each role only at
its own step and in its own jurisdiction."""

import subprocess
import sys
from datetime import datetime
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from disclosure.models import Objection
from disclosure.services import pending_outbox_ids, process_outbox
from exchange.idcard import make_id_number
from exchange.models import Evidence
from exchange.sources import HttpJsonSource, SourceUnavailable
from exchange.synthetic import person_name, record
from geo.models import Region
from housing import services
from housing.models import Applicant, Application
from tests.housing.application_form import application_form
from tests.personas import make_staff

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def rules(db):
    call_command(
        "load_rules", str(ROOT / "data" / "eligibility-rules.json"), commit=True, verbosity=0
    )


def person(seq: int, region: str = "341602") -> tuple[str, str]:
    from datetime import date

    number = make_id_number(region, date(1986, 5, 17), seq)
    return person_name(number), number


def eligible_person(seq: int, region: str = "341602") -> tuple[str, str]:
    """The first synthetic person from `seq` on whose department records pass the rules."""
    from exchange.sources import SyntheticSource
    from housing.models import EligibilityRule
    from housing.rules import apply_rules, facts_from_answers

    source = SyntheticSource()
    rules_ = list(EligibilityRule.objects.filter(county__adcode=region))
    for candidate in range(seq, seq + 200):
        name, number = person(candidate, region)
        departments = ("police", "property", "tax", "market", "social")
        answers = {d: source.fetch(d, number) for d in departments}
        members = len(answers["police"].payload["members"])
        if all(f.passed for f in apply_rules(rules_, facts_from_answers(answers, members))):
            return name, number
    raise AssertionError("no eligible synthetic person")


def sign_in(client, phone: str) -> None:
    applicant, _ = Applicant.objects.get_or_create(phone=phone)
    session = client.session
    session["applicant_id"] = applicant.pk
    session.save()


def apply_online(client, place, name: str, number: str, phone: str = "13700001111") -> Application:
    county, street, community = place
    sign_in(client, phone)
    prefill = client.post("/apply/", {"action": "prefill", "name": name, "id_number": number})
    html = prefill.content.decode()
    members = record("police", number)["members"]
    assert f"已从公安户籍读取家庭成员 {len(members)} 人" in html
    assert members[-1]["name"] in html  # the form comes back filled in
    form = application_form("submit", name, number, (county, street, community), members)
    response = client.post("/apply/", form)
    assert response.status_code == 302, response.content.decode()[-2000:]
    return Application.objects.get(id_number=number)


def act(client, user, application, decision="pass", opinion="同意", step=None):
    client.force_login(user)
    application.refresh_from_db()
    return client.post(
        f"/staff/review/{application.pk}/decide/",
        {"decision": decision, "opinion": opinion, "expected_step": step or application.stage},
    )


def test_the_whole_path_against_the_demo_platform(
    client, rules, place, chain_staff, platform_settings
):
    name, number = eligible_person(321)
    application = apply_online(client, place, name, number)
    assert application.stage == "accept"
    assert application.members.count() == len(record("police", number)["members"])
    assert application.number.startswith("SQ")

    # Each step belongs to one role: others can neither act nor (outside the area) see it.
    assert act(client, chain_staff["street"], application).status_code == 403
    client.force_login(chain_staff["other_county"])
    assert client.get(f"/staff/review/{application.pk}/").status_code == 404
    client.force_login(chain_staff["other_street"])
    assert client.get(f"/staff/review/{application.pk}/").status_code == 404
    client.force_login(chain_staff["community"])
    assert application.number in client.get("/staff/review/").content.decode()
    client.force_login(chain_staff["street"])
    assert application.number not in client.get("/staff/review/").content.decode()

    act(client, chain_staff["community"], application)
    act(client, chain_staff["street"], application)
    application.refresh_from_db()
    assert application.stage == "data_check"

    client.force_login(chain_staff["district"])
    response = client.post(f"/staff/review/{application.pk}/data-check/", follow=True)
    html = response.content.decode()
    assert "家庭人均月收入" in html and "数据共享平台" in html
    evidence = Evidence.objects.filter(subject_type="application", subject_id=application.pk)
    departments = evidence.exclude(department__startswith="licence:")
    licences = evidence.filter(department__startswith="licence:")
    assert departments.count() == 8 and licences.count() == 4  # 电子证照 fetched at submission
    assert all(len(e.payload_hash) == 64 for e in evidence)
    check = application.checks.first()
    assert check.passed, check.results
    act(client, chain_staff["district"], application)  # 联审 passed
    act(client, chain_staff["district"], application)  # 复审 passed
    application.refresh_from_db()
    assert application.stage == "publicity"

    client.force_login(chain_staff["district"])
    client.post(f"/staff/review/publicity/{place[0].pk}/")
    for outbox_id in pending_outbox_ids():
        process_outbox(outbox_id)
    application.refresh_from_db()
    notice = services.publication_of(application)
    assert notice.kind == "review" and notice.region == place[0]
    row = next(r for r in notice.items if r["_key"] == application.public_key)
    assert row["name"] != name and row["name"][0] == name[0] and "*" in row["name"]
    assert row["id_number"] == number[:6] + "********" + number[-4:]
    assert row["priority"] in ("是", "否"), "no welfare or health category is published"
    public = client.get(f"/notices/{notice.series_id}/").content.decode()
    assert number not in public and name not in public.split("<h1")[1]
    assert application.number not in public, "the number opens the status lookup: never published"

    # An objection reaches the reviewer; sustained, the case goes back to 复审.
    Objection.objects.create(
        publication=notice,
        item_key=application.public_key,
        name="邻居",
        contact="13800000000",
        reason="该户在外地有房",
    )
    detail = client.get(f"/staff/review/{application.pk}/").content.decode()
    assert "该户在外地有房" in detail
    later = notice.period_ends_at.replace(year=notice.period_ends_at.year + 1)
    services.finish_publicity(now=later)
    application.refresh_from_db()
    assert application.stage == "publicity", "an open objection must be decided first"
    Objection.objects.filter(publication=notice).update(status="dismissed")
    services.finish_publicity(now=later)
    application.refresh_from_db()
    assert application.stage == "approved"
    sign_in(client, "13700001111")
    mine = client.get("/my/").content.decode()
    assert "审批通过" in mine and "公示无异议" in mine


def test_a_sustained_objection_sends_the_case_back(rules, place, platform_settings):
    county, street, community = place
    name, number = eligible_person(400)
    application = Application(
        name=name,
        id_number=number,
        phone="13700002222",
        county=county,
        street=street,
        community=community,
        consent=True,
    )
    services.save_application(application, record("police", number)["members"], submit=True)
    for _step in ("accept", "first_review"):
        services.decide(application.pk, decision="pass", opinion="", actor=None)
    services.run_data_check(application.pk, actor=None)
    services.decide(application.pk, decision="pass", opinion="", actor=None)
    services.decide(application.pk, decision="pass", opinion="", actor=None)
    services.start_publicity(county, actor=None)
    for outbox_id in pending_outbox_ids():
        process_outbox(outbox_id)
    application.refresh_from_db()
    notice = services.publication_of(application)
    Objection.objects.create(
        publication=notice,
        item_key=application.public_key,
        name="x",
        contact="y",
        reason="z",
        status="sustained",
    )
    later = notice.period_ends_at.replace(year=notice.period_ends_at.year + 1)
    services.finish_publicity(now=later)
    application.refresh_from_db()
    assert application.stage == "second_review"


def test_publicity_period_is_the_county_setting(rules, place, platform_settings):
    platform_settings.ANJU_HOLIDAYS, platform_settings.ANJU_WORKDAYS = [], []
    county = Region.objects.get(adcode="341622")  # 蒙城县 publishes for 10 working days
    assert services.policy_for(county).publicity_working_days == 10
    street = Region.objects.filter(parent=county).first()
    community = Region.objects.filter(parent=street).first()
    name, number = person(323, "341622")
    application = Application(
        name=name,
        id_number=number,
        phone="13700003333",
        county=county,
        street=street,
        community=community,
        consent=True,
    )
    services.save_application(
        application, [{"name": name, "relation": "本人", "id_number": number}], submit=True
    )
    Application.objects.filter(pk=application.pk).update(stage="publicity")
    services.start_publicity(county, actor=None)
    outbox_id = pending_outbox_ids()[-1]
    friday = datetime(2026, 3, 6, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with mock.patch("django.utils.timezone.now", return_value=friday):
        publication = process_outbox(outbox_id)
    assert publication.region == county
    # Ten working days from Friday 6 March 2026 (no holiday that month): 9–13 and 16–20.
    assert publication.period_ends_at == datetime(
        2026, 3, 20, 23, 59, 59, tzinfo=ZoneInfo("Asia/Shanghai")
    )


def test_a_rejected_applicant_sees_the_reasons(
    client, rules, place, chain_staff, platform_settings
):
    name, number = person(904)  # registered a company: fails the business rule
    application = apply_online(client, place, name, number, phone="13700004444")
    act(client, chain_staff["community"], application)
    act(client, chain_staff["street"], application)
    client.force_login(chain_staff["district"])
    client.post(f"/staff/review/{application.pk}/data-check/")
    check = application.checks.first()
    assert not check.passed
    failed = [r["label"] for r in check.results if not r["passed"]]
    assert "登记企业数" in failed  # the 904 sequence registers a company
    refused = act(client, chain_staff["district"], application, "pass")
    application.refresh_from_db()
    assert application.stage == "data_check", "a failed check cannot be passed"
    assert refused.status_code == 302
    act(
        client,
        chain_staff["district"],
        application,
        "reject",
        "经比对，家庭成员登记有企业，不符合条件",
    )
    sign_in(client, "13700004444")
    mine = client.get("/my/").content.decode()
    assert "未通过原因" in mine and "登记有企业" in mine
    status = client.get(
        "/status/", {"number": application.number, "id6": number[-6:]}
    ).content.decode()
    assert "登记有企业" in status


def test_returned_for_correction_then_resubmitted(
    client, rules, place, chain_staff, platform_settings
):
    name, number = person(324)
    application = apply_online(client, place, name, number, phone="13700005555")
    act(client, chain_staff["community"], application, "return", "请补充工作单位")
    application.refresh_from_db()
    assert application.returned and application.stage == "accept"
    sign_in(client, "13700005555")
    assert "请补充工作单位" in client.get("/apply/").content.decode()
    apply_online(client, place, name, number, phone="13700005555")
    application.refresh_from_db()
    assert not application.returned and application.stage == "accept"
    assert application.steps.filter(decision="submit").count() == 2
    # The household survives the correction (unchanged member rows are not "empty").
    assert application.members.count() == len(record("police", number)["members"])


def test_status_lookup_gives_nothing_away_and_is_rate_limited(
    client, rules, place, platform_settings
):
    name, number = person(325)
    county, street, community = place
    application = Application(
        name=name,
        id_number=number,
        phone="13700006666",
        county=county,
        street=street,
        community=community,
        consent=True,
    )
    services.save_application(
        application, [{"name": name, "relation": "本人", "id_number": number}], submit=True
    )
    wrong = client.get("/status/", {"number": application.number, "id6": "000000"}).content.decode()
    unknown = client.get(
        "/status/", {"number": "SQ2099-999999", "id6": number[-6:]}
    ).content.decode()
    message = "没有查到与申请编号和身份证号后六位相符的申请"
    assert message in wrong and message in unknown and name not in wrong
    right = client.get(
        "/status/", {"number": application.number, "id6": number[-6:]}
    ).content.decode()
    assert "待受理" in right
    for _ in range(10):
        client.get("/status/", {"number": application.number, "id6": number[-6:]})
    assert "查询过于频繁" in client.get("/status/", {"number": "x", "id6": "y"}).content.decode()


def test_platform_down_gives_a_clear_message_and_loses_nothing(
    client, rules, place, chain_staff, settings
):
    settings.ANJU_DATA_PLATFORM_URL = "http://127.0.0.1:9"  # nothing listens there
    name, number = person(326)
    county, street, community = place
    application = Application(
        name=name,
        id_number=number,
        phone="13700007777",
        county=county,
        street=street,
        community=community,
        consent=True,
    )
    services.save_application(
        application, [{"name": name, "relation": "本人", "id_number": number}], submit=True
    )
    Application.objects.filter(pk=application.pk).update(stage="data_check")
    client.force_login(chain_staff["district"])
    html = client.post(f"/staff/review/{application.pk}/data-check/", follow=True).content.decode()
    assert "数据查询未完成" in html and "暂时无法访问" in html
    assert not application.checks.exists()
    assert not Evidence.objects.filter(
        subject_id=application.pk, subject_type="application"
    ).exists()
    application.refresh_from_db()
    assert application.stage == "data_check", "the case waits; the check is simply run again"


def test_a_slow_platform_times_out_then_a_retry_succeeds(rules, data_platform):
    slow = subprocess.Popen(
        [sys.executable, "-m", "exchange.demo_platform", "--port", "0", "--delay", "3"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = slow.stdout.readline()  # "demo data platform on http://127.0.0.1:PORT"
        url = line.strip().rsplit(" ", 1)[-1]
        source = HttpJsonSource(
            url, "anju-demo", "anju-demo-secret", timeout=0.5, retries=1, backoff=0.1
        )
        _, number = person(327)
        with pytest.raises(SourceUnavailable, match="超时"):
            source.fetch("police", number)
        fast = HttpJsonSource(data_platform, "anju-demo", "anju-demo-secret", timeout=3)
        assert fast.fetch("police", number).payload["members"]
    finally:
        slow.terminate()
        slow.wait(timeout=10)


def test_unsigned_or_wrongly_signed_requests_are_refused(data_platform):
    _, number = person(328)
    wrong = HttpJsonSource(data_platform, "anju-demo", "not-the-secret", timeout=3, retries=0)
    with pytest.raises(SourceUnavailable, match="HTTP 401"):
        wrong.fetch("police", number)
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(f"{data_platform}/api/police/{number}", timeout=3)
    assert exc.value.code == 401


def test_file_snapshot_source_reads_delivered_files(tmp_path):
    from exchange.sources import FileSnapshotSource

    _, number = person(329)
    (tmp_path / "property.csv").write_text(
        f'身份证号,properties\n{number},"[{{""area"": 88.5}}]"\n', encoding="utf-8-sig"
    )
    answer = FileSnapshotSource(tmp_path).fetch("property", number)
    assert answer.payload == {"properties": [{"area": 88.5}]}
    assert FileSnapshotSource(tmp_path).fetch("property", "x" * 18).payload == {}
    with pytest.raises(SourceUnavailable, match="没有该部门的数据文件"):
        FileSnapshotSource(tmp_path).fetch("tax", number)


def test_counter_staff_enter_paper_applications(client, rules, place, chain_staff):
    county, street, community = place
    name, number = person(330)
    client.force_login(chain_staff["community"])
    response = client.post(
        "/staff/review/counter/",
        {
            "phone": "13700008888",
            "name": name,
            "id_number": number,
            "county": county.pk,
            "street": street.pk,
            "community": community.pk,
            "consent": "on",
            "m-TOTAL_FORMS": 1,
            "m-INITIAL_FORMS": 0,
            "m-MIN_NUM_FORMS": 0,
            "m-MAX_NUM_FORMS": 12,
            "m-0-name": name,
            "m-0-relation": "本人",
            "m-0-id_number": number,
        },
    )
    assert response.status_code == 302
    application = Application.objects.get(id_number=number)
    assert application.channel == "counter" and application.stage == "accept"
    wrong_digit = "1" if number[17] != "1" else "2"
    bad = client.post(
        "/staff/review/counter/",
        {
            "phone": "13700008888",
            "name": name,
            "id_number": number[:17] + wrong_digit,
            "county": county.pk,
            "street": street.pk,
            "community": community.pk,
            "consent": "on",
            "m-TOTAL_FORMS": 0,
            "m-INITIAL_FORMS": 0,
            "m-MIN_NUM_FORMS": 0,
            "m-MAX_NUM_FORMS": 12,
        },
    )
    assert bad.status_code == 200, "the form comes back to be corrected"
    assert "身份证号校验位不正确" in bad.content.decode()
    assert not Application.objects.filter(id_number=number[:17] + wrong_digit).exists()


def test_cases_passing_second_review_are_published_automatically(
    rules, place, platform_settings, settings
):
    from housing.tasks import start_waiting_publicity

    # Publicity starts on working days only: today is one, whatever day the suite runs.
    settings.ANJU_WORKDAYS = [timezone.localdate().isoformat()]

    county, street, community = place
    name, number = eligible_person(600)
    application = Application(
        name=name,
        id_number=number,
        phone="13700009999",
        county=county,
        street=street,
        community=community,
        consent=True,
    )
    services.save_application(application, record("police", number)["members"], submit=True)
    Application.objects.filter(pk=application.pk).update(stage="second_review")
    services.decide(application.pk, decision="pass", opinion="", actor=None)
    assert start_waiting_publicity() == 1
    publication = process_outbox(pending_outbox_ids()[-1])
    assert application.public_key in {row["_key"] for row in publication.items}
    assert start_waiting_publicity() == 0


def submitted(place, seq: int, phone: str) -> Application:
    county, street, community = place
    name, number = eligible_person(seq)
    application = Application(
        name=name,
        id_number=number,
        phone=phone,
        county=county,
        street=street,
        community=community,
        consent=True,
    )
    return services.save_application(application, record("police", number)["members"], submit=True)


def test_a_double_click_decides_once(client, rules, place, chain_staff):
    application = submitted(place, 700, "13600000001")
    first = act(client, chain_staff["community"], application, step="accept")
    second = act(client, chain_staff["community"], application, step="accept")  # stale page
    assert first.status_code == 302 and second.status_code in (302, 403)
    application.refresh_from_db()
    assert application.stage == "first_review", (
        "the street's 初审 was not passed by the second click"
    )
    assert application.steps.filter(decision="pass").count() == 1


def test_the_service_refuses_the_wrong_role_even_without_the_view(rules, place, chain_staff):
    application = submitted(place, 710, "13600000002")
    with pytest.raises(services.NotAllowed, match="岗位"):
        services.decide(application.pk, decision="pass", opinion="", actor=chain_staff["street"])
    with pytest.raises(services.NotAllowed, match="他人处理"):
        services.decide(
            application.pk,
            decision="pass",
            opinion="",
            actor=chain_staff["community"],
            expected_step="first_review",
        )


def test_a_resubmitted_case_needs_a_new_data_check(rules, place, platform_settings):
    application = submitted(place, 720, "13600000003")
    Application.objects.filter(pk=application.pk).update(stage="data_check")
    services.run_data_check(application.pk, actor=None)
    services.decide(application.pk, decision="return", opinion="请补充", actor=None)
    application.refresh_from_db()
    services.save_application(
        application, record("police", application.id_number)["members"], submit=True
    )
    with pytest.raises(services.NotAllowed, match="重新比对"):
        services.decide(application.pk, decision="pass", opinion="", actor=None)


def test_corrections_cannot_change_who_applies_or_where(rules, place):
    application = submitted(place, 730, "13600000004")
    services.decide(application.pk, decision="return", opinion="请补充", actor=None)
    application.refresh_from_db()
    application.county = Region.objects.get(adcode="341621")
    with pytest.raises(services.NotAllowed, match="申请区县"):
        services.save_application(application, [], submit=True)


def test_an_application_without_household_members_cannot_be_submitted(rules, place):
    county, street, community = place
    name, number = person(790)
    application = Application(
        name=name,
        id_number=number,
        phone="13700007790",
        county=county,
        street=street,
        community=community,
        consent=True,
    )
    with pytest.raises(services.NotAllowed, match="请填写家庭成员"):
        services.save_application(application, [{"name": " ", "relation": "本人"}], submit=True)
    assert not Application.objects.filter(id_number=number).exists()
    services.save_application(application, [], submit=False)  # a draft may wait for them
    assert Application.objects.get(id_number=number).stage == "draft"


def test_one_open_case_per_person_but_drafts_do_not_block(rules, place):
    county, street, community = place
    name, number = eligible_person(740)
    draft = Application(
        name=name,
        id_number=number,
        phone="13600000005",
        county=county,
        street=street,
        community=community,
    )
    services.save_application(draft, [], submit=False)  # someone typed this ID into a draft
    real = Application(
        name=name,
        id_number=number,
        phone="13600000006",
        county=county,
        street=street,
        community=community,
        consent=True,
    )
    himself = [{"name": name, "relation": "本人", "id_number": number}]
    services.save_application(real, himself, submit=True)
    again = Application(
        name=name,
        id_number=number,
        phone="13600000007",
        county=county,
        street=street,
        community=community,
        consent=True,
    )
    with pytest.raises(services.NotAllowed, match="已有正在办理的申请"):
        services.save_application(again, himself, submit=True)


def test_an_empty_department_record_fails_its_rules(rules, place, chain_staff):
    from django.utils import timezone

    from exchange.sources import Answer

    class EmptyTax:
        name = "空记录测试"

        def fetch(self, department, id_number):
            from exchange.sources import SyntheticSource

            if department == "tax":
                return Answer(department, self.name, timezone.now(), {})
            return SyntheticSource().fetch(department, id_number)

    application = submitted(place, 750, "13600000008")
    Application.objects.filter(pk=application.pk).update(stage="data_check")
    check = services.run_data_check(application.pk, actor=None, source=EmptyTax())
    income = next(r for r in check.results if r["criterion"] == "income_per_head")
    assert income["found"] is None and not income["passed"] and not check.passed


def test_replayed_or_foreign_signatures_are_refused():
    from exchange.signing import NonceStore, sign, verify

    headers = sign("anju-demo", "s3cret", "GET", "/api/tax/1")
    nonces = NonceStore()
    assert verify("anju-demo", "s3cret", "GET", "/api/tax/1", headers, nonces=nonces)
    assert not verify("anju-demo", "s3cret", "GET", "/api/tax/1", headers, nonces=nonces)
    assert not verify("other-app", "s3cret", "GET", "/api/tax/1", headers)
    assert not verify("anju-demo", "s3cret", "GET", "/api/tax/2", headers)
    assert not verify("anju-demo", "s3cret", "GET", "/api/tax/1", headers | {"X-Signature": "签名"})


def test_counter_entry_stays_in_the_clerks_area_and_keeps_members(
    client, rules, place, chain_staff
):
    county, street, community = place
    name, number = eligible_person(760)
    client.force_login(chain_staff["other_county"])
    form = {
        "phone": "13600000009",
        "name": name,
        "id_number": number,
        "county": county.pk,
        "street": street.pk,
        "community": community.pk,
        "consent": "on",
        "m-TOTAL_FORMS": 1,
        "m-INITIAL_FORMS": 0,
        "m-MIN_NUM_FORMS": 0,
        "m-MAX_NUM_FORMS": 12,
        "m-0-name": name,
        "m-0-relation": "本人",
    }
    assert "不在您的管辖范围内" in client.post("/staff/review/counter/", form).content.decode()
    client.force_login(chain_staff["community"])
    assert client.post("/staff/review/counter/", form).status_code == 302
    assert Application.objects.get(id_number=number).members.count() == 1
    from geo.models import Operator

    operator = make_staff("r-operator", "operator", operator=Operator.objects.first())
    client.force_login(operator)
    assert client.get("/staff/review/counter/").status_code == 403
