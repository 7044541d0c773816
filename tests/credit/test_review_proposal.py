"""A reviewer who rejects an application for concealment reports it to 信用管理 in the same
decision: a proposal the applicant is told of and may object to; no tick, no proposal."""

import pytest

from credit.models import Proposal
from housing.models import Applicant, Application, InboxMessage
from tests.backoffice.test_review_listing import new_case

pytestmark = pytest.mark.django_db


def _reject(client, application: Application, **extra) -> None:
    client.post(
        f"/staff/review/{application.pk}/decide/",
        {
            "decision": "reject",
            "opinion": "不动产登记显示名下另有住房一套，申请时未申报。",
            "expected_step": application.stage,
            **extra,
        },
    )


def test_a_rejection_for_concealment_proposes_a_record_and_tells_the_applicant(client, cast):
    community = cast.users["community"].staff_profile.region
    client.force_login(cast.users["district"])
    plain = new_case(931, community, "second_review")
    _reject(client, plain)
    plain.refresh_from_db()
    assert plain.stage == "rejected"
    assert not Proposal.objects.filter(source="review", source_ref=plain.number).exists()

    hidden = new_case(932, community, "second_review")
    Application.objects.filter(pk=hidden.pk).update(
        applicant=Applicant.objects.create(phone="13900009321")
    )
    _reject(client, hidden, concealed="on")
    hidden.refresh_from_db()
    proposal = Proposal.objects.get(source="review", source_ref=hidden.number)
    assert hidden.stage == "rejected" and proposal.conduct.code == "false-application"
    assert proposal.status == "notified" and "未申报" in proposal.facts
    told = InboxMessage.objects.get(applicant=hidden.applicant)
    assert told.subject.startswith("拟认定失信") and "异议" in told.body
