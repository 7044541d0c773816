"""轮候: approved households enter their county's waitlist; the public list is republished at
most once a working day per county, when it changed."""

from datetime import datetime

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from allocation import selectors
from allocation.models import AllocationPolicy, WaitlistEntry, WaitlistState
from archive.services import record_event
from disclosure.calendar import is_working_day as is_working_date
from disclosure.models import Kind, Outbox, Publication
from disclosure.services import enqueue_publication
from geo.models import Region
from housing.models import Household


def policy_for(county: Region) -> AllocationPolicy:
    """The county's rules, or the defaults (unsaved) for a county that has none: reading a
    policy never writes one."""
    return AllocationPolicy.objects.filter(county=county).first() or AllocationPolicy(county=county)


def mark_changed(county_id: int, now: datetime | None = None) -> None:
    """Note that the county's public waitlist is out of date (published in the daily batch)."""
    state, _ = WaitlistState.objects.get_or_create(county_id=county_id)
    state.changed_at = now or timezone.now()
    state.save(update_fields=["changed_at"])


def rerank(county: Region, groups: list[str]) -> None:
    """Each waiting (or suspended) household's rank by the new groups: the first group it
    belongs to, else after every group. A household sent to the end of the list for refusing
    offers (queued again after its approval, allocation.services.offers) stays at the end."""
    listed = WaitlistEntry.objects.filter(
        county=county,
        status__in=[WaitlistEntry.Status.WAITING, WaitlistEntry.Status.SUSPENDED],
    )
    listed.update(priority_rank=len(groups))
    in_order = listed.exclude(Q(queued_at__gt=F("household__approved_at")))
    for rank in reversed(range(len(groups))):  # the first group listed writes last and wins
        in_order.filter(household__priorities__contains=[groups[rank]]).update(priority_rank=rank)


def enrol(household: Household, *, now: datetime | None = None) -> WaitlistEntry:
    """Put an approved household in its county's waitlist, ranked by its priority groups and
    queued from its approval."""
    policy = policy_for(household.county)
    entry = WaitlistEntry.objects.create(
        household=household,
        county_id=household.county_id,
        priority_rank=policy.priority_rank(household.priorities),
        queued_at=household.approved_at,
    )
    mark_changed(household.county_id, now)
    record_event(
        "waitlist.entered",
        f"保障对象 {household.public_key} 进入{household.county.name}轮候名单",
        actor=None,
        household_id=household.pk,
        after={"priority_rank": entry.priority_rank},
    )
    return entry


def enrol_waiting_households(now: datetime | None = None) -> int:
    """Every approved household not yet on a waitlist enters it (the periodic sweep)."""
    count = 0
    missing = Household.objects.filter(
        status=Household.Status.WAITING, waitlist_entry__isnull=True
    ).select_related("county")
    for household in missing.iterator():
        with transaction.atomic():
            locked = Household.objects.select_for_update().get(pk=household.pk)
            if WaitlistEntry.objects.filter(household=locked).exists():
                continue
            enrol(household, now=now)
            count += 1
    return count


def lift_suspensions(now: datetime | None = None) -> int:
    """Suspended households whose suspension has ended wait again, at their old place."""
    now = now or timezone.now()
    done = 0
    for entry in WaitlistEntry.objects.filter(status="suspended", suspended_until__lte=now):
        with transaction.atomic():
            updated = WaitlistEntry.objects.filter(
                pk=entry.pk, status="suspended", suspended_until__lte=now
            ).update(status="waiting", suspended_until=None)
            if updated:
                mark_changed(entry.county_id, now)
                record_event(
                    "waitlist.resumed",
                    "暂停期满，恢复轮候",
                    actor=None,
                    household_id=entry.household_id,
                )
                done += 1
    return done


WAITLIST_COLUMNS = [
    {"key": "position", "label": "轮候序号", "kind": "number"},
    {"key": "key", "label": "公示编号", "kind": "text"},
    {"key": "name", "label": "申请人", "kind": "name"},
    {"key": "members", "label": "家庭人口", "kind": "number"},
    {"key": "priority", "label": "优先轮候", "kind": "text"},
    {"key": "approved", "label": "审批通过日期", "kind": "date"},
    {"key": "waiting_months", "label": "已轮候（月）", "kind": "number"},
    {"key": "overdue", "label": "超过轮候期限", "kind": "text"},
]


def is_working_day(moment: datetime) -> bool:
    return is_working_date(timezone.localtime(moment).date())


@transaction.atomic
def publish_waitlist(county: Region, *, now: datetime | None = None) -> Outbox | None:
    """A new version of the county's 轮候名单 if it changed since the last one, at most one a
    working day; None when nothing is due (unchanged, already published today, a holiday, or
    the last version still on its way)."""
    now = now or timezone.now()
    state, _ = WaitlistState.objects.select_for_update().get_or_create(county=county)
    if state.changed_at is None or (state.published_at and state.published_at >= state.changed_at):
        return None
    if not is_working_day(now):
        return None
    if state.published_at and (
        timezone.localtime(state.published_at).date() == timezone.localtime(now).date()
    ):
        return None
    last = None
    if state.outbox_id:
        last = Publication.objects.filter(outbox_id=state.outbox_id).first()
        if last is None:
            return None  # the previous version is still being published
        while hasattr(last, "superseded_by"):
            last = last.superseded_by
    policy = policy_for(county)
    rows = [
        {
            "_key": e.household.public_key,
            "position": e.position,
            "key": e.household.public_key,
            "name": e.household.head_name,
            "members": e.household.size,
            "priority": "是" if e.priority_rank < len(policy.priority_groups) else "否",
            "approved": timezone.localtime(e.household.approved_at).date().isoformat(),
            "waiting_months": selectors.months_between(e.household.approved_at, now),
            "overdue": "是" if selectors.is_overdue(e.household, policy, now) else "否",
        }
        for e in selectors.waiting_entries(county)
    ]
    outbox = enqueue_publication(
        kind=Kind.WAITLIST,
        region=county,
        title=f"{county.name}公共租赁住房轮候名单（{timezone.localdate(now):%Y年%m月%d日}，"
        f"{len(rows)} 户）",
        body=f"{county.name}经审核公示、审批通过的公共租赁住房保障家庭，按{_order_text(policy)}"
        f"排序轮候。轮候期限为 {policy.waiting_limit_months} 个月，超过期限的家庭已标明。"
        "申请家庭可凭公示编号在“进度查询”中查看本户当前的轮候序号。名单每个工作日最多更新一次。",
        columns=WAITLIST_COLUMNS,
        rows=rows,
        supersedes=last,
        reason=f"轮候名单更新（{timezone.localdate(now):%Y-%m-%d}）" if last else "",
        actor=None,
        subject={"waitlist": county.pk},
    )
    state.outbox = outbox
    state.published_at = now
    state.save(update_fields=["outbox", "published_at"])
    return outbox


def _order_text(policy: AllocationPolicy) -> str:
    return (
        "优先轮候群体在前、同一群体内按审批通过时间先后"
        if policy.priority_groups
        else ("审批通过时间先后")
    )


def publish_changed_waitlists(now: datetime | None = None) -> int:
    """The daily batch: every county whose list changed gets one new version."""
    counties = Region.objects.filter(
        pk__in=WaitlistState.objects.filter(changed_at__isnull=False).values("county")
    )
    return sum(publish_waitlist(county, now=now) is not None for county in counties)
