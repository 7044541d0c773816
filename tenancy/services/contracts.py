"""A lease's life: drafted from an accepted offer, confirmed by the tenant with an SMS code,
approved and signed by the operator (PAdES), then moved into. Each step is one transaction
with its archive event; the unit's status changes only here."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from allocation.models import Offer
from archive import documents
from archive.numbering import next_yearly_number
from archive.services import record_event
from geo.models import Unit
from housing.errors import NotAllowed
from housing.inbox import notify_household
from housing.models import Applicant
from tenancy import contract_pdf, subsidy
from tenancy.models import Contract, LeaseTemplate, TenancyPolicy
from tenancy.signing import SignRequest, contract_signer

CONTRACT_NUMBER_LOCK = 7_331_002
CONFIRM_PURPOSE = "contract:{pk}"


def policy_for(county) -> TenancyPolicy:
    policy, _ = TenancyPolicy.objects.get_or_create(county=county)
    return policy


def current_template(county) -> LeaseTemplate:
    template = LeaseTemplate.objects.filter(county=county).order_by("-version").first()
    if template is None:
        raise NotAllowed(f"{county.name}尚未设置合同范本，请先在“合同签订 › 合同范本”中添加。")
    return template


def save_template(
    county, *, title: str, body: str, reason: str, base_version: int, actor
) -> LeaseTemplate:
    """A new version of the county's lease text, made from the version the editor opened: if
    someone saved in between, the edit is refused (not silently laid over theirs)."""
    current = LeaseTemplate.objects.filter(county=county).order_by("-version").first()
    latest = current.version if current else 0
    if latest != base_version:
        raise NotAllowed(
            f"{county.name}合同范本已被他人保存为第 {latest} 版，请重新打开后在新版本上修改。"
        )
    try:
        with transaction.atomic():
            template = LeaseTemplate.objects.create(
                county=county, version=latest + 1, title=title, body=body, created_by=actor
            )
            record_event(
                "lease_template.saved",
                f"{county.name}合同范本第 {template.version} 版",
                actor=actor,
                reason=reason,
                after={"template": template.pk, "version": template.version},
            )
    except IntegrityError as exc:  # two saves of the same base at the same moment
        raise NotAllowed(
            f"{county.name}合同范本刚被他人保存为第 {latest + 1} 版，请重新打开后在新版本上修改。"
        ) from exc
    return template


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


def _number() -> str:
    return next_yearly_number(Contract.objects.all(), "number", "HT", CONTRACT_NUMBER_LOCK)


def unit_address(unit: Unit) -> str:
    estate, building = unit.building.estate, unit.building.number
    building = f"{building}号楼" if building.isdigit() else building
    room = f"{unit.number}室" if unit.number.isdigit() else unit.number
    return f"{estate.address} {estate.name} {building} {room}"


def _values(contract: Contract, policy: TenancyPolicy, months: int) -> dict[str, str]:
    household, unit = contract.household, contract.unit
    operator = unit.building.estate.operator
    return contract_pdf.values_for(
        number=contract.number,
        lessor=operator.name if operator else settings.ANJU_SIGNING_ORGANISATION,
        tenant_name=household.head_name,
        tenant_id_number=household.head_id_number,
        tenant_phone=household.phone,
        household_size=household.size,
        unit_address=unit_address(unit),
        unit_area=unit.area,
        unit_layout=f"{unit.rooms}室{unit.halls}厅{unit.baths}卫",
        monthly_rent=contract.monthly_rent,
        monthly_subsidy=contract.monthly_subsidy,
        deposit=contract.deposit,
        start_date=contract.start_date,
        end_date=contract.end_date,
        term_months=months,
        due_day=policy.due_day,
        clauses=contract.clauses,
    )


def _months(contract: Contract) -> int:
    start, end = contract.start_date, contract.end_date + timedelta(days=1)
    return (end.year - start.year) * 12 + end.month - start.month


def _render_and_save(contract: Contract, policy: TenancyPolicy, months: int, *, clash: str):
    """The draft PDF filled from the contract's own figures (a missing one refused before any
    PDF), stored by its hash, then the row saved; `clash` names the live lease in the way."""
    template = contract.template
    try:
        body = contract_pdf.fill(template.body, _values(contract, policy, months))
    except contract_pdf.ContractDataError as exc:
        raise NotAllowed(str(exc)) from exc
    pdf = contract_pdf.render_pdf(title=template.title, body_html=body, number=contract.number)
    contract.draft = documents.store(
        pdf, name=f"{contract.number}-待签.pdf", content_type="application/pdf"
    )
    try:
        with transaction.atomic():
            contract.save()
    except IntegrityError as exc:
        raise NotAllowed(clash) from exc


def draft(offer_id: int, *, start: date, months: int, clauses: str = "", actor) -> Contract:
    """A lease for an accepted offer: checked, numbered, rendered; the tenant is told."""
    with transaction.atomic():
        offer = (
            Offer.objects.select_for_update(of=("self",))
            .select_related("household__application", "unit__building__estate__operator")
            .get(pk=offer_id)
        )
        if offer.status != Offer.Status.ACCEPTED:
            raise NotAllowed("只有已确认的配租结果可以生成合同。")
        household, unit = offer.household, offer.unit
        policy = policy_for(household.county)
        if not 1 <= months <= policy.max_term_months:
            raise NotAllowed(
                f"租期须在 1 到 {policy.max_term_months} 个月之间（{household.county.name}规定）。"
            )
        if start < timezone.localdate() - timedelta(days=31):
            raise NotAllowed("租期开始日期不能早于一个月前。")
        application = household.application
        income = (
            application.monthly_income / household.size
            if application.monthly_income is not None
            else None
        )
        try:
            off = subsidy.monthly_subsidy(
                unit.monthly_rent,
                priorities=household.priorities,
                income_per_head=income,
                tiers=policy.subsidy_tiers,
            )
        except subsidy.TierError as exc:
            raise NotAllowed(str(exc)) from exc
        template = current_template(household.county)
        contract = Contract(
            number=_number(),
            offer=offer,
            household=household,
            unit=unit,
            template=template,
            monthly_rent=unit.monthly_rent,
            monthly_subsidy=off,
            deposit=(unit.monthly_rent * policy.deposit_months).quantize(subsidy.FEN),
            start_date=start,
            end_date=add_months(start, months) - timedelta(days=1),
            clauses=clauses.strip(),
            created_by=actor,
        )
        _render_and_save(contract, policy, months, clash="该房屋或该家庭已有未终止的合同。")
        record_event(
            "contract.drafted",
            f"生成租赁合同 {contract.number}（{unit_address(unit)}）",
            actor=actor,
            unit_id=unit.pk,
            estate_id=unit.building.estate_id,
            household_id=household.pk,
            after={"contract": contract.pk, "sha256": contract.draft.sha256},
        )
        notify_household(
            household,
            "contract.drafted",
            url=reverse("my-contract", args=[contract.pk]),
            number=contract.number,
            address=unit_address(unit),
        )
    return contract


def send_confirmation_code(contract: Contract, *, ip: str | None) -> None:
    """A code for this contract only, to the household's phone."""
    from housing.services import send_code

    if contract.status != Contract.Status.AWAITING_TENANT:
        raise NotAllowed(gettext("该合同当前不需要您确认。"))
    send_code(
        contract.household.phone,
        ip=ip,
        purpose=CONFIRM_PURPOSE.format(pk=contract.pk),
        message="contract.confirm_code",
        values={"number": contract.number},
    )


@dataclass(frozen=True)
class Confirming:
    applicant: Applicant
    code: str
    ip: str | None


def confirm(contract_id: int, confirming: Confirming) -> Contract:
    """The tenant's 'I agree', bound to the draft's SHA-256 and proven by an SMS code."""
    from housing.services import verify_code

    with transaction.atomic():
        contract = (
            Contract.objects.select_for_update(of=("self",))
            .select_related("household")
            .get(pk=contract_id)
        )
        if contract.household.applicant_id != confirming.applicant.pk:
            raise NotAllowed(gettext("只有承租人本人可以确认该合同。"))
        if contract.status != Contract.Status.AWAITING_TENANT:
            raise NotAllowed(gettext("该合同当前不需要您确认。"))
    # The code check commits its own attempt counter, so it runs outside the lock.
    verify_code(
        contract.household.phone, confirming.code, purpose=CONFIRM_PURPOSE.format(pk=contract.pk)
    )
    with transaction.atomic():
        contract = Contract.objects.select_for_update().get(pk=contract_id)
        if contract.status != Contract.Status.AWAITING_TENANT:
            raise NotAllowed(gettext("该合同当前不需要您确认。"))
        now = timezone.now()
        phone = contract.household.phone
        contract.tenant_confirmed_at = now
        contract.tenant_confirmation = {
            "tenant": contract.household.head_name,
            "phone": f"{phone[:3]}****{phone[-4:]}",
            "method": "短信验证码确认（本人手机号）",
            "at": now.isoformat(),
            "ip": confirming.ip,
            "draft_sha256": contract.draft_id,
        }
        contract.status = Contract.Status.AWAITING_APPROVAL
        contract.save()
        record_event(
            "contract.confirmed",
            f"承租人确认合同 {contract.number}",
            actor=None,
            unit_id=contract.unit_id,
            household_id=contract.household_id,
            after=contract.tenant_confirmation,
        )
    return contract


def approve(contract_id: int, *, actor) -> Contract:
    """The operator's review: the final copy, with the signing record, sealed with PAdES."""
    with transaction.atomic():
        contract = (
            Contract.objects.select_for_update(of=("self",))
            .select_related("household", "unit__building__estate__operator", "template")
            .get(pk=contract_id)
        )
        if contract.status != Contract.Status.AWAITING_APPROVAL:
            raise NotAllowed("承租人确认后才能审核签订。")
        now = timezone.now()
        policy = policy_for(contract.household.county)
        body = contract_pdf.fill(
            contract.template.body, _values(contract, policy, _months(contract))
        )
        record = contract.tenant_confirmation
        local = timezone.localtime(now)
        confirmation = contract_pdf.Confirmation(
            tenant=record["tenant"],
            phone=record["phone"],
            confirmed_at=timezone.localtime(contract.tenant_confirmed_at).strftime(
                "%Y-%m-%d %H:%M:%S"
            ),
            method=record["method"],
            draft_sha256=record["draft_sha256"],
            approved_by=actor.get_full_name() or actor.get_username(),
            approved_at=local.strftime("%Y-%m-%d %H:%M:%S"),
        )
        pdf = contract_pdf.render_pdf(
            title=contract.template.title,
            body_html=body,
            number=contract.number,
            confirmation=confirmation,
        )
        estate = contract.unit.building.estate
        signed = contract_signer().sign(
            pdf,
            SignRequest(
                field_name="Anju-Lessor",
                reason=f"公共租赁住房租赁合同 {contract.number} 签订",
                location=estate.address,
            ),
        )
        contract.signed = documents.store(
            signed, name=f"{contract.number}.pdf", content_type="application/pdf"
        )
        contract.status = Contract.Status.SIGNED
        contract.approved_by, contract.approved_at = actor, now
        contract.save()
        record_event(
            "contract.signed",
            f"合同 {contract.number} 审核签订并加盖电子签章",
            actor=actor,
            unit_id=contract.unit_id,
            estate_id=estate.pk,
            household_id=contract.household_id,
            after={
                "contract": contract.pk,
                "sha256": contract.signed.sha256,
                "draft_sha256": contract.draft_id,
            },
        )
        notify_household(
            contract.household,
            "contract.signed",
            url=reverse("my-contract", args=[contract.pk]),
            number=contract.number,
        )
    return contract


CANCELLABLE = (
    Contract.Status.AWAITING_TENANT,
    Contract.Status.AWAITING_APPROVAL,
    Contract.Status.SIGNED,
)


def cancel(contract_id: int, *, reason: str, actor) -> Contract:
    """作废: a lease not yet moved into is withdrawn with a reason (wrong data, a changed term);
    its offer is freed so a corrected lease can be drafted for it. The cancelled copy stays."""
    reason = reason.strip()
    if len(reason) < 4:
        raise NotAllowed("请填写作废原因（至少 4 个字），它会记入档案并告知承租人。")
    with transaction.atomic():
        contract = (
            Contract.objects.select_for_update(of=("self",))
            .select_related("household__applicant", "unit__building")
            .get(pk=contract_id)
        )
        if contract.status not in CANCELLABLE:
            raise NotAllowed(
                f"合同{contract.get_status_display()}，不能作废；已入住的合同通过退出办理终止。"
            )
        offer_id = contract.offer_id
        before = contract.status
        contract.status = Contract.Status.CANCELLED
        contract.offer = None  # the offer may get a corrected lease; the event keeps the link
        contract.save(update_fields=["status", "offer"])
        record_event(
            "contract.cancelled",
            f"合同 {contract.number} 作废",
            actor=actor,
            reason=reason,
            unit_id=contract.unit_id,
            estate_id=contract.unit.building.estate_id,
            household_id=contract.household_id,
            before={"status": before, "offer": offer_id},
            after={"contract": contract.pk, "status": contract.status},
        )
        notify_household(
            contract.household,
            "contract.cancelled",
            url=reverse("my-cases"),
            number=contract.number,
            reason=reason,
        )
    return contract


def move_in(contract_id: int, *, day: date, actor) -> Contract:
    """Keys handed over: the contract runs and the unit is occupied, together or not at all."""
    with transaction.atomic():
        contract = (
            Contract.objects.select_for_update(of=("self",))
            .select_related("unit")
            .get(pk=contract_id)
        )
        if contract.status != Contract.Status.SIGNED:
            raise NotAllowed("合同签订后才能办理入住。")
        if not contract.start_date - timedelta(days=31) <= day <= contract.end_date:
            raise NotAllowed("入住日期须在租期内（最早可提前一个月）。")
        unit = Unit.objects.select_for_update().get(pk=contract.unit_id)
        if unit.status not in (Unit.Status.OFFERED, Unit.Status.VACANT):
            raise NotAllowed(f"房屋当前状态为“{unit.get_status_display()}”，不能办理入住。")
        before = unit.status
        Unit.objects.filter(pk=unit.pk).update(
            status=Unit.Status.OCCUPIED, updated_at=timezone.now()
        )
        contract.status, contract.check_in_date = Contract.Status.ACTIVE, day
        contract.save()
        record_event(
            "contract.moved_in",
            f"办理入住：合同 {contract.number}，入住日期 {day:%Y-%m-%d}",
            actor=actor,
            unit_id=unit.pk,
            estate_id=unit.building.estate_id,
            household_id=contract.household_id,
            before={"unit_status": before},
            after={"unit_status": Unit.Status.OCCUPIED, "check_in": day.isoformat()},
        )
    return contract


def draft_renewal(
    contract_id: int, *, months: int, actor, income_per_head: Decimal | None = None
) -> Contract:
    """续租: the next lease of the same household and unit, from the day after the old one
    ends, on the county's current template, rent and subsidy tiers; then confirmed by the
    tenant and signed by the operator like any lease. It runs without a move-in (activated by
    tenancy.services.renewals when its first day comes). Call inside the approval's
    transaction."""
    old = (
        Contract.objects.select_for_update(of=("self",))
        .select_related("household", "unit__building__estate__operator")
        .get(pk=contract_id)
    )
    if old.status != Contract.Status.ACTIVE:
        raise NotAllowed("只有履行中的合同可以续签。")
    household, unit = old.household, old.unit
    policy = policy_for(household.county)
    if not 1 <= months <= policy.max_term_months:
        raise NotAllowed(
            f"续租期限须在 1 到 {policy.max_term_months} 个月之间（{household.county.name}规定）。"
        )
    try:
        off = subsidy.monthly_subsidy(
            unit.monthly_rent,
            priorities=household.priorities,
            income_per_head=income_per_head,
            tiers=policy.subsidy_tiers,
        )
    except subsidy.TierError as exc:
        raise NotAllowed(str(exc)) from exc
    template = current_template(household.county)
    start = old.end_date + timedelta(days=1)
    contract = Contract(
        number=_number(),
        renews=old,
        household=household,
        unit=unit,
        template=template,
        monthly_rent=unit.monthly_rent,
        monthly_subsidy=off,
        deposit=old.deposit,  # the deposit held carries over to the renewed lease
        start_date=start,
        end_date=add_months(start, months) - timedelta(days=1),
        created_by=actor,
    )
    _render_and_save(contract, policy, months, clash="该合同已有续租合同，或续租期与其他合同重叠。")
    record_event(
        "contract.drafted",
        f"生成续租合同 {contract.number}（续 {old.number}，{unit_address(unit)}）",
        actor=actor,
        unit_id=unit.pk,
        estate_id=unit.building.estate_id,
        household_id=household.pk,
        after={"contract": contract.pk, "renews": old.pk, "sha256": contract.draft.sha256},
    )
    notify_household(
        household,
        "contract.renewal_drafted",
        url=reverse("my-contract", args=[contract.pk]),
        number=contract.number,
        start_date=start,
    )
    return contract
