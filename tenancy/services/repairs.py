"""维修 from report to confirmation: reported (by the tenant or staff), assigned, scheduled,
closed by the operator, confirmed or reopened by the tenant.

Each step is one transaction that locks the repair, checks the step is legal from its status,
appends an archive event (so the unit's 一房一档 shows it) and tells the household. A vacant unit
under repair is 维修中 until its last open repair is closed.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from archive import documents
from archive.images import CleanImage, PhotoRejected, clean_photo
from archive.numbering import next_yearly_number
from archive.services import record_event
from geo.jurisdiction import estate_scope, profile_of
from geo.models import Unit
from housing.errors import NotAllowed
from housing.inbox import notify_household
from housing.models import Applicant
from tenancy.models import Contract, Repair, RepairCategory, RepairPhoto
from tenancy.models.repairs import MAX_PHOTOS, PHOTO_MAX_BYTES, PHOTOS_MAX_TOTAL_BYTES

REPAIR_NUMBER_LOCK = 7_331_005
HANDLING_ROLES = frozenset({"operator", "district", "city"})
DESCRIPTION_MAX = 1000
NOTE_MAX = 1000
# A tenant who neither confirms nor asks again within this many days is taken to agree.
AUTO_CONFIRM_DAYS = 7

Photo = tuple[str, bytes]  # (file name as uploaded, its bytes)


class PhotosNotAllowed(NotAllowed):
    """The photos were refused (count, size, not an image): the form shows it by the field."""


# --- who may do what --------------------------------------------------------------------------


def repairs_for(user: AbstractBaseUser) -> QuerySet[Repair]:
    """Repairs of the estates in the user's jurisdiction (others do not exist for them)."""
    return Repair.objects.filter(estate_scope(user, "estate__"))


def may_handle(user: AbstractBaseUser) -> bool:
    """Operators and housing departments assign, schedule and close; streets and communities
    follow the queue and may open a repair they find on a visit."""
    if user.is_authenticated and user.is_superuser:
        return True
    profile = profile_of(user)
    return profile is not None and profile.role in HANDLING_ROLES


def _handled(repair_id: int, actor, allowed: Iterable[str]) -> Repair:
    """The repair locked, if the actor may handle it and it is in one of `allowed` statuses."""
    if not may_handle(actor):
        raise NotAllowed("您的角色不能处理维修工单。")
    repair = (
        repairs_for(actor)
        .select_for_update(of=("self",))
        .select_related("household", "unit__building", "category")
        .filter(pk=repair_id)
        .first()
    )
    if repair is None:
        raise NotAllowed("维修工单不存在或不在您的管辖范围内。")
    _require_status(repair, allowed)
    return repair


def _require_status(repair: Repair, allowed: Iterable[str]) -> None:
    if repair.status not in allowed:
        raise NotAllowed(
            gettext("维修工单 %(number)s 当前状态为“%(status)s”，不能进行此操作。")
            % {"number": repair.number, "status": repair.get_status_display()}
        )


# --- photos -----------------------------------------------------------------------------------


def clean_photos(photos: Sequence[Photo]) -> list[CleanImage]:
    """Every photo checked and re-encoded before anything is kept: one bad file refuses all."""
    if len(photos) > MAX_PHOTOS:
        raise PhotosNotAllowed(
            gettext("最多上传 %(max)s 张照片，您选择了 %(count)s 张。")
            % {"max": MAX_PHOTOS, "count": len(photos)}
        )
    total = sum(len(data) for _name, data in photos)
    if total > PHOTOS_MAX_TOTAL_BYTES:
        raise PhotosNotAllowed(
            gettext("照片合计 %(total).1f MB，超过 %(max)s MB 的上限。")
            % {"total": total / 1048576, "max": PHOTOS_MAX_TOTAL_BYTES // 1048576}
        )
    cleaned = []
    for name, data in photos:
        try:
            cleaned.append(clean_photo(data, name=name, max_bytes=PHOTO_MAX_BYTES))
        except PhotoRejected as exc:
            raise PhotosNotAllowed(str(exc)) from exc
    return cleaned


def _keep_photos(repair: Repair, images: Sequence[CleanImage], stage: str) -> int:
    for index, image in enumerate(images, start=1):
        document = documents.store(
            image.content,
            name=f"{repair.number}-{stage}-{index}.jpg",
            content_type=image.content_type,
        )
        RepairPhoto.objects.create(
            repair=repair, document=document, stage=stage, width=image.width, height=image.height
        )
    return len(images)


# --- reporting --------------------------------------------------------------------------------


def _category(code: str) -> RepairCategory:
    category = RepairCategory.objects.filter(code=code, active=True).first()
    if category is None:
        raise NotAllowed(gettext("维修类别“%(category)s”不存在，请重新选择。") % {"category": code})
    return category


def _description(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise NotAllowed(gettext("请填写问题描述：哪里坏了、什么情况。"))
    if len(text) > DESCRIPTION_MAX:
        raise NotAllowed(gettext("问题描述最多 %(max)s 字。") % {"max": DESCRIPTION_MAX})
    return text


def _open(
    *,
    unit: Unit,
    category: RepairCategory,
    description: str,
    contract: Contract | None,
    source: str,
    actor,
    images: Sequence[CleanImage],
) -> Repair:
    """The repair row, its photos, the unit's status and the event (inside the caller's
    transaction, with the unit locked)."""
    now = timezone.now()
    estate = unit.building.estate
    repair = Repair.objects.create(
        number=next_yearly_number(Repair.objects.all(), "number", "BX", REPAIR_NUMBER_LOCK),
        unit=unit,
        estate=estate,
        operator_id=estate.operator_id,
        contract=contract,
        household=contract.household if contract else None,
        tenant_confirms=bool(contract and contract.status == Contract.Status.ACTIVE),
        category=category,
        description=description,
        source=source,
        reported_by=actor if actor is not None and actor.is_authenticated else None,
        respond_by=now + timedelta(hours=category.respond_hours),
        complete_by=now + timedelta(hours=category.complete_hours),
        reported_at=now,
    )
    _keep_photos(repair, images, RepairPhoto.Stage.REPORT)
    before = unit.status
    if unit.status == Unit.Status.VACANT:
        Unit.objects.filter(pk=unit.pk).update(status=Unit.Status.REPAIR, updated_at=now)
    _event(
        repair,
        "repair.reported",
        f"{'承租人报修' if source == Repair.Source.TENANT else '工作人员登记维修'} "
        f"{repair.number}（{category.name}）：{description[:80]}",
        actor=actor,
        before={"unit_status": before},
        after={
            "source": source,
            "category": category.code,
            "photos": len(images),
            "unit_status": Unit.Status.REPAIR if before == Unit.Status.VACANT else before,
        },
    )
    return repair


def report_by_tenant(
    *,
    applicant: Applicant,
    contract_id: int,
    category: str,
    description: str,
    photos: Sequence[Photo] = (),
) -> Repair:
    """A tenant's report from /my/: only for their own running lease; photos are cleaned first,
    so a refused photo leaves nothing behind."""
    description = _description(description)
    images = clean_photos(photos)
    kind = _category(category)
    with transaction.atomic():
        contract = (
            Contract.objects.select_related("household")
            .filter(pk=contract_id, household__applicant=applicant)
            .first()
        )
        if contract is None or contract.status != Contract.Status.ACTIVE:
            raise NotAllowed(gettext("只有履行中的租赁合同可以报修。"))
        unit = (
            Unit.objects.select_for_update(of=("self",))
            .select_related("building__estate")
            .get(pk=contract.unit_id)
        )
        repair = _open(
            unit=unit,
            category=kind,
            description=description,
            contract=contract,
            source=Repair.Source.TENANT,
            actor=None,
            images=images,
        )
        _tell(
            repair,
            "repair.accepted",
            number=repair.number,
            kind=kind.name,
            respond_hours=kind.respond_hours,
        )
    return repair


def report_by_staff(
    *,
    unit_id: int,
    category: str,
    description: str,
    actor,
    contract_id: int | None = None,
    photos: Sequence[Photo] = (),
) -> Repair:
    """Staff open a repair for a unit in their jurisdiction (an inspection, a move-out check),
    also for a vacant unit, which becomes 维修中 until it is closed. With `contract_id`, or when
    the unit has a running lease, the household is told and confirms the work."""
    profile = profile_of(actor)
    if not (actor.is_authenticated and (actor.is_superuser or profile is not None)):
        raise NotAllowed("只有工作人员可以登记维修工单。")
    description = _description(description)
    images = clean_photos(photos)
    kind = _category(category)
    with transaction.atomic():
        unit = (
            Unit.objects.visible_to(actor)
            .select_for_update(of=("self",))
            .select_related("building__estate")
            .filter(pk=unit_id)
            .first()
        )
        if unit is None:
            raise NotAllowed("房屋不存在或不在您的管辖范围内。")
        if contract_id is not None:
            contract = Contract.objects.select_related("household").filter(pk=contract_id).first()
            if contract is None or contract.unit_id != unit.pk:
                raise NotAllowed("所选合同不是这套房屋的合同。")
        else:
            contract = (
                Contract.objects.select_related("household")
                .filter(unit=unit, status=Contract.Status.ACTIVE)
                .first()
            )
        repair = _open(
            unit=unit,
            category=kind,
            description=description,
            contract=contract,
            source=Repair.Source.STAFF,
            actor=actor,
            images=images,
        )
        if repair.tenant_confirms:
            _tell(
                repair,
                "repair.registered",
                number=repair.number,
                kind=kind.name,
                description=description[:80],
            )
    return repair


# --- the operator's steps ---------------------------------------------------------------------


def assign(
    repair_id: int, *, actor, assignee_name: str = "", assignee: AbstractBaseUser | None = None
) -> Repair:
    """Give the work to a person or team (by name) or a staff account; may be re-assigned
    until the work is done."""
    name = (assignee_name or "").strip()[:60]
    if not name and assignee is None:
        raise NotAllowed("请填写维修人员或班组，或选择负责的工作人员。")
    with transaction.atomic():
        repair = _handled(repair_id, actor, Repair.OPEN)
        now = timezone.now()
        first = repair.assigned_at is None
        repair.assignee_name = name or (assignee.get_full_name() or assignee.get_username())
        repair.assignee = assignee
        if first:
            repair.assigned_at = now
        if repair.status == Repair.Status.REPORTED:
            repair.status = Repair.Status.ASSIGNED
        repair.save()
        _event(
            repair,
            "repair.assigned",
            f"维修工单 {repair.number} {'派单' if first else '改派'}给 {repair.assignee_name}",
            actor=actor,
            after={"assignee": repair.assignee_name, "late": now > repair.respond_by},
        )
        _tell(repair, "repair.assigned", number=repair.number, assignee=repair.assignee_name)
    return repair


def schedule(repair_id: int, *, actor, visit_at: datetime) -> Repair:
    """Agree a visit time (again if it moves); the first one is kept for the evaluation."""
    if timezone.is_naive(visit_at):
        visit_at = timezone.make_aware(visit_at)
    with transaction.atomic():
        repair = _handled(repair_id, actor, (Repair.Status.ASSIGNED, Repair.Status.SCHEDULED))
        if visit_at < repair.reported_at:
            raise NotAllowed("预约上门时间不能早于报修时间。")
        repair.scheduled_for = visit_at
        if repair.first_visit_at is None:
            repair.first_visit_at = visit_at
        repair.status = Repair.Status.SCHEDULED
        repair.save()
        when = timezone.localtime(visit_at)
        _event(
            repair,
            "repair.scheduled",
            f"维修工单 {repair.number} 预约上门 {when:%Y-%m-%d %H:%M}",
            actor=actor,
            after={"scheduled_for": visit_at.isoformat()},
        )
        _tell(
            repair,
            "repair.scheduled",
            number=repair.number,
            assignee=repair.assignee_name,
            visit_at=when,
        )
    return repair


def close(repair_id: int, *, actor, note: str, photos: Sequence[Photo] = ()) -> Repair:
    """Work done: the note (and photos) are kept; a vacant unit under repair is vacant again
    when no other repair is open on it; the household is asked to confirm."""
    note = (note or "").strip()
    if not note:
        raise NotAllowed("请填写完工说明：做了什么、换了什么。")
    if len(note) > NOTE_MAX:
        raise NotAllowed(f"完工说明最多 {NOTE_MAX} 字。")
    images = clean_photos(photos)
    with transaction.atomic():
        repair = _handled(repair_id, actor, (Repair.Status.ASSIGNED, Repair.Status.SCHEDULED))
        now = timezone.now()
        repair.status, repair.closed_at, repair.close_note = Repair.Status.CLOSED, now, note
        repair.save()
        kept = _keep_photos(repair, images, RepairPhoto.Stage.CLOSE)
        unit = Unit.objects.select_for_update().get(pk=repair.unit_id)
        unit_after = unit.status
        others_open = (
            Repair.objects.filter(unit_id=unit.pk, status__in=Repair.OPEN)
            .exclude(pk=repair.pk)
            .exists()
        )
        if unit.status == Unit.Status.REPAIR and not others_open:
            unit_after = Unit.Status.VACANT
            Unit.objects.filter(pk=unit.pk).update(status=unit_after, updated_at=now)
        _event(
            repair,
            "repair.closed",
            f"维修工单 {repair.number} 完工：{note[:80]}",
            actor=actor,
            before={"unit_status": unit.status},
            after={"photos": kept, "late": now > repair.complete_by, "unit_status": unit_after},
        )
        if repair.tenant_confirms:
            _tell(
                repair,
                "repair.closed",
                number=repair.number,
                note=note[:120],
                confirm_days=AUTO_CONFIRM_DAYS,
            )
    return repair


# --- the tenant's answer ----------------------------------------------------------------------


def _tenants(repair_id: int, applicant: Applicant) -> Repair:
    repair = (
        Repair.objects.select_for_update(of=("self",))
        .select_related("household", "unit__building")
        .filter(pk=repair_id, household__applicant=applicant)
        .first()
    )
    if repair is None:
        raise NotAllowed(gettext("维修工单不存在。"))
    if not repair.tenant_confirms:
        raise NotAllowed(gettext("该维修工单无需您确认。"))
    _require_status(repair, (Repair.Status.CLOSED,))
    return repair


def confirm(repair_id: int, *, applicant: Applicant) -> Repair:
    """The tenant agrees the work is done: the repair is finished."""
    with transaction.atomic():
        repair = _tenants(repair_id, applicant)
        repair.status, repair.confirmed_at = Repair.Status.CONFIRMED, timezone.now()
        repair.save()
        _event(repair, "repair.confirmed", f"承租人确认维修完成：{repair.number}", actor=None)
    return repair


def confirm_unanswered(now: datetime | None = None) -> int:
    """Daily job: repairs closed AUTO_CONFIRM_DAYS ago that the tenant left unanswered are
    confirmed by the system (each once: only closed ones are touched)."""
    now = now or timezone.now()
    due = Repair.objects.filter(
        status=Repair.Status.CLOSED,
        tenant_confirms=True,
        closed_at__lt=now - timedelta(days=AUTO_CONFIRM_DAYS),
    ).values_list("pk", flat=True)
    done = 0
    for pk in list(due[:5000]):
        with transaction.atomic():
            repair = (
                Repair.objects.select_for_update(of=("self",))
                .select_related("household", "unit__building")
                .filter(pk=pk, status=Repair.Status.CLOSED)
                .first()
            )
            if repair is None:
                continue
            repair.status, repair.confirmed_at = Repair.Status.CONFIRMED, now
            repair.save()
            _event(
                repair,
                "repair.confirmed",
                f"承租人 {AUTO_CONFIRM_DAYS} 天内未答复，维修工单 {repair.number} 自动确认完成",
                actor=None,
                after={"automatic": True},
            )
            _tell(
                repair,
                "repair.auto_confirmed",
                number=repair.number,
                confirm_days=AUTO_CONFIRM_DAYS,
            )
            done += 1
    return done


def reopen(repair_id: int, *, applicant: Applicant, reason: str) -> Repair:
    """Not fixed: back to the person it was assigned to, with the tenant's reason."""
    reason = (reason or "").strip()
    if not reason:
        raise NotAllowed(gettext("请说明哪里还没有修好。"))
    if len(reason) > NOTE_MAX:
        raise NotAllowed(gettext("返修原因最多 %(max)s 字。") % {"max": NOTE_MAX})
    with transaction.atomic():
        repair = _tenants(repair_id, applicant)
        repair.status = Repair.Status.ASSIGNED
        repair.closed_at = None
        repair.reopen_count += 1
        repair.reopen_reason = reason
        repair.save()
        _event(
            repair,
            "repair.reopened",
            f"承租人要求返修：{repair.number}",
            actor=None,
            after={"reopen_count": repair.reopen_count},
            reason=reason,
        )
    return repair


# --- helpers ----------------------------------------------------------------------------------


def _event(
    repair: Repair,
    action: str,
    summary: str,
    *,
    actor,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
) -> None:
    record_event(
        action,
        summary,
        actor=actor,
        unit_id=repair.unit_id,
        estate_id=repair.estate_id,
        building_id=repair.unit.building_id,
        household_id=repair.household_id,
        before=before,
        after={"repair": repair.pk, "number": repair.number, "status": repair.status}
        | (after or {}),
        reason=reason,
    )


def _tell(repair: Repair, code: str, **values) -> None:
    if repair.household is None or not repair.tenant_confirms:
        return
    notify_household(repair.household, code, url=reverse("my-repair", args=[repair.pk]), **values)
