"""电子证照: the licence service over signed HTTP (the demo platform), the licences kept as
evidence when a resident submits, shown masked to the resident and the staff, and a service
that fails never costing the application."""

import hashlib
import json
import socket
from datetime import date

import pytest
from django.conf import settings
from django.utils import translation

from archive.models import Event
from backoffice.models import StaffProfile
from exchange.demo_licences import licences as demo_licences
from exchange.idcard import make_id_number
from exchange.licences import KINDS, HttpLicenceSource, fetch_all, licence_source_for
from exchange.models import Evidence
from exchange.sources import SourceUnavailable
from exchange.synthetic import record
from housing import licences, services
from housing.models import Applicant, Application
from tests.housing.application_form import application_form, demo_place
from tests.personas import make_staff
from tests.portal.test_english import PageText, english_client

APP, SECRET = "anju-demo", "anju-demo-secret"


def find(predicate, month: int, sequences=(901,)) -> str:
    """The first synthetic ID number born in `month` of 1979 whose department records fit
    (sequence 901: the people who own property)."""
    for day in range(1, 29):
        for seq in sequences:
            number = make_id_number("341602", date(1979, month, day), seq)
            if predicate(number):
                return number
    raise AssertionError("no synthetic person fits")


def owner_married(number: str) -> bool:
    return (
        bool(record("property", number)["properties"])
        and record("civil", number)["marriage"] == "已婚"
        and not record("disability", number)["certified"]
    )


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture
def place(db):
    return demo_place()


def draft(place, number: str, phone: str) -> Application:
    county, street, community = place
    applicant, _ = Applicant.objects.get_or_create(phone=phone)
    return Application(
        applicant=applicant,
        name=record("police", number)["name"],
        id_number=number,
        phone=phone,
        county=county,
        street=street,
        community=community,
        consent=True,
    )


def licence_evidence(application: Application):
    return Evidence.objects.filter(
        subject_type="application",
        subject_id=application.pk,
        department__startswith="licence:",
    )


def test_demo_licences_agree_with_the_department_records():
    for seq in [*range(300, 360), 901, 911]:
        number = make_id_number("341602", date(1982, 7, 1), seq)
        police = record("police", number)
        (hukou,) = demo_licences("hukou", number)
        assert hukou["holder"] == police["name"] and hukou["number"].startswith("341602")
        married = record("civil", number)["marriage"] == "已婚"
        assert bool(demo_licences("marriage", number)) == married
        titles = demo_licences("real_estate", number)
        assert len(titles) == len(record("property", number)["properties"])
        assert bool(titles) == (seq == 901)  # the "owns property" people, and only they
        disabled = record("disability", number)["certified"]
        assert bool(demo_licences("disability", number)) == disabled


def test_every_licence_type_over_signed_http(data_platform):
    number = find(owner_married, month=9)
    answers = fetch_all(number, HttpLicenceSource(data_platform, APP, SECRET, timeout=5))
    assert list(answers) == list(KINDS)
    for kind, answer in answers.items():
        assert answer.licences == demo_licences(kind, number)
        canonical = json.dumps(
            answer.payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        assert answer.payload_hash == hashlib.sha256(canonical.encode()).hexdigest()
    assert answers["real_estate"].licences and answers["marriage"].licences
    assert answers["disability"].licences == []  # holds none: an answer, not an error


def test_a_wrong_secret_or_a_platform_that_is_down_gives_a_clear_message(data_platform):
    number = find(owner_married, month=9)
    wrong = HttpLicenceSource(data_platform, APP, "not-the-secret", timeout=5, retries=0)
    with pytest.raises(SourceUnavailable, match="电子证照库：签名校验未通过（HTTP 401）"):
        fetch_all(number, wrong)
    down = HttpLicenceSource(dead_url(), APP, SECRET, timeout=2, retries=1, backoff=0)
    with pytest.raises(SourceUnavailable, match=r"电子证照库：.*暂时无法访问（无法连接）"):
        fetch_all(number, down)


def submit_online(client, place, number: str, phone: str):
    """The resident's own path: signed in by phone, the form posted with "submit"."""
    applicant, _ = Applicant.objects.get_or_create(phone=phone)
    session = client.session
    session["applicant_id"] = applicant.pk
    session.save()
    members = record("police", number)["members"]
    form = application_form("submit", members[0]["name"], number, place, members)
    return client.post("/apply/", form, follow=True)


def test_submitted_licences_are_evidence_shown_masked_to_resident_and_staff(
    client, place, platform_settings, django_assert_num_queries
):
    number = find(owner_married, month=11)
    mine = submit_online(client, place, number, "13700071001").content.decode()
    assert "申请已提交" in mine
    assert "已使用电子证照：居民户口簿、结婚证、不动产权证书，免于提交纸质材料" in mine
    application = Application.objects.get(id_number=number)

    kept = {e.department: e for e in licence_evidence(application)}
    assert set(kept) == {f"licence:{kind}" for kind in KINDS}
    for kind, evidence in kept.items():
        assert evidence.payload["licences"] == demo_licences(kind.split(":")[1], number)
        canonical = json.dumps(
            evidence.payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        assert evidence.payload_hash == hashlib.sha256(canonical.encode()).hexdigest()
        assert evidence.source.startswith("电子证照库 http://127.0.0.1:")
    event = Event.objects.get(action="application.licences", household_id=application.pk)
    assert event.after["evidence"]["real_estate"] == kept["licence:real_estate"].payload_hash

    with django_assert_num_queries(1):  # one query, whatever the number of licences
        lines = licences.used_by(application)
    assert [line.found for line in lines] == [True, True, True, False]

    title = demo_licences("real_estate", number)[0]["number"]
    hukou = demo_licences("hukou", number)[0]["number"]
    status = client.get("/status/", {"number": application.number, "id6": number[-6:]})
    staff = make_staff("lic-district", StaffProfile.Role.DISTRICT, region=place[0])
    client.force_login(staff)
    detail = client.get(f"/staff/review/{application.pk}/")
    assert detail.status_code == 200
    for page in (status.content.decode(), detail.content.decode()):
        assert "已使用电子证照" in page and "免于提交纸质材料" in page
        assert "亳州市自然资源和规划局" in page and "亳州市公安局谯城区分局" in page
        assert title not in page and hukou not in page  # numbers masked
        assert title[:6] in page and title[-4:] in page
        assert "残疾人证" in page and "未查到" in page  # holds none: shown, not an error

    # In English the list reads in English; issuers and numbers are marked as data.
    with translation.override(settings.LANGUAGE_CODE):  # the request's English ends with it
        english = english_client().get(
            "/status/", {"number": application.number, "id6": number[-6:]}
        )
    reader = PageText()
    reader.feed(english.content.decode())
    assert "Electronic licences used" in english.content.decode()
    assert reader.chinese() == [], reader.chinese()


def test_a_licence_service_that_fails_never_costs_the_application(client, place, platform_settings):
    number = find(owner_married, month=12)
    platform_settings.ANJU_LICENCE_URL = dead_url()
    mine = submit_online(client, place, number, "13700071002").content.decode()
    application = Application.objects.get(id_number=number)
    assert application.stage == "accept"  # submitted all the same
    assert "申请已提交" in mine
    assert "本次未能使用电子证照（电子证照库：数据共享平台暂时无法访问（无法连接）" in mine
    assert "请按通知提交纸质材料" in mine
    assert not licence_evidence(application).exists()
    status = client.get("/status/", {"number": application.number, "id6": number[-6:]})
    assert "暂未调取到电子证照" in status.content.decode()

    # A wrong signature later: the reason is given, still nothing half-written.
    platform_settings.ANJU_LICENCE_URL = ""
    wrong = HttpLicenceSource(
        platform_settings.ANJU_DATA_PLATFORM_URL, APP, "not-the-secret", retries=0
    )
    problem = licences.fetch_and_record(application.pk, source=wrong)
    assert "签名校验未通过" in problem
    assert not licence_evidence(application).exists()

    # The service back: asked again (as the data check does), kept once.
    assert licences.fetch_and_record(application.pk, source=licence_source_for(None)) == ""
    assert licence_evidence(application).count() == len(KINDS)
    assert licences.fetch_and_record(application.pk, source=licence_source_for(None)) == ""
    assert licence_evidence(application).count() == len(KINDS)


def test_a_counter_application_asks_no_licences(place, platform_settings):
    """Paper brought to the window is the paper route: the service is not asked."""
    number = find(owner_married, month=10)
    application = draft(place, number, "13700071003")
    application.applicant = None
    application.channel = Application.Channel.COUNTER
    saved = services.save_application(
        application, [{"name": application.name, "relation": "本人"}], submit=True
    )
    assert saved.stage == "accept"
    assert not licence_evidence(saved).exists()
