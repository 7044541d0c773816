"""配租批次: draft → announced (participants and entropy source committed and published) →
drawn (RFC 3797 order from the declared lottery's numbers) → choosing (a time slot each) →
closed (results published, the waitlist republished)."""

from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from allocation import rfc3797, selectors
from allocation.models import Offer, Participant, Round, RoundUnit, Slot, WaitlistEntry
from allocation.permissions import may_allocate
from allocation.services import AllocationError
from allocation.services.waitlist import mark_changed, policy_for, publish_waitlist
from archive.services import record_event
from credit import selectors as credit
from credit.models import Effect
from disclosure.models import Kind
from disclosure.services import enqueue_publication
from geo.models import Region, Unit
from housing.messages import template as message_template
from housing.models import Application
from housing.sms import send_sms

MAX_SOURCES = 10
MAX_NUMBERS = 100


def _check(actor, county: Region) -> None:
    if not may_allocate(actor, county):
        raise AllocationError("只有本县（区）住房保障部门可以办理配租。")


def _locked(round_id: int, actor) -> Round:
    round_ = Round.objects.select_for_update().select_related("county").get(pk=round_id)
    _check(actor, round_.county)
    return round_


@transaction.atomic
def create_round(
    county: Region,
    *,
    name: str,
    unit_ids: list[int],
    invitation: str,
    invite_count: int | None,
    priority_group: str = "",
    method: str | None = None,
    actor,
) -> Round:
    """A draft: staff pick vacant units of their county and whom to invite."""
    _check(actor, county)
    name = name.strip()
    if not name:
        raise AllocationError("请填写批次名称。")
    if invitation not in Round.Invitation.values:
        raise AllocationError("请选择参加家庭的范围。")
    if invitation == Round.Invitation.HEAD and not invite_count:
        raise AllocationError("按轮候名单邀请时须填写邀请户数。")
    if priority_group and (
        invitation != Round.Invitation.PRIORITY or priority_group not in Application.Priority.values
    ):
        raise AllocationError("只有邀请优先轮候群体时才能指定群体，且须为已有的群体。")
    units = list(
        Unit.objects.select_for_update()
        .filter(pk__in=set(unit_ids), building__estate__district=county)
        .order_by("pk")
    )
    if not unit_ids:
        raise AllocationError("请至少选择一套房源。")
    if len(units) != len(set(unit_ids)):
        raise AllocationError("所选房源不属于本县（区）或不存在。")
    if busy := [u for u in units if u.status != Unit.Status.VACANT]:
        raise AllocationError(f"房源 {busy[0]} 当前不是空置状态，不能纳入配租。")
    in_open = RoundUnit.objects.filter(unit__in=units, round__status__in=_OPEN)
    if clash := in_open.select_related("round", "unit").first():
        raise AllocationError(f"房源 {clash.unit} 已在批次“{clash.round}”中。")
    round_ = Round.objects.create(
        county=county,
        name=name,
        method=method or policy_for(county).round_method,
        invitation=invitation,
        invite_count=invite_count if invitation == Round.Invitation.HEAD else None,
        priority_group=priority_group,
        created_by=actor,
    )
    RoundUnit.objects.bulk_create(RoundUnit(round=round_, unit=u) for u in units)
    record_event(
        "round.created",
        f"新建配租批次“{name}”（{county.name}，{len(units)} 套房源）",
        actor=actor,
        after={"round": round_.pk, "units": [u.pk for u in units]},
    )
    return round_


_OPEN = [Round.Status.DRAFT, Round.Status.ANNOUNCED, Round.Status.DRAWN, Round.Status.CHOOSING]


def invited(round_: Round) -> list[WaitlistEntry]:
    """Who the round invites, in waitlist order: waiting households not in another open round,
    with no pending offer and no credit record in effect that suspends allocation, for whom at
    least one of the round's units is the right size."""
    policy = policy_for(round_.county)
    rooms = set(selectors.round_units(round_).values_list("rooms", flat=True))
    busy = set(
        Participant.objects.filter(round__status__in=_OPEN)
        .exclude(round=round_)
        .values_list("household_id", flat=True)
    ) | set(Offer.objects.filter(status="pending").values_list("household_id", flat=True))
    waiting = list(selectors.waiting_entries(round_.county))
    held = credit.held_back_ids(
        [e.household.head_id_index for e in waiting], Effect.ALLOCATE, timezone.localdate()
    )
    entries = []
    for entry in waiting:
        if entry.household_id in busy or entry.household.head_id_index in held:
            continue
        if not any(selectors.fits(policy, entry.household.size, r) for r in rooms):
            continue
        if round_.invitation == Round.Invitation.PRIORITY and not (
            round_.priority_group in entry.household.priorities
            if round_.priority_group
            else entry.priority_rank < len(policy.priority_groups)
        ):
            continue
        entries.append(entry)
        if round_.invitation == Round.Invitation.HEAD and len(entries) >= round_.invite_count:
            break
    return entries


ANNOUNCE_COLUMNS = [
    {"key": "position", "label": "名单序号", "kind": "number"},
    {"key": "key", "label": "公示编号", "kind": "text"},
]


@transaction.atomic
def announce(
    round_id: int,
    *,
    lottery_name: str = "",
    lottery_date: date | None = None,
    lottery_sources: int | None = None,
    actor,
    now: datetime | None = None,
) -> Round:
    """Commit the participant list and the entropy source, and publish both before anyone can
    know the numbers: the draw date must lie in the future."""
    now = now or timezone.now()
    round_ = _locked(round_id, actor)
    if round_.status != Round.Status.DRAFT:
        raise AllocationError("该批次已公告，参加名单不能再改变。")
    lottery = round_.method == "lottery"
    if lottery:
        if not lottery_name.strip():
            raise AllocationError("请填写随机数来源（例如：中国福利彩票双色球第 2026140 期）。")
        if lottery_date is None or lottery_date <= timezone.localtime(now).date():
            raise AllocationError("开奖日期须在公告之后（今天以后），事先无人能知道开奖号码。")
        if not lottery_sources or not 1 <= lottery_sources <= MAX_SOURCES:
            raise AllocationError(f"随机数组数须在 1 到 {MAX_SOURCES} 之间。")
    entries = invited(round_)
    if not entries:
        raise AllocationError("轮候名单中没有符合本批次房源户型的家庭。")
    Participant.objects.bulk_create(
        Participant(
            round=round_,
            household_id=e.household_id,
            position=i,
            public_key=e.household.public_key,
        )
        for i, e in enumerate(entries, start=1)
    )
    keys = [e.household.public_key for e in entries]
    round_.participants_sha256 = rfc3797.participants_hash(keys)
    round_.status = Round.Status.ANNOUNCED
    round_.announced_at = now
    if lottery:
        round_.lottery_name = lottery_name.strip()
        round_.lottery_date = lottery_date
        round_.lottery_sources = lottery_sources
    units = round_.round_units.count()
    round_.announce_outbox = enqueue_publication(
        kind=Kind.ALLOCATION_ROUND,
        region=round_.county,
        title=f"{round_.name}：配租公告（{units} 套房源，{len(keys)} 户参加）",
        body=_announce_body(round_, units, len(keys)),
        columns=ANNOUNCE_COLUMNS,
        rows=[{"_key": k, "position": i, "key": k} for i, k in enumerate(keys, start=1)],
        actor=actor,
        subject={"round": round_.pk},
        data={
            "commitment": {
                "participants": keys,
                "participants_sha256": round_.participants_sha256,
                "units": units,
                "algorithm": "RFC3797" if lottery else "WAITLIST",
                "entropy": {
                    "source": round_.lottery_name,
                    "date": round_.lottery_date.isoformat() if lottery else None,
                    "sources": round_.lottery_sources,
                }
                if lottery
                else None,
            }
        },
    )
    round_.save()
    record_event(
        "round.announced",
        f"配租批次“{round_.name}”公告：{len(keys)} 户，{units} 套；名单哈希 "
        f"{round_.participants_sha256[:16]}…",
        actor=actor,
        after={"round": round_.pk, "participants_sha256": round_.participants_sha256},
    )
    return round_


def _announce_body(round_: Round, units: int, households: int) -> str:
    text = (
        f"{round_.county.name}本批次公共租赁住房配租共有房源 {units} 套，"
        f"按轮候顺序邀请{_invited_text(round_)}中符合户型标准的 {households} 户参加，"
        "名单见下表（仅列公示编号）。"
        f"参加名单按下表顺序逐行排列、以换行分隔后的 SHA-256 值为 {round_.participants_sha256}，"
        "公告后名单不再改变。"
    )
    if round_.method == "lottery":
        text += (
            f"\n选房顺序将以{round_.lottery_name}（开奖日期 {round_.lottery_date:%Y年%m月%d日}，"
            f"共 {round_.lottery_sources} 组号码）的开奖号码为随机数，按 IETF RFC 3797 "
            "规定的方法计算，任何人都可以用公布的数据和脚本重新计算并核对。"
        )
    else:
        text += "\n选房顺序即上表名单顺序（轮候顺序）。"
    return text


def _invited_text(round_: Round) -> str:
    if round_.invitation == Round.Invitation.PRIORITY:
        group = round_.get_priority_group_display() if round_.priority_group else "各优先群体"
        return f"优先轮候家庭（{group}）"
    return "轮候家庭"


def parse_seeds(text: str, expected_sources: int) -> list[list[int]]:
    """One line per declared source, numbers separated by spaces or commas, e.g.
    "03 09 18 22 27 31 + 12" is two sources when typed as two lines."""
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    if len(lines) != expected_sources:
        raise AllocationError(
            f"公告声明了 {expected_sources} 组开奖号码，您输入了 {len(lines)} 组（每组一行）。"
        )
    seeds = []
    for n, line in enumerate(lines, start=1):
        parts = [p for p in line.replace("，", " ").replace(",", " ").split() if p]
        if not parts:
            raise AllocationError(f"第 {n} 组开奖号码为空。")
        if len(parts) > MAX_NUMBERS:
            raise AllocationError(f"第 {n} 组开奖号码过多（最多 {MAX_NUMBERS} 个）。")
        numbers = []
        for part in parts:
            if not part.isdigit() or not part.isascii():
                raise AllocationError(f"第 {n} 组开奖号码中的“{part}”不是非负整数。")
            numbers.append(int(part))
        seeds.append(numbers)
    return seeds


DRAW_COLUMNS = [
    {"key": "rank", "label": "选房顺序", "kind": "number"},
    {"key": "key", "label": "公示编号", "kind": "text"},
    {"key": "name", "label": "申请人", "kind": "name"},
    {"key": "members", "label": "家庭人口", "kind": "number"},
]


@transaction.atomic
def draw(round_id: int, *, seeds_text: str, actor, now: datetime | None = None) -> Round:
    """Type the declared lottery's numbers after its date; the order follows from RFC 3797 and
    is published with lottery.json. Once only: the database refuses a second draw."""
    now = now or timezone.now()
    round_ = _locked(round_id, actor)
    if round_.method != "lottery":
        raise AllocationError("该批次按轮候顺序选房，无需摇号。")
    if round_.status != Round.Status.ANNOUNCED:
        raise AllocationError(
            "该批次已经摇号，不能重复摇号。"
            if round_.draw_order is not None
            else "该批次尚未公告，不能摇号。"
        )
    if timezone.localtime(now).date() < round_.lottery_date:
        raise AllocationError(
            f"开奖日期（{round_.lottery_date:%Y年%m月%d日}）之前不能摇号：开奖号码尚未公布。"
        )
    announcement = selectors.publication_for(round_.announce_outbox_id)
    if announcement is None:
        raise AllocationError("配租公告尚未发布，公告发布后才能摇号。")
    seeds = parse_seeds(seeds_text, round_.lottery_sources)
    members = list(selectors.participants(round_))
    keys = [p.public_key for p in members]
    if rfc3797.participants_hash(keys) != round_.participants_sha256:
        raise AllocationError("参加名单与公告时的哈希不一致，请联系系统管理员。")
    order = rfc3797.draw_order(keys, seeds)
    round_.seeds = seeds
    round_.draw_order = order
    round_.drawn_at = now
    round_.status = Round.Status.DRAWN
    by_key = {p.public_key: p.household for p in members}
    lottery = {
        "participants": keys,
        "seeds": seeds,
        "order": order,
        "algorithm": "RFC3797",
        "participants_sha256": round_.participants_sha256,
    }
    round_.draw_outbox = enqueue_publication(
        kind=Kind.ALLOCATION_ROUND,
        region=round_.county,
        title=f"{round_.name}：摇号结果（{len(order)} 户选房顺序）",
        body=(
            f"根据配租公告，以{round_.lottery_name}（{round_.lottery_date:%Y年%m月%d日}）"
            "的开奖号码 "
            f"{rfc3797.key_string(seeds)} 为随机数，按 IETF RFC 3797 计算出以下选房顺序。"
            f"参加名单哈希 {round_.participants_sha256} 与公告一致。"
            "下载 lottery.json 和核验脚本，即可自行重新计算。"
        ),
        columns=DRAW_COLUMNS,
        rows=[
            {
                "_key": key,
                "rank": i,
                "key": key,
                "name": by_key[key].head_name,
                "members": by_key[key].size,
            }
            for i, key in enumerate(order, start=1)
        ],
        actor=actor,
        subject={"round": round_.pk},
        data={
            "lottery": lottery,
            # The draw names the announcement it follows, by its content hash.
            "announcement": {"series": announcement.series_id, "hash": announcement.content_hash},
        },
    )
    round_.save()
    record_event(
        "round.drawn",
        f"配租批次“{round_.name}”摇号：开奖号码 {rfc3797.key_string(seeds)}",
        actor=actor,
        after={"round": round_.pk, "seeds": seeds, "order": order},
    )
    return round_


@transaction.atomic
def open_choosing(
    round_id: int, *, starts_at: datetime | None = None, actor, now: datetime | None = None
) -> Round:
    """Give each household a time slot in the round's order (draw order, or the committed
    waitlist order); from its slot on, a household may choose among what is left."""
    now = now or timezone.now()
    round_ = _locked(round_id, actor)
    ready = Round.Status.DRAWN if round_.method == "lottery" else Round.Status.ANNOUNCED
    if round_.status != ready:
        raise AllocationError(
            "请先摇号。" if round_.status == Round.Status.ANNOUNCED else "该批次当前不能开始选房。"
        )
    starts_at = starts_at or now
    if starts_at < now - timedelta(minutes=5):
        raise AllocationError("选房开始时间不能早于现在。")
    policy = policy_for(round_.county)
    members = {p.public_key: p.household_id for p in round_.participants.all()}
    order = round_.draw_order or [p.public_key for p in selectors.participants(round_)]
    step = timedelta(minutes=policy.slot_minutes)
    Slot.objects.bulk_create(
        Slot(
            round=round_,
            household_id=members[key],
            rank=i + 1,
            opens_at=starts_at + step * i,
            closes_at=starts_at + step * (i + 1),
        )
        for i, key in enumerate(order)
    )
    round_.status = Round.Status.CHOOSING
    round_.choosing_starts_at = starts_at
    round_.save(update_fields=["status", "choosing_starts_at"])
    transaction.on_commit(lambda: _tell_households(round_.pk))
    record_event(
        "round.choosing",
        f"配租批次“{round_.name}”开始选房（{timezone.localtime(starts_at):%Y-%m-%d %H:%M} 起，"
        f"每户 {policy.slot_minutes} 分钟）",
        actor=actor,
        after={"round": round_.pk},
    )
    return round_


def _tell_households(round_id: int) -> None:
    """An SMS to each household with its place and the time its turn starts."""
    round_ = Round.objects.get(pk=round_id)
    words = message_template("allocation.choosing")
    for slot in round_.slots.select_related("household").order_by("rank"):
        send_sms(
            slot.household.phone,
            words.render(
                round=round_.name, rank=slot.rank, opens_at=timezone.localtime(slot.opens_at)
            ).sms,
        )


RESULT_COLUMNS = [
    {"key": "rank", "label": "选房顺序", "kind": "number"},
    {"key": "key", "label": "公示编号", "kind": "text"},
    {"key": "name", "label": "申请人", "kind": "name"},
    {"key": "estate", "label": "项目", "kind": "text"},
    {"key": "building", "label": "楼栋", "kind": "text"},
    {"key": "unit", "label": "房号", "kind": "text"},
    {"key": "result", "label": "结果", "kind": "text"},
]


@transaction.atomic
def close_round(round_id: int, *, actor, now: datetime | None = None) -> Round:
    """End the round once no offer is waiting for an answer, and publish its results."""
    now = now or timezone.now()
    round_ = _locked(round_id, actor)
    if round_.status != Round.Status.CHOOSING:
        raise AllocationError("只有选房中的批次可以结束。")
    if round_.offers.filter(status=Offer.Status.PENDING).exists():
        raise AllocationError("仍有家庭未确认所选房源，请待其确认、拒绝或逾期后再结束。")
    round_.slots.filter(status=Slot.Status.WAITING).update(status=Slot.Status.PASSED)
    rows = []
    for line in selectors.board(round_):
        slot, offer = line["slot"], line["offer"]
        unit = offer.unit if offer and offer.status == Offer.Status.ACCEPTED else None
        rows.append(
            {
                "_key": slot.household.public_key,
                "rank": slot.rank,
                "key": slot.household.public_key,
                "name": slot.household.head_name,
                "estate": unit.building.estate.name if unit else "",
                "building": unit.building.number if unit else "",
                "unit": unit.number if unit else "",
                "result": _result_label(offer),
            }
        )
    accepted = sum(1 for r in rows if r["unit"])
    round_.result_outbox = enqueue_publication(
        kind=Kind.ALLOCATION_RESULT,
        region=round_.county,
        title=f"{round_.name}：配租结果（{accepted} 户已选定房源）",
        body=f"{round_.county.name}{round_.name}已结束。按选房顺序，各参加家庭的选房结果如下。"
        "未选定房源的家庭继续轮候。",
        columns=RESULT_COLUMNS,
        rows=rows,
        actor=actor,
        subject={"round": round_.pk},
    )
    round_.status = Round.Status.CLOSED
    round_.closed_at = now
    round_.save(update_fields=["status", "closed_at", "result_outbox"])
    mark_changed(round_.county_id, now)
    # The list without this round's households, today if none was published today yet.
    publish_waitlist(round_.county, now=now)
    record_event(
        "round.closed",
        f"配租批次“{round_.name}”结束：{accepted} 户选定房源",
        actor=actor,
        after={"round": round_.pk, "accepted": accepted},
    )
    return round_


def _result_label(offer: Offer | None) -> str:
    if offer is None:
        return "未选房"
    return {
        Offer.Status.ACCEPTED: "已选房并确认",
        Offer.Status.REFUSED: "选房后放弃",
        Offer.Status.EXPIRED: "逾期未确认",
    }.get(offer.status, offer.get_status_display())


@transaction.atomic
def delete_draft(round_id: int, *, actor) -> None:
    round_ = _locked(round_id, actor)
    if round_.status != Round.Status.DRAFT:
        raise AllocationError("已公告的批次不能删除。")
    record_event(
        "round.deleted", f"删除配租批次草稿“{round_.name}”", actor=actor, after={"round": round_.pk}
    )
    round_.delete()
