"""违规处理: open a case from any lead, investigate it (visits, interviews, photos), decide
(warning, rectification, cancelling the qualification, recovering the unit) and close it.

Each step is one transaction under the case's row lock, so two clerks pressing the same button
do one thing; each appends an archive event to the unit's and household's files. A case never
evicts by itself: cancelling or recovering hands the contract to the exit procedure
(tenancy.services.exits.start), and a proposed credit record waits on the case for the credit
module.
"""

from collections.abc import Iterable
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from archive import documents
from archive.images import PhotoRejected, clean_photo
from archive.services import record_event
from credit import services as credit
from credit.services import CreditError
from geo.jurisdiction import estate_scope, profile_of
from geo.models import Unit
from housing.errors import NotAllowed
from housing.inbox import notify_household
from tenancy.models import CaseRecord, Contract, ViolationCase, ViolationKind

Status = ViolationCase.Status
Decision = ViolationCase.Decision
Outcome = ViolationCase.Outcome
SCOPE = "unit__building__estate__"
MAX_PHOTOS = 6
DECIDING_ROLES = {"city", "district"}
# The only moves a case makes (tests walk this table).
TRANSITIONS = {
    Status.INVESTIGATING: {Status.DECIDING, Status.CLOSED},
    Status.DECIDING: {Status.RECTIFYING, Status.CLOSED},
    Status.RECTIFYING: {Status.DECIDING, Status.CLOSED},
    Status.CLOSED: set(),
}
RECORD_KINDS = {
    Status.INVESTIGATING: {CaseRecord.Kind.VISIT, CaseRecord.Kind.INTERVIEW, CaseRecord.Kind.NOTE},
    Status.DECIDING: {CaseRecord.Kind.NOTE, CaseRecord.Kind.INTERVIEW},
    Status.RECTIFYING: {CaseRecord.Kind.NOTE, CaseRecord.Kind.VISIT},
}


def cases_for(user) -> QuerySet[ViolationCase]:
    """Cases of units in the user's jurisdiction (county, community or operator's estates)."""
    return ViolationCase.objects.filter(estate_scope(user, SCOPE))


def may_decide(user) -> bool:
    """Decisions bind the household: the county (or city) housing department makes them."""
    if user.is_authenticated and user.is_superuser:
        return True
    profile = profile_of(user)
    return profile is not None and profile.role in DECIDING_ROLES


def _today() -> date:
    return timezone.localdate()


def _event(case: ViolationCase, action: str, summary: str, actor, reason: str = "", **after):
    record_event(
        f"violation.{action}",
        summary,
        actor=actor,
        estate_id=case.unit.building.estate_id,
        building_id=case.unit.building_id,
        unit_id=case.unit_id,
        household_id=case.household_id,
        after={"case": case.pk, "status": case.status, **after},
        reason=reason,
    )


def _locked(case_id: int, actor) -> ViolationCase:
    """The case, locked, if it is in the actor's jurisdiction."""
    case = (
        cases_for(actor)
        .select_for_update(of=("self",))
        .select_related("kind", "unit__building", "household")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise NotAllowed("没有找到该违规案件（或不在您的管辖范围内）。")
    return case


def _move(case: ViolationCase, to: str) -> None:
    if to not in TRANSITIONS[case.status]:
        raise NotAllowed(f"案件当前为“{case.get_status_display()}”，不能转为“{Status(to).label}”。")
    case.status = to


@transaction.atomic
def open_case(
    *,
    kind_code: str,
    unit_id: int,
    contract_id: int | None,
    household_id: int | None,
    source: str,
    source_ref: str,
    summary: str,
    evidence: dict,
    actor,
) -> ViolationCase:
    """Open a case for a lead, or return the open case already made from the same lead (same
    unit, kind and source_ref): re-running a re-check or an import never doubles a case.

    Without a contract the unit's live lease (if any) and its household are attached."""
    kind = ViolationKind.objects.filter(code=kind_code).first()
    if kind is None:
        raise NotAllowed(f"违规类型“{kind_code}”不存在。")
    if source not in ViolationCase.Source.values:
        raise NotAllowed(f"线索来源“{source}”无效。")
    source_ref = source_ref[:64]
    existing = (
        ViolationCase.objects.filter(unit_id=unit_id, kind=kind, source_ref=source_ref)
        .exclude(status=Status.CLOSED)
        .first()
    )
    if existing is not None:
        return existing
    unit = Unit.objects.select_related("building").filter(pk=unit_id).first()
    if unit is None:
        raise NotAllowed(f"房屋 {unit_id} 不存在。")
    if contract_id is None:
        live = (
            Contract.objects.filter(unit_id=unit_id, status=Contract.Status.ACTIVE)
            .values_list("pk", "household_id")
            .first()
        )
        if live:
            contract_id = live[0]
            household_id = household_id or live[1]
    elif household_id is None:
        household_id = (
            Contract.objects.filter(pk=contract_id).values_list("household_id", flat=True).first()
        )
    try:
        with transaction.atomic():
            case = ViolationCase.objects.create(
                unit=unit,
                contract_id=contract_id,
                household_id=household_id,
                kind=kind,
                source=source,
                source_ref=source_ref,
                summary=summary[:300],
                evidence=evidence,
                step_due=_today() + timedelta(days=kind.investigation_days),
                opened_by=actor if actor is not None and actor.is_authenticated else None,
            )
    except IntegrityError:  # a concurrent open of the same lead won
        return ViolationCase.objects.exclude(status=Status.CLOSED).get(
            unit_id=unit_id, kind=kind, source_ref=source_ref
        )
    _event(
        case,
        "opened",
        f"违规线索立案：{kind.name}（{case.get_source_display()}）",
        actor,
        reason=summary[:300],
        kind=kind.code,
        source=source,
        source_ref=source_ref,
        due=case.step_due.isoformat(),
    )
    return case


def store_photos(photos: Iterable[tuple[str, bytes]]) -> list:
    """Each photo re-encoded without metadata and kept; a refused one names its file."""
    photos = list(photos)
    if len(photos) > MAX_PHOTOS:
        raise NotAllowed(f"一次最多上传 {MAX_PHOTOS} 张照片。")
    stored = []
    for name, data in photos:
        try:
            image = clean_photo(data, name=name)
        except PhotoRejected as exc:
            raise NotAllowed(str(exc)) from None
        stored.append(
            documents.store(
                image.content,
                name=f"{name.rsplit('.', 1)[0][:80]}.jpg",
                content_type=image.content_type,
            )
        )
    return stored


@transaction.atomic
def add_record(
    case_id: int,
    *,
    kind: str,
    text: str,
    photos: Iterable[tuple[str, bytes]] = (),
    actor,
) -> CaseRecord:
    """A visit, interview or note with its photos, while the case is open."""
    case = _locked(case_id, actor)
    allowed = RECORD_KINDS.get(case.status, set())
    if kind not in allowed:
        raise NotAllowed(
            f"案件“{case.get_status_display()}”时不能添加“{CaseRecord.Kind(kind).label}”记录。"
            if kind in CaseRecord.Kind.values
            else "记录类型无效。"
        )
    text = text.strip()
    if not text:
        raise NotAllowed("记录内容：请填写调查或约谈的情况。")
    stored = store_photos(photos)
    record = CaseRecord.objects.create(case=case, kind=kind, text=text, created_by=actor)
    if stored:
        record.photos.add(*stored)
    _event(
        case,
        "record",
        f"违规案件{record.get_kind_display()}（{case.kind.name}）",
        actor,
        reason=text[:300],
        record=record.pk,
        photos=[d.sha256 for d in stored],
    )
    return record


@transaction.atomic
def conclude_investigation(case_id: int, *, found: bool, reason: str, actor) -> ViolationCase:
    """End the investigation: a violation found goes to decision, none found closes the case."""
    case = _locked(case_id, actor)
    if case.status != Status.INVESTIGATING:
        raise NotAllowed(f"案件当前为“{case.get_status_display()}”，调查已结束。")
    if not case.records.exists():
        raise NotAllowed("调查结论：请先添加至少一条实地核查或约谈记录。")
    reason = reason.strip()
    if not reason:
        raise NotAllowed("调查结论：请写明认定的事实或查无违规的理由。")
    if found:
        _move(case, Status.DECIDING)
        case.step_due = _today() + timedelta(days=case.kind.decision_days)
        summary = f"违规调查终结，认定存在违规：{case.kind.name}"
    else:
        _move(case, Status.CLOSED)
        case.outcome = Outcome.UNFOUNDED
        case.closed_at = timezone.now()
        summary = f"违规调查终结，查无违规：{case.kind.name}"
    case.save(update_fields=["status", "step_due", "outcome", "closed_at"])
    _event(case, "investigated", summary, actor, reason=reason, found=found)
    return case


def _propose_credit(case: ViolationCase, actor) -> None:
    """The decision's proposed record goes to 信用管理 as a proposal (认定 happens there,
    after the household is told and may object); a code not in the catalogue stops the
    decision, so nothing is half-done."""
    household = case.household
    try:
        proposal = credit.propose(
            subject=credit.person(
                household.head_name, household.head_id_number, household_id=household.pk
            ),
            conduct_code=case.proposed_credit["conduct"],
            county=household.county,
            source="violation",
            source_ref=f"violation:{case.pk}",
            facts=f"{case.kind.name}：{case.proposed_credit['reason']}（违规处理决定：{case.decision_reason}）",
            actor=actor,
        )
    except CreditError as exc:
        raise NotAllowed(f"建议信用记录：{exc}") from exc
    case.proposed_credit["proposal"] = proposal.pk
    case.save(update_fields=["proposed_credit"])
    notify_household(
        household,
        "violation.credit_proposed",
        url=reverse("my-cases"),
        county=household.county.name,
        conduct=proposal.conduct.name,
        level=proposal.conduct.get_level_display(),
        consequence=proposal.conduct.consequence,
        objection_until=proposal.objection_until,
    )


@transaction.atomic
def decide(
    case_id: int,
    *,
    decision: str,
    reason: str,
    rectify_by: date | None = None,
    credit_conduct: str = "",
    credit_reason: str = "",
    actor,
) -> ViolationCase:
    """The county's decision, told to the household. Rectification waits for its follow-up;
    cancelling the qualification or recovering the unit starts the exit of its contract."""
    if not may_decide(actor):
        raise NotAllowed("处理决定由县（区）住房保障部门作出，您的角色不能作出决定。")
    case = _locked(case_id, actor)
    if case.status != Status.DECIDING:
        raise NotAllowed(f"案件当前为“{case.get_status_display()}”，不能作出处理决定。")
    if decision not in Decision.values:
        raise NotAllowed("处理决定：请选择警告、限期整改、取消保障资格或收回房屋。")
    reason = reason.strip()
    if not reason:
        raise NotAllowed("决定理由：请写明依据的事实和规定。")
    today = _today()
    credit_conduct = credit_conduct.strip()
    if credit_conduct:
        if not credit_reason.strip():
            raise NotAllowed("建议信用记录：请写明建议记入信用档案的理由。")
        case.proposed_credit = {
            "conduct": credit_conduct[:40],
            "reason": credit_reason.strip()[:500],
            "proposed_at": today.isoformat(),
        }
    case.decision = decision
    case.decision_reason = reason
    case.decided_by = actor
    case.decided_at = timezone.now()
    exit_started = None
    if decision == Decision.RECTIFICATION:
        if rectify_by is None or rectify_by <= today:
            raise NotAllowed("整改期限：请填写今天以后的日期。")
        _move(case, Status.RECTIFYING)
        case.rectify_by = rectify_by
        case.step_due = rectify_by
    else:
        _move(case, Status.CLOSED)
        case.closed_at = timezone.now()
        if decision == Decision.WARNING:
            case.outcome = Outcome.WARNED
        else:
            if case.contract_id is None:
                raise NotAllowed("该房屋没有在履行的合同，不能作出取消资格或收回房屋的决定。")
            from tenancy.services import exits  # written beside this module (issue 13)

            exit_started = exits.start(
                case.contract_id,
                reason="violation",
                actor=actor,
                source_ref=f"violation:{case.pk}",
            )
            case.outcome = Outcome.EXIT
    case.save()
    if case.proposed_credit and case.household is not None:
        _propose_credit(case, actor)
    label = case.get_decision_display()
    _event(
        case,
        "decided",
        f"违规处理决定：{label}（{case.kind.name}）",
        actor,
        reason=reason,
        decision=decision,
        rectify_by=case.rectify_by.isoformat() if case.rectify_by else None,
        proposed_credit=case.proposed_credit or None,
        exit=getattr(exit_started, "pk", None),
    )
    if case.household is not None:
        notify_household(
            case.household,
            "violation.decided_rectify" if case.rectify_by else "violation.decided",
            url=reverse("my-messages"),
            decision=label,
            kind=case.kind.name,
            reason=reason,
            rectify_by=case.rectify_by,
        )
    return case


@transaction.atomic
def follow_up(case_id: int, *, rectified: bool, text: str, actor) -> ViolationCase:
    """复查: rectified closes the case; not rectified returns it for a further decision."""
    case = _locked(case_id, actor)
    if case.status != Status.RECTIFYING:
        raise NotAllowed(f"案件当前为“{case.get_status_display()}”，没有待复查的整改。")
    text = text.strip()
    if not text:
        raise NotAllowed("复查情况：请填写复查看到的情况。")
    CaseRecord.objects.create(
        case=case, kind=CaseRecord.Kind.FOLLOW_UP, text=text, created_by=actor
    )
    if rectified:
        _move(case, Status.CLOSED)
        case.outcome = Outcome.RECTIFIED
        case.closed_at = timezone.now()
        summary = f"整改复查：已按期整改，结案（{case.kind.name}）"
    else:
        _move(case, Status.DECIDING)
        case.step_due = _today() + timedelta(days=case.kind.decision_days)
        summary = f"整改复查：未整改，待进一步处理决定（{case.kind.name}）"
    case.save(update_fields=["status", "outcome", "closed_at", "step_due"])
    _event(case, "follow_up", summary, actor, reason=text[:300], rectified=rectified)
    return case


@transaction.atomic
def import_readings(path, *, filename: str, actor) -> int:
    """Store a checked utility file: every row or none (checked again here), in one bulk
    insert; the file itself is kept in the archive."""
    from pathlib import Path

    from tenancy.models import UtilityReading
    from tenancy.utility_import import check

    path = Path(path)
    plan = check(path, user=actor)
    if not plan.ok:
        first = plan.problems[0]
        raise NotAllowed(
            f"有 {len(plan.problems)} 行有误，未导入任何数据。第 {first.row} 行："
            + "；".join(first.problems)
        )
    suffix = path.suffix.lower()
    source = documents.store(
        path.read_bytes(),
        name=filename,
        content_type="text/csv"
        if suffix == ".csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    try:
        with transaction.atomic():
            UtilityReading.objects.bulk_create(
                [
                    UtilityReading(
                        unit_id=r.unit_id,
                        month=r.month,
                        water_m3=r.water,
                        electricity_kwh=r.electricity,
                        source=source,
                    )
                    for r in plan.rows
                ],
                batch_size=2000,
            )
    except IntegrityError:
        raise NotAllowed("导入期间另有人导入了相同月份的读数，请重新上传核对。") from None
    months = plan.months
    record_event(
        "utility.imported",
        f"导入水电读数 {len(plan.rows)} 条（{months[0]:%Y-%m} 至 {months[-1]:%Y-%m}）",
        actor=actor,
        after={"rows": len(plan.rows), "document": source.sha256, "file": filename[:150]},
    )
    return len(plan.rows)


def open_idle_case(unit_id: int, *, last, actor) -> ViolationCase:
    """闲置 case for a unit the utility data flags, with the months of readings as evidence;
    refused if the unit is outside the actor's jurisdiction or not flagged."""
    from tenancy.models import UtilityReading
    from tenancy.utility_import import add_months, idle_rule, idle_units

    rule = idle_rule()
    scope = estate_scope(actor, SCOPE)
    if not any(row["unit_id"] == unit_id for row in idle_units(scope & Q(unit_id=unit_id), last)):
        raise NotAllowed("该房屋的水电数据不满足闲置判定条件（或不在您的管辖范围内）。")
    first = add_months(last, 1 - rule["months"])
    readings = list(
        UtilityReading.objects.filter(unit_id=unit_id, month__gte=first, month__lte=last)
        .order_by("month")
        .values_list("month", "water_m3", "electricity_kwh")
    )
    return open_case(
        kind_code="idle",
        unit_id=unit_id,
        contract_id=None,
        household_id=None,
        source=ViolationCase.Source.UTILITY,
        source_ref=f"utility:{first:%Y%m}-{last:%Y%m}",
        summary=f"{first:%Y-%m} 至 {last:%Y-%m} 连续 {rule['months']} 个月水电用量接近零",
        evidence={
            "readings": [[f"{m:%Y-%m}", str(w), str(e)] for m, w, e in readings],
            "water_below": str(rule["water"]),
            "electricity_below": str(rule["electricity"]),
        },
        actor=actor,
    )


def open_arrears_case(warning_id: int, *, actor) -> ViolationCase:
    """拖欠租金 case from an open arrears warning of the actor's jurisdiction."""
    from tenancy.models import ArrearsWarning

    warning = (
        ArrearsWarning.objects.filter(
            estate_scope(actor, "contract__unit__building__estate__"),
            pk=warning_id,
            resolved_at__isnull=True,
        )
        .select_related("contract")
        .first()
    )
    if warning is None:
        raise NotAllowed("没有找到该欠租预警（可能已解除，或不在您的管辖范围内）。")
    contract = warning.contract
    return open_case(
        kind_code="arrears",
        unit_id=contract.unit_id,
        contract_id=contract.pk,
        household_id=contract.household_id,
        source=ViolationCase.Source.ARREARS,
        source_ref=f"arrears:{warning.pk}",
        summary=f"合同 {contract.number} 欠缴租金 {warning.months} 个月，合计 {warning.amount} 元",
        evidence={"warning": warning.pk, "months": warning.months, "amount": str(warning.amount)},
        actor=actor,
    )
