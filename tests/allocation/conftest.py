"""Factories for allocation tests: a county of our own (so the demo's waitlists never mix in),
its estate and units, and households made from approved applications the way the review path
makes them (housing.households.create_household), then enrolled by the waitlist service.

Everything here is created inside the test's transaction, except what the concurrency tests
build themselves with committed data.
"""

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.utils import timezone

from allocation.models import AllocationPolicy, Round
from allocation.services import rounds
from allocation.services.waitlist import enrol, policy_for
from disclosure.services import pending_outbox_ids, process_outbox
from exchange.idcard import make_id_number
from geo.models import Building, Estate, Region, Unit
from housing.households import create_household
from housing.models import Applicant, Application, Household, Member
from tests.personas import make_staff

# A Monday, far from the demo's dates: every test acts at times it chooses (`now=`).
MONDAY = timezone.make_aware(datetime(2030, 1, 7, 10, 0))
SURNAMES = "张王李赵刘陈杨黄吴周徐孙马朱胡郭何林罗高"
GIVEN = "晓建国秀英志明华玉兰桂芳丽军伟强静敏燕霞"
RELATIONS = ["配偶", "儿子", "女儿", "母亲", "父亲", "孙子", "兄"]
LOTTERY = "中国福利彩票双色球（红球一组、蓝球一组）"

_serial = itertools.count(1)


def serial() -> int:
    return next(_serial)


def three_char_name(n: int) -> str:
    """Distinct three-character names (a masked form 张*明 then differs from the name)."""
    return (
        SURNAMES[n % len(SURNAMES)]
        + GIVEN[(n // len(SURNAMES)) % len(GIVEN)]
        + GIVEN[(n // (len(SURNAMES) * len(GIVEN)) + n) % len(GIVEN)]
    )


def square(x: float, y: float, size: float) -> Polygon:
    return Polygon(((x, y), (x + size, y), (x + size, y + size), (x, y + size), (x, y)), srid=4326)


@dataclass
class Place:
    county: Region
    street: Region
    community: Region


def make_place(adcode: str = "349901", name: str = "试验县") -> Place:
    """A county of our own under the demo city, with one street and one community."""
    city = Region.objects.get(adcode="341600")
    area = square(117.0, 30.0, 0.2)
    county = Region.objects.create(
        adcode=adcode,
        name=name,
        level=Region.Level.DISTRICT,
        parent=city,
        boundary=MultiPolygon(area, srid=4326),
    )
    street = Region.objects.create(
        adcode=adcode + "001",
        name=name + "试验街道",
        level=Region.Level.STREET,
        parent=county,
        boundary=MultiPolygon(area, srid=4326),
    )
    community = Region.objects.create(
        adcode=adcode + "001001",
        name=name + "试验社区",
        level=Region.Level.COMMUNITY,
        parent=street,
        boundary=MultiPolygon(area, srid=4326),
    )
    return Place(county, street, community)


@pytest.fixture
def place(db) -> Place:
    return make_place()


@pytest.fixture
def policy(place) -> AllocationPolicy:
    return policy_for(place.county)


@pytest.fixture
def staff(place):
    """The county's housing department: may run its allocation."""
    return make_staff("alloc-district", "district", region=place.county)


@pytest.fixture
def make_units(place):
    """make_units(rooms, count) → vacant units of a new building in the county's estate."""
    estate = Estate.objects.create(
        name="试验家园",
        address="试验县幸福路 1 号",
        district=place.county,
        street=place.street,
        community=place.community,
        location=Point(117.1, 30.1, srid=4326),
        published=True,
    )
    buildings = itertools.count(1)

    def make(rooms: int, count: int = 1) -> list[Unit]:
        building = Building.objects.create(estate=estate, number=f"{next(buildings)}号楼", floors=6)
        return [
            Unit.objects.create(
                building=building,
                number=f"{(i // 2) + 1}0{(i % 2) + 1}",
                floor=(i // 2) + 1,
                rooms=rooms,
                area=30 + 15 * rooms,
                monthly_rent=300 + 150 * rooms,
                status=Unit.Status.VACANT,
            )
            for i in range(count)
        ]

    return make


def approved_application(
    place: Place,
    *,
    name: str,
    size: int,
    priorities=(),
    id_region: str = "349901",
    number_prefix: str = "TA",
    phone_prefix: str = "1391",
) -> Application:
    """An application at 审批通过 with its members (the applicant first, coded 本人)."""
    n = serial()
    id_number = make_id_number(id_region, date(1960, 1, 1) + timedelta(days=n * 7), n)
    phone = f"{phone_prefix}{n:07d}"
    application = Application.objects.create(
        number=f"{number_prefix}{n:06d}",
        applicant=Applicant.objects.create(phone=phone),
        name=name,
        id_number=id_number,
        phone=phone,
        county=place.county,
        street=place.street,
        community=place.community,
        priorities=list(priorities),
        consent=True,
        stage=Application.Stage.APPROVED,
    )
    Member.objects.create(application=application, name=name, relation="本人", id_number=id_number)
    for i in range(1, size):
        Member.objects.create(
            application=application,
            name=three_char_name(n * 10 + i),
            relation=RELATIONS[(i - 1) % len(RELATIONS)],
            id_number=make_id_number(id_region, date(1990, 1, 1) + timedelta(days=n + i), n + i),
        )
    return application


@pytest.fixture
def make_household(place):
    """make_household(size=…, priorities=…, approved_at=…, name=…, enrolled=True)."""

    def make(
        *,
        size: int = 1,
        priorities=(),
        approved_at: datetime | None = None,
        name: str | None = None,
        enrolled: bool = True,
        now: datetime | None = None,
    ) -> Household:
        application = approved_application(
            place, name=name or three_char_name(serial()), size=size, priorities=priorities
        )
        household = create_household(application, at=approved_at or MONDAY - timedelta(days=90))
        if enrolled:
            enrol(household, now=now or household.approved_at)
        return household

    return make


def waitlist_round(
    county: Region,
    units: list[Unit],
    actor,
    *,
    now: datetime,
    invitation: str = Round.Invitation.ALL,
    invite_count: int | None = None,
    name: str = "试验县第一批配租",
) -> Round:
    """A round choosing in waitlist order (no draw): created, announced and opened at `now`."""
    round_ = rounds.create_round(
        county,
        name=name,
        unit_ids=[u.pk for u in units],
        invitation=invitation,
        invite_count=invite_count,
        method="waitlist",
        actor=actor,
    )
    rounds.announce(round_.pk, actor=actor, now=now)
    return rounds.open_choosing(round_.pk, starts_at=now, actor=actor, now=now)


def lottery_round(
    county: Region,
    units: list[Unit],
    actor,
    *,
    now: datetime,
    invitation: str = Round.Invitation.ALL,
    invite_count: int | None = None,
    priority_group: str = "",
    lottery_in_days: int = 3,
    name: str = "试验县摇号配租",
) -> Round:
    """A round announced at `now` with a lottery (two sources) `lottery_in_days` later, its
    announcement published (a draw needs it public first)."""
    round_ = rounds.create_round(
        county,
        name=name,
        unit_ids=[u.pk for u in units],
        invitation=invitation,
        invite_count=invite_count,
        priority_group=priority_group,
        method="lottery",
        actor=actor,
    )
    round_ = rounds.announce(
        round_.pk,
        lottery_name=LOTTERY + "第2030003期",
        lottery_date=timezone.localdate(now) + timedelta(days=lottery_in_days),
        lottery_sources=2,
        actor=actor,
        now=now,
    )
    process_outbox(round_.announce_outbox_id)
    return round_


def publish_pending() -> None:
    """The worker's step for everything waiting in the outbox."""
    for outbox_id in pending_outbox_ids():
        process_outbox(outbox_id)
