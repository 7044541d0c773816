"""续租: reminded once, asked for online with the departments asked again, decided by the county;
approval drafts the next lease, signed like any lease, which takes over on its first day with
the unit still occupied and the boundary month billed once."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from exchange.models import Evidence
from geo.models import Unit
from housing.errors import NotAllowed
from housing.models import SmsMessage
from tenancy.models import Bill, Contract, Renewal, RenewalNotice
from tenancy.services import billing, contracts, renewals
from tests.personas import make_staff
from tests.tenancy.test_renewals_support import Departments, answers, ending_lease

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract(offer):  # `offer` makes sure the county has a lease template
    return ending_lease(60)


@pytest.fixture
def county_staff(contract):
    return make_staff("n-district", "district", region=contract.household.county)


def _apply(contract, **kw):
    return renewals.apply(
        contract.pk,
        applicant=contract.household.applicant,
        months=kw.pop("months", 24),
        answers=answers(contract.household),
        source=kw.pop("source", Departments()),
    )


def _code(phone: str) -> str:
    return (
        SmsMessage.objects.filter(phone=phone).order_by("-pk").first().text.split("验证码 ")[1][:6]
    )


def test_the_reminder_goes_once_inside_the_window_only(
    contract, django_capture_on_commit_callbacks
):
    later = ending_lease(200, skip=1)
    phone = contract.household.phone
    with django_capture_on_commit_callbacks(execute=True):
        renewals.remind_renewals()
        renewals.remind_renewals()
    assert RenewalNotice.objects.filter(contract=contract).count() == 1
    assert SmsMessage.objects.filter(phone=phone, text__contains="到期").count() == 1
    assert not RenewalNotice.objects.filter(contract=later).exists()


def test_applying_runs_the_data_check_and_keeps_the_evidence(contract):
    source = Departments()
    renewal = _apply(contract, source=source)
    assert renewal.status == Renewal.Status.PENDING and renewal.passed
    assert renewal.findings and all(f["passed"] for f in renewal.findings)
    assert {"police", "property", "tax", "social"} <= set(source.asked)
    assert Evidence.objects.filter(subject_type="renewal", subject_id=renewal.pk).count() == len(
        set(source.asked)
    )
    with pytest.raises(NotAllowed, match="正在办理"):
        _apply(contract)


def test_a_department_down_writes_nothing_and_a_failing_check_blocks_approval(
    contract, county_staff
):
    with pytest.raises(NotAllowed, match="部门数据查询未完成"):
        _apply(contract, source=Departments(down=("property",)))
    assert not Renewal.objects.filter(contract=contract).exists()
    renewal = _apply(contract, source=Departments(properties=2))
    assert renewal.passed is False
    with pytest.raises(NotAllowed, match="比对有不符合项"):
        renewals.decide(renewal.pk, approve=True, reasons="", actor=county_staff)
    renewals.recheck(renewal.pk, actor=county_staff, source=Departments())
    renewal.refresh_from_db()
    assert renewal.passed is True


def test_who_and_when(contract, county_staff):
    early = ending_lease(200, skip=1)
    with pytest.raises(NotAllowed, match="起办理"):
        _apply(early)
    with pytest.raises(NotAllowed, match="本人"):
        renewals.apply(
            contract.pk,
            applicant=early.household.applicant,
            months=12,
            answers=answers(contract.household),
            source=Departments(),
        )
    renewal = _apply(contract)
    operator = make_staff("n-op", "operator", operator=contract.unit.building.estate.operator)
    with pytest.raises(NotAllowed, match="岗位"):
        renewals.decide(renewal.pk, approve=True, reasons="", actor=operator)
    with pytest.raises(NotAllowed, match="理由"):
        renewals.decide(renewal.pk, approve=False, reasons="", actor=county_staff)
    renewals.decide(renewal.pk, approve=False, reasons="家庭收入超标", actor=county_staff)
    with pytest.raises(NotAllowed, match="不能审核"):
        renewals.decide(renewal.pk, approve=True, reasons="", actor=county_staff)
    with pytest.raises(NotAllowed, match="不能撤回"):
        renewals.withdraw(renewal.pk, applicant=contract.household.applicant)
    # After a rejection the tenant may ask again while the lease runs.
    assert _apply(contract).status == Renewal.Status.PENDING


def test_approval_drafts_the_next_lease_which_takes_over_without_a_move_in(
    contract, county_staff, operator_staff, django_capture_on_commit_callbacks
):
    renewal = _apply(contract, months=24)
    with django_capture_on_commit_callbacks(execute=True):
        renewal = renewals.decide(renewal.pk, approve=True, reasons="", actor=county_staff)
    new = renewal.new_contract
    assert new.renews_id == contract.pk and new.offer_id is None
    assert new.start_date == contract.end_date + timedelta(days=1)
    assert new.end_date == contracts.add_months(new.start_date, 24) - timedelta(days=1)
    assert new.status == Contract.Status.AWAITING_TENANT
    assert SmsMessage.objects.filter(phone=contract.household.phone, text__contains=new.number)
    # Both are live side by side; a second overlapping lease for the unit is refused.
    with pytest.raises(IntegrityError), transaction.atomic():
        Contract.objects.filter(pk=new.pk).update(start_date=contract.end_date)

    # Signed like any lease: the tenant's SMS code, the operator's seal.
    contracts.send_confirmation_code(new, ip=None)
    contracts.confirm(
        new.pk,
        contracts.Confirming(contract.household.applicant, _code(contract.household.phone), None),
    )
    new = contracts.approve(new.pk, actor=operator_staff)
    assert new.status == Contract.Status.SIGNED and new.signed_id
    with pytest.raises(NotAllowed):
        contracts.move_in(new.pk, day=new.start_date, actor=operator_staff)

    assert renewals.activate_renewals(contract.end_date) == 0
    assert renewals.activate_renewals(new.start_date) == 1
    assert renewals.activate_renewals(new.start_date) == 0
    contract.refresh_from_db()
    new.refresh_from_db()
    assert (contract.status, contract.ended_on) == (Contract.Status.ENDED, contract.end_date)
    assert (new.status, new.check_in_date) == (Contract.Status.ACTIVE, new.start_date)
    assert Unit.objects.get(pk=contract.unit_id).status == Unit.Status.OCCUPIED

    # The boundary month: the old lease's days and the new lease's days, once each.
    month = billing.month_of(new.start_date)
    billing.issue_bills(month, actor=None)
    billing.issue_bills(month, actor=None)
    bills = Bill.objects.filter(contract__in=[contract, new], month=month)
    days = {b.contract_id: b.days for b in bills}
    following = billing.next_month(month)
    assert days.get(new.pk) == (following - new.start_date).days
    assert sum(days.values()) == (following - month).days
    assert bills.count() == len(days)


def test_a_credit_record_that_bars_renewal_stops_the_request_with_its_reason(
    contract, county_staff
):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from credit import services as credit

    head = contract.household
    proposal = credit.propose(
        subject=credit.person(head.head_name, head.head_id_number, household_id=head.pk),
        conduct_code="rent-arrears",  # serious: no application, no renewal for 3 years
        county=head.county,
        source="manual",
        facts="累计拖欠租金 7 个月。",
        actor=county_staff,
        now=datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(days=40),
    )
    credit.confirm(proposal.pk, decision="经核实，予以认定。", actor=county_staff)
    assert "不予续租" in renewals.may_apply(contract)
    with pytest.raises(NotAllowed, match=r"有尚在影响期内的失信记录.*不予续租"):
        _apply(contract)
    assert not Renewal.objects.filter(contract=contract).exists()
