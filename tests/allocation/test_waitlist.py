"""轮候名单: the county's order as data, positions, overdue households, and the masked public
list republished at most once a working day."""

import re
from datetime import timedelta

import pytest

from allocation import selectors
from allocation.models import WaitlistEntry
from allocation.services import offers
from allocation.services.waitlist import publish_waitlist
from disclosure.hashing import canonical_json
from disclosure.models import Kind
from disclosure.services import document_of, process_outbox
from tests.allocation.conftest import MONDAY, waitlist_round
from tests.disclosure.test_crawler import ID_NUMBER, MOBILE

pytestmark = pytest.mark.django_db


def order(county) -> list[int]:
    return [e.household_id for e in selectors.waiting_entries(county)]


def test_priority_groups_first_in_the_countys_order_then_approval_date(
    place, policy, make_household
):
    policy.priority_groups = ["dibao", "elderly"]
    policy.save()
    day = timedelta(days=1)
    none_early = make_household(approved_at=MONDAY - 100 * day)
    elderly = make_household(priorities=["elderly"], approved_at=MONDAY - 50 * day)
    dibao_late = make_household(priorities=["dibao"], approved_at=MONDAY - 10 * day)
    dibao_early = make_household(priorities=["dibao"], approved_at=MONDAY - 60 * day)
    other_group = make_household(priorities=["special_job"], approved_at=MONDAY - 200 * day)
    both = make_household(priorities=["elderly", "dibao"], approved_at=MONDAY - 5 * day)

    expected = [dibao_early, dibao_late, both, elderly, other_group, none_early]
    assert order(place.county) == [h.pk for h in expected]
    positions = [e.position for e in selectors.waiting_entries(place.county)]
    assert positions == list(range(1, len(expected) + 1))
    assert [selectors.position_of(h) for h in expected] == positions


def test_changing_the_policy_order_ranks_newly_enrolled_households_by_it(
    place, policy, make_household
):
    policy.priority_groups = ["dibao", "elderly"]
    policy.save()
    before = make_household(priorities=["elderly"], approved_at=MONDAY - timedelta(days=9))
    assert WaitlistEntry.objects.get(household=before).priority_rank == 1

    policy.priority_groups = ["elderly", "dibao"]
    policy.save()
    elderly = make_household(priorities=["elderly"], approved_at=MONDAY - timedelta(days=3))
    dibao = make_household(priorities=["dibao"], approved_at=MONDAY - timedelta(days=5))
    assert WaitlistEntry.objects.get(household=elderly).priority_rank == 0
    assert WaitlistEntry.objects.get(household=dibao).priority_rank == 1
    newest = [h for h in order(place.county) if h in (elderly.pk, dibao.pk)]
    assert newest == [elderly.pk, dibao.pk], "elderly now comes first, though approved later"

    policy.priority_groups = []
    policy.save()
    plain = make_household(priorities=["dibao"], approved_at=MONDAY - timedelta(days=1))
    assert WaitlistEntry.objects.get(household=plain).priority_rank == 0, "no groups: one rank"


def test_positions_have_no_gaps_when_a_household_leaves(place, staff, make_units, make_household):
    households = [make_household(approved_at=MONDAY - timedelta(days=40 - i)) for i in range(4)]
    unit = make_units(1, 1)[0]
    round_ = waitlist_round(
        place.county, [unit], staff, now=MONDAY, invitation="head", invite_count=1
    )
    offer = offers.choose(
        round_.pk, unit.pk, household_id=households[0].pk, actor=staff, now=MONDAY
    )
    offers.accept(offer.pk, actor=staff, now=MONDAY)

    entries = list(selectors.waiting_entries(place.county))
    assert [e.household_id for e in entries] == [h.pk for h in households[1:]]
    assert [e.position for e in entries] == [1, 2, 3]
    assert [selectors.position_of(h) for h in households] == [None, 1, 2, 3]


def test_position_of_a_household_is_its_place_in_the_list(place, make_household):
    """What /my/ and /status/ show a household: its place among all waiting in the county."""
    same_time = MONDAY - timedelta(days=15)
    households = [
        make_household(priorities=["dibao"], approved_at=MONDAY - timedelta(days=2)),
        make_household(approved_at=MONDAY - timedelta(days=30)),
        make_household(approved_at=same_time),
        make_household(approved_at=same_time),  # a tie: the lower id first
        make_household(approved_at=MONDAY - timedelta(days=1)),
    ]
    for expected, household in enumerate(households, start=1):
        assert selectors.position_of(household) == expected, household


def test_overdue_is_waiting_longer_than_the_countys_limit(place, policy, make_household):
    assert policy.waiting_limit_months == 24
    long_ago = make_household(approved_at=MONDAY - timedelta(days=25 * 31))
    recent = make_household(approved_at=MONDAY - timedelta(days=23 * 30))
    just = make_household(approved_at=MONDAY.replace(year=MONDAY.year - 2))
    assert selectors.is_overdue(long_ago, policy, MONDAY)
    assert not selectors.is_overdue(recent, policy, MONDAY)
    assert selectors.is_overdue(just, policy, MONDAY), "24 months to the day is the limit"
    assert not selectors.is_overdue(just, policy, MONDAY - timedelta(days=1))

    policy.waiting_limit_months = 12
    policy.save()
    assert selectors.is_overdue(recent, policy, MONDAY), "the limit is the county's setting"


# --- the public list -------------------------------------------------------------------------


def rows_text(outbox) -> str:
    publication = process_outbox(outbox.pk)
    return canonical_json(document_of(publication)).decode("utf-8")


def test_the_public_waitlist_is_masked_and_republished_at_most_once_a_working_day(
    place, policy, make_household, settings
):
    settings.ANJU_HOLIDAYS = ["2030-01-10"]  # a Thursday off
    hour = timedelta(hours=1)
    day = timedelta(days=1)
    first = make_household(
        name="张晓明", size=3, approved_at=MONDAY - 800 * day, now=MONDAY - 2 * hour
    )
    make_household(name="李建国", approved_at=MONDAY - 30 * day, now=MONDAY - hour)

    v1 = publish_waitlist(place.county, now=MONDAY)
    assert v1 is not None and v1.kind == Kind.WAITLIST
    text = rows_text(v1)
    publication = v1.publication
    assert "张晓明" not in text and "李建国" not in text
    assert "张*明" in text and "李*国" in text
    assert first.head_id_number not in text and first.phone not in text
    assert not ID_NUMBER.findall(text) and not MOBILE.findall(text)
    row = next(r for r in publication.items if r["key"] == first.public_key)
    assert row["name"] == "张*明" and row["position"] == 1 and row["members"] == 3
    assert row["overdue"] == "是", "waiting 800 days is beyond the 24-month limit"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["approved"])
    assert set(row) == {"_key", *(c["key"] for c in publication.columns)}

    assert publish_waitlist(place.county, now=MONDAY + hour) is None, "nothing changed"
    make_household(name="王秀英", approved_at=MONDAY - 5 * day, now=MONDAY + 2 * hour)
    assert publish_waitlist(place.county, now=MONDAY + 3 * hour) is None, "once a working day"

    v2 = publish_waitlist(place.county, now=MONDAY + day)  # Tuesday
    assert v2 is not None
    second = process_outbox(v2.pk)
    assert second.series_id == publication.series_id and second.version == 2
    assert second.supersedes == publication
    assert len(second.items) == 3 and "王*英" in {r["name"] for r in second.items}

    make_household(name="赵志强", approved_at=MONDAY - 4 * day, now=MONDAY + 2 * day)
    assert publish_waitlist(place.county, now=MONDAY + 3 * day) is None, "a public holiday"
    saturday = MONDAY + 5 * day
    assert saturday.weekday() == 5
    assert publish_waitlist(place.county, now=saturday) is None, "no list on a Saturday"
    assert publish_waitlist(place.county, now=saturday + day) is None, "nor on a Sunday"
    v3 = publish_waitlist(place.county, now=saturday + 2 * day)  # the next Monday
    assert v3 is not None
    third = process_outbox(v3.pk)
    assert third.version == 3 and third.supersedes == second
    assert [r["position"] for r in third.items] == [1, 2, 3, 4]


def test_a_new_version_waits_for_the_previous_one_to_be_published(place, make_household):
    make_household(now=MONDAY - timedelta(hours=1))
    v1 = publish_waitlist(place.county, now=MONDAY)
    make_household(now=MONDAY + timedelta(hours=1))
    tuesday = MONDAY + timedelta(days=1)
    assert publish_waitlist(place.county, now=tuesday) is None, "v1 is still in the outbox"
    process_outbox(v1.pk)
    v2 = publish_waitlist(place.county, now=tuesday)
    assert v2 is not None
    assert process_outbox(v2.pk).supersedes.outbox_id == v1.pk
