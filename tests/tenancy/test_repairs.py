"""Repair services: only legal transitions, the unit's status, the archive and the notices."""

from datetime import timedelta
from itertools import product

import pytest
from django.utils import timezone

from archive.models import Event
from archive.selectors import unit_timeline
from geo.models import Unit
from housing.errors import NotAllowed
from housing.models import InboxMessage, SmsMessage
from tenancy.models import Contract, Repair
from tenancy.repair_selectors import overdue_q, timeline
from tenancy.services import repairs
from tests.tenancy.test_repairs_support import reported, site

pytestmark = pytest.mark.django_db

STATES = ["reported", "assigned", "scheduled", "closed", "confirmed", "reopened"]
ACTIONS = ["assign", "schedule", "close", "confirm", "reopen"]
# What each action may start from (a reopened repair is assigned again).
LEGAL = {
    "assign": {"reported", "assigned", "scheduled", "reopened"},
    "schedule": {"assigned", "scheduled", "reopened"},
    "close": {"assigned", "scheduled", "reopened"},
    "confirm": {"closed"},
    "reopen": {"closed"},
}


def _bring(s, state: str) -> Repair:
    repair = reported(s)
    steps = {
        "assigned": ["assign"],
        "scheduled": ["assign", "schedule"],
        "closed": ["assign", "schedule", "close"],
        "confirmed": ["assign", "close", "confirm"],
        "reopened": ["assign", "close", "reopen"],
    }.get(state, [])
    for action in steps:
        _do(s, repair.pk, action)
    return Repair.objects.get(pk=repair.pk)


def _do(s, repair_id: int, action: str) -> Repair:
    applicant = s.household.applicant
    return {
        "assign": lambda: repairs.assign(repair_id, actor=s.operator, assignee_name="水电班组"),
        "schedule": lambda: repairs.schedule(
            repair_id, actor=s.operator, visit_at=timezone.now() + timedelta(hours=3)
        ),
        "close": lambda: repairs.close(repair_id, actor=s.operator, note="已更换水管"),
        "confirm": lambda: repairs.confirm(repair_id, applicant=applicant),
        "reopen": lambda: repairs.reopen(repair_id, applicant=applicant, reason="还在滴水"),
    }[action]()


@pytest.mark.parametrize(("state", "action"), list(product(STATES, ACTIONS)))
def test_only_legal_transitions_happen(state, action):
    s = site()
    repair = _bring(s, state)
    before = (repair.status, Event.objects.filter(after__repair=repair.pk).count())
    if state in LEGAL[action]:
        _do(s, repair.pk, action)
        assert Event.objects.filter(after__repair=repair.pk).count() == before[1] + 1
    else:
        with pytest.raises(NotAllowed, match="不能进行此操作"):
            _do(s, repair.pk, action)
        repair.refresh_from_db()
        assert (repair.status, Event.objects.filter(after__repair=repair.pk).count()) == before


def test_the_whole_path_keeps_the_measured_times_and_tells_the_tenant(
    django_capture_on_commit_callbacks,
):
    s = site()
    with django_capture_on_commit_callbacks(execute=True):
        repair = reported(s, category="urgent")
    assert repair.number.startswith("BX") and repair.status == Repair.Status.REPORTED
    assert repair.respond_by - repair.reported_at == timedelta(hours=repair.category.respond_hours)
    assert repair.operator_id == s.estate.operator_id
    visit = timezone.now() + timedelta(hours=5)
    with django_capture_on_commit_callbacks(execute=True):
        _do(s, repair.pk, "assign")
        repairs.schedule(repair.pk, actor=s.operator, visit_at=visit)
        repairs.schedule(repair.pk, actor=s.operator, visit_at=visit + timedelta(hours=1))
        _do(s, repair.pk, "close")
    repair.refresh_from_db()
    assert repair.assigned_at and repair.closed_at and repair.first_visit_at == visit
    assert repair.scheduled_for == visit + timedelta(hours=1)
    assert repair.awaits_tenant
    _do(s, repair.pk, "confirm")
    repair.refresh_from_db()
    assert repair.status == Repair.Status.CONFIRMED and repair.confirmed_at
    subjects = list(
        InboxMessage.objects.filter(applicant=s.household.applicant).values_list(
            "subject", flat=True
        )
    )
    for word in ("报修已受理", "维修已派单", "维修预约上门", "维修已完工，请确认"):
        assert any(word in subject for subject in subjects), word
    assert SmsMessage.objects.filter(phone=s.household.phone, text__contains="维修").count() >= 4
    # Every step is in the unit's 一房一档 with the household and estate.
    actions = [e.action for e in timeline(repair)]
    assert actions == [
        "repair.reported",
        "repair.assigned",
        "repair.scheduled",
        "repair.scheduled",
        "repair.closed",
        "repair.confirmed",
    ]
    unit_events = unit_timeline(repair.unit_id).filter(action__startswith="repair.")
    assert unit_events.count() == 6
    assert set(unit_events.values_list("household_id", "estate_id")) == {
        (s.household.pk, s.estate.pk)
    }


def test_a_reopened_repair_goes_back_to_its_fixer_with_the_reason():
    s = site()
    repair = _bring(s, "reopened")
    assert repair.status == Repair.Status.ASSIGNED
    assert repair.reopen_count == 1 and repair.reopen_reason == "还在滴水"
    assert repair.closed_at is None
    _do(s, repair.pk, "close")
    with pytest.raises(NotAllowed, match="请说明"):
        repairs.reopen(repair.pk, applicant=s.household.applicant, reason="  ")
    assert Repair.objects.get(pk=repair.pk).status == Repair.Status.CLOSED


def test_a_vacant_unit_under_repair_is_in_repair_until_its_last_repair_is_closed():
    s = site()
    unit = Unit.objects.visible_to(s.operator).filter(status=Unit.Status.VACANT).first()
    first = repairs.report_by_staff(
        unit_id=unit.pk, category="leak", description="墙面渗水", actor=s.operator
    )
    assert first.household is None and not first.tenant_confirms
    assert Unit.objects.get(pk=unit.pk).status == Unit.Status.REPAIR
    second = repairs.report_by_staff(
        unit_id=unit.pk, category="doors", description="门锁损坏", actor=s.county
    )
    for repair in (first, second):
        repairs.assign(repair.pk, actor=s.operator, assignee_name="维修一班")
    repairs.close(first.pk, actor=s.operator, note="已处理")
    assert Unit.objects.get(pk=unit.pk).status == Unit.Status.REPAIR
    repairs.close(second.pk, actor=s.operator, note="已换锁")
    assert Unit.objects.get(pk=unit.pk).status == Unit.Status.VACANT
    second.refresh_from_db()
    assert second.status == Repair.Status.CLOSED  # no tenant to confirm: closed is the end
    with pytest.raises(NotAllowed):
        repairs.confirm(second.pk, applicant=s.household.applicant)
    event = Event.objects.get(action="repair.closed", after__repair=second.pk)
    assert event.before == {"unit_status": "repair"} and event.after["unit_status"] == "vacant"


def test_an_occupied_unit_stays_occupied_and_staff_reports_reach_the_tenant():
    s = site()
    repair = repairs.report_by_staff(
        unit_id=s.contract.unit_id, category="general", description="入户巡查发现", actor=s.street
    )
    assert repair.contract_id == s.contract.pk and repair.tenant_confirms
    assert Unit.objects.get(pk=s.contract.unit_id).status == Unit.Status.OCCUPIED
    repairs.assign(repair.pk, actor=s.operator, assignee_name="维修一班")
    repairs.close(repair.pk, actor=s.operator, note="已修")
    assert Unit.objects.get(pk=s.contract.unit_id).status == Unit.Status.OCCUPIED
    assert InboxMessage.objects.filter(
        applicant=s.household.applicant, subject__contains=repair.number
    ).exists()


def test_a_move_out_check_names_the_ending_lease_without_asking_the_tenant_to_confirm():
    s = site()
    Contract.objects.filter(pk=s.contract.pk).update(status=Contract.Status.ENDED)
    repair = repairs.report_by_staff(
        unit_id=s.contract.unit_id,
        category="general",
        description="退房验房：墙面污损",
        actor=s.county,
        contract_id=s.contract.pk,
    )
    assert repair.household_id == s.household.pk and not repair.tenant_confirms
    other = site(skip=1)
    with pytest.raises(NotAllowed, match="不是这套房屋的合同"):
        repairs.report_by_staff(
            unit_id=s.contract.unit_id,
            category="general",
            description="x",
            actor=s.county,
            contract_id=other.contract.pk,
        )


def test_who_may_do_what():
    s = site()
    repair = reported(s)
    for outsider in (s.other_operator, s.other_county):
        with pytest.raises(NotAllowed, match="不在您的管辖范围内"):
            repairs.assign(repair.pk, actor=outsider, assignee_name="x")
        with pytest.raises(NotAllowed, match="不在您的管辖范围内"):
            repairs.report_by_staff(
                unit_id=repair.unit_id, category="general", description="x", actor=outsider
            )
    if s.street is not None:
        with pytest.raises(NotAllowed, match="角色不能处理"):
            repairs.assign(repair.pk, actor=s.street, assignee_name="x")
    repairs.assign(repair.pk, actor=s.county, assignee_name="县维修队")
    other = site(skip=1)
    with pytest.raises(NotAllowed):
        repairs.confirm(repair.pk, applicant=other.household.applicant)
    with pytest.raises(NotAllowed, match="履行中"):
        repairs.report_by_tenant(
            applicant=other.household.applicant,
            contract_id=s.contract.pk,
            category="general",
            description="别人的房子",
        )


def test_overdue_means_unanswered_past_response_or_unfinished_past_completion():
    s = site()
    waiting, working, done = reported(s), _bring(s, "assigned"), _bring(s, "closed")
    now = timezone.now()
    late = now - timedelta(minutes=1)
    Repair.objects.filter(pk__in=[waiting.pk, working.pk, done.pk]).update(respond_by=late)
    flagged = set(Repair.objects.filter(overdue_q(now)).values_list("pk", flat=True))
    assert waiting.pk in flagged and working.pk not in flagged  # assigned = answered
    Repair.objects.filter(pk__in=[working.pk, done.pk]).update(complete_by=late)
    flagged = set(Repair.objects.filter(overdue_q(now)).values_list("pk", flat=True))
    assert working.pk in flagged and done.pk not in flagged


def test_an_unanswered_repair_is_confirmed_by_the_daily_job_once():
    s = site()
    old, fresh = _bring(s, "closed"), _bring(s, "closed")
    week = timedelta(days=repairs.AUTO_CONFIRM_DAYS, hours=1)
    Repair.objects.filter(pk=old.pk).update(closed_at=timezone.now() - week)
    assert repairs.confirm_unanswered() >= 1  # (the demo may have its own)
    assert repairs.confirm_unanswered() == 0  # idempotent
    old.refresh_from_db(), fresh.refresh_from_db()
    assert old.status == Repair.Status.CONFIRMED and old.confirmed_at
    assert fresh.status == Repair.Status.CLOSED
    event = Event.objects.get(action="repair.confirmed", after__repair=old.pk)
    assert event.actor is None and event.after["automatic"] is True
