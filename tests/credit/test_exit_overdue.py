"""逾期未腾退: an exit past its move-out deadline, recorded by its handler, proposes the
catalogue's "拒不退出或逾期腾退" to 信用管理 in the same step, with the exit as evidence and the
household told; once per exit, never before the deadline, never by a role that cannot act."""

from datetime import timedelta

import pytest
from django.utils import timezone

from archive.models import Event
from credit.models import Conduct, Proposal
from geo.models import Region
from housing.errors import NotAllowed
from housing.models import InboxMessage
from tenancy.models import Exit, TenancyPolicy
from tenancy.services import exits
from tests.personas import make_staff
from tests.tenancy.rent import lease

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def county():
    return Region.objects.get(adcode="341602")


@pytest.fixture
def handler(county):
    return make_staff("exit-overdue-district", "district", region=county)


def _exit(county, *, noticed_days_ago: int, skip: int = 0) -> Exit:
    """A violation exit noticed that long ago with the county's 30 days to move out."""
    TenancyPolicy.objects.update_or_create(county=county, defaults={"exit_notice_days": 30})
    contract = lease(start=TODAY - timedelta(days=400), skip=skip, no_credit_record=True)
    return exits.start(
        contract.pk,
        reason=Exit.Reason.VIOLATION,
        actor=None,
        source_ref="违规处理决定",
        notice_date=TODAY - timedelta(days=noticed_days_ago),
    )


def _from(exit_: Exit):
    return Proposal.objects.filter(source="exit", source_ref=f"exit:{exit_.pk}")


def test_an_overdue_exit_proposes_the_record_once_with_the_exit_as_evidence(
    county, handler, django_capture_on_commit_callbacks
):
    exit_ = _exit(county, noticed_days_ago=45)
    household = exit_.contract.household
    assert exit_.move_out_by < TODAY
    with django_capture_on_commit_callbacks(execute=True):
        proposal = exits.report_overdue(
            exit_.pk, facts="两次书面催告后仍未交还钥匙。", actor=handler
        )
    assert proposal.conduct.code == exits.OVERDUE_CONDUCT == "refuse-exit"
    assert proposal.status == Proposal.Status.NOTIFIED
    assert proposal.county == household.county
    assert proposal.subject.household_id == household.pk
    assert proposal.subject.id_number == household.head_id_number
    assert "两次书面催告" in proposal.facts and exit_.contract.number in proposal.facts
    assert {"exit": exit_.pk, "contract": exit_.contract.number}.items() <= (
        proposal.evidence[0].items()
    )
    assert Event.objects.filter(action="exit.overdue", household_id=household.pk).exists()
    assert Event.objects.filter(action="credit.proposed", household_id=household.pk).exists()
    assert InboxMessage.objects.filter(
        applicant=household.applicant, subject__contains="逾期未腾退"
    ).exists()

    with pytest.raises(NotAllowed, match="不再重复"):
        exits.report_overdue(exit_.pk, facts="再次登记。", actor=handler)
    assert _from(exit_).count() == 1
    exit_.refresh_from_db()
    assert exit_.status == Exit.Status.NOTICE  # the exit goes on to its inspection


def test_not_before_the_deadline_nor_by_a_role_that_cannot_handle_exits(county, handler):
    in_time = _exit(county, noticed_days_ago=30)  # the deadline is today: still in time
    assert in_time.move_out_by == TODAY
    with pytest.raises(NotAllowed, match="期限届满后"):
        exits.report_overdue(in_time.pk, facts="尚未腾退。", actor=handler)
    late = _exit(county, noticed_days_ago=60, skip=1)
    street = make_staff("exit-overdue-street", "street", region=county.children.first())
    with pytest.raises(NotAllowed, match="角色"):
        exits.report_overdue(late.pk, facts="尚未腾退。", actor=street)
    with pytest.raises(NotAllowed, match="情况说明"):
        exits.report_overdue(late.pk, facts="", actor=handler)
    assert not _from(in_time).exists() and not _from(late).exists()


def test_a_catalogue_without_the_conduct_stops_the_whole_step(county, handler):
    exit_ = _exit(county, noticed_days_ago=45)
    Conduct.objects.filter(code=exits.OVERDUE_CONDUCT).update(active=False)
    try:
        with pytest.raises(NotAllowed, match="不在本市失信行为目录中"):
            exits.report_overdue(exit_.pk, facts="仍未腾退。", actor=handler)
    finally:
        Conduct.objects.filter(code=exits.OVERDUE_CONDUCT).update(active=True)
    assert not _from(exit_).exists()
    assert not Event.objects.filter(action="exit.overdue", after__exit=exit_.pk).exists()


def test_the_exit_page_offers_the_step_and_then_shows_the_proposal(client, county, handler):
    exit_ = _exit(county, noticed_days_ago=45)
    client.force_login(handler)
    url = f"/staff/operations/exits/{exit_.pk}/"
    assert "登记逾期未腾退并提出失信认定" in client.get(url).content.decode()
    done = client.post(f"{url}overdue/", {"facts": "电话和上门催告均未腾退。"}, follow=True)
    page = done.content.decode()
    assert "已提出失信认定" in page and "登记逾期未腾退并提出失信认定" not in page
    proposal = _from(exit_).get()
    assert f"/staff/credit/proposals/{proposal.pk}/" in page
    shown = client.get(f"/staff/credit/proposals/{proposal.pk}/").content.decode()
    assert f"/staff/operations/exits/{exit_.pk}/" in shown  # the exit as evidence, one click away
    again = client.post(f"{url}overdue/", {"facts": "再次登记。"}, follow=True)
    assert _from(exit_).count() == 1 and "不再重复" in again.content.decode()
