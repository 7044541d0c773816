"""一房一档 / 一户一档 (issue 15 point 1): a unit's and a household's file hold their events in
time order with readable labels, their bills, lottery places and stored files, and the number
of queries does not grow with the length of the file."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from allocation.models import Participant
from archive.labels import ACTIONS, action_label
from archive.models import Event
from archive.services import record_event
from housing.models import DataCheck, Household
from insights import dossiers
from tenancy.models import Bill, Contract

pytestmark = pytest.mark.django_db


def _signed_lease() -> Contract:
    """The demo's lease that went through offer, signature and move-in."""
    return Contract.objects.filter(number__startswith="HT", signed__isnull=False).first()


def test_every_action_the_demo_records_has_a_readable_name():
    codes = set(Event.objects.values_list("action", flat=True).distinct())
    assert codes, "the demo records events"
    assert sorted(codes - set(ACTIONS)) == []


def test_an_unknown_action_keeps_its_subject_and_code():
    assert action_label("contract.teleported") == "租赁合同（contract.teleported）"
    assert action_label("nothing") == "nothing"


def test_a_unit_file_holds_its_history_in_time_order():
    lease = _signed_lease()
    dossier = dossiers.unit_dossier(lease.unit_id)
    labels = [e.label for e in dossier.entries]
    for label in ["选定房源", "确认配租", "生成合同", "合同签订", "办理入住"]:
        assert label in labels
    assert labels.index("生成合同") < labels.index("合同签订") < labels.index("办理入住")
    times = [e.at for e in dossier.entries]
    assert times == sorted(times)
    # A later event of the unit comes last, under its readable name, linked to its page.
    record_event(
        "repair.reported",
        "测试报修",
        actor=None,
        unit_id=lease.unit_id,
        after={"repair": 1},
    )
    last = dossiers.unit_dossier(lease.unit_id).entries[-1]
    repair_page = "/staff/operations/repairs/1/"
    assert (last.label, last.summary, last.url) == ("报修", "测试报修", repair_page)
    hashes = {f.document.pk for f in dossier.files}
    assert {lease.draft_id, lease.signed_id} <= hashes


def test_a_household_file_holds_application_draw_lease_and_bills():
    lease = _signed_lease()
    dossier = dossiers.household_dossier(lease.household_id)
    labels = [e.label for e in dossier.entries]
    assert "成为保障对象" in labels and "合同签订" in labels
    if Participant.objects.filter(household_id=lease.household_id).exists():
        assert "参加摇号" in labels
    bills = Bill.objects.filter(contract__household_id=lease.household_id).count()
    assert labels.count("租金账单") == bills
    assert [e.at for e in dossier.entries] == sorted(e.at for e in dossier.entries)
    assert ("公示编号", lease.household.public_key) in dossier.facts
    assert lease.signed_id in {f.document.pk for f in dossier.files}


def test_a_period_keeps_only_what_happened_in_it():
    lease = _signed_lease()
    today = timezone.localdate()
    future = dossiers.household_dossier(lease.household_id, since=today + timedelta(days=1))
    assert future.entries == [] and future.files == []
    whole = dossiers.household_dossier(lease.household_id)
    until_today = dossiers.household_dossier(lease.household_id, until=today)
    assert len(until_today.entries) == len(whole.entries)


def test_queries_do_not_grow_with_the_file():
    lease = _signed_lease()
    with CaptureQueriesContext(connection) as before:
        dossiers.household_dossier(lease.household_id)
    for n in range(30):
        record_event("rent.reminded", f"提醒 {n}", actor=None, household_id=lease.household_id)
    with CaptureQueriesContext(connection) as after:
        longer = dossiers.household_dossier(lease.household_id)
    assert sum(e.summary.startswith("提醒 ") for e in longer.entries) == 30
    assert len(after) == len(before)


def test_a_file_knows_whose_it_is():
    lease = _signed_lease()
    units, households = dossiers.document_owners(lease.signed_id)
    assert lease.unit_id in units and lease.household_id in households
    assert dossiers.document_owners("0" * 64) == (set(), set())


def test_a_household_file_shows_the_department_evidence_it_was_approved_on():
    household = Household.objects.filter(application__checks__isnull=False).first()
    check = DataCheck.objects.filter(application_id=household.pk).latest("performed_at")
    dossier = dossiers.household_dossier(household.pk)
    at, lines = dossier.checks[0]
    assert at == check.performed_at
    assert [(e.label, e.passed) for e in lines] == [
        (line["label"], line["passed"]) for line in check.results
    ]
