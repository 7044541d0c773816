"""入户巡查: a grid worker's visit to a unit of their community, from a phone; a suspected
violation found on the visit opens a case (source: inspection) in the same transaction."""

from datetime import date

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from archive.services import record_event
from geo.jurisdiction import estate_scope
from geo.models import Unit
from housing.errors import NotAllowed
from tenancy.models import Contract, Inspection, ViolationCase, ViolationKind
from tenancy.services import violations


def units_for(user) -> QuerySet[Unit]:
    """Units a staff member may visit: their community (or wider jurisdiction)."""
    return Unit.objects.filter(estate_scope(user, "building__estate__"))


def inspections_for(user) -> QuerySet[Inspection]:
    return Inspection.objects.filter(estate_scope(user, "unit__building__estate__"))


@transaction.atomic
def record_visit(
    *,
    unit_id: int,
    visited_on: date,
    occupant_present: bool,
    answered_by: str,
    notes: str,
    suspected_code: str = "",
    photos=(),
    actor,
) -> Inspection:
    """Keep the visit (photos stripped of metadata); a suspected kind opens a case."""
    unit = units_for(actor).select_related("building").filter(pk=unit_id).first()
    if unit is None:
        raise NotAllowed("没有找到该房屋（或不在您的管辖范围内）。")
    if visited_on > timezone.localdate():
        raise NotAllowed("巡查日期：不能晚于今天。")
    if answered_by not in Inspection.Answered.values:
        raise NotAllowed("应门人：请选择。")
    kind = None
    if suspected_code:
        kind = ViolationKind.objects.filter(code=suspected_code, active=True).first()
        if kind is None:
            raise NotAllowed("巡查发现：疑似违规类型无效。")
        if not notes.strip():
            raise NotAllowed("巡查情况：发现疑似违规时请写明看到的情况。")
    stored = violations.store_photos(photos)
    contract = Contract.objects.filter(unit=unit, status=Contract.Status.ACTIVE).first()
    inspection = Inspection.objects.create(
        unit=unit,
        contract=contract,
        visited_on=visited_on,
        occupant_present=occupant_present,
        answered_by=answered_by,
        notes=notes.strip(),
        suspected=kind,
        inspector=actor,
    )
    if stored:
        inspection.photos.add(*stored)
    record_event(
        "inspection.visit",
        f"入户巡查：{'有人居住' if occupant_present else '无人居住'}"
        + (f"，疑似{kind.name}" if kind else "，未见异常"),
        actor=actor,
        estate_id=unit.building.estate_id,
        building_id=unit.building_id,
        unit_id=unit.pk,
        household_id=contract.household_id if contract else None,
        after={
            "inspection": inspection.pk,
            "answered_by": answered_by,
            "photos": [d.sha256 for d in stored],
        },
        reason=notes.strip()[:300],
    )
    if kind is not None:
        case = violations.open_case(
            kind_code=kind.code,
            unit_id=unit.pk,
            contract_id=contract.pk if contract else None,
            household_id=contract.household_id if contract else None,
            source=ViolationCase.Source.INSPECTION,
            source_ref=f"inspection:{inspection.pk}",
            summary=notes.strip()[:300],
            evidence={"inspection": inspection.pk, "visited_on": visited_on.isoformat()},
            actor=actor,
        )
        inspection.case = case
        inspection.save(update_fields=["case"])
    return inspection
