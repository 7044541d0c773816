"""群众举报: the public files a report (anonymous, or with a phone kept encrypted for follow-up)
and gets a reference number; the county triages it: open a case, or dismiss it with a reason.

Reports about one unit are counted (`repeated`) so a later warning rule can act on them.
"""

import re

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from archive.numbering import next_yearly_number
from archive.services import record_event
from geo.jurisdiction import estate_scope
from geo.models import Estate, Unit
from housing.errors import NotAllowed
from tenancy.models import Complaint, ViolationCase, ViolationKind
from tenancy.services import violations

COMPLAINT_NUMBER_LOCK = 7_331_513
PHONE = re.compile(r"^1[3-9][0-9]{9}$")
MAX_TEXT = 2000


def complaints_for(user) -> QuerySet[Complaint]:
    """Reports about estates in the user's jurisdiction."""
    return Complaint.objects.filter(estate_scope(user, "estate__"))


def _unit_of(estate: Estate, place: str) -> Unit | None:
    """The unit a reporter named as "3号楼 502" / "3-502", when it matches exactly one."""
    parts = [p for p in re.split(r"[\s\-－/、,，]+", place.strip()) if p]
    if len(parts) != 2:
        return None
    building, number = parts
    candidates = {building, building.removesuffix("号楼"), building.removesuffix("栋")}
    candidates |= {f"{c}号楼" for c in list(candidates)} | {f"{c}栋" for c in list(candidates)}
    units = list(
        Unit.objects.filter(
            building__estate=estate,
            building__number__in=candidates,
            number__in={number, number.removesuffix("室")},
        )[:2]
    )
    return units[0] if len(units) == 1 else None


@transaction.atomic
def submit(
    *,
    estate_id: int,
    place: str,
    kind_code: str,
    text: str,
    anonymous: bool,
    phone: str,
) -> Complaint:
    """Keep a report and number it; the unit is matched when the reporter's place names one."""
    estate = Estate.objects.published().filter(pk=estate_id).first()
    if estate is None:
        raise NotAllowed(gettext("小区：请从列表中选择举报涉及的小区。"))
    text = text.strip()
    if len(text) < 10:
        raise NotAllowed(gettext("举报内容：请至少写 10 个字，说明看到的情况。"))
    if len(text) > MAX_TEXT:
        raise NotAllowed(gettext("举报内容：最多 %(max)s 字。") % {"max": MAX_TEXT})
    kind = None
    if kind_code:
        kind = ViolationKind.objects.filter(code=kind_code, active=True).first()
        if kind is None:
            raise NotAllowed(gettext("举报事项：请从列表中选择。"))
    phone = phone.strip()
    if anonymous:
        phone = ""
    elif not PHONE.fullmatch(phone):
        raise NotAllowed(gettext("联系电话：请填写 11 位手机号码，或选择匿名举报。"))
    place = place.strip()[:60]
    complaint = Complaint.objects.create(
        reference=next_yearly_number(
            Complaint.objects.all(), "reference", "JB", COMPLAINT_NUMBER_LOCK
        ),
        estate=estate,
        county_id=estate.district_id,
        unit=_unit_of(estate, place) if place else None,
        place=place,
        kind=kind,
        text=text,
        anonymous=anonymous,
        phone=phone,
    )
    record_event(
        "complaint.received",
        f"收到群众举报 {complaint.reference}" + (f"：{kind.name}" if kind else ""),
        actor=None,
        estate_id=estate.pk,
        unit_id=complaint.unit_id,
        after={"complaint": complaint.pk, "anonymous": anonymous},
    )
    return complaint


def repeated(unit_ids) -> dict[int, int]:
    """How many reports each unit has had (the queue shows it; a warning rule may use it)."""
    rows = (
        Complaint.objects.filter(unit_id__in=list(unit_ids))
        .values("unit_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["unit_id"]: row["n"] for row in rows}


def _locked(complaint_id: int, actor) -> Complaint:
    complaint = (
        complaints_for(actor)
        .select_for_update(of=("self",))
        .select_related("estate")
        .filter(pk=complaint_id)
        .first()
    )
    if complaint is None:
        raise NotAllowed("没有找到该举报（或不在您的管辖范围内）。")
    if complaint.status != Complaint.Status.NEW:
        raise NotAllowed(f"举报 {complaint.reference} 已处理（{complaint.get_status_display()}）。")
    return complaint


@transaction.atomic
def open_case(complaint_id: int, *, unit_id: int | None, kind_code: str, actor) -> ViolationCase:
    """立案: a case on the reported unit (chosen by staff if the reporter's place matched none)."""
    complaint = _locked(complaint_id, actor)
    unit_id = unit_id or complaint.unit_id
    if unit_id is None:
        raise NotAllowed("房屋：举报未能对应到具体房屋，请选择涉及的房屋。")
    if not Unit.objects.filter(pk=unit_id, building__estate_id=complaint.estate_id).exists():
        raise NotAllowed("房屋：请选择举报所涉小区内的房屋。")
    case = violations.open_case(
        kind_code=kind_code or (complaint.kind.code if complaint.kind_id else ""),
        unit_id=unit_id,
        contract_id=None,
        household_id=None,
        source=ViolationCase.Source.COMPLAINT,
        source_ref=f"complaint:{complaint.reference}",
        summary=complaint.text[:300],
        evidence={"complaint": complaint.reference, "place": complaint.place},
        actor=actor,
    )
    complaint.status = Complaint.Status.CASE
    complaint.case = case
    complaint.unit_id = unit_id
    complaint.handled_by = actor
    complaint.handled_at = timezone.now()
    complaint.save(update_fields=["status", "case", "unit", "handled_by", "handled_at"])
    record_event(
        "complaint.case",
        f"举报 {complaint.reference} 已立案调查",
        actor=actor,
        estate_id=complaint.estate_id,
        unit_id=unit_id,
        after={"complaint": complaint.pk, "case": case.pk},
    )
    return case


@transaction.atomic
def dismiss(complaint_id: int, *, reason: str, actor) -> Complaint:
    """不予立案, with the reason kept (the reporter may ask by reference number)."""
    complaint = _locked(complaint_id, actor)
    reason = reason.strip()
    if not reason:
        raise NotAllowed("不予立案理由：请填写。")
    complaint.status = Complaint.Status.DISMISSED
    complaint.dismiss_reason = reason[:1000]
    complaint.handled_by = actor
    complaint.handled_at = timezone.now()
    complaint.save(update_fields=["status", "dismiss_reason", "handled_by", "handled_at"])
    record_event(
        "complaint.dismissed",
        f"举报 {complaint.reference} 不予立案",
        actor=actor,
        estate_id=complaint.estate_id,
        unit_id=complaint.unit_id,
        after={"complaint": complaint.pk},
        reason=reason[:1000],
    )
    return complaint
