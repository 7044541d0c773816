"""配租批次: announcing commits the participants and the entropy source (and the database keeps
them frozen), the RFC 3797 draw is written once and published so anyone can replay it."""

import hashlib
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from allocation import rfc3797, selectors
from allocation.models import Offer, Participant, Round, RoundUnit
from allocation.services import AllocationError, offers, rounds
from disclosure.hashing import canonical_json
from disclosure.models import Kind, Outbox
from disclosure.services import document_of, process_outbox
from geo.models import Region
from tests.allocation.conftest import LOTTERY, MONDAY, lottery_round, waitlist_round
from tests.personas import make_staff

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
REPLAY = ROOT / "static" / "allocation" / "replay_lottery.py"
SEEDS_TEXT = "03 09 14 21 27 30\n12"
SEEDS = [[3, 9, 14, 21, 27, 30], [12]]
DAY = timedelta(days=1)


def keys(round_: Round) -> list[str]:
    return [p.public_key for p in selectors.participants(round_)]


def outbox_rows_for(round_: Round):
    return Outbox.objects.filter(payload__subject__round=round_.pk)


# --- who may run a round -----------------------------------------------------------------------


def test_only_the_countys_department_or_its_city_may_create_a_round(place, make_units):
    unit = make_units(1, 1)[0]
    args = {"name": "批次", "unit_ids": [unit.pk], "invitation": "all", "invite_count": None}
    other = make_staff("alloc-other-county", "district", region=Region.objects.get(adcode="341602"))
    street = make_staff("alloc-street", "street", region=place.street)
    for outsider in (other, street, None):
        with pytest.raises(AllocationError, match="住房保障部门"):
            rounds.create_round(place.county, actor=outsider, **args)
    city = make_staff("alloc-city", "city", region=place.county.parent)
    assert rounds.create_round(place.county, actor=city, **args).status == Round.Status.DRAFT


# --- announcing --------------------------------------------------------------------------------


def test_the_lottery_date_must_lie_in_the_future_and_nothing_is_written_otherwise(
    place, staff, make_units, make_household
):
    make_household()
    unit = make_units(1, 1)[0]
    round_ = rounds.create_round(
        place.county,
        name="试验县摇号配租",
        unit_ids=[unit.pk],
        invitation="all",
        invite_count=None,
        method="lottery",
        actor=staff,
    )
    for when in (MONDAY.date(), MONDAY.date() - DAY):
        with pytest.raises(AllocationError, match="开奖日期须在公告之后"):
            rounds.announce(
                round_.pk,
                lottery_name=LOTTERY,
                lottery_date=when,
                lottery_sources=2,
                actor=staff,
                now=MONDAY,
            )
    round_.refresh_from_db()
    assert round_.status == Round.Status.DRAFT
    assert round_.participants_sha256 == "" and round_.announce_outbox is None
    assert not Participant.objects.filter(round=round_).exists()
    assert not outbox_rows_for(round_).exists()

    announced = rounds.announce(
        round_.pk,
        lottery_name=LOTTERY,
        lottery_date=MONDAY.date() + DAY,
        lottery_sources=2,
        actor=staff,
        now=MONDAY,
    )
    assert announced.status == Round.Status.ANNOUNCED


def test_participants_are_waiting_households_in_order_that_fit_the_units(
    place, staff, make_units, make_household
):
    at = [MONDAY - (50 - i) * DAY for i in range(5)]
    pair = make_household(size=2, approved_at=at[0])
    five = make_household(size=5, approved_at=at[1])
    single = make_household(size=1, approved_at=at[2])
    three = make_household(size=3, approved_at=at[3])
    last = make_household(size=1, approved_at=at[4])

    one_room = make_units(1, 2)
    first = lottery_round(
        place.county, one_room, staff, now=MONDAY, invitation="head", invite_count=3
    )
    # Five persons need 2–3 rooms: skipped; the head of the list otherwise, three of them.
    assert [p.household_id for p in selectors.participants(first)] == [pair.pk, single.pk, three.pk]
    assert [p.position for p in selectors.participants(first)] == [1, 2, 3]
    assert keys(first) == [pair.public_key, single.public_key, three.public_key]
    assert first.participants_sha256 == rfc3797.participants_hash(keys(first))

    # A second round: those in the first (still open) are not invited again; 1–2 person
    # households fit one-room units only, so only the 5-person one takes the two-room unit.
    second = lottery_round(place.county, make_units(2, 1), staff, now=MONDAY, name="试验县两室配租")
    assert keys(second) == [five.public_key]
    third = lottery_round(
        place.county, make_units(1, 1), staff, now=MONDAY, name="试验县又一批配租"
    )
    assert keys(third) == [last.public_key]


def test_size_rules_are_the_countys_data(place, policy, staff, make_units, make_household):
    five = make_household(size=5)
    with pytest.raises(AllocationError, match="没有符合本批次房源户型"):
        lottery_round(place.county, make_units(1, 1), staff, now=MONDAY)
    policy.size_rules = [{"members_up_to": None, "min_rooms": 1, "max_rooms": 3}]
    policy.save()
    round_ = lottery_round(place.county, make_units(1, 1), staff, now=MONDAY)
    assert keys(round_) == [five.public_key]


def test_a_priority_round_invites_priority_households_only(
    place, staff, make_units, make_household
):
    make_household(approved_at=MONDAY - 90 * DAY)
    elderly = make_household(priorities=["elderly"], approved_at=MONDAY - 10 * DAY)
    round_ = lottery_round(place.county, make_units(1, 2), staff, now=MONDAY, invitation="priority")
    assert keys(round_) == [elderly.public_key]


def test_a_round_may_invite_one_priority_group(place, staff, make_units, make_household):
    make_household(priorities=["elderly"], approved_at=MONDAY - 90 * DAY)
    dibao = make_household(priorities=["dibao", "disability"], approved_at=MONDAY - 10 * DAY)
    round_ = lottery_round(
        place.county,
        make_units(1, 2),
        staff,
        now=MONDAY,
        invitation="priority",
        priority_group="disability",
    )
    assert keys(round_) == [dibao.public_key]
    assert "残疾人家庭" in process_outbox(round_.announce_outbox_id).body
    with pytest.raises(AllocationError, match="只有邀请优先轮候群体时才能指定群体"):
        rounds.create_round(
            place.county,
            name="错误的批次",
            unit_ids=[make_units(1, 1)[0].pk],
            invitation="all",
            invite_count=None,
            priority_group="dibao",
            actor=staff,
        )


def test_the_announcement_publishes_the_commitment(place, staff, make_units, make_household):
    households = [make_household(approved_at=MONDAY - (9 - i) * DAY) for i in range(3)]
    round_ = lottery_round(place.county, make_units(1, 2), staff, now=MONDAY, lottery_in_days=4)
    publication = process_outbox(round_.announce_outbox_id)
    assert publication.kind == Kind.ALLOCATION_ROUND and publication.region == place.county
    commitment = publication.data["commitment"]
    participants = [h.public_key for h in households]
    assert commitment["participants"] == participants
    assert commitment["participants_sha256"] == rfc3797.participants_hash(participants)
    assert commitment["participants_sha256"] == round_.participants_sha256
    assert commitment["algorithm"] == "RFC3797"
    assert commitment["entropy"] == {
        "source": round_.lottery_name,
        "date": (MONDAY.date() + 4 * DAY).isoformat(),
        "sources": 2,
    }
    assert (
        round_.lottery_name in publication.body and round_.participants_sha256 in publication.body
    )
    # Only public keys: no names at all in a list published before the draw.
    assert [r["key"] for r in publication.items] == participants
    text = canonical_json(document_of(publication)).decode()
    assert all(h.head_name not in text for h in households)


# --- the frozen commitment ------------------------------------------------------------------


@pytest.fixture
def committed(place, staff, make_units, make_household):
    """An announced round, a draft round beside it, a spare household and a spare unit."""
    for i in range(3):
        make_household(approved_at=MONDAY - (9 - i) * DAY)
    round_ = lottery_round(place.county, make_units(1, 2), staff, now=MONDAY)
    spare_household = make_household(enrolled=False)
    spare_unit = make_units(1, 1)[0]
    draft = rounds.create_round(
        place.county,
        name="草稿批次",
        unit_ids=[spare_unit.pk],
        invitation="all",
        invite_count=None,
        actor=staff,
    )
    return {
        "round": round_.pk,
        "draft": draft.pk,
        "household": spare_household.pk,
        "unit": spare_unit.pk,
        "keys": keys(round_),
        "units": sorted(round_.round_units.values_list("unit_id", flat=True)),
        "sha": round_.participants_sha256,
        "date": round_.lottery_date,
    }


REFUSED = {
    "participant key": "UPDATE allocation_participant SET public_key = 'X' "
    "WHERE round_id = %(round)s",
    "participant household": "UPDATE allocation_participant SET household_id = %(household)s "
    "WHERE round_id = %(round)s AND position = 1",
    "participant order": "UPDATE allocation_participant SET position = position + 10 "
    "WHERE round_id = %(round)s",
    "participant moved to a draft round": "UPDATE allocation_participant "
    "SET round_id = %(draft)s WHERE round_id = %(round)s AND position = 1",
    "participant added": "INSERT INTO allocation_participant "
    "(round_id, household_id, position, public_key) VALUES (%(round)s, %(household)s, 99, 'Y')",
    "participant removed": "DELETE FROM allocation_participant WHERE round_id = %(round)s "
    "AND position = 1",
    "unit added": "INSERT INTO allocation_roundunit (round_id, unit_id) "
    "VALUES (%(round)s, %(unit)s)",
    "unit removed": "DELETE FROM allocation_roundunit WHERE round_id = %(round)s",
    "unit swapped": "UPDATE allocation_roundunit SET unit_id = %(unit)s WHERE id = "
    "(SELECT min(id) FROM allocation_roundunit WHERE round_id = %(round)s)",
    "unit moved to a draft round": "UPDATE allocation_roundunit SET round_id = %(draft)s "
    "WHERE round_id = %(round)s",
    "list hash": "UPDATE allocation_round SET participants_sha256 = repeat('0', 64) "
    "WHERE id = %(round)s",
    "lottery date": "UPDATE allocation_round SET lottery_date = lottery_date + 1 "
    "WHERE id = %(round)s",
    "invited group": "UPDATE allocation_round SET priority_group = 'dibao' WHERE id = %(round)s",
    "lottery name": "UPDATE allocation_round SET lottery_name = 'another lottery' "
    "WHERE id = %(round)s",
    "back to draft": "UPDATE allocation_round SET status = 'draft' WHERE id = %(round)s",
    "round deleted": "DELETE FROM allocation_round WHERE id = %(round)s",
}


@pytest.mark.parametrize("sql", REFUSED.values(), ids=REFUSED.keys())
def test_the_database_refuses_to_change_a_committed_round(committed, sql):
    with (
        pytest.raises(DatabaseError, match="is committed"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, committed)
    round_ = Round.objects.get(pk=committed["round"])
    assert keys(round_) == committed["keys"]
    assert sorted(round_.round_units.values_list("unit_id", flat=True)) == committed["units"]
    assert round_.participants_sha256 == committed["sha"]
    assert round_.lottery_date == committed["date"]
    assert round_.status == Round.Status.ANNOUNCED


def test_the_orm_is_refused_too_and_a_draft_stays_editable(committed):
    with pytest.raises(DatabaseError, match="is committed"), transaction.atomic():
        Participant.objects.filter(round_id=committed["round"]).update(public_key="X")
    with pytest.raises(DatabaseError, match="is committed"), transaction.atomic():
        Round.objects.filter(pk=committed["round"]).update(lottery_sources=3)
    # The trigger is about committed rounds only: a draft's units may still change.
    RoundUnit.objects.filter(round_id=committed["draft"]).delete()
    assert not RoundUnit.objects.filter(round_id=committed["draft"]).exists()


# --- the draw --------------------------------------------------------------------------------


@pytest.fixture
def announced(place, staff, make_units, make_household):
    for i in range(5):
        make_household(approved_at=MONDAY - (20 - i) * DAY)
    return lottery_round(place.county, make_units(1, 3), staff, now=MONDAY, lottery_in_days=3)


def assert_not_drawn(round_: Round) -> None:
    round_.refresh_from_db()
    assert round_.status == Round.Status.ANNOUNCED
    assert round_.seeds is None and round_.draw_order is None and round_.drawn_at is None
    assert round_.draw_outbox is None
    assert outbox_rows_for(round_).count() == 1, "the announcement only"


def test_no_draw_before_the_declared_date(announced, staff):
    with pytest.raises(AllocationError, match="之前不能摇号"):
        rounds.draw(announced.pk, seeds_text=SEEDS_TEXT, actor=staff, now=MONDAY + 2 * DAY)
    assert_not_drawn(announced)


def test_no_draw_before_the_announcement_is_public(place, staff, make_units, make_household):
    make_household()
    round_ = rounds.create_round(
        place.county,
        name="未发布公告的批次",
        unit_ids=[u.pk for u in make_units(1, 1)],
        invitation="all",
        invite_count=None,
        method="lottery",
        actor=staff,
    )
    rounds.announce(
        round_.pk,
        lottery_name=LOTTERY,
        lottery_date=MONDAY.date() + DAY,
        lottery_sources=2,
        actor=staff,
        now=MONDAY,
    )
    with pytest.raises(AllocationError, match="公告发布后才能摇号"):
        rounds.draw(round_.pk, seeds_text=SEEDS_TEXT, actor=staff, now=MONDAY + 2 * DAY)
    assert_not_drawn(round_)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("03 09 14 21 27 30", "公告声明了 2 组开奖号码，您输入了 1 组"),
        ("03 09 14 21 27 30\n12\n5", "公告声明了 2 组开奖号码，您输入了 3 组"),
        ("03 09 14 21 27 30\n-12", "第 2 组开奖号码中的“-12”不是非负整数"),
        ("03 09 十四 21 27 30\n12", "第 1 组开奖号码中的“十四”不是非负整数"),
        ("03 09 14 21 27 3.5\n12", "第 1 组开奖号码中的“3.5”不是非负整数"),
        ("03 09 14 21 27 30\n１２", "第 2 组开奖号码中的“１２”不是非负整数"),
    ],
)
def test_bad_seed_lines_get_a_clear_error_naming_the_line(announced, staff, text, message):
    with pytest.raises(AllocationError) as error:
        rounds.draw(announced.pk, seeds_text=text, actor=staff, now=MONDAY + 3 * DAY)
    assert message in str(error.value)
    assert_not_drawn(announced)


def test_the_draw_is_rfc_3797_over_the_committed_list_and_written_once(announced, staff):
    committed_keys = keys(announced)
    drawn = rounds.draw(
        announced.pk, seeds_text="03，09, 14 21 27 30\n\n12\n", actor=staff, now=MONDAY + 3 * DAY
    )
    assert drawn.status == Round.Status.DRAWN
    drawn.refresh_from_db()
    assert drawn.seeds == SEEDS
    assert drawn.draw_order == rfc3797.draw_order(committed_keys, SEEDS)
    assert sorted(drawn.draw_order) == sorted(committed_keys)

    with pytest.raises(AllocationError, match="不能重复摇号"):
        rounds.draw(
            announced.pk, seeds_text="01 02 03 04 05 06\n07", actor=staff, now=MONDAY + 4 * DAY
        )
    for change in (
        {"draw_order": list(reversed(drawn.draw_order))},
        {"seeds": [[1, 2, 3, 4, 5, 6], [7]]},
        {"drawn_at": MONDAY + 5 * DAY},
        {"draw_order": None, "seeds": None, "status": Round.Status.ANNOUNCED},
    ):
        with pytest.raises(DatabaseError, match="is drawn"), transaction.atomic():
            Round.objects.filter(pk=drawn.pk).update(**change)
    drawn.refresh_from_db()
    assert drawn.draw_order == rfc3797.draw_order(committed_keys, SEEDS)
    assert drawn.seeds == SEEDS


def test_the_published_draw_can_be_replayed_and_is_hashed_with_its_data(announced, staff, tmp_path):
    committed_keys = keys(announced)
    drawn = rounds.draw(announced.pk, seeds_text=SEEDS_TEXT, actor=staff, now=MONDAY + 3 * DAY)
    publication = process_outbox(drawn.draw_outbox_id)
    assert publication.kind == Kind.ALLOCATION_ROUND
    lottery = publication.data["lottery"]
    assert set(lottery) == {"participants", "seeds", "order", "algorithm", "participants_sha256"}
    assert lottery["participants"] == committed_keys
    assert lottery["seeds"] == SEEDS
    assert lottery["order"] == drawn.draw_order
    assert lottery["algorithm"] == "RFC3797"
    assert lottery["participants_sha256"] == announced.participants_sha256

    # The list gives the order with masked names only.
    assert [r["key"] for r in publication.items] == drawn.draw_order
    assert [r["rank"] for r in publication.items] == list(range(1, len(committed_keys) + 1))
    for row in publication.items:
        household = next(
            p.household for p in selectors.participants(drawn) if p.public_key == row["key"]
        )
        assert row["name"] != household.head_name and "*" in row["name"]

    path = tmp_path / "lottery.json"
    path.write_text(json.dumps(lottery, ensure_ascii=False), encoding="utf-8")
    replay = subprocess.run(
        [sys.executable, str(REPLAY), str(path)], capture_output=True, text=True, timeout=60
    )
    assert replay.returncode == 0, replay.stdout + replay.stderr
    tampered = dict(
        lottery, order=[lottery["order"][1], lottery["order"][0], *lottery["order"][2:]]
    )
    path.write_text(json.dumps(tampered), encoding="utf-8")
    refused = subprocess.run(
        [sys.executable, str(REPLAY), str(path)], capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 1, "the script must notice a changed order"

    announcement = process_outbox(announced.announce_outbox_id)
    assert publication.data["announcement"] == {
        "series": announcement.series_id,
        "hash": announcement.content_hash,
    }, "the draw names the announcement it follows"
    document = document_of(publication)
    assert document["data"] == publication.data and document["data"]["lottery"] == lottery
    assert publication.content_hash == hashlib.sha256(canonical_json(document)).hexdigest()


def test_a_waitlist_round_needs_no_draw_and_chooses_in_list_order(
    place, staff, make_units, make_household
):
    households = [make_household(approved_at=MONDAY - (9 - i) * DAY) for i in range(3)]
    round_ = rounds.create_round(
        place.county,
        name="按轮候顺序",
        unit_ids=[u.pk for u in make_units(1, 2)],
        invitation="all",
        invite_count=None,
        method="waitlist",
        actor=staff,
    )
    round_ = rounds.announce(round_.pk, actor=staff, now=MONDAY)
    assert process_outbox(round_.announce_outbox_id).data["commitment"]["entropy"] is None
    with pytest.raises(AllocationError, match="无需摇号"):
        rounds.draw(round_.pk, seeds_text=SEEDS_TEXT, actor=staff, now=MONDAY + 3 * DAY)
    start = MONDAY + DAY
    rounds.open_choosing(round_.pk, starts_at=start, actor=staff, now=MONDAY)
    slots = list(round_.slots.order_by("rank"))
    assert [s.household_id for s in slots] == [h.pk for h in households]
    assert [s.opens_at for s in slots] == [start + timedelta(minutes=30 * i) for i in range(3)]


def test_choosing_follows_the_draw_order(announced, staff):
    with pytest.raises(AllocationError, match="请先摇号"):
        rounds.open_choosing(announced.pk, actor=staff, now=MONDAY + 3 * DAY)
    drawn = rounds.draw(announced.pk, seeds_text=SEEDS_TEXT, actor=staff, now=MONDAY + 3 * DAY)
    start = MONDAY + 4 * DAY
    rounds.open_choosing(drawn.pk, starts_at=start, actor=staff, now=start)
    slots = list(drawn.slots.select_related("household").order_by("rank"))
    assert [s.household.public_key for s in slots] == drawn.draw_order


# --- the board -------------------------------------------------------------------------------


@pytest.mark.parametrize("households", [2, 8])
def test_the_board_takes_two_queries_however_many_slots(
    place, staff, make_units, make_household, django_assert_num_queries, households
):
    people = [make_household(approved_at=MONDAY - (30 - i) * DAY) for i in range(households)]
    units = make_units(1, households)
    round_ = waitlist_round(place.county, units, staff, now=MONDAY)
    later = MONDAY + timedelta(days=1)
    for person, unit in zip(people[:2], units, strict=False):
        offers.choose(round_.pk, unit.pk, household_id=person.pk, actor=staff, now=later)
    round_ = Round.objects.get(pk=round_.pk)
    with django_assert_num_queries(2):
        lines = selectors.board(round_)
        shown = [
            (
                line["slot"].rank,
                line["slot"].household.public_key,
                line["offer"].unit.building.estate.name if line["offer"] else None,
                line["offer"].unit.number if line["offer"] else None,
            )
            for line in lines
        ]
    assert len(shown) == households
    assert [s[1] for s in shown] == [p.public_key for p in people]
    assert sum(1 for s in shown if s[2]) == 2
    assert Offer.objects.filter(round=round_).count() == 2
    assert timezone.is_aware(lines[0]["slot"].opens_at)
