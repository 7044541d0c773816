"""续租: reminded once before the lease ends, asked for online by the tenant, checked against
the departments like the application, decided by the county; approval drafts the next lease
(tenancy.services.contracts.draft_renewal), which the tenant confirms and the operator signs,
and which takes over on its first day without a move-in: the unit stays occupied.

Renewal states: pending → approved | rejected | withdrawn (nothing else). A rejected or
withdrawn request may be followed by a new one while the lease runs. The exits job reads a
pending request, or a live lease with `renews` set, as "renewal under way".
"""

from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from archive.services import record_event
from credit import selectors as credit
from credit.models import Effect
from exchange.sources import DataSource
from housing.errors import NotAllowed
from housing.inbox import notify_household
from housing.models import Applicant
from tenancy.models import LIVE, Contract, Renewal, RenewalNotice
from tenancy.services import contracts
from tenancy.services.annual_reviews import (
    ask_departments,
    department_check,
    may_decide,
    policy_for,
)

ANSWER_KEYS = ("members", "monthly_income", "other_housing", "housing_note", "changes")


def window_opens(contract: Contract) -> date:
    """The first day a renewal may be asked for: the county's notice months before the end."""
    months = policy_for(contract.household.county).renewal_notice_months
    return contracts.add_months(contract.end_date, -months)


def renewal_under_way() -> Q:
    """Contracts (as a Q on Contract) whose renewal is asked for or already drafted."""
    return Q(
        Exists(Renewal.objects.filter(contract=OuterRef("pk"), status=Renewal.Status.PENDING))
    ) | Q(Exists(Contract.objects.filter(renews=OuterRef("pk"), status__in=LIVE)))


def may_apply(contract: Contract, today: date | None = None) -> str | None:
    """Why this lease cannot be renewed now (a sentence), or None when it can."""
    today = today or timezone.localdate()
    if contract.status != Contract.Status.ACTIVE:
        return gettext("只有履行中的合同可以申请续租。")
    if today > contract.end_date:
        return gettext("合同已到期，不能再申请续租。")
    if today < window_opens(contract):
        return gettext("续租申请自 %(date)s 起办理。") % {
            "date": f"{window_opens(contract):%Y-%m-%d}"
        }
    if contract.renewals.filter(status=Renewal.Status.PENDING).exists():
        return gettext("该合同已有正在办理的续租申请。")
    if Contract.objects.filter(renews=contract, status__in=LIVE).exists():
        return gettext("该合同已同意续租，续租合同正在办理或已生效。")
    held = credit.holds([contract.household.head_id_number], Effect.RENEW, today)
    if held:
        return held[0].reason
    return None


# --- jobs -----------------------------------------------------------------------------------


def remind_renewals(today: date | None = None) -> int:
    """Daily: once per lease, when its end is within the county's notice months and nothing
    was asked yet, the household is told how to renew. The notice row makes it once only."""
    today = today or timezone.localdate()
    latest = contracts.add_months(today, 12)
    candidates = (
        Contract.objects.filter(
            status=Contract.Status.ACTIVE, end_date__gte=today, end_date__lte=latest
        )
        .exclude(renewal_under_way())
        .filter(renewal_notice__isnull=True)
        .select_related("household__county", "household__applicant")
    )
    sent = 0
    for contract in candidates:
        if today < window_opens(contract):
            continue
        with transaction.atomic():
            _notice, created = RenewalNotice.objects.get_or_create(contract=contract)
            if not created:
                continue
            record_event(
                "renewal.reminded",
                f"续租提醒：合同 {contract.number} 将于 {contract.end_date:%Y-%m-%d} 到期",
                actor=None,
                unit_id=contract.unit_id,
                household_id=contract.household_id,
                after={"contract": contract.pk, "end": contract.end_date.isoformat()},
            )
            notify_household(
                contract.household,
                "renewal.reminded",
                url=reverse("my-renewal", args=[contract.pk]),
                number=contract.number,
                end_date=contract.end_date,
            )
            sent += 1
    return sent


def activate_renewals(today: date | None = None) -> int:
    """Daily: a signed renewal whose first day has come takes over: the old lease ends on its
    last day, the new one runs from its first, the unit stays occupied (no move-in); bills
    split at that day, so the boundary month is billed once, by days."""
    today = today or timezone.localdate()
    done = 0
    due = Contract.objects.filter(
        status=Contract.Status.SIGNED, renews__isnull=False, start_date__lte=today
    ).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            new = (
                Contract.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("unit__building")
                .filter(pk=pk, status=Contract.Status.SIGNED)
                .first()
            )
            if new is None:
                continue
            old = Contract.objects.select_for_update().get(pk=new.renews_id)
            if old.status != Contract.Status.ACTIVE:
                continue  # ended early (exit): the exits service decides what becomes of it
            old.status, old.ended_on = Contract.Status.ENDED, old.end_date
            old.save(update_fields=["status", "ended_on"])
            new.status, new.check_in_date = Contract.Status.ACTIVE, new.start_date
            new.save(update_fields=["status", "check_in_date"])
            record_event(
                "contract.renewed",
                f"续租合同 {new.number} 生效，原合同 {old.number} 于 "
                f"{old.end_date:%Y-%m-%d} 期满终止（无需重新入住）",
                actor=None,
                unit_id=new.unit_id,
                estate_id=new.unit.building.estate_id,
                household_id=new.household_id,
                before={"contract": old.pk, "status": Contract.Status.ACTIVE},
                after={"contract": new.pk, "ended": old.pk, "start": new.start_date.isoformat()},
            )
            done += 1
    return done


# --- the tenant's request and the county's decision -------------------------------------------


def _clean(answers: dict) -> dict:
    clean = {k: answers[k] for k in ANSWER_KEYS if k in answers}
    clean["members"] = [m for m in clean.get("members") or [] if (m.get("name") or "").strip()]
    if not clean["members"]:
        raise NotAllowed(gettext("请填写家庭成员（至少包括承租人本人）。"))
    if clean.get("monthly_income") is not None:
        clean["monthly_income"] = str(clean["monthly_income"])
    return clean


def apply(
    contract_id: int,
    *,
    applicant: Applicant,
    months: int,
    answers: dict,
    source: DataSource | None = None,
) -> Renewal:
    """The tenant asks to renew: the departments are queried first (outside any lock), then
    the request is written with the evidence and findings, or nothing is."""
    contract = Contract.objects.select_related("household__county").get(pk=contract_id)
    if contract.household.applicant_id != applicant.pk:
        raise NotAllowed(gettext("只有承租人本人可以申请续租。"))
    if why := may_apply(contract):
        raise NotAllowed(why)
    maximum = contracts.policy_for(contract.household.county).max_term_months
    if not 1 <= months <= maximum:
        raise NotAllowed(gettext("续租期限须在 1 到 %(max)s 个月之间。") % {"max": maximum})
    clean = _clean(answers)
    department = ask_departments(contract.household, source)
    try:
        with transaction.atomic():
            contract = Contract.objects.select_for_update(of=("self",)).get(pk=contract_id)
            if why := may_apply(contract):
                raise NotAllowed(why)
            renewal = Renewal.objects.create(
                contract=contract, household=contract.household, months=months, answers=clean
            )
            findings, passed, facts = department_check(
                contract.household, "renewal", renewal.pk, department
            )
            renewal.answers = clean | {"department_facts": facts}
            renewal.findings, renewal.passed, renewal.checked_at = findings, passed, timezone.now()
            renewal.save()
            record_event(
                "renewal.requested",
                f"申请续租合同 {contract.number}（{months} 个月），大数据比对："
                f"{'全部符合' if passed else '有不符合项'}",
                actor=None,
                unit_id=contract.unit_id,
                household_id=contract.household_id,
                after={"renewal": renewal.pk, "passed": passed, "months": months},
            )
    except IntegrityError as exc:
        raise NotAllowed(gettext("该合同已有正在办理的续租申请。")) from exc
    return renewal


def withdraw(renewal_id: int, *, applicant: Applicant) -> Renewal:
    with transaction.atomic():
        renewal = (
            Renewal.objects.select_for_update(of=("self",))
            .select_related("household", "contract")
            .get(pk=renewal_id)
        )
        if renewal.household.applicant_id != applicant.pk:
            raise NotAllowed(gettext("只有承租人本人可以撤回续租申请。"))
        _expect(renewal, Renewal.Status.PENDING, gettext("撤回"))
        renewal.status = Renewal.Status.WITHDRAWN
        renewal.save(update_fields=["status"])
        record_event(
            "renewal.withdrawn",
            f"承租人撤回合同 {renewal.contract.number} 的续租申请",
            actor=None,
            household_id=renewal.household_id,
            after={"renewal": renewal.pk},
        )
    return renewal


def _expect(renewal: Renewal, status: str, doing: str) -> None:
    if renewal.status != status:
        raise NotAllowed(
            gettext("该续租申请当前为“%(status)s”，不能%(doing)s。")
            % {"status": renewal.get_status_display(), "doing": doing}
        )


def recheck(renewal_id: int, *, actor, source: DataSource | None = None) -> Renewal:
    """Staff ask the departments again (a record may have been corrected since)."""
    if not may_decide(actor):
        raise NotAllowed("续租由县区住房保障部门审核，您的岗位不能重新比对。")
    renewal = Renewal.objects.select_related("household__county").get(pk=renewal_id)
    _expect(renewal, Renewal.Status.PENDING, "重新比对")
    department = ask_departments(renewal.household, source)
    with transaction.atomic():
        renewal = (
            Renewal.objects.select_for_update(of=("self",))
            .select_related("household__county", "contract")
            .get(pk=renewal_id)
        )
        _expect(renewal, Renewal.Status.PENDING, "重新比对")
        findings, passed, facts = department_check(
            renewal.household, "renewal", renewal.pk, department
        )
        renewal.answers = (renewal.answers or {}) | {"department_facts": facts}
        renewal.findings, renewal.passed, renewal.checked_at = findings, passed, timezone.now()
        renewal.save()
        record_event(
            "renewal.data_check",
            f"续租重新比对：{'全部符合' if passed else '有不符合项'}",
            actor=actor,
            household_id=renewal.household_id,
            after={"renewal": renewal.pk, "passed": passed},
        )
    return renewal


def decide(renewal_id: int, *, approve: bool, reasons: str, actor) -> Renewal:
    """The county's decision. Approval needs a passing data check and drafts the next lease in
    the same transaction; a rejection needs reasons (the lease then ends on its date)."""
    if not may_decide(actor):
        raise NotAllowed("续租由县区住房保障部门审核，您的岗位不能作出决定。")
    reasons = reasons.strip()
    if not approve and not reasons:
        raise NotAllowed("不予续租须在“审核意见”中写明理由。")
    with transaction.atomic():
        renewal = (
            Renewal.objects.select_for_update(of=("self",))
            .select_related("household", "contract__unit__building")
            .get(pk=renewal_id)
        )
        _expect(renewal, Renewal.Status.PENDING, "审核")
        if approve and not renewal.passed:
            raise NotAllowed("大数据比对有不符合项，不能同意续租；可重新比对或不予续租。")
        if approve:
            income = (renewal.answers or {}).get("department_facts", {}).get("income_per_head")
            renewal.new_contract = contracts.draft_renewal(
                renewal.contract_id,
                months=renewal.months,
                actor=actor,
                income_per_head=Decimal(income) if income is not None else None,
            )
        renewal.status = Renewal.Status.APPROVED if approve else Renewal.Status.REJECTED
        renewal.decided_by, renewal.decided_at, renewal.reasons = actor, timezone.now(), reasons
        renewal.save()
        record_event(
            f"renewal.{'approved' if approve else 'rejected'}",
            f"合同 {renewal.contract.number} 续租申请{'同意续租' if approve else '不予续租'}",
            actor=actor,
            unit_id=renewal.contract.unit_id,
            estate_id=renewal.contract.unit.building.estate_id,
            household_id=renewal.household_id,
            reason=reasons,
            after={"renewal": renewal.pk, "new_contract": renewal.new_contract_id},
        )
        if not approve:
            notify_household(
                renewal.household,
                "renewal.rejected",
                url=reverse("my-renewal", args=[renewal.contract_id]),
                reasons=reasons,
            )
    return renewal
