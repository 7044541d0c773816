"""选房 and 配租: a household chooses in its turn, a chosen unit is taken, offers are accepted,
refused or lapse, refusals cost what the county's rule says, and a closed round publishes its
results."""

from datetime import timedelta

import pytest

from allocation import selectors
from allocation.models import Offer, Round, Slot, WaitlistEntry, WaitlistState
from allocation.services import AllocationError, offers, rounds
from allocation.services.waitlist import lift_suspensions, policy_for
from credit.models import Proposal
from disclosure.hashing import canonical_json
from disclosure.masking import mask_name
from disclosure.models import Kind
from disclosure.services import document_of, process_outbox
from geo.models import Region, Unit
from housing.models import Household, InboxMessage
from tests.allocation.conftest import MONDAY, waitlist_round
from tests.disclosure.test_crawler import ID_NUMBER, MOBILE
from tests.personas import make_staff

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)
SLOT = timedelta(minutes=30)


def status_of(unit: Unit) -> str:
    unit.refresh_from_db()
    return unit.status


def entry_of(household: Household) -> WaitlistEntry:
    return WaitlistEntry.objects.get(household=household)


@pytest.fixture
def trio(place, make_household):
    """Three waiting households: two singles and a family of three, in this order."""
    return [
        make_household(size=1, approved_at=MONDAY - 30 * DAY),
        make_household(size=1, approved_at=MONDAY - 20 * DAY),
        make_household(size=3, approved_at=MONDAY - 10 * DAY),
    ]


@pytest.fixture
def choosing(place, staff, make_units, trio):
    """Two one-room units and a two-room one, choosing from MONDAY, 30 minutes a household."""
    one_a, one_b = make_units(1, 2)
    two = make_units(2, 1)[0]
    round_ = waitlist_round(place.county, [one_a, one_b, two], staff, now=MONDAY)
    return round_, {"one_a": one_a, "one_b": one_b, "two": two}


def test_a_household_chooses_in_its_turn_and_a_chosen_unit_is_taken(choosing, trio, staff):
    round_, units = choosing
    first, second, family = trio
    slots = {s.household_id: s for s in round_.slots.all()}
    assert [slots[h.pk].rank for h in trio] == [1, 2, 3]

    with pytest.raises(AllocationError, match="还没轮到本户选房"):
        offers.choose(
            round_.pk,
            units["one_a"].pk,
            household_id=second.pk,
            applicant=second.applicant,
            now=MONDAY + SLOT - timedelta(minutes=1),
        )
    with pytest.raises(AllocationError, match="1 人家庭可选 1–1 室"):
        offers.choose(
            round_.pk, units["two"].pk, household_id=first.pk, applicant=first.applicant, now=MONDAY
        )
    assert not Offer.objects.filter(round=round_).exists()
    assert status_of(units["two"]) == Unit.Status.VACANT

    offer = offers.choose(
        round_.pk, units["one_a"].pk, household_id=first.pk, applicant=first.applicant, now=MONDAY
    )
    assert offer.status == Offer.Status.PENDING and offer.channel == Offer.Channel.ONLINE
    assert offer.expires_at > MONDAY
    assert status_of(units["one_a"]) == Unit.Status.OFFERED
    assert Slot.objects.get(pk=slots[first.pk].pk).status == Slot.Status.CHOSEN
    assert selectors.pending_offer(first) == offer

    with pytest.raises(AllocationError, match="已被选定"):
        offers.choose(
            round_.pk,
            units["one_a"].pk,
            household_id=second.pk,
            applicant=second.applicant,
            now=MONDAY + SLOT,
        )
    with pytest.raises(AllocationError, match=r"已有待确认|已经选过房"):
        offers.choose(
            round_.pk,
            units["one_b"].pk,
            household_id=first.pk,
            applicant=first.applicant,
            now=MONDAY + SLOT,
        )
    assert list(Offer.objects.filter(unit=units["one_a"])) == [offer]
    left = selectors.choosable_units(round_, family, policy_for(round_.county))
    assert set(left) == {units["one_b"], units["two"]}, "a family of three may take 1 or 2 rooms"

    taken = offers.choose(
        round_.pk,
        units["one_b"].pk,
        household_id=second.pk,
        applicant=second.applicant,
        now=MONDAY + SLOT,
    )
    assert taken.unit == units["one_b"] and status_of(units["one_b"]) == Unit.Status.OFFERED


def test_only_the_household_itself_or_the_countys_staff_may_choose(choosing, trio):
    round_, units = choosing
    first, second, _ = trio
    with pytest.raises(AllocationError, match="只能为本户办理"):
        offers.choose(
            round_.pk,
            units["one_a"].pk,
            household_id=first.pk,
            applicant=second.applicant,
            now=MONDAY,
        )
    elsewhere = make_staff(
        "alloc-elsewhere", "district", region=Region.objects.get(adcode="341602")
    )
    with pytest.raises(AllocationError, match="住房保障部门"):
        offers.choose(
            round_.pk, units["one_a"].pk, household_id=first.pk, actor=elsewhere, now=MONDAY
        )
    with pytest.raises(AllocationError, match="住房保障部门"):
        offers.choose(round_.pk, units["one_a"].pk, household_id=first.pk, now=MONDAY)
    assert not Offer.objects.filter(round=round_).exists()
    city = make_staff("alloc-city-clerk", "city", region=Region.objects.get(adcode="341600"))
    offer = offers.choose(
        round_.pk, units["one_a"].pk, household_id=first.pk, actor=city, now=MONDAY
    )
    assert offer.channel == Offer.Channel.COUNTER and offer.created_by == city


def test_accepting_allocates_the_household(choosing, trio, staff):
    round_, units = choosing
    first = trio[0]
    offer = offers.choose(
        round_.pk, units["one_a"].pk, household_id=first.pk, applicant=first.applicant, now=MONDAY
    )
    offers.accept(offer.pk, applicant=first.applicant, now=MONDAY + DAY)
    offer.refresh_from_db()
    first.refresh_from_db()
    assert offer.status == Offer.Status.ACCEPTED and offer.decided_at == MONDAY + DAY
    assert first.status == Household.Status.ALLOCATED
    assert entry_of(first).status == WaitlistEntry.Status.ALLOCATED
    assert selectors.position_of(first) is None
    assert first.pk not in [e.household_id for e in selectors.waiting_entries(first.county)]
    assert status_of(units["one_a"]) == Unit.Status.OFFERED, "kept until the contract is signed"
    with pytest.raises(AllocationError, match="已确认"):
        offers.refuse(offer.pk, reason="改主意了", applicant=first.applicant, now=MONDAY + DAY)


def test_refusing_frees_the_unit_and_counts(choosing, trio):
    round_, units = choosing
    first = trio[0]
    offer = offers.choose(
        round_.pk, units["one_a"].pk, household_id=first.pk, applicant=first.applicant, now=MONDAY
    )
    with pytest.raises(AllocationError, match="请说明放弃的理由"):
        offers.refuse(offer.pk, reason="  ", applicant=first.applicant, now=MONDAY)
    offers.refuse(offer.pk, reason="离工作单位太远", applicant=first.applicant, now=MONDAY)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.REFUSED and offer.reason == "离工作单位太远"
    assert not offer.justified
    assert status_of(units["one_a"]) == Unit.Status.VACANT
    entry = entry_of(first)
    assert entry.refusals == 1 and entry.status == WaitlistEntry.Status.WAITING
    assert selectors.waiting_entries(first.county).first().household_id == first.pk, (
        "one refusal under the limit of two costs no place"
    )
    # The freed unit can be chosen by the next household.
    offers.choose(
        round_.pk,
        units["one_a"].pk,
        household_id=trio[1].pk,
        applicant=trio[1].applicant,
        now=MONDAY + SLOT,
    )
    assert status_of(units["one_a"]) == Unit.Status.OFFERED


def choose_and_refuse(county, staff, units, household, *, now, name, justified=False):
    """One round of its own in which the household chooses a unit and turns it down."""
    round_ = waitlist_round(county, units, staff, now=now, name=name)
    offer = offers.choose(round_.pk, units[0].pk, household_id=household.pk, actor=staff, now=now)
    offers.refuse(offer.pk, reason="楼层太高", justified=justified, actor=staff, now=now)
    rounds.close_round(round_.pk, actor=staff, now=now)
    return offer


def test_the_second_unjustified_refusal_sends_the_household_to_the_back(
    place, policy, staff, make_units, trio
):
    assert (policy.refusal_limit, policy.refusal_consequence) == (2, "back_of_list")
    first = trio[0]
    units = make_units(1, 2)
    choose_and_refuse(place.county, staff, units, first, now=MONDAY, name="第一批")
    assert entry_of(first).refusals == 1
    assert selectors.waiting_entries(place.county).first().household_id == first.pk

    later = MONDAY + 7 * DAY
    choose_and_refuse(place.county, staff, units, first, now=later, name="第二批")
    entry = entry_of(first)
    assert entry.queued_at == later and entry.refusals == 0
    assert entry.status == WaitlistEntry.Status.WAITING
    assert [e.household_id for e in selectors.waiting_entries(place.county)] == [
        trio[1].pk,
        trio[2].pk,
        first.pk,
    ]
    # ...and 信用管理 is asked to record it (minor), the household told it may object.
    proposal = Proposal.objects.get(source="allocation", subject__household_id=first.pk)
    assert proposal.conduct.code == "refuse-allocation" and proposal.status == "notified"
    assert (
        InboxMessage.objects.filter(
            applicant=first.applicant, subject__startswith="拟认定失信"
        ).exists()
        or first.applicant is None
    )


def test_the_back_of_the_list_is_behind_every_priority_group_too(
    place, policy, staff, make_units, make_household, trio
):
    """A 低保 household that refuses twice without reason loses its place ahead of others."""
    dibao = make_household(size=1, priorities=["dibao"], approved_at=MONDAY - 5 * DAY)
    assert selectors.waiting_entries(place.county).first().household_id == dibao.pk
    units = make_units(1, 2)
    choose_and_refuse(place.county, staff, units, dibao, now=MONDAY, name="第一批")
    choose_and_refuse(place.county, staff, units, dibao, now=MONDAY + 7 * DAY, name="第二批")
    order = [e.household_id for e in selectors.waiting_entries(place.county)]
    assert order[-1] == dibao.pk and len(order) == 4


def test_with_the_suspend_rule_the_household_is_paused_then_resumes(
    place, policy, staff, make_units, make_household, trio
):
    policy.refusal_limit = 2
    policy.refusal_consequence = "suspend"
    policy.suspend_days = 90
    policy.save()
    first = trio[0]
    units = make_units(1, 2)
    choose_and_refuse(place.county, staff, units, first, now=MONDAY, name="第一批")
    later = MONDAY + 7 * DAY
    choose_and_refuse(place.county, staff, units, first, now=later, name="第二批")
    entry = entry_of(first)
    assert entry.status == WaitlistEntry.Status.SUSPENDED
    assert entry.suspended_until == later + 90 * DAY
    assert entry.refusals == 0 and entry.queued_at == first.approved_at
    assert selectors.position_of(first) is None
    # Not invited while suspended.
    round_ = waitlist_round(place.county, units, staff, now=later + DAY, name="第三批")
    assert first.pk not in [p.household_id for p in selectors.participants(round_)]
    rounds.close_round(round_.pk, actor=staff, now=later + DAY)

    lift_suspensions(now=later + 89 * DAY)
    assert entry_of(first).status == WaitlistEntry.Status.SUSPENDED
    assert lift_suspensions(now=later + 91 * DAY) >= 1
    entry = entry_of(first)
    assert entry.status == WaitlistEntry.Status.WAITING and entry.suspended_until is None
    assert selectors.waiting_entries(place.county).first().household_id == first.pk, (
        "back at its old place"
    )


def test_a_justified_refusal_does_not_count_and_only_staff_may_say_so(
    place, staff, make_units, trio
):
    first = trio[0]
    units = make_units(1, 2)
    round_ = waitlist_round(place.county, units, staff, now=MONDAY)
    offer = offers.choose(
        round_.pk, units[0].pk, household_id=first.pk, applicant=first.applicant, now=MONDAY
    )
    with pytest.raises(AllocationError, match="由住房保障部门认定"):
        offers.refuse(
            offer.pk, reason="家人住院", justified=True, applicant=first.applicant, now=MONDAY
        )
    offer.refresh_from_db()
    assert offer.status == Offer.Status.PENDING and status_of(units[0]) == Unit.Status.OFFERED

    offers.refuse(offer.pk, reason="家人住院，经核实", justified=True, actor=staff, now=MONDAY)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.REFUSED and offer.justified
    assert entry_of(first).refusals == 0
    assert status_of(units[0]) == Unit.Status.VACANT

    # Twice justified still costs nothing.
    rounds.close_round(round_.pk, actor=staff, now=MONDAY)
    choose_and_refuse(
        place.county, staff, units, first, now=MONDAY + DAY, name="第二批", justified=True
    )
    entry = entry_of(first)
    assert entry.refusals == 0 and entry.queued_at == first.approved_at


def test_an_offer_not_answered_in_time_lapses_frees_the_unit_and_counts(choosing, trio):
    round_, units = choosing
    first = trio[0]
    offer = offers.choose(
        round_.pk, units["one_a"].pk, household_id=first.pk, applicant=first.applicant, now=MONDAY
    )
    offers.expire_offers(now=offer.expires_at - timedelta(minutes=1))
    offer.refresh_from_db()
    assert offer.status == Offer.Status.PENDING

    assert offers.expire_offers(now=offer.expires_at + timedelta(seconds=1)) >= 1
    offer.refresh_from_db()
    assert offer.status == Offer.Status.EXPIRED
    assert status_of(units["one_a"]) == Unit.Status.VACANT
    assert entry_of(first).refusals == 1
    with pytest.raises(AllocationError, match="逾期未确认"):
        offers.accept(offer.pk, applicant=first.applicant, now=offer.expires_at + DAY)


def test_accepting_after_the_deadline_is_refused(choosing, trio):
    round_, units = choosing
    first = trio[0]
    offer = offers.choose(
        round_.pk, units["one_a"].pk, household_id=first.pk, applicant=first.applicant, now=MONDAY
    )
    with pytest.raises(AllocationError, match="已超过确认期限"):
        offers.accept(offer.pk, applicant=first.applicant, now=offer.expires_at + DAY)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.PENDING


def test_closing_waits_for_answers_then_publishes_masked_results(choosing, trio, staff):
    round_, units = choosing
    first, second, family = trio
    accepted = offers.choose(
        round_.pk, units["one_a"].pk, household_id=first.pk, applicant=first.applicant, now=MONDAY
    )
    refused = offers.choose(
        round_.pk,
        units["one_b"].pk,
        household_id=second.pk,
        applicant=second.applicant,
        now=MONDAY + SLOT,
    )
    offers.refuse(refused.pk, reason="太小", applicant=second.applicant, now=MONDAY + SLOT)

    with pytest.raises(AllocationError, match="仍有家庭未确认"):
        rounds.close_round(round_.pk, actor=staff, now=MONDAY + DAY)
    assert Round.objects.get(pk=round_.pk).status == Round.Status.CHOOSING

    offers.accept(accepted.pk, applicant=first.applicant, now=MONDAY + DAY)
    closed = rounds.close_round(round_.pk, actor=staff, now=MONDAY + DAY)
    assert closed.status == Round.Status.CLOSED
    assert Slot.objects.get(round=round_, household=family).status == Slot.Status.PASSED

    publication = process_outbox(closed.result_outbox_id)
    assert publication.kind == Kind.ALLOCATION_RESULT and publication.region == round_.county
    rows = {r["key"]: r for r in publication.items}
    assert set(rows) == {h.public_key for h in trio}
    won = rows[first.public_key]
    assert won["name"] == mask_name(first.head_name) != first.head_name
    assert (
        won["unit"] == units["one_a"].number and won["building"] == units["one_a"].building.number
    )
    assert won["estate"] == units["one_a"].building.estate.name
    assert rows[second.public_key]["unit"] == "" and rows[family.public_key]["unit"] == ""
    text = canonical_json(document_of(publication)).decode()
    for household in trio:
        assert household.head_name not in text and household.head_id_number not in text
    assert not ID_NUMBER.findall(text) and not MOBILE.findall(text)

    for household in (second, family):
        household.refresh_from_db()
        assert household.status == Household.Status.WAITING
        assert entry_of(household).status == WaitlistEntry.Status.WAITING
    assert [e.household_id for e in selectors.waiting_entries(round_.county)] == [
        second.pk,
        family.pk,
    ]
    # Closing republishes the county's list (none was published that day yet), without the
    # allocated household.
    waitlist = process_outbox(WaitlistState.objects.get(county=round_.county).outbox_id)
    assert waitlist.kind == Kind.WAITLIST
    assert [r["key"] for r in waitlist.items] == [second.public_key, family.public_key]
    with pytest.raises(AllocationError, match="不在选房阶段"):
        offers.choose(
            round_.pk, units["two"].pk, household_id=family.pk, actor=staff, now=MONDAY + DAY
        )
