"""Demo waitlists and rounds, made through the services staff use: a waitlist in every county;
in 谯城区 one closed round with its draw, results and accepted offers, one round in choosing and
one announced round waiting for its draw date."""

from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from allocation.models import Round, WaitlistEntry
from allocation.selectors import choosable_units
from allocation.services import offers, rounds
from allocation.services.waitlist import (
    enrol_waiting_households,
    is_working_day,
    policy_for,
    publish_waitlist,
)
from disclosure.services import pending_outbox_ids, process_outbox
from geo.models import Region, Unit
from housing.models import Household

HOME = "341602"
RULES_FILE = Path(settings.BASE_DIR) / "data" / "allocation-rules.json"
# 双色球: six red balls and one blue ball, declared as two sources.
LOTTERY = "中国福利彩票双色球（红球 6 个、蓝球 1 个，各为一组）"


def seed_demo_allocation(actor) -> int:
    """Returns the number of rounds made; does nothing if there are rounds already."""
    if Round.objects.exists():
        return 0
    call_command("load_allocation_rules", str(RULES_FILE), commit=True, verbosity=0)
    now = timezone.now()
    enrol_waiting_households()
    _spread_approvals(now)
    home = Region.objects.get(adcode=HOME)
    made = [
        _closed_round(home, actor, now),
        _choosing_round(home, actor, now),
        _announced_round(home, actor, now),
    ]
    _publish()
    # Lists are published on working days: a demo loaded on a weekend shows the last one's.
    working = now
    while not is_working_day(working):
        working -= timedelta(days=1)
    for county in Region.objects.filter(level=Region.Level.DISTRICT):
        publish_waitlist(county, now=working)
    _publish()
    return sum(1 for r in made if r is not None)


def _spread_approvals(now) -> None:
    """Demo only: approvals spread over the past three years, so waiting times differ and some
    households wait longer than their county's limit."""
    for county in Region.objects.filter(level=Region.Level.DISTRICT):
        entries = WaitlistEntry.objects.filter(county=county).order_by("household_id")
        for i, entry in enumerate(entries):
            moment = now - timedelta(days=40 * (len(entries) - i))
            Household.objects.filter(pk=entry.household_id).update(approved_at=moment)
            WaitlistEntry.objects.filter(pk=entry.pk).update(queued_at=moment)


def _units(county: Region, count: int, skip_estates: int) -> list[int]:
    """Vacant 1- and 2-room units of one published estate (those with most vacancies first)."""
    estates = (
        Unit.objects.filter(
            status=Unit.Status.VACANT,
            building__estate__district=county,
            building__estate__published=True,
        )
        .values("building__estate")
        .annotate(n=Count("id"))
        .order_by("-n", "building__estate")
        .values_list("building__estate", flat=True)
    )
    estate = list(estates)[skip_estates]
    picked = []
    for rooms in (1, 2):
        picked += list(
            Unit.objects.filter(status="vacant", building__estate=estate, rooms=rooms)
            .order_by("building__number", "floor", "number")
            .values_list("pk", flat=True)[: count - len(picked) if rooms == 2 else count // 2]
        )
    return picked


def _announced(county: Region, name: str, units: list[int], issue: str, start, actor) -> Round:
    """A round announced at `start` whose lottery is drawn two days later, made public."""
    round_ = rounds.create_round(
        county,
        name=name,
        unit_ids=units,
        invitation=Round.Invitation.HEAD,
        invite_count=6,
        method="lottery",
        actor=actor,
    )
    rounds.announce(
        round_.pk,
        lottery_name=LOTTERY + issue,
        lottery_date=(start + timedelta(days=2)).date(),
        lottery_sources=2,
        actor=actor,
        now=start,
    )
    _publish()  # the announcement is public before the draw
    return round_


def _closed_round(county: Region, actor, now) -> Round:
    start = now - timedelta(days=30)
    name = f"{county.name}{start:%Y}年第一批公租房配租"
    round_ = _announced(county, name, _units(county, 4, 0), f"第{start:%Y}118期", start, actor)
    day = timedelta(days=1)
    rounds.draw(round_.pk, seeds_text="03 09 14 21 27 30\n12", actor=actor, now=start + 3 * day)
    rounds.open_choosing(round_.pk, starts_at=start + 4 * day, actor=actor, now=start + 4 * day)
    chosen = _counter_choices(round_, 4, start + 5 * day, actor)
    for offer in chosen[:-1]:
        offers.accept(offer.pk, actor=actor, now=start + 6 * day)
    if chosen:
        offers.refuse(chosen[-1].pk, reason="离工作单位太远", actor=actor, now=start + 6 * day)
    return rounds.close_round(round_.pk, actor=actor, now=start + 9 * day)


def _counter_choices(round_: Round, until: int, now, actor) -> list:
    """At the counter: the clerk records each household's choice in order."""
    made = []
    policy = policy_for(round_.county)
    for slot in round_.slots.select_related("household").order_by("rank")[:until]:
        unit = choosable_units(round_, slot.household, policy).first()
        if unit is not None:
            made.append(
                offers.choose(
                    round_.pk, unit.pk, household_id=slot.household_id, actor=actor, now=now
                )
            )
    return made


def _choosing_round(county: Region, actor, now) -> Round:
    start = now - timedelta(days=4)
    name = f"{county.name}{now:%Y}年第二批公租房配租"
    round_ = _announced(county, name, _units(county, 6, 1), f"第{now:%Y}136期", start, actor)
    rounds.draw(
        round_.pk, seeds_text="05 11 16 19 24 33\n07", actor=actor, now=start + timedelta(days=3)
    )
    # Choosing began three hours ago: every household's slot has opened, the first has chosen.
    began = now - timedelta(hours=3)
    rounds.open_choosing(round_.pk, starts_at=began, actor=actor, now=began)
    _counter_choices(round_, 1, began, actor)
    return round_


def _announced_round(county: Region, actor, now) -> Round:
    round_ = rounds.create_round(
        county,
        name=f"{county.name}{now:%Y}年第三批公租房配租",
        unit_ids=_units(county, 4, 2),
        invitation=Round.Invitation.HEAD,
        invite_count=5,
        method="lottery",
        actor=actor,
    )
    return rounds.announce(
        round_.pk,
        lottery_name=LOTTERY + f"第{now:%Y}139期",
        lottery_date=(timezone.localdate(now) + timedelta(days=4)),
        lottery_sources=2,
        actor=actor,
        now=now,
    )


def _publish() -> None:
    for outbox_id in pending_outbox_ids():
        process_outbox(outbox_id)
