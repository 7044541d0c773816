"""退出: the state machine (only legal steps), the deposit settlement against arrears and
damages, the unit back to vacant (and the vacancy release) or to repair, the daily job for
leases that ended without renewal, and the rent of a household in its transition."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.models import Event
from disclosure.models import Kind, Outbox
from geo.models import Region, Unit
from housing.errors import NotAllowed
from housing.models import InboxMessage
from tenancy.models import Bill, Contract, Exit, Renewal, TenancyPolicy
from tenancy.services import billing, exits
from tenancy.services.contracts import add_months
from tests.personas import make_staff
from tests.tenancy.rent import lease

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
# A lease that began four months ago, on the first of its month: its bills are whole months.
BEGAN = billing.previous_month(
    billing.previous_month(billing.previous_month(billing.month_of(TODAY)))
)


@pytest.fixture
def staff(db):
    return make_staff("exit-district", "district", region=Region.objects.get(adcode="341602"))


def running(**kwargs) -> Contract:
    contract = lease(start=BEGAN, **kwargs)
    Contract.objects.filter(pk=contract.pk).update(deposit=Decimal("600.00"))
    Unit.objects.filter(pk=contract.unit_id).update(status=Unit.Status.OCCUPIED)
    contract.refresh_from_db()
    return contract


def moved_out_day() -> date:
    """The 10th of this month if it has passed, otherwise the 10th of last month."""
    day = TODAY.replace(day=10)
    return day if day <= TODAY else billing.previous_month(TODAY).replace(day=10)


# --- opening ----------------------------------------------------------------------------------


def test_a_voluntary_notice_gives_the_countys_days_and_one_exit_at_a_time(
    staff, django_capture_on_commit_callbacks
):
    contract = running()
    TenancyPolicy.objects.update_or_create(
        county=contract.household.county, defaults={"exit_notice_days": 45}
    )
    with pytest.raises(NotAllowed, match="须提前 45 天"):
        exits.start(
            contract.pk, reason="voluntary", actor=None, move_out_by=TODAY + timedelta(days=44)
        )
    with django_capture_on_commit_callbacks(execute=True):
        exit_ = exits.start(contract.pk, reason="voluntary", actor=None)
    assert exit_.status == Exit.Status.NOTICE
    assert exit_.move_out_by == TODAY + timedelta(days=45)
    assert InboxMessage.objects.filter(
        applicant=contract.household.applicant, subject__contains="退租申请已受理"
    ).exists()
    assert Event.objects.filter(action="exit.started", household_id=contract.household_id).exists()
    with pytest.raises(NotAllowed, match="已有进行中的退出"):
        exits.start(contract.pk, reason="violation", actor=staff)
    with pytest.raises(NotAllowed, match="退出原因"):
        exits.start(running(skip=1).pk, reason="bored", actor=staff)


def test_only_a_running_lease_can_exit(staff):
    ended = lease(start=BEGAN, status=Contract.Status.ENDED, ended_on=TODAY)
    with pytest.raises(NotAllowed, match="只有履行中的合同"):
        exits.start(ended.pk, reason="voluntary", actor=staff)


def test_no_longer_eligible_pays_market_rent_in_the_transition_and_gets_it_back_on_withdrawal(
    staff,
):
    contract = running(rent="600.00", subsidy="180.00")
    TenancyPolicy.objects.update_or_create(
        county=contract.household.county,
        defaults={"transition_months": 3, "market_rent_factor": Decimal("1.80")},
    )
    exit_ = exits.start(contract.pk, reason="ineligible", actor=staff, source_ref="核查线索 #7")
    contract.refresh_from_db()
    assert exit_.status == Exit.Status.TRANSITION
    assert (contract.monthly_rent, contract.monthly_subsidy) == (Decimal("1080.00"), 0)
    assert exit_.move_out_by == add_months(TODAY, 3)
    # The next bill reads the amended rent: a month billed after the change is at market rent.
    following = billing.next_month(billing.month_of(TODAY))
    billing.issue_bills(following, actor=None, on=following)
    bill = Bill.objects.get(contract=contract, month=following)
    assert bill.amount == Decimal("1080.00")
    assert Event.objects.filter(action="contract.rent_changed", household_id=contract.household_id)
    exits.withdraw(exit_.pk, actor=staff, reason="复核后仍符合条件")
    contract.refresh_from_db()
    assert (contract.monthly_rent, contract.monthly_subsidy) == (Decimal("600.00"), 180)


# --- the state machine ------------------------------------------------------------------------

STEPS = ["inspect", "settle", "withdraw"]
ALLOWED = {
    ("notice", "inspect"): "settlement",
    ("transition", "inspect"): "settlement",
    ("notice", "withdraw"): "withdrawn",
    ("transition", "withdraw"): "withdrawn",
    ("settlement", "settle"): "settled",
}


def _step(step: str, exit_: Exit, actor) -> Exit:
    if step == "inspect":
        return exits.inspect(
            exit_.pk,
            moved_out_on=moved_out_day(),
            condition="good",
            damages=[],
            notes="",
            outcome="vacant",
            actor=actor,
        )
    if step == "settle":
        return exits.settle(exit_.pk, actor=actor)
    return exits.withdraw(exit_.pk, actor=actor, reason="撤回")


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    reason=st.sampled_from(Exit.Reason.values),
    steps=st.lists(st.sampled_from(STEPS), min_size=1, max_size=5),
)
def test_only_legal_steps_change_an_exit(staff, reason, steps):
    """Any sequence of steps: a legal one moves the exit as the table says, any other is
    refused and changes nothing."""
    with transaction.atomic():
        exit_ = exits.start(running().pk, reason=reason, actor=staff)
        status = exit_.status
        for step in steps:
            expected = ALLOWED.get((status, step))
            if expected is None:
                with pytest.raises(NotAllowed), transaction.atomic():
                    _step(step, exit_, staff)
            else:
                _step(step, exit_, staff)
                status = expected
            exit_.refresh_from_db()
            assert exit_.status == status
        transaction.set_rollback(True)


# --- the settlement ---------------------------------------------------------------------------


def _bill_months(contract: Contract, through: date) -> list[Bill]:
    month = contract.start_date
    while month <= through:
        billing.issue_bills(month, actor=None, on=month)
        month = billing.next_month(month)
    return list(Bill.objects.filter(contract=contract).order_by("month"))


def test_the_deposit_settles_against_arrears_damages_and_rent_billed_past_the_move_out(staff):
    contract = running(rent="600.00", subsidy="180.00")
    out = moved_out_day()
    bills = _bill_months(contract, billing.month_of(out))
    assert all(b.amount == Decimal("420.00") for b in bills)
    # The first month paid, the second 100 yuan of it, the rest open.
    Bill.objects.filter(pk=bills[0].pk).update(paid=Decimal("420.00"), status="paid")
    Bill.objects.filter(pk=bills[1].pk).update(paid=Decimal("100.00"), status="partial")
    exit_ = exits.start(contract.pk, reason="violation", actor=staff, source_ref="WG-1")
    damages = exits.clean_damages(
        [
            {"item": "卫生间门", "amount": "150.5", "note": "门框开裂"},
            {"item": "", "amount": "", "note": ""},
            {"item": "窗玻璃", "amount": "49.50"},
        ]
    )
    exit_ = exits.inspect(
        exit_.pk,
        moved_out_on=out,
        condition="damaged",
        damages=damages,
        notes="两处损坏",
        outcome="vacant",
        actor=staff,
    )
    unpaid = Decimal("420.00") * (len(bills) - 1) - Decimal("100.00")
    month_days = (billing.next_month(billing.month_of(out)) - billing.month_of(out)).days
    kept = (Decimal("600") * 10 / month_days).quantize(Decimal("0.01")) - (
        Decimal("180") * 10 / month_days
    ).quantize(Decimal("0.01"))
    credit = Decimal("420.00") - kept
    assert exit_.unpaid == unpaid
    assert exit_.rent_credit == credit
    assert exit_.damages_total == Decimal("200.00")
    assert exit_.balance == Decimal("600.00") - unpaid + credit - Decimal("200.00")
    # A payment after the inspection counts when the account is closed.
    Bill.objects.filter(pk=bills[1].pk).update(paid=Decimal("420.00"), status="paid")
    settled = exits.settle(exit_.pk, actor=staff)
    assert settled.unpaid == unpaid - Decimal("320.00")
    assert settled.balance == exit_.balance + Decimal("320.00")
    assert settled.amount_due == max(-settled.balance, 0)
    assert Event.objects.filter(action="exit.settled", household_id=contract.household_id)


def test_a_month_not_yet_billed_gets_a_final_bill_to_the_move_out_day(staff):
    contract = running(rent="600.00", subsidy="180.00")
    out = moved_out_day()
    _bill_months(contract, billing.previous_month(billing.month_of(out)))
    exit_ = exits.start(contract.pk, reason="voluntary", actor=staff)
    exit_ = exits.inspect(
        exit_.pk,
        moved_out_on=out,
        condition="good",
        damages=[],
        notes="",
        outcome="vacant",
        actor=staff,
    )
    final = Bill.objects.get(contract=contract, month=billing.month_of(out))
    month_days = (billing.next_month(final.month) - final.month).days
    assert final.days == 10
    assert final.rent == (Decimal("600") * 10 / month_days).quantize(Decimal("0.01"))
    assert final.amount == final.rent - final.subsidy
    assert exit_.rent_credit == 0
    assert exit_.unpaid == sum(b.amount for b in Bill.objects.filter(contract=contract))
    # Billing's own statement agrees and adds nothing for the ended lease.
    assert billing.issue_bills(final.month, actor=None) >= 0
    assert Bill.objects.filter(contract=contract, month=final.month).count() == 1


def test_damage_rows_are_checked_row_by_row():
    with pytest.raises(NotAllowed, match="第 2 行：金额“abc”"):
        exits.clean_damages([{"item": "门", "amount": "10"}, {"item": "窗", "amount": "abc"}])
    with pytest.raises(NotAllowed, match="第 1 行：请填写损坏项目"):
        exits.clean_damages([{"item": "", "amount": "10"}])
    with pytest.raises(NotAllowed, match="大于 0"):
        exits.clean_damages([{"item": "门", "amount": "-5"}])


# --- the unit afterwards ----------------------------------------------------------------------


def test_the_unit_goes_back_to_vacant_and_into_a_new_vacancy_release(staff):
    contract = running()
    estate = contract.unit.building.estate
    type(estate).objects.filter(pk=estate.pk).update(published=True)
    Outbox.objects.filter(kind=Kind.VACANCY_RELEASE, processed_at__isnull=True).update(
        processed_at=timezone.now()
    )
    before = Outbox.objects.filter(kind=Kind.VACANCY_RELEASE).count()
    exit_ = exits.start(contract.pk, reason="expired", actor=staff)
    exits.inspect(
        exit_.pk,
        moved_out_on=moved_out_day(),
        condition="good",
        damages=[],
        notes="",
        outcome="vacant",
        actor=staff,
    )
    contract.refresh_from_db()
    assert contract.status == Contract.Status.ENDED and contract.ended_on == moved_out_day()
    assert Unit.objects.get(pk=contract.unit_id).status == Unit.Status.VACANT
    release = Outbox.objects.filter(kind=Kind.VACANCY_RELEASE).order_by("-pk").first()
    assert Outbox.objects.filter(kind=Kind.VACANCY_RELEASE).count() == before + 1
    unit = contract.unit
    listed = {(row["building"], row["number"]) for row in release.payload["items"]}
    assert (unit.building.number, unit.number) in listed


def test_a_damaged_unit_goes_to_repair_with_a_work_order(staff):
    from tenancy.models import Repair, RepairCategory

    RepairCategory.objects.get_or_create(
        code="exit-test", defaults={"name": "综合维修", "respond_hours": 24, "complete_hours": 72}
    )
    contract = running()
    exit_ = exits.start(contract.pk, reason="voluntary", actor=staff)
    exits.inspect(
        exit_.pk,
        moved_out_on=moved_out_day(),
        condition="damaged",
        damages=exits.clean_damages([{"item": "墙面", "amount": "80"}]),
        notes="墙面霉变",
        outcome="repair",
        repair_category="exit-test",
        actor=staff,
    )
    assert Unit.objects.get(pk=contract.unit_id).status == Unit.Status.REPAIR
    repair = Repair.objects.get(unit_id=contract.unit_id, contract=contract)
    assert "墙面霉变" in repair.description
    with pytest.raises(NotAllowed, match="维修类别"):
        exits.inspect(
            exits.start(running(skip=1).pk, reason="voluntary", actor=staff).pk,
            moved_out_on=moved_out_day(),
            condition="damaged",
            damages=[],
            notes="",
            outcome="repair",
            actor=staff,
        )


def test_a_move_out_day_in_the_future_or_before_moving_in_is_refused(staff):
    contract = running()
    exit_ = exits.start(contract.pk, reason="voluntary", actor=staff)
    for day, message in [
        (TODAY + timedelta(days=1), "不能晚于今天"),
        (BEGAN - timedelta(days=1), "不能早于入住日期"),
    ]:
        with pytest.raises(NotAllowed, match=message):
            exits.inspect(
                exit_.pk,
                moved_out_on=day,
                condition="good",
                damages=[],
                notes="",
                outcome="vacant",
                actor=staff,
            )
    exit_.refresh_from_db()
    assert exit_.status == Exit.Status.NOTICE
    assert Contract.objects.get(pk=contract.pk).status == Contract.Status.ACTIVE


# --- the daily job ----------------------------------------------------------------------------


def test_leases_past_their_end_without_renewal_get_an_exit_once():
    Contract.objects.filter(status=Contract.Status.ACTIVE, end_date__lt=TODAY).update(
        end_date=TODAY + timedelta(days=400)
    )
    over = lease(start=date(2023, 1, 1), end=TODAY - timedelta(days=2))
    running_one = lease(start=date(2025, 1, 1), end=TODAY + timedelta(days=30), skip=1)
    ended = lease(
        start=date(2023, 1, 1),
        end=TODAY - timedelta(days=2),
        status=Contract.Status.ENDED,
        ended_on=TODAY - timedelta(days=2),
        skip=2,
    )
    assert exits.open_expired(TODAY) == 1
    exit_ = Exit.objects.get(contract=over)
    assert exit_.reason == Exit.Reason.EXPIRED and exit_.notice_date == TODAY
    assert not Exit.objects.filter(contract__in=[running_one, ended]).exists()
    assert exits.open_expired(TODAY) == 0
    assert exits.open_expired(TODAY + timedelta(days=1)) == 0
    assert Exit.objects.filter(contract=over).count() == 1


def test_a_renewed_lease_gets_no_exit():
    Contract.objects.filter(status=Contract.Status.ACTIVE, end_date__lt=TODAY).update(
        end_date=TODAY + timedelta(days=400)
    )
    over = lease(start=date(2023, 1, 1), end=TODAY - timedelta(days=2))
    Contract.objects.create(
        number="XQ-EXIT-TEST",
        household=over.household,
        unit=over.unit,
        template=over.template,
        monthly_rent=over.monthly_rent,
        monthly_subsidy=over.monthly_subsidy,
        deposit=over.deposit,
        start_date=over.end_date + timedelta(days=1),
        end_date=over.end_date + timedelta(days=365),
        draft=over.draft,
        status=Contract.Status.SIGNED,
        renews=over,
    )
    assert exits.open_expired(TODAY) == 0


def test_a_lease_whose_renewal_is_still_being_decided_gets_no_exit_until_it_is_refused():
    Contract.objects.filter(status=Contract.Status.ACTIVE, end_date__lt=TODAY).update(
        end_date=TODAY + timedelta(days=400)
    )
    over = lease(start=date(2023, 1, 1), end=TODAY - timedelta(days=2))
    asked = Renewal.objects.create(contract=over, household=over.household, months=12)
    assert exits.open_expired(TODAY) == 0
    Renewal.objects.filter(pk=asked.pk).update(status=Renewal.Status.REJECTED)
    assert exits.open_expired(TODAY) == 1


def test_the_demo_makes_exits_in_each_state_and_a_quarter_of_scores():
    from tenancy import demo_exits
    from tenancy.models import OperatorScore

    summary = demo_exits.load(TODAY)
    assert "条退出" in summary
    states = set(Exit.objects.values_list("status", flat=True))
    assert {"notice", "transition", "settlement", "settled"} <= states
    assert OperatorScore.objects.published().exists()
