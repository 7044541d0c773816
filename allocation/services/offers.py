"""选房 and 配租: a household (online) or a clerk (at the counter) chooses a unit in the
household's turn; the offer is then accepted, refused or expires, and refusals cost what the
county's rule says."""

from datetime import datetime, timedelta

from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from allocation import selectors
from allocation.models import AllocationPolicy, Offer, Round, Slot, WaitlistEntry
from allocation.permissions import may_allocate
from allocation.services import AllocationError
from allocation.services.waitlist import mark_changed, policy_for
from archive.services import record_event
from credit import services as credit
from disclosure.calendar import add_working_days
from geo.models import Unit
from housing.households import set_household_status
from housing.inbox import notify_household
from housing.models import Applicant, Household


def _check_party(household: Household, *, applicant: Applicant | None, actor) -> None:
    """The household itself (its signed-in applicant) or the county's allocation staff."""
    if applicant is not None:
        if household.applicant_id != applicant.pk:
            raise AllocationError(gettext("只能为本户办理。"))
    elif not may_allocate(actor, household.county):
        raise AllocationError("只有本县（区）住房保障部门可以代为办理。")


def choose(
    round_id: int,
    unit_id: int,
    *,
    household_id: int,
    applicant: Applicant | None = None,
    actor=None,
    now: datetime | None = None,
) -> Offer:
    """The household's choice becomes an offer: household row, then unit row locked, so two
    households on one unit, or one household on two units, end with exactly one offer.

    A household may choose from its slot's start to the round's close: one that missed its
    slot still chooses, from what the households after it left."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            return _choose(round_id, unit_id, household_id, applicant, actor, now)
    except IntegrityError as exc:  # the partial unique indexes, should a lock be bypassed
        raise AllocationError(gettext("该房源或本户已有待确认的配租，请刷新后再选。")) from exc


def _choose(round_id, unit_id, household_id, applicant, actor, now) -> Offer:
    household = (
        Household.objects.select_for_update().select_related("county").filter(pk=household_id)
    ).first()
    if household is None:
        raise AllocationError(gettext("没有这个保障家庭。"))
    _check_party(household, applicant=applicant, actor=actor)
    # A share lock: choosers do not wait for each other, but closing the round waits for them.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM allocation_round WHERE id = %s FOR SHARE", [round_id])
    round_ = Round.objects.filter(pk=round_id).first()
    if round_ is None or round_.status != Round.Status.CHOOSING:
        raise AllocationError(gettext("该批次当前不在选房阶段。"))
    slot = Slot.objects.filter(round=round_, household=household).first()
    if slot is None:
        raise AllocationError(gettext("本户不在该批次的选房名单中。"))
    if slot.status != Slot.Status.WAITING:
        raise AllocationError(gettext("本户在该批次已经选过房。"))
    if slot.opens_at > now:
        raise AllocationError(
            gettext("还没轮到本户选房：本户第 %(rank)s 位，%(opens)s 起可选。")
            % {"rank": slot.rank, "opens": f"{timezone.localtime(slot.opens_at):%m月%d日 %H:%M}"}
        )
    if Offer.objects.filter(household=household, status=Offer.Status.PENDING).exists():
        raise AllocationError(gettext("本户已有待确认的房源，请先确认或拒绝。"))
    unit = (
        Unit.objects.select_for_update()
        .select_related("building__estate")
        .filter(pk=unit_id, pk__in=round_.round_units.values("unit_id"))
        .first()
    )
    if unit is None:
        raise AllocationError(gettext("该房源不在本批次中。"))
    if unit.status != Unit.Status.VACANT:
        raise AllocationError(gettext("房源 %(unit)s 已被选定，请选择其他房源。") % {"unit": unit})
    policy = policy_for(household.county)
    if not selectors.fits(policy, household.size, unit.rooms):
        low, high = policy.rooms_for(household.size)
        raise AllocationError(
            gettext("%(size)s 人家庭可选 %(low)s–%(high)s 室的房源，%(unit)s 为 %(rooms)s 室。")
            % {"size": household.size, "low": low, "high": high, "unit": unit, "rooms": unit.rooms}
        )
    offer = Offer.objects.create(
        round=round_,
        household=household,
        unit=unit,
        channel=Offer.Channel.ONLINE if applicant is not None else Offer.Channel.COUNTER,
        expires_at=add_working_days(now, policy.offer_working_days),
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    Unit.objects.filter(pk=unit.pk).update(status=Unit.Status.OFFERED, updated_at=now)
    slot.status = Slot.Status.CHOSEN
    slot.save(update_fields=["status"])
    how = "网上" if applicant is not None else "现场"
    record_event(
        "offer.created",
        f"保障对象 {household.public_key} 在“{round_.name}”中{how}选定 {unit}，待确认",
        actor=actor,
        estate_id=unit.building.estate_id,
        unit_id=unit.pk,
        household_id=household.pk,
        before={"status": Unit.Status.VACANT},
        after={"status": Unit.Status.OFFERED, "offer": offer.pk, "round": round_.pk},
    )
    return offer


def _locked_offer(offer_id: int) -> Offer:
    return (
        Offer.objects.select_for_update(of=("self",))
        .select_related("household__county", "unit__building", "round")
        .get(pk=offer_id)
    )


@transaction.atomic
def accept(
    offer_id: int, *, applicant: Applicant | None = None, actor=None, now: datetime | None = None
) -> Offer:
    """The household takes the unit: the offer closes, the household leaves the waitlist and
    goes on to tenancy (the unit stays 已配租待签约 until its contract)."""
    now = now or timezone.now()
    offer = _locked_offer(offer_id)
    _check_party(offer.household, applicant=applicant, actor=actor)
    if offer.status != Offer.Status.PENDING:
        raise AllocationError(
            gettext("该配租已%(status)s，不能再确认。") % {"status": offer.get_status_display()}
        )
    if offer.expires_at < now:
        raise AllocationError(gettext("已超过确认期限。"))
    offer.status = Offer.Status.ACCEPTED
    offer.decided_at = now
    offer.save(update_fields=["status", "decided_at"])
    WaitlistEntry.objects.filter(household=offer.household).update(status="allocated")
    set_household_status(offer.household, "allocated", reason=f"确认配租 {offer.unit}", actor=actor)
    mark_changed(offer.household.county_id, now)
    record_event(
        "offer.accepted",
        f"保障对象 {offer.household.public_key} 确认配租 {offer.unit}",
        actor=actor,
        estate_id=offer.unit.building.estate_id,
        unit_id=offer.unit_id,
        household_id=offer.household_id,
        after={"offer": offer.pk, "round": offer.round_id},
    )
    return offer


@transaction.atomic
def refuse(
    offer_id: int,
    *,
    reason: str,
    justified: bool = False,
    applicant: Applicant | None = None,
    actor=None,
    now: datetime | None = None,
) -> Offer:
    """The household declines: the unit is vacant again; unless staff accept the reason as
    justified, the refusal counts toward the county's limit."""
    now = now or timezone.now()
    if not reason.strip():
        raise AllocationError(gettext("请说明放弃的理由。"))
    if justified and applicant is not None:
        raise AllocationError(gettext("理由是否正当由住房保障部门认定。"))
    offer = _locked_offer(offer_id)
    _check_party(offer.household, applicant=applicant, actor=actor)
    if offer.status != Offer.Status.PENDING:
        raise AllocationError(
            gettext("该配租已%(status)s。") % {"status": offer.get_status_display()}
        )
    _release(offer, Offer.Status.REFUSED, now, reason=reason.strip(), justified=justified)
    record_event(
        "offer.refused",
        f"保障对象 {offer.household.public_key} 放弃 {offer.unit}"
        + ("（理由正当，不计拒绝次数）" if justified else ""),
        actor=actor,
        unit_id=offer.unit_id,
        estate_id=offer.unit.building.estate_id,
        household_id=offer.household_id,
        reason=reason.strip(),
        after={"offer": offer.pk, "round": offer.round_id, "justified": justified},
    )
    if not justified:
        _count_refusal(offer.household, now, actor)
    return offer


def expire_offers(now: datetime | None = None) -> int:
    """Offers past their deadline lapse, count as a refusal without reason, free the unit."""
    now = now or timezone.now()
    done = 0
    due = Offer.objects.filter(status=Offer.Status.PENDING, expires_at__lt=now)
    for offer_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            offer = _locked_offer(offer_id)
            if offer.status != Offer.Status.PENDING or offer.expires_at >= now:
                continue
            _release(offer, Offer.Status.EXPIRED, now)
            record_event(
                "offer.expired",
                f"保障对象 {offer.household.public_key} 逾期未确认 {offer.unit}，房源恢复空置",
                actor=None,
                unit_id=offer.unit_id,
                estate_id=offer.unit.building.estate_id,
                household_id=offer.household_id,
                after={"offer": offer.pk, "round": offer.round_id},
            )
            _count_refusal(offer.household, now, None)
            done += 1
    return done


def _release(offer: Offer, status: str, now: datetime, reason: str = "", justified=False):
    offer.status = status
    offer.decided_at = now
    offer.reason = reason
    offer.justified = justified
    offer.save(update_fields=["status", "decided_at", "reason", "justified"])
    Unit.objects.filter(pk=offer.unit_id, status=Unit.Status.OFFERED).update(
        status=Unit.Status.VACANT, updated_at=now
    )


def _count_refusal(household: Household, now: datetime, actor) -> None:
    """The county's rule decides what the n-th refusal costs: back of the list, or a pause."""
    entry = WaitlistEntry.objects.select_for_update().get(household=household)
    policy: AllocationPolicy = policy_for(household.county)
    entry.refusals += 1
    consequence = ""
    if entry.refusals >= policy.refusal_limit:
        if policy.refusal_consequence == AllocationPolicy.Consequence.BACK_OF_LIST:
            # The end of the whole list: behind every priority group, queued from now.
            entry.priority_rank = len(policy.priority_groups)
            entry.queued_at = now
            consequence = "重新排到轮候名单末尾"
        else:
            entry.status = WaitlistEntry.Status.SUSPENDED
            entry.suspended_until = now + timedelta(days=policy.suspend_days)
            consequence = f"暂停配租至 {timezone.localtime(entry.suspended_until):%Y-%m-%d}"
        entry.refusals = 0
    entry.save(
        update_fields=["refusals", "priority_rank", "queued_at", "status", "suspended_until"]
    )
    mark_changed(household.county_id, now)
    if consequence:
        _propose_credit(household, policy, now, actor)
        record_event(
            "waitlist.refusal_limit",
            f"保障对象 {household.public_key} 无正当理由拒绝配租达 {policy.refusal_limit} 次："
            f"{consequence}",
            actor=actor,
            household_id=household.pk,
            after={"status": entry.status, "queued_at": entry.queued_at.isoformat()},
        )


def _propose_credit(household: Household, policy: AllocationPolicy, now: datetime, actor) -> None:
    """Refusing without reason up to the county's limit is 轻微失信 in the catalogue: a
    proposal to 信用管理, which tells nobody by itself, so the household hears it here."""
    proposal = credit.propose(
        subject=credit.person(
            household.head_name, household.head_id_number, household_id=household.pk
        ),
        conduct_code="refuse-allocation",
        county=household.county,
        source="allocation",
        source_ref=f"refusals:{household.pk}:{timezone.localtime(now):%Y%m%d}",
        facts=f"保障对象 {household.public_key} 无正当理由拒绝配租达 {policy.refusal_limit} 次。",
        actor=actor,
        now=now,
    )
    notify_household(
        household,
        "allocation.refusal_credit",
        url=reverse("my-cases"),
        refusal_limit=policy.refusal_limit,
        conduct=proposal.conduct.name,
        level=proposal.conduct.get_level_display(),
        objection_until=proposal.objection_until,
        county=household.county.name,
    )
