"""信用管理's write path: subjects, proposals, 认定, repair, the query log and the public list.

Every change is one transaction with its archive event; a change to what is in effect publishes
a new version of the city's 失信名单 through the outbox in the same transaction. Callers above
(review, allocation, tenancy, the back office) tell the subject (SMS/站内信, letters): credit
sits below housing and cannot.
"""

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

from archive.crypto import blind_index
from archive.services import record_event
from credit import evidence as files_
from credit.evidence import EvidenceRejected, Upload
from credit.models import Conduct, ListState, Proposal, Query, Record, Repair, Subject
from credit.publication import publish_list
from disclosure.calendar import add_working_days
from exchange.idcard import validate_id_number
from geo.jurisdiction import region_scope
from geo.models import Region


class CreditError(ValueError):
    """Why a credit step was refused, in Chinese, naming the field (shown to staff as is)."""


def _checked(files: Sequence[Upload], step: str) -> list[files_.Clean]:
    """The files checked before anything is written (a bad one stops the whole step)."""
    try:
        return files_.clean(files, label=files_.LABELS[step])
    except EvidenceRejected as exc:
        raise CreditError(str(exc)) from None


def _objection_days() -> int:
    return getattr(settings, "ANJU_CREDIT_OBJECTION_WORKING_DAYS", 10)


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the last day of a shorter month)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


# --- subjects ------------------------------------------------------------------------------


def person(name: str, id_number: str, *, household_id: int | None = None) -> Subject:
    """The person with this ID number (made on first use; the name is kept as first given)."""
    id_number = (id_number or "").strip().upper()
    problem = validate_id_number(id_number)
    if problem:
        raise CreditError(f"身份证号：{problem}。")
    if not (name or "").strip():
        raise CreditError("姓名：请填写。")
    subject = Subject.objects.filter(kind=Subject.Kind.PERSON, id_number=id_number).first()
    if subject is None:
        try:
            with transaction.atomic():
                subject = Subject.objects.create(
                    kind=Subject.Kind.PERSON,
                    name=name.strip(),
                    id_number=id_number,
                    household_id=household_id,
                )
        except IntegrityError:
            subject = Subject.objects.get(kind=Subject.Kind.PERSON, id_number=id_number)
    if household_id and subject.household_id is None:
        Subject.objects.filter(pk=subject.pk).update(household_id=household_id)
        subject.household_id = household_id
    return subject


def organisation(name: str, credit_code: str) -> Subject:
    """An operator, intermediary or employer by its 统一社会信用代码 (check character verified)."""
    code = (credit_code or "").strip().upper()
    try:
        code = uscc.validate(code)
    except StdnumError as exc:
        raise CreditError(
            f"统一社会信用代码“{code}”不正确（应为 18 位，最后一位是校验码），请核对。"
        ) from exc
    if not (name or "").strip():
        raise CreditError("单位名称：请填写。")
    subject, _ = Subject.objects.get_or_create(
        kind=Subject.Kind.ORGANISATION, credit_code=code, defaults={"name": name.strip()}
    )
    return subject


# --- proposal, objection, 认定 --------------------------------------------------------------


def propose(
    *,
    subject: Subject,
    conduct_code: str,
    county: Region,
    source: str,
    facts: str,
    actor,
    source_ref: str = "",
    evidence: list | None = None,
    files: Sequence[Upload] = (),
    now: datetime | None = None,
) -> Proposal:
    """拟认定: record the report and open the objection period. The same report from the same
    source (a rerun job) returns the first proposal. `evidence` names what the stage relied on
    (a case, an exit); `files` are scans and photos, kept in the archive."""
    now = now or timezone.now()
    cleaned = _checked(files, "proposal")
    conduct = Conduct.objects.filter(code=conduct_code, active=True).first()
    if conduct is None:
        raise CreditError(f"失信行为“{conduct_code}”不在本市失信行为目录中。")
    if not (facts or "").strip():
        raise CreditError("失信事实：请写明时间、经过和依据。")
    if source not in Proposal.Source.values:
        raise CreditError(f"未知的来源：{source}")
    if source_ref:
        existing = Proposal.objects.filter(
            subject=subject, conduct=conduct, source=source, source_ref=source_ref
        ).first()
        if existing:
            return existing
    with transaction.atomic():
        by = "system" if actor is None else "staff"
        proposal = Proposal.objects.create(
            subject=subject,
            conduct=conduct,
            county=county,
            source=source,
            source_ref=source_ref,
            facts=facts.strip(),
            evidence=list(evidence or []) + files_.store(cleaned, by=by, step="proposal"),
            notified_at=now,
            objection_until=timezone.localtime(add_working_days(now, _objection_days())).date(),
            proposed_by=actor,
        )
        record_event(
            "credit.proposed",
            f"拟认定失信：{subject.name} · {conduct.name}（{conduct.get_level_display()}），"
            f"异议期至 {proposal.objection_until:%Y-%m-%d}",
            actor=actor,
            household_id=subject.household_id,
            after={"proposal": proposal.pk, "source": source, "source_ref": source_ref},
        )
    return proposal


def _locked(proposal_id: int, actor) -> Proposal:
    proposal = (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("subject", "conduct", "county")
        .get(pk=proposal_id)
    )
    if (
        actor is not None
        and not Region.objects.filter(region_scope(actor), pk=proposal.county_id).exists()
    ):
        raise CreditError(f"该认定由{proposal.county.name}办理，不在您的管辖范围内。")
    return proposal


def object_to(
    proposal_id: int,
    *,
    text: str,
    actor=None,
    files: Sequence[Upload] = (),
    now: datetime | None = None,
) -> Proposal:
    """The subject's objection, within the period (entered by staff from a letter or a visit,
    or by the subject online), with the files that support it."""
    now = now or timezone.now()
    if len((text or "").strip()) < 4:
        raise CreditError(gettext("异议内容：请写明理由（至少 4 个字）。"))
    cleaned = _checked(files, "objection")
    with transaction.atomic():
        proposal = _locked(proposal_id, None)
        if proposal.status != Proposal.Status.NOTIFIED:
            raise CreditError(gettext("该认定已不在异议期内。"))
        if timezone.localtime(now).date() > proposal.objection_until:
            raise CreditError(
                gettext("异议期已于 %(date)s 结束。")
                % {"date": f"{proposal.objection_until:%Y-%m-%d}"}
            )
        proposal.status = Proposal.Status.OBJECTED
        proposal.objection = text.strip()
        proposal.objected_at = now
        by = "subject" if actor is None else "staff"
        proposal.evidence = list(proposal.evidence) + files_.store(cleaned, by=by, step="objection")
        proposal.save(update_fields=["status", "objection", "objected_at", "evidence"])
        record_event(
            "credit.objected",
            f"当事人对拟认定提出异议：{proposal.subject.name} · {proposal.conduct.name}",
            actor=actor,
            household_id=proposal.subject.household_id,
            reason=proposal.objection,
            after={"proposal": proposal.pk},
        )
    return proposal


def confirm(proposal_id: int, *, decision: str, actor, now: datetime | None = None) -> Record:
    """认定: after the objection period (or on an objection, answering it), the county decides
    with reasons; the record counts from today for the conduct's period."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    if len((decision or "").strip()) < 4:
        raise CreditError("认定意见：请写明依据和理由。")
    with transaction.atomic():
        proposal = _locked(proposal_id, actor)
        if proposal.status not in (Proposal.Status.NOTIFIED, Proposal.Status.OBJECTED):
            raise CreditError(f"该认定{proposal.get_status_display()}，不能再次认定。")
        if proposal.status == Proposal.Status.NOTIFIED and today <= proposal.objection_until:
            raise CreditError(f"异议期至 {proposal.objection_until:%Y-%m-%d}，期满后才能认定。")
        proposal.status = Proposal.Status.CONFIRMED
        proposal.decision = decision.strip()
        proposal.decided_at, proposal.decided_by = now, actor
        proposal.save(update_fields=["status", "decision", "decided_at", "decided_by"])
        conduct = proposal.conduct
        record = Record.objects.create(
            proposal=proposal,
            subject=proposal.subject,
            conduct=conduct,
            level=conduct.level,
            effects=list(conduct.effects),
            county=proposal.county,
            decided_on=today,
            effective_until=add_months(today, conduct.effect_months),
        )
        record_event(
            "credit.confirmed",
            f"认定失信：{proposal.subject.name} · {conduct.name}（{conduct.get_level_display()}），"
            f"影响期至 {record.effective_until - timedelta(days=1):%Y-%m-%d}",
            actor=actor,
            household_id=proposal.subject.household_id,
            reason=proposal.decision,
            after={"proposal": proposal.pk, "record": record.pk},
        )
        _changed(proposal.county, now, actor, f"新增失信记录（{conduct.get_level_display()}）")
    return record


def reject(proposal_id: int, *, decision: str, actor, now: datetime | None = None) -> Proposal:
    now = now or timezone.now()
    if len((decision or "").strip()) < 4:
        raise CreditError("不予认定的理由：请写明。")
    with transaction.atomic():
        proposal = _locked(proposal_id, actor)
        if proposal.status not in (Proposal.Status.NOTIFIED, Proposal.Status.OBJECTED):
            raise CreditError(f"该认定{proposal.get_status_display()}，不能再次决定。")
        proposal.status = Proposal.Status.REJECTED
        proposal.decision = decision.strip()
        proposal.decided_at, proposal.decided_by = now, actor
        proposal.save(update_fields=["status", "decision", "decided_at", "decided_by"])
        record_event(
            "credit.rejected",
            f"不予认定失信：{proposal.subject.name} · {proposal.conduct.name}",
            actor=actor,
            household_id=proposal.subject.household_id,
            reason=proposal.decision,
            after={"proposal": proposal.pk},
        )
    return proposal


# --- 信用修复 --------------------------------------------------------------------------------


def ask_repair(
    record_id: int,
    *,
    correction: str,
    evidence: list | None = None,
    files: Sequence[Upload] = (),
    actor=None,
):
    """The subject has corrected the conduct and asks, with evidence, for the record to stop
    counting."""
    if len((correction or "").strip()) < 4:
        raise CreditError(gettext("纠正情况：请写明已如何纠正失信行为。"))
    cleaned = _checked(files, "repair")
    with transaction.atomic():
        record = Record.objects.select_for_update().select_related("subject").get(pk=record_id)
        if not record.in_effect(timezone.localdate()):
            raise CreditError(gettext("该记录已不在影响期内，无需修复。"))
        try:
            with transaction.atomic():
                repair = Repair.objects.create(
                    record=record,
                    correction=correction.strip(),
                    evidence=list(evidence or [])
                    + files_.store(
                        cleaned, by="subject" if actor is None else "staff", step="repair"
                    ),
                )
        except IntegrityError as exc:
            raise CreditError(gettext("该记录已有待审核的修复申请。")) from exc
        record_event(
            "credit.repair_asked",
            f"申请信用修复：{record.subject.name} · {record.conduct.name}",
            actor=actor,
            household_id=record.subject.household_id,
            after={"record": record.pk, "repair": repair.pk},
        )
    return repair


def decide_repair(
    repair_id: int,
    *,
    approve: bool,
    decision: str,
    actor,
    files: Sequence[Upload] = (),
    now: datetime | None = None,
) -> Repair:
    """Approved: the record stops counting today and leaves the public list (kept as history).
    The county's own findings (a site visit's photos) may be kept with the decision."""
    now = now or timezone.now()
    if len((decision or "").strip()) < 4:
        raise CreditError("审核意见：请写明。")
    cleaned = _checked(files, "repair-decision")
    with transaction.atomic():
        repair = (
            Repair.objects.select_for_update(of=("self",))
            .select_related("record__subject", "record__county", "record__conduct")
            .get(pk=repair_id)
        )
        record = repair.record
        _locked(record.proposal_id, actor)  # jurisdiction: the county that decided it
        if repair.status != Repair.Status.PENDING:
            raise CreditError("该修复申请已审核。")
        repair.status = Repair.Status.APPROVED if approve else Repair.Status.REFUSED
        repair.decision = decision.strip()
        repair.decided_at, repair.decided_by = now, actor
        repair.evidence = list(repair.evidence) + files_.store(
            cleaned, by="staff", step="repair-decision"
        )
        repair.save(update_fields=["status", "decision", "decided_at", "decided_by", "evidence"])
        if approve:
            Record.objects.filter(pk=record.pk).update(repaired_on=timezone.localtime(now).date())
            _changed(record.county, now, actor, "信用修复")
        record_event(
            "credit.repaired" if approve else "credit.repair_refused",
            f"{'准予' if approve else '不予'}信用修复：{record.subject.name} · "
            f"{record.conduct.name}",
            actor=actor,
            household_id=record.subject.household_id,
            reason=repair.decision,
            after={"record": record.pk, "repair": repair.pk},
        )
    return repair


# --- city-wide query -------------------------------------------------------------------------


def query(
    *, user, purpose: str, id_number: str = "", credit_code: str = "", ip: str | None = None
) -> list[Record]:
    """Any housing department or operator asks about anyone, city-wide, read-only; every
    question is logged with its purpose before it is answered."""
    purpose = (purpose or "").strip()
    if len(purpose) < 4:
        raise CreditError("查询事由：请写明（例如“申请审核 SQ2026-000123”）。")
    if id_number:
        id_number = id_number.strip().upper()
        problem = validate_id_number(id_number)
        if problem:
            raise CreditError(f"身份证号：{problem}。")
        kind, key = Subject.Kind.PERSON, blind_index(id_number)
        subjects = Subject.objects.filter(kind=kind, id_index=key)
    elif credit_code:
        try:
            key = uscc.validate(credit_code.strip().upper())
        except StdnumError as exc:
            raise CreditError("统一社会信用代码不正确，请核对。") from exc
        kind = Subject.Kind.ORGANISATION
        subjects = Subject.objects.filter(kind=kind, credit_code=key)
    else:
        raise CreditError("请填写身份证号或统一社会信用代码。")
    found = list(
        Record.objects.filter(Record.in_effect_q(timezone.localdate()), subject__in=subjects)
        .select_related("subject", "conduct", "county")
        .order_by("-decided_on")
    )
    Query.objects.create(
        asked_by=user,
        purpose=purpose[:200],
        subject_kind=kind,
        subject_key=key,
        found=len(found),
        ip=ip,
    )
    return found


# --- the public list -------------------------------------------------------------------------


def city_of(county: Region) -> Region:
    return county.parent if county.level == Region.Level.DISTRICT and county.parent else county


def _changed(county: Region, now: datetime, actor, reason: str) -> None:
    """What is in effect changed: the city's list gets a new version in this transaction."""
    city = city_of(county)
    state, _ = ListState.objects.select_for_update().get_or_create(city=city)
    state.changed_at, state.stale = now, True
    state.save(update_fields=["changed_at", "stale"])
    publish_list(city, state, now=now, actor=actor, reason=reason)


def publish_expired(now: datetime | None = None) -> int:
    """Daily: a city whose records' periods ended since its last version gets a new one."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    published = 0
    for state in ListState.objects.exclude(published_at__isnull=True).select_related("city"):
        last = timezone.localtime(state.published_at).date()
        ended = Record.objects.filter(
            county__parent=state.city,
            repaired_on__isnull=True,
            effective_until__gt=last,
            effective_until__lte=today,
        ).exists()
        if ended:
            with transaction.atomic():
                locked = ListState.objects.select_for_update().get(pk=state.pk)
                if publish_list(
                    state.city, locked, now=now, actor=None, reason="失信记录影响期届满"
                ):
                    published += 1
    return published
