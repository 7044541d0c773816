"""Reading waitlists and rounds: positions by window function, the units a household may
choose, a round's board."""

from datetime import datetime

from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone

from allocation.models import AllocationPolicy, Offer, Participant, Round, Slot, WaitlistEntry
from disclosure.models import Publication
from geo.models import Unit
from housing.models import Household

WAITLIST_ORDER = [F("priority_rank").asc(), F("queued_at").asc(), F("household_id").asc()]


def waiting_entries(county) -> QuerySet[WaitlistEntry]:
    """The county's waiting households in order, each with its 1-based `position`."""
    return (
        WaitlistEntry.objects.filter(county=county, status=WaitlistEntry.Status.WAITING)
        .annotate(position=Window(RowNumber(), order_by=WAITLIST_ORDER))
        .select_related("household")
        .order_by(*WAITLIST_ORDER)
    )


def position_of(household: Household) -> int | None:
    """Where the household stands in its county's waitlist now (None if not waiting): one
    count of the entries ahead of it on the waitlist's index, not a window over the county."""
    entry = WaitlistEntry.objects.filter(household=household, status="waiting").first()
    if entry is None:
        return None
    rank, queued = entry.priority_rank, entry.queued_at
    ahead = WaitlistEntry.objects.filter(county_id=entry.county_id, status="waiting").filter(
        Q(priority_rank__lt=rank)
        | Q(priority_rank=rank, queued_at__lt=queued)
        | Q(priority_rank=rank, queued_at=queued, household_id__lt=entry.household_id)
    )
    return ahead.count() + 1


def months_between(start: datetime, end: datetime) -> int:
    a, b = timezone.localtime(start), timezone.localtime(end)
    months = (b.year - a.year) * 12 + b.month - a.month
    return max(months - (1 if b.day < a.day else 0), 0)


def is_overdue(household: Household, policy: AllocationPolicy, now: datetime) -> bool:
    """Waiting longer than the county's limit since approval."""
    return months_between(household.approved_at, now) >= policy.waiting_limit_months


def fits(policy: AllocationPolicy, size: int, rooms: int) -> bool:
    low, high = policy.rooms_for(size)
    return low <= rooms <= high


def round_units(round_: Round) -> QuerySet[Unit]:
    return (
        Unit.objects.filter(pk__in=round_.round_units.values("unit_id"))
        .select_related("building__estate")
        .order_by("building__estate__name", "building__number", "floor", "number")
    )


def choosable_units(round_: Round, household: Household, policy: AllocationPolicy):
    """The round's vacant units of a size the household may take."""
    low, high = policy.rooms_for(household.size)
    return round_units(round_).filter(status=Unit.Status.VACANT, rooms__gte=low, rooms__lte=high)


def board(round_: Round) -> list[dict]:
    """The choosing board: every slot in order with its household and offer (two queries)."""
    slots = list(round_.slots.select_related("household").order_by("rank"))
    offers = {
        o.household_id: o
        for o in Offer.objects.filter(round=round_)
        .select_related("unit__building__estate")
        .order_by("created_at")
    }
    return [{"slot": s, "offer": offers.get(s.household_id)} for s in slots]


def participants(round_: Round) -> QuerySet[Participant]:
    return round_.participants.select_related("household").order_by("position")


def current_slot(household: Household) -> Slot | None:
    """The household's turn in a round that is choosing now, if any."""
    return (
        Slot.objects.filter(household=household, round__status=Round.Status.CHOOSING)
        .select_related("round")
        .first()
    )


def pending_offer(household: Household) -> Offer | None:
    return (
        Offer.objects.filter(household=household, status=Offer.Status.PENDING)
        .select_related("unit__building__estate", "round")
        .first()
    )


def publication_for(outbox_id: int | None) -> Publication | None:
    if outbox_id is None:
        return None
    return Publication.objects.filter(outbox_id=outbox_id).first()


def notice_url(outbox_id: int | None) -> str | None:
    publication = publication_for(outbox_id)
    return reverse("notice", args=[publication.series_id]) if publication else None
