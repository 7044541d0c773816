"""Households pressing "choose" at the same moment, each on its own database connection: row
locks and the partial unique indexes leave exactly one offer per unit and per household.

Not inside a test transaction: each thread has its own connection and sees committed data only.
So everything here is our own (an unpublished estate in 利辛县, households that are never on
its waitlist), the round is closed afterwards, the households leave protection or are
allocated, and the county's waitlist state is put back: later tests see the demo as it was.
"""

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from allocation import rfc3797
from allocation.models import Offer, Participant, Round, Slot, WaitlistState
from allocation.services import AllocationError, offers, rounds
from disclosure.services import process_outbox
from geo.models import Building, Estate, Region, Unit
from housing.households import create_household, set_household_status
from housing.models import Household
from tests.allocation.conftest import Place, approved_application, serial, three_char_name
from tests.personas import make_staff

COUNTY = "341623"
FRIDAY = timezone.make_aware(datetime(2030, 3, 1, 10, 0))
# Every slot (30 minutes each) has opened by Saturday; closing on a Saturday publishes no
# new waitlist version.
SATURDAY = FRIDAY + timedelta(days=1)


@dataclass
class Race:
    county: Region
    round_id: int
    staff: object
    households: list[Household]
    units: list[Unit]
    waitlist_state: dict | None


def committed_choosing_round(tag: str, households: int, units: int) -> Race:
    """A round of our own in choosing, every household's slot open on SATURDAY, committed."""
    assert FRIDAY.weekday() == 4 and SATURDAY.weekday() == 5
    county = Region.objects.get(adcode=COUNTY)
    state = WaitlistState.objects.filter(county=county).values().first()
    template = (
        Estate.objects.filter(district=county, street__isnull=False, community__isnull=False)
        .exclude(boundary=None)
        .filter(buildings__footprint__isnull=False)
        .order_by("pk")
        .first()
    )
    footprint = template.buildings.exclude(footprint=None).order_by("pk").first().footprint
    place = Place(county, template.street, template.community)
    with transaction.atomic():
        estate = Estate.objects.create(
            name=f"并发选房试验{tag}",
            address=template.address,
            district=county,
            street=template.street,
            community=template.community,
            boundary=template.boundary,
            location=template.location,
            published=False,
        )
        building = Building.objects.create(
            estate=estate, number="1号楼", floors=6, footprint=footprint
        )
        unit_rows = [
            Unit.objects.create(
                building=building,
                number=f"{i + 1}01",
                floor=i + 1,
                rooms=1,
                area=40,
                monthly_rent=400,
                status=Unit.Status.VACANT,
            )
            for i in range(units)
        ]
        people = [
            create_household(
                approved_application(
                    place,
                    name=three_char_name(serial()),
                    size=1,
                    id_region="349902",
                    number_prefix="TC",
                    phone_prefix="1359",
                ),
                at=FRIDAY - timedelta(days=100 - i),
            )
            for i in range(households)
        ]
        staff = make_staff(f"alloc-race-{tag}", "district", region=county)
        round_ = rounds.create_round(
            county,
            name=f"并发选房试验批次{tag}",
            unit_ids=[u.pk for u in unit_rows],
            invitation="all",
            invite_count=None,
            method="waitlist",
            actor=staff,
        )
        # The list is committed as `announce` commits it, but from our households rather than
        # the county's waitlist, which must stay the demo's for other tests.
        keys = [h.public_key for h in people]
        Participant.objects.bulk_create(
            Participant(round=round_, household=h, position=i, public_key=h.public_key)
            for i, h in enumerate(people, start=1)
        )
        Round.objects.filter(pk=round_.pk).update(
            status=Round.Status.ANNOUNCED,
            participants_sha256=rfc3797.participants_hash(keys),
            announced_at=FRIDAY,
        )
        rounds.open_choosing(round_.pk, starts_at=FRIDAY, actor=staff, now=FRIDAY)
    return Race(county, round_.pk, staff, people, unit_rows, state)


def clean_up(race: Race) -> None:
    """Answer what is pending, close the round, and leave the county's waitlist as it was."""
    for offer in Offer.objects.filter(round_id=race.round_id, status=Offer.Status.PENDING):
        offers.accept(offer.pk, actor=race.staff, now=SATURDAY)
    closed = rounds.close_round(race.round_id, actor=race.staff, now=SATURDAY)
    process_outbox(closed.result_outbox_id)
    for household in Household.objects.filter(
        pk__in=[h.pk for h in race.households], status=Household.Status.WAITING
    ):
        set_household_status(household, "exited", reason="并发测试结束", actor=race.staff)
    if race.waitlist_state is None:
        WaitlistState.objects.filter(county=race.county).delete()
    else:
        WaitlistState.objects.filter(county=race.county).update(**race.waitlist_state)


def run_at_once(calls) -> tuple[list, list[str], list[str]]:
    """Start every call at the same moment, each thread on its own connection."""
    barrier = threading.Barrier(len(calls))
    made, refused, crashed = [], [], []
    lock = threading.Lock()

    def run(call) -> None:
        try:
            barrier.wait(timeout=30)
            offer = call()
            with lock:
                made.append(offer.pk)
        except AllocationError as exc:
            with lock:
                refused.append(str(exc))
        except Exception as exc:  # anything else is a failure the test reports
            with lock:
                crashed.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a chooser hung"
    return made, refused, crashed


def test_twenty_households_race_for_one_unit_and_one_gets_it(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        race = committed_choosing_round("a", households=20, units=2)
        try:
            target, spare = race.units

            def chooser(household):
                return lambda: offers.choose(
                    race.round_id,
                    target.pk,
                    household_id=household.pk,
                    applicant=household.applicant,
                    now=SATURDAY,
                )

            made, refused, crashed = run_at_once([chooser(h) for h in race.households])
            assert crashed == []
            assert len(made) == 1 and len(refused) == 19
            assert all("已被选定" in m or "待确认" in m for m in refused), set(refused)
            unit_offers = list(Offer.objects.filter(unit=target))
            assert len(unit_offers) == 1 and unit_offers[0].pk == made[0]
            assert unit_offers[0].status == Offer.Status.PENDING
            target.refresh_from_db()
            spare.refresh_from_db()
            assert target.status == Unit.Status.OFFERED and spare.status == Unit.Status.VACANT
            chosen = Slot.objects.filter(round_id=race.round_id, status=Slot.Status.CHOSEN)
            assert list(chosen.values_list("household_id", flat=True)) == [
                unit_offers[0].household_id
            ]
        finally:
            clean_up(race)
        connection.close()


def test_one_household_choosing_two_units_at_once_gets_one(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        race = committed_choosing_round("b", households=1, units=2)
        try:
            (household,) = race.households
            first, second = race.units

            def chooser(unit, **who):
                return lambda: offers.choose(
                    race.round_id, unit.pk, household_id=household.pk, now=SATURDAY, **who
                )

            online = {"applicant": household.applicant}
            counter = {"actor": race.staff}  # a clerk at the counter, at the same moment
            made, refused, crashed = run_at_once(
                [
                    chooser(first, **online),
                    chooser(second, **online),
                    chooser(first, **counter),
                    chooser(second, **counter),
                ]
            )
            assert crashed == []
            assert len(made) == 1 and len(refused) == 3
            pending = Offer.objects.filter(household=household, status=Offer.Status.PENDING)
            assert pending.count() == 1 and Offer.objects.filter(household=household).count() == 1
            statuses = {}
            for unit in race.units:
                unit.refresh_from_db()
                statuses[unit.pk] = unit.status
            assert sorted(statuses.values()) == [Unit.Status.OFFERED, Unit.Status.VACANT]
            assert statuses[pending.get().unit_id] == Unit.Status.OFFERED
        finally:
            clean_up(race)
        connection.close()
