"""配租管理 in the back office: who sees which waitlist and round, and each step of a round
(draft, announce, draw, choosing at the counter, close) driven through the pages."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from allocation import selectors
from allocation.models import Offer, Participant, Round, WaitlistEntry
from allocation.services import offers, rounds
from allocation.services.waitlist import policy_for
from disclosure.services import process_outbox
from geo.models import Region, Unit
from housing.models import Household
from tests.personas import Role, make_staff

pytestmark = pytest.mark.django_db

HOME = "341602"  # 谯城区: the demo rounds
OTHER = "341621"  # 涡阳县
OPEN = ["draft", "announced", "drawn", "choosing"]


@pytest.fixture
def home() -> Region:
    return Region.objects.get(adcode=HOME)


@pytest.fixture
def other_district(db):
    return make_staff("p-guoyang", Role.DISTRICT, region=Region.objects.get(adcode=OTHER))


def demo_round(status: str) -> Round:
    return Round.objects.get(county__adcode=HOME, status=status)


def free_units(county: Region, rooms: int, count: int = 1) -> list[int]:
    """Vacant units of the county that no open round holds."""
    return list(
        Unit.objects.filter(building__estate__district=county, status="vacant", rooms=rooms)
        .exclude(rounds__status__in=OPEN)
        .order_by("pk")
        .values_list("pk", flat=True)[:count]
    )


def draft(county: Region, actor, method: str = "lottery") -> Round:
    return rounds.create_round(
        county,
        name="测试批次",
        unit_ids=free_units(county, 1) + free_units(county, 2),
        invitation=Round.Invitation.HEAD,
        invite_count=3,
        method=method,
        actor=actor,
    )


def announced_in_the_past(county: Region, actor) -> Round:
    """Announced (and published) ten days ago with a lottery drawn eight days ago: ready to
    draw now."""
    start = timezone.now() - timedelta(days=10)
    round_ = rounds.announce(
        draft(county, actor).pk,
        lottery_name="测试彩票第 1 期",
        lottery_date=(start + timedelta(days=2)).date(),
        lottery_sources=2,
        actor=actor,
        now=start,
    )
    process_outbox(round_.announce_outbox_id)
    return round_


def choosing(county: Region, actor) -> Round:
    """A waitlist-ordered round whose first household's turn is now."""
    round_ = draft(county, actor, method="waitlist")
    rounds.announce(round_.pk, actor=actor)
    return rounds.open_choosing(round_.pk, actor=actor)


def page(client, url: str, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, url
    return response.content.decode()


def round_urls(round_: Round) -> list[str]:
    return [
        reverse("allocation-round", args=[round_.pk]),
        reverse("allocation-round", args=[round_.pk]) + "?partial=board",
    ]


# --- who sees what ---------------------------------------------------------------------------


def test_district_opens_every_allocation_page_of_its_county(client, cast, home):
    user = cast.users["district"]
    client.force_login(user)
    mine = draft(home, user)
    html = page(client, reverse("allocation"))
    assert "尚未开放" not in html
    assert "谯城区轮候名单" in html
    rounds_html = page(client, reverse("allocation-rounds"))
    for status in ["closed", "choosing", "announced"]:
        assert reverse("allocation-round", args=[demo_round(status).pk]) in rounds_html
        page(client, reverse("allocation-round", args=[demo_round(status).pk]))
    assert "新建批次" in rounds_html
    assert "草稿" in page(client, reverse("allocation-round", args=[mine.pk]))
    assert 'name="units"' in page(client, reverse("allocation-round-new"), county=HOME)
    # The navigation leads to the module itself now.
    assert 'href="/staff/allocation/"' in page(client, reverse("staff-home"))


def test_a_district_of_another_county_gets_404_for_our_rounds(client, home, other_district):
    client.force_login(other_district)
    theirs = [demo_round(s) for s in ["closed", "choosing", "announced"]]
    for round_ in theirs:
        for url in round_urls(round_):
            assert client.get(url).status_code == 404, url
    listing = page(client, reverse("allocation-rounds"))
    for round_ in theirs:
        assert round_.name not in listing
    assert client.get(reverse("allocation"), {"county": HOME}).status_code == 404
    assert client.get(reverse("allocation-round-new"), {"county": HOME}).status_code == 404
    # Acting on another county's round is refused before any service runs.
    announced = demo_round("announced")
    response = client.post(
        reverse("allocation-round-draw", args=[announced.pk]), {"seeds": "1 2 3\n4"}
    )
    assert response.status_code == 404
    announced.refresh_from_db()
    assert announced.status == "announced"
    # Its own county's waitlist is there.
    assert "涡阳县轮候名单" in page(client, reverse("allocation"))


def test_operator_gets_403_on_lists_404_on_rounds_outsiders_403_visitors_sign_in(client, cast):
    round_ = demo_round("choosing")
    lists = [
        reverse("allocation"),
        reverse("allocation-rounds"),
        reverse("allocation-round-new") + f"?county={HOME}",
    ]
    urls = [*lists, *round_urls(round_)]
    client.force_login(cast.users["operator"])
    for url in lists:  # the module is not the operator's
        assert client.get(url).status_code == 403, url
    for url in round_urls(round_):  # and no round exists for it
        assert client.get(url).status_code == 404, url
    client.force_login(cast.users["outsider"])
    for url in urls:
        assert client.get(url).status_code == 403, url
    client.logout()
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/staff/login/" in response["Location"], url
    response = client.post(reverse("allocation-round-close", args=[round_.pk]))
    assert response.status_code == 302 and "/staff/login/" in response["Location"]


@pytest.mark.parametrize("role", ["street", "community"])
def test_street_and_community_see_only_their_households_with_county_positions(
    client, cast, home, role
):
    estate = cast.inside[role]
    ordered = list(selectors.waiting_entries(home))
    moved = ordered[3]
    Household.objects.filter(pk=moved.household_id).update(
        street=estate.street, community=estate.community
    )
    client.force_login(cast.users[role])
    html = page(client, reverse("allocation"))
    keys = re.findall(r"<code>([^<]+)</code>", html)
    assert keys == [moved.household.public_key]
    assert moved.household.head_name in html
    # The household keeps its place in the county's list, not "1" of a street list.
    assert re.search(rf'<td class="num">{moved.position}</td>\s*<td><code>', html)
    # Rounds belong to the housing departments.
    assert client.get(reverse("allocation-rounds")).status_code == 403
    round_ = demo_round("choosing")
    assert client.get(reverse("allocation-round", args=[round_.pk])).status_code == 404


def test_city_chooses_among_its_counties(client, cast):
    client.force_login(cast.users["city"])
    html = page(client, reverse("allocation"))
    for name in ["谯城区", "涡阳县", "蒙城县", "利辛县"]:
        assert name in html
    other = Region.objects.get(adcode=OTHER)
    entry = selectors.waiting_entries(other).first()
    html = page(client, reverse("allocation"), county=OTHER)
    assert "涡阳县轮候名单" in html and entry.household.head_name in html
    assert client.get(reverse("allocation"), {"county": "110101"}).status_code == 404


def test_waitlist_shows_overdue_suspended_and_the_public_notice(client, cast, home):
    entries = list(selectors.waiting_entries(home))
    suspended = entries[-1]
    until = timezone.now() + timedelta(days=100)
    WaitlistEntry.objects.filter(pk=suspended.pk).update(status="suspended", suspended_until=until)
    client.force_login(cast.users["district"])
    html = page(client, reverse("allocation"))
    # The demo spreads approvals over three years: some wait longer than the 24-month limit.
    assert "已超期" in html
    section = html.split('id="suspended-title"')[1]
    assert suspended.household.public_key in section
    assert timezone.localtime(until).strftime("%Y-%m-%d") in section
    assert 'href="/notices/' in html and "最近发布于" in html


# --- new round -------------------------------------------------------------------------------


def test_create_a_draft_round_with_two_vacant_units(client, cast, home):
    client.force_login(cast.users["district"])
    units = free_units(home, 1) + free_units(home, 2)
    before = set(Round.objects.values_list("pk", flat=True))
    response = client.post(
        reverse("allocation-round-new") + f"?county={HOME}",
        {
            "name": "谯城区测试批次",
            "method": "lottery",
            "invitation": "head",
            "invite_count": "4",
            "units": [str(u) for u in units],
        },
    )
    (new,) = Round.objects.exclude(pk__in=before)
    assert response.status_code == 302
    assert response["Location"] == reverse("allocation-round", args=[new.pk])
    assert new.status == "draft" and new.county == home and new.invite_count == 4
    assert sorted(new.round_units.values_list("unit_id", flat=True)) == sorted(units)
    html = page(client, response["Location"])
    assert "谯城区测试批次" in html and "发布公告" in html


@pytest.mark.parametrize(
    ("which", "message"),
    [("none", "请至少选择一套房源"), ("other_county", "所选房源不属于本县（区）或不存在")],
)
def test_bad_round_input_says_why_and_creates_nothing(client, cast, home, which, message):
    client.force_login(cast.users["district"])
    other = Region.objects.get(adcode=OTHER)
    units = {"none": [], "other_county": free_units(home, 1) + free_units(other, 1)}[which]
    count = Round.objects.count()
    response = client.post(
        reverse("allocation-round-new") + f"?county={HOME}",
        {"name": "坏批次", "method": "lottery", "invitation": "head", "invite_count": "3"}
        | {"units": [str(u) for u in units]},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Round.objects.count() == count


def test_new_round_lists_vacant_units_by_estate_and_filters(client, cast, home):
    client.force_login(cast.users["district"])
    taken = demo_round("announced").round_units.values_list("unit_id", flat=True).first()
    html = page(client, reverse("allocation-round-new"), county=HOME)
    assert re.search(rf'value="{taken}" id="unit-{taken}" disabled', html)
    vacant = Unit.objects.filter(building__estate__district=home, status="vacant")
    unit = vacant.select_related("building__estate").first()
    html = page(
        client, reverse("allocation-round-new"), county=HOME, estate=unit.building.estate_id
    )
    ticks = re.findall(r'name="units" value="(\d+)"', html)
    assert str(unit.pk) in ticks
    assert len(ticks) == vacant.filter(building__estate=unit.building.estate).count()


# --- announce, draw, choose ------------------------------------------------------------------


def test_announce_needs_a_future_lottery_date(client, cast, home):
    user = cast.users["district"]
    client.force_login(user)
    round_ = draft(home, user)
    url = reverse("allocation-round-announce", args=[round_.pk])
    today = timezone.localdate()
    form = {"lottery_name": "双色球第 2026140 期", "lottery_sources": "2"}
    response = client.post(url, form | {"lottery_date": (today - timedelta(days=1)).isoformat()})
    assert "开奖日期须在公告之后" in response.content.decode()
    round_.refresh_from_db()
    assert round_.status == "draft" and not Participant.objects.filter(round=round_).exists()

    response = client.post(url, form | {"lottery_date": (today + timedelta(days=3)).isoformat()})
    assert response.status_code == 302
    round_.refresh_from_db()
    assert round_.status == "announced" and round_.lottery_sources == 2
    assert round_.participants_sha256 and Participant.objects.filter(round=round_).count() >= 1
    html = page(client, reverse("allocation-round", args=[round_.pk]))
    assert round_.participants_sha256 in html and "摇号" in html


def test_draw_waits_for_the_lottery_then_checks_the_lines(client, cast, home):
    user = cast.users["district"]
    client.force_login(user)
    early = demo_round("announced")
    response = client.post(
        reverse("allocation-round-draw", args=[early.pk]), {"seeds": "1 2 3 4 5 6\n7"}
    )
    assert "之前不能摇号" in response.content.decode()
    early.refresh_from_db()
    assert early.status == "announced"

    round_ = announced_in_the_past(home, user)
    url = reverse("allocation-round-draw", args=[round_.pk])
    response = client.post(url, {"seeds": "03 09 14 21 27 30"})
    html = response.content.decode()
    assert "公告声明了 2 组开奖号码，您输入了 1 组" in html
    assert "03 09 14 21 27 30" in html  # what was typed stays in the box
    round_.refresh_from_db()
    assert round_.status == "announced" and round_.draw_order is None

    response = client.post(url, {"seeds": "03 09 14 21 27 30\n12"})
    assert response.status_code == 302
    round_.refresh_from_db()
    assert round_.status == "drawn"
    html = page(client, reverse("allocation-round", args=[round_.pk]))
    assert "3.9.14.21.27.30./12./" in html
    shown = re.findall(r'<td class="num">\d+</td><td><code>([^<]+)</code>', html)
    assert shown[: len(round_.draw_order)] == round_.draw_order
    assert "开始选房" in html


def test_open_choosing_gives_slots(client, cast, home):
    user = cast.users["district"]
    client.force_login(user)
    round_ = announced_in_the_past(home, user)
    rounds.draw(round_.pk, seeds_text="1 2 3\n4", actor=user)
    response = client.post(reverse("allocation-round-open", args=[round_.pk]), {"starts_at": ""})
    assert response.status_code == 302
    round_.refresh_from_db()
    assert round_.status == "choosing"
    assert round_.slots.count() == round_.participants.count()
    assert "选房看板" in page(client, reverse("allocation-round", args=[round_.pk]))


def test_counter_choice_then_acceptance_allocates_the_household(client, cast, home):
    user = cast.users["district"]
    client.force_login(user)
    round_ = choosing(home, user)
    slot = round_.slots.select_related("household").get(rank=1)
    unit = selectors.choosable_units(round_, slot.household, policy_for(home)).first()
    html = page(client, reverse("allocation-round", args=[round_.pk]))
    assert f'<option value="{unit.pk}">' in html  # the clerk is offered this unit

    response = client.post(
        reverse("allocation-round-choose", args=[round_.pk]),
        {"household": slot.household_id, "unit": unit.pk},
    )
    assert response.status_code == 302
    offer = Offer.objects.get(round=round_, household=slot.household)
    unit.refresh_from_db()
    assert offer.status == "pending" and offer.channel == "counter" and unit.status == "offered"

    response = client.post(reverse("allocation-offer-accept", args=[round_.pk, offer.pk]))
    assert response.status_code == 302
    offer.refresh_from_db()
    household = Household.objects.get(pk=slot.household_id)
    assert offer.status == "accepted" and household.status == "allocated"
    assert WaitlistEntry.objects.get(household=household).status == "allocated"
    board = page(client, reverse("allocation-round", args=[round_.pk]), partial="board")
    assert board.lstrip().startswith('<section id="board"') and "已确认" in board


def test_counter_choice_out_of_turn_is_refused_with_a_message(client, cast, home):
    user = cast.users["district"]
    client.force_login(user)
    round_ = choosing(home, user)
    later = round_.slots.select_related("household").get(rank=2)
    unit = selectors.choosable_units(round_, later.household, policy_for(home)).first()
    response = client.post(
        reverse("allocation-round-choose", args=[round_.pk]),
        {"household": later.household_id, "unit": unit.pk},
        follow=True,
    )
    assert "还没轮到本户选房" in response.content.decode()
    stranger = Household.objects.exclude(slots__round=round_).first()
    for household in [stranger.pk, 987654321]:
        response = client.post(
            reverse("allocation-round-choose", args=[round_.pk]),
            {"household": household, "unit": unit.pk},
            follow=True,
        )
        assert "本户不在该批次的选房名单中" in response.content.decode()
    assert not Offer.objects.filter(round=round_).exists()


def test_justified_refusal_does_not_count(client, cast, home):
    user = cast.users["district"]
    client.force_login(user)
    round_ = choosing(home, user)
    slot = round_.slots.select_related("household").get(rank=1)
    unit = selectors.choosable_units(round_, slot.household, policy_for(home)).first()
    offer = offers.choose(round_.pk, unit.pk, household_id=slot.household_id, actor=user)
    url = reverse("allocation-offer-refuse", args=[round_.pk, offer.pk])
    response = client.post(url, {"reason": "", "justified": "on"}, follow=True)
    assert "请说明放弃的理由" in response.content.decode()
    response = client.post(url, {"reason": "家中老人就医不便", "justified": "on"})
    offer.refresh_from_db()
    assert offer.status == "refused" and offer.justified
    assert WaitlistEntry.objects.get(household_id=slot.household_id).refusals == 0
    assert Unit.objects.get(pk=offer.unit_id).status == "vacant"


def test_close_waits_for_pending_offers(client, cast):
    client.force_login(cast.users["district"])
    round_ = demo_round("choosing")
    assert round_.offers.filter(status="pending").exists()
    response = client.post(reverse("allocation-round-close", args=[round_.pk]), follow=True)
    assert "仍有家庭未确认所选房源" in response.content.decode()
    round_.refresh_from_db()
    assert round_.status == "choosing"


def test_round_page_shows_commitment_notices_and_history(client, cast):
    client.force_login(cast.users["district"])
    round_ = demo_round("closed")
    html = page(client, reverse("allocation-round", args=[round_.pk]))
    assert round_.participants_sha256 in html and round_.lottery_name in html
    for outbox_id in [round_.announce_outbox_id, round_.draw_outbox_id, round_.result_outbox_id]:
        assert f'href="{selectors.notice_url(outbox_id)}"' in html
    history = html.split('id="history-title"')[1]
    assert "摇号" in history and "结束" in history
    assert history.index("结束") < history.index("公告")  # newest first
    assert 'aria-current="step">已结束' in html


def test_delete_a_draft(client, cast, home):
    user = cast.users["district"]
    client.force_login(user)
    round_ = draft(home, user)
    response = client.post(reverse("allocation-round-delete", args=[round_.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("allocation-rounds")
    assert not Round.objects.filter(pk=round_.pk).exists()


# --- queries ---------------------------------------------------------------------------------


def test_waitlist_and_round_pages_do_not_query_per_row(client, cast, django_assert_max_num_queries):
    client.force_login(cast.users["city"])
    with django_assert_max_num_queries(14):
        page(client, reverse("allocation"))
    with django_assert_max_num_queries(10):
        page(client, reverse("allocation-rounds"))
    for status in ["choosing", "closed", "announced"]:
        with django_assert_max_num_queries(18):
            page(client, reverse("allocation-round", args=[demo_round(status).pk]))
