"""The person a record is about sees it on /my/: a proposal with its deadline to object online,
a record in effect with its consequence and a way to ask for repair; nobody else can act on it."""

import pytest

from credit import services
from credit.models import Proposal, Repair
from housing.models import Applicant, Application
from housing.views import SESSION_KEY
from portal.management.commands.load_demo import CREDIT_BLOCKED_PHONE
from tests.personas import make_staff

pytestmark = pytest.mark.django_db


def _sign_in(client, applicant: Applicant) -> None:
    session = client.session
    session[SESSION_KEY] = applicant.pk
    session.save()


@pytest.fixture
def person():
    """The demo's blocked applicant: a draft, and a severe record in effect."""
    applicant = Applicant.objects.get(phone=CREDIT_BLOCKED_PHONE)
    return applicant, Application.objects.get(applicant=applicant)


def test_the_person_objects_online_and_asks_for_repair_and_a_stranger_cannot(client, person):
    applicant, application = person
    clerk = make_staff("my-credit-clerk", "district", region=application.county)
    subject = services.person(application.name, application.id_number)
    proposal = services.propose(
        subject=subject,
        conduct_code="refuse-allocation",
        county=application.county,
        source="manual",
        facts="两次无正当理由放弃选房。",
        actor=clerk,
    )
    _sign_in(client, applicant)
    page = client.get("/my/").content.decode()
    assert "无正当理由两次拒绝配租" in page and "提出异议" in page
    assert "申请时提供虚假材料" in page and "申请信用修复" in page  # the record in effect
    record = subject.records.get(conduct__code="false-application")

    stranger = Applicant.objects.create(phone="13900007777")
    _sign_in(client, stranger)
    objection = f"/my/credit/proposals/{proposal.pk}/object/"
    assert client.post(objection, {"text": "不是我本人放弃"}).status_code == 404
    repair = f"/my/credit/records/{record.pk}/repair/"
    assert client.post(repair, {"text": "xxxx"}).status_code == 404
    assert "提出异议" not in client.get("/my/").content.decode()

    _sign_in(client, applicant)
    client.post(objection, {"text": "第二次放弃是因住院，有病历。"})
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.OBJECTED
    assert proposal.objection == "第二次放弃是因住院，有病历。"
    client.post(repair, {"text": "已如实补报全部房产信息。"})
    assert Repair.objects.filter(record=record, status="pending").exists()
    again = client.post(objection, {"text": "再次异议"}, follow=True).content.decode()
    assert "已不在异议期内" in again
