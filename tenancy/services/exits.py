"""退出: a lease's way out, from the notice to the deposit settlement.

notice (or, for a household no longer eligible, a transition at market rent) → move-out
inspection (the lease ends on the move-out day, the unit goes back to vacant and to the vacancy
release, or to repair) → settlement (deposit − unpaid rent + rent billed past the move-out −
damages: a refund, or an amount still due). A notice or transition may be withdrawn. Every step
locks the exit, checks the step is legal from its status, appends an archive event and tells the
household; nothing else changes an exit.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from archive.services import record_event
from credit import services as credit
from credit.models import Proposal
from credit.services import CreditError
from geo.jurisdiction import estate_scope, profile_of
from geo.models import Unit
from housing.errors import NotAllowed
from housing.inbox import notify_household
from tenancy.models import LIVE, Bill, Contract, Exit
from tenancy.services.billing import DEFAULT_DUE_DAY, month_of, next_month, reference_for
from tenancy.services.contracts import add_months, policy_for

FEN = Decimal("0.01")
ZERO = Decimal("0.00")
HANDLING_ROLES = frozenset({"operator", "district", "city"})
DAMAGE_ROWS_MAX = 30
NOTE_MAX = 2000
# 逾期未腾退: the catalogue's conduct a past-deadline exit is proposed as (demo data a city edits).
OVERDUE_CONDUCT = "refuse-exit"

# Which step may follow which: anything else is refused.
NEXT = {
    Exit.Status.NOTICE: {Exit.Status.SETTLEMENT, Exit.Status.WITHDRAWN},
    Exit.Status.TRANSITION: {Exit.Status.SETTLEMENT, Exit.Status.WITHDRAWN},
    Exit.Status.SETTLEMENT: {Exit.Status.SETTLED},
    Exit.Status.SETTLED: set(),
    Exit.Status.WITHDRAWN: set(),
}


# --- who sees and handles exits ---------------------------------------------------------------


def exits_for(user) -> QuerySet[Exit]:
    """Exits of leases on the estates in the user's jurisdiction (others do not exist)."""
    return Exit.objects.filter(estate_scope(user, "contract__unit__building__estate__"))


def may_handle(user) -> bool:
    """Operators and housing departments inspect and settle; streets and communities follow."""
    if user.is_authenticated and user.is_superuser:
        return True
    profile = profile_of(user)
    return profile is not None and profile.role in HANDLING_ROLES


def _locked(exit_id: int, to: str) -> Exit:
    exit_ = (
        Exit.objects.select_for_update(of=("self",))
        .select_related("contract__household", "contract__unit__building__estate")
        .get(pk=exit_id)
    )
    if to not in NEXT[exit_.status]:
        raise NotAllowed(
            f"退出 {exit_.contract.number} 当前状态为“{exit_.get_status_display()}”，"
            "不能办理这一步。"
        )
    return exit_


def _event(exit_: Exit, action: str, summary: str, *, actor, **extra) -> None:
    contract = exit_.contract
    record_event(
        action,
        summary,
        actor=actor,
        unit_id=contract.unit_id,
        estate_id=contract.unit.building.estate_id,
        household_id=contract.household_id,
        **extra,
    )


def _tell(exit_: Exit, code: str, **values) -> None:
    notify_household(
        exit_.contract.household,
        code,
        url=reverse("my-exit", args=[exit_.contract_id]),
        number=exit_.contract.number,
        **values,
    )


# --- opening an exit --------------------------------------------------------------------------


def start(
    contract_id: int,
    *,
    reason: str,
    actor,
    source_ref: str = "",
    notice_date: date | None = None,
    move_out_by: date | None = None,
) -> Exit:
    """Open the exit of a running lease for one of the four reasons; the move-out deadline is
    the county's notice (or, for a household no longer eligible, its transition at market rent,
    which changes the lease's rent from the notice on). A tenant's own notice may name a later
    move-out day."""
    if reason not in Exit.Reason.values:
        raise NotAllowed(gettext("退出原因“%(reason)s”无效。") % {"reason": reason})
    notice_date = notice_date or timezone.localdate()
    with transaction.atomic():
        contract = (
            Contract.objects.select_for_update(of=("self",))
            .select_related("household", "unit__building__estate")
            .get(pk=contract_id)
        )
        if contract.status != Contract.Status.ACTIVE:
            raise NotAllowed(
                gettext("合同 %(number)s 当前状态为“%(status)s”，只有履行中的合同可以办理退出。")
                % {"number": contract.number, "status": contract.get_status_display()}
            )
        if Exit.objects.filter(contract=contract, status__in=Exit.OPEN).exists():
            raise NotAllowed(
                gettext("合同 %(number)s 已有进行中的退出，请在退出记录中继续办理。")
                % {"number": contract.number}
            )
        policy = policy_for(contract.household.county)
        earliest = notice_date + timedelta(days=policy.exit_notice_days)
        exit_ = Exit(
            contract=contract,
            reason=reason,
            source_ref=source_ref.strip()[:200],
            notice_date=notice_date,
            created_by=actor if actor is not None and actor.is_authenticated else None,
        )
        if reason == Exit.Reason.INELIGIBLE:
            exit_.status = Exit.Status.TRANSITION
            exit_.move_out_by = add_months(notice_date, policy.transition_months)
            exit_.rent_before, exit_.subsidy_before = (
                contract.monthly_rent,
                contract.monthly_subsidy,
            )
            exit_.transition_rent = (contract.monthly_rent * policy.market_rent_factor).quantize(
                FEN, ROUND_HALF_UP
            )
        elif move_out_by is not None:
            if move_out_by < earliest:
                raise NotAllowed(
                    gettext("退租须提前 %(days)s 天通知：腾退日期最早为 %(earliest)s。")
                    % {"days": policy.exit_notice_days, "earliest": f"{earliest:%Y-%m-%d}"}
                )
            if move_out_by > max(contract.end_date, earliest):
                raise NotAllowed(
                    gettext("腾退日期不能晚于租期结束日 %(end_date)s。")
                    % {"end_date": f"{contract.end_date:%Y-%m-%d}"}
                )
            exit_.move_out_by = move_out_by
        else:
            exit_.move_out_by = earliest
        try:
            with transaction.atomic():
                exit_.save()
        except IntegrityError as exc:
            raise NotAllowed(
                gettext("合同 %(number)s 已有进行中的退出。") % {"number": contract.number}
            ) from exc
        label = exit_.get_reason_display()
        _event(
            exit_,
            "exit.started",
            f"发起退出（{label}）：合同 {contract.number}，腾退期限 {exit_.move_out_by:%Y-%m-%d}",
            actor=actor,
            after={
                "exit": exit_.pk,
                "reason": reason,
                "notice_date": notice_date.isoformat(),
                "move_out_by": exit_.move_out_by.isoformat(),
                "source": exit_.source_ref,
            },
        )
        if exit_.status == Exit.Status.TRANSITION:
            _set_rent(
                exit_,
                rent=exit_.transition_rent,
                subsidy=ZERO,
                actor=actor,
                why=f"不再符合保障条件，过渡期（至 {exit_.move_out_by:%Y-%m-%d}）按市场租金计收",
            )
            _tell(
                exit_,
                "exit.transition",
                notice_date=notice_date,
                rent=exit_.transition_rent,
                move_out_by=exit_.move_out_by,
            )
        elif reason == Exit.Reason.VOLUNTARY:
            _tell(exit_, "exit.voluntary", move_out_by=exit_.move_out_by)
        else:
            _tell(exit_, "exit.notice", exit_reason=label, move_out_by=exit_.move_out_by)
    return exit_


def _set_rent(exit_: Exit, *, rent: Decimal, subsidy: Decimal, actor, why: str) -> None:
    """Amend the lease's rent (billing reads it for the next bills), with its event."""
    contract = exit_.contract
    before = {
        "monthly_rent": str(contract.monthly_rent),
        "monthly_subsidy": str(contract.monthly_subsidy),
    }
    Contract.objects.filter(pk=contract.pk).update(monthly_rent=rent, monthly_subsidy=subsidy)
    contract.monthly_rent, contract.monthly_subsidy = rent, subsidy
    _event(
        exit_,
        "contract.rent_changed",
        f"合同 {contract.number} 租金调整为每月 {rent:,.2f} 元（补贴 {subsidy:,.2f} 元）：{why}",
        actor=actor,
        before=before,
        after={"monthly_rent": str(rent), "monthly_subsidy": str(subsidy), "exit": exit_.pk},
    )


def withdraw(exit_id: int, *, actor, reason: str) -> Exit:
    """A notice taken back (the tenant stays, a transition is overturned): the lease runs on at
    its earlier rent."""
    reason = (reason or "").strip()
    if not reason:
        raise NotAllowed("请填写撤回原因。")
    with transaction.atomic():
        exit_ = _locked(exit_id, Exit.Status.WITHDRAWN)
        was = exit_.status
        exit_.status, exit_.withdrawn_reason = Exit.Status.WITHDRAWN, reason[:200]
        exit_.save(update_fields=["status", "withdrawn_reason"])
        _event(
            exit_,
            "exit.withdrawn",
            f"撤回退出：合同 {exit_.contract.number}（{reason[:80]}）",
            actor=actor,
            before={"status": was},
            after={"status": exit_.status, "reason": reason[:200]},
        )
        if was == Exit.Status.TRANSITION and exit_.rent_before is not None:
            _set_rent(
                exit_,
                rent=exit_.rent_before,
                subsidy=exit_.subsidy_before or ZERO,
                actor=actor,
                why="退出撤回，恢复原租金",
            )
        _tell(exit_, "exit.withdrawn")
    return exit_


# --- 逾期未腾退: a credit proposal from an exit ----------------------------------------------


def overdue_ref(exit_: Exit) -> str:
    return f"exit:{exit_.pk}"


def overdue_proposal(exit_: Exit) -> Proposal | None:
    """The credit proposal made when this exit was found past its deadline, if any."""
    return (
        Proposal.objects.filter(source=Proposal.Source.EXIT, source_ref=overdue_ref(exit_))
        .select_related("conduct")
        .first()
    )


def is_overdue(exit_: Exit, today: date) -> bool:
    """Still not vacated after the deadline (the deadline day itself is still in time)."""
    return (
        exit_.status in (Exit.Status.NOTICE, Exit.Status.TRANSITION) and exit_.move_out_by < today
    )


def report_overdue(exit_id: int, *, facts: str, actor, today: date | None = None) -> Proposal:
    """逾期未腾退: the handler records that the household has not vacated by the deadline; the
    catalogue's conduct is proposed to 信用管理 (认定 is the county's, after the household is
    told and may object) with the exit as evidence, in the same transaction, once per exit.
    The exit itself goes on (inspection when the keys come back)."""
    if not may_handle(actor):
        raise NotAllowed("您的角色不能办理退出。")
    facts = (facts or "").strip()
    if len(facts) < 4:
        raise NotAllowed("情况说明：请写明催告经过和现状（至少 4 个字）。")
    if len(facts) > NOTE_MAX:
        raise NotAllowed(f"情况说明最多 {NOTE_MAX} 字。")
    today = today or timezone.localdate()
    with transaction.atomic():
        exit_ = (
            exits_for(actor)
            .select_for_update(of=("self",))
            .select_related("contract__household__county", "contract__unit__building__estate")
            .filter(pk=exit_id)
            .first()
        )
        if exit_ is None:
            raise NotAllowed("该退出不在您的管辖范围内。")
        contract, household = exit_.contract, exit_.contract.household
        if exit_.status not in (Exit.Status.NOTICE, Exit.Status.TRANSITION):
            raise NotAllowed(
                f"退出 {contract.number} 当前状态为“{exit_.get_status_display()}”，"
                "只有待腾退的退出可以认定逾期未腾退。"
            )
        if not is_overdue(exit_, today):
            raise NotAllowed(
                f"腾退期限为 {exit_.move_out_by:%Y-%m-%d}，期限届满后才能认定逾期未腾退。"
            )
        if overdue_proposal(exit_) is not None:
            raise NotAllowed(f"退出 {contract.number} 已就逾期未腾退提出失信认定，不再重复提出。")
        try:
            proposal = credit.propose(
                subject=credit.person(
                    household.head_name, household.head_id_number, household_id=household.pk
                ),
                conduct_code=OVERDUE_CONDUCT,
                county=household.county,
                source=Proposal.Source.EXIT,
                source_ref=overdue_ref(exit_),
                facts=(
                    f"合同 {contract.number}（{exit_.get_reason_display()}）于 "
                    f"{exit_.notice_date:%Y-%m-%d} 通知退出，"
                    f"腾退期限 {exit_.move_out_by:%Y-%m-%d}，"
                    f"截至 {today:%Y-%m-%d} 仍未腾退。{facts}"
                ),
                evidence=[
                    {
                        "exit": exit_.pk,
                        "contract": contract.number,
                        "notice_date": exit_.notice_date.isoformat(),
                        "move_out_by": exit_.move_out_by.isoformat(),
                        "found_on": today.isoformat(),
                    }
                ],
                actor=actor,
            )
        except CreditError as exc:
            raise NotAllowed(f"逾期未腾退：{exc}") from exc
        _event(
            exit_,
            "exit.overdue",
            f"逾期未腾退：合同 {contract.number}，腾退期限 {exit_.move_out_by:%Y-%m-%d}，"
            f"已提出失信认定（{proposal.conduct.name}）",
            actor=actor,
            reason=facts[:500],
            after={"exit": exit_.pk, "proposal": proposal.pk, "found_on": today.isoformat()},
        )
        _tell(
            exit_,
            "exit.overdue_credit",
            move_out_by=exit_.move_out_by,
            county=household.county.name,
            conduct=proposal.conduct.name,
            level=proposal.conduct.get_level_display(),
            consequence=proposal.conduct.consequence,
            objection_until=proposal.objection_until,
        )
    return proposal


# --- the move-out inspection ------------------------------------------------------------------


@dataclass(frozen=True)
class Damage:
    item: str
    amount: Decimal
    note: str = ""


def clean_damages(rows: list[dict]) -> list[Damage]:
    """Damage rows as typed by the inspector; blank rows skipped, a bad one named by its number."""
    damages = []
    for number, row in enumerate(rows, start=1):
        item = str(row.get("item", "")).strip()
        text = str(row.get("amount", "")).strip()
        note = str(row.get("note", "")).strip()
        if not (item or text or note):
            continue
        if not item:
            raise NotAllowed(f"损坏赔偿第 {number} 行：请填写损坏项目。")
        try:
            amount = Decimal(text).quantize(FEN, ROUND_HALF_UP)
        except (InvalidOperation, ValueError):
            raise NotAllowed(f"损坏赔偿第 {number} 行：金额“{text}”不是有效数字。") from None
        if not ZERO < amount < Decimal("1000000"):
            raise NotAllowed(f"损坏赔偿第 {number} 行：金额须大于 0 且小于 100 万元。")
        damages.append(Damage(item[:60], amount, note[:200]))
    if len(damages) > DAMAGE_ROWS_MAX:
        raise NotAllowed(f"损坏赔偿最多 {DAMAGE_ROWS_MAX} 项。")
    return damages


def inspect(
    exit_id: int,
    *,
    moved_out_on: date,
    condition: str,
    damages: list[Damage],
    notes: str,
    outcome: str,
    actor,
    repair_category: str = "",
) -> Exit:
    """The keys are back and the unit checked: the lease ends on the move-out day (its last
    month billed up to that day), the unit goes back to vacant and to the vacancy release, or
    to repair; the settlement is proposed from the bills as they stand."""
    if condition not in Exit.Condition.values:
        raise NotAllowed("请选择房屋状况。")
    if outcome not in Exit.Outcome.values:
        raise NotAllowed("请选择房屋去向：空置待配租或转维修。")
    if outcome == Exit.Outcome.REPAIR and not repair_category:
        raise NotAllowed("转维修须选择维修类别。")
    notes = (notes or "").strip()
    if len(notes) > NOTE_MAX:
        raise NotAllowed(f"验房记录最多 {NOTE_MAX} 字。")
    today = timezone.localdate()
    with transaction.atomic():
        exit_ = _locked(exit_id, Exit.Status.SETTLEMENT)
        contract = Contract.objects.select_for_update().get(pk=exit_.contract_id)
        began = contract.check_in_date or contract.start_date
        if moved_out_on > today:
            raise NotAllowed("实际腾退日期不能晚于今天：请在交还钥匙、验房当天登记。")
        if moved_out_on < began:
            raise NotAllowed(f"实际腾退日期不能早于入住日期 {began:%Y-%m-%d}。")
        if contract.status != Contract.Status.ACTIVE:
            raise NotAllowed(f"合同 {contract.number} 已不在履行中。")
        # The lease ends on the move-out day; billing stops there.
        Contract.objects.filter(pk=contract.pk).update(
            status=Contract.Status.ENDED, ended_on=moved_out_on
        )
        contract.status, contract.ended_on = Contract.Status.ENDED, moved_out_on
        final = _final_bill(contract, today)
        total = sum((d.amount for d in damages), ZERO)
        exit_.moved_out_on, exit_.condition, exit_.inspection_notes = moved_out_on, condition, notes
        exit_.damages = [{"item": d.item, "amount": str(d.amount), "note": d.note} for d in damages]
        exit_.damages_total, exit_.outcome = total, outcome
        exit_.inspected_by = actor if actor is not None and actor.is_authenticated else None
        exit_.inspected_at = timezone.now()
        exit_.status = Exit.Status.SETTLEMENT
        _apply(exit_, settlement_of(exit_, contract))
        exit_.save()
        unit = (
            Unit.objects.select_for_update()
            .select_related("building__estate")
            .get(pk=contract.unit_id)
        )
        before = unit.status
        # Keys back: an occupied unit is vacant again (one under repair or withheld stays so).
        after = Unit.Status.VACANT if before == Unit.Status.OCCUPIED else before
        Unit.objects.filter(pk=unit.pk).update(status=after, updated_at=timezone.now())
        _event(
            exit_,
            "contract.ended",
            f"合同 {contract.number} 终止（{exit_.get_reason_display()}），"
            f"腾退日期 {moved_out_on:%Y-%m-%d}",
            actor=actor,
            before={"status": Contract.Status.ACTIVE, "unit_status": before},
            after={
                "status": Contract.Status.ENDED,
                "ended_on": moved_out_on.isoformat(),
                "unit_status": after,
                "final_bill": final.reference if final else None,
            },
        )
        _event(
            exit_,
            "exit.inspected",
            f"退房验房：合同 {contract.number}，房屋{exit_.get_condition_display()}，"
            f"损坏赔偿 {total:,.2f} 元，房屋{exit_.get_outcome_display()}",
            actor=actor,
            after={
                "exit": exit_.pk,
                "condition": condition,
                "damages": exit_.damages,
                "notes": notes[:500],
                "outcome": outcome,
                "proposed_balance": str(exit_.balance),
            },
        )
        if outcome == Exit.Outcome.REPAIR:
            from tenancy.services import repairs

            repairs.report_by_staff(
                unit_id=unit.pk,
                category=repair_category,
                description=f"退房验房发现需维修（合同 {contract.number}）："
                + (notes or "；".join(d.item for d in damages) or "见验房记录")[:300],
                actor=actor,
                contract_id=contract.pk,
            )
        elif after == Unit.Status.VACANT:
            _release(unit.building.estate, actor)
        _tell(exit_, "exit.inspected", moved_out_on=moved_out_on, balance=_balance_text(exit_))
    return exit_


def _release(estate, actor) -> None:
    """Back into the vacancy release: a new version of the estate's list, when it is public and
    no release of it is still being processed (then the next release carries the unit)."""
    from disclosure.services import PublishError, release_vacancies

    if not estate.published:
        return
    try:
        with transaction.atomic():
            release_vacancies(estate, actor=actor)
    except PublishError:
        pass


def _final_bill(contract: Contract, today: date) -> Bill | None:
    """The move-out month's bill, prorated to the move-out day, if it was not issued yet (the
    same arithmetic as billing's monthly statement)."""
    month = month_of(contract.ended_on)
    if Bill.objects.filter(contract=contract, month=month).exists():
        return None
    first = max(month, contract.start_date, contract.check_in_date or contract.start_date)
    last = min(contract.ended_on, contract.end_date)
    if last < first:
        return None
    following = next_month(month)
    month_days = (following - month).days
    days = (last - first).days + 1
    rent = (contract.monthly_rent * days / month_days).quantize(FEN, ROUND_HALF_UP)
    subsidy = (contract.monthly_subsidy * days / month_days).quantize(FEN, ROUND_HALF_UP)
    policy = policy_for(contract.household.county)
    due_day = policy.due_day or DEFAULT_DUE_DAY
    due = month.replace(day=due_day)
    if first > due:
        due = following.replace(day=due_day)
    return Bill.objects.create(
        contract=contract,
        month=month,
        reference=reference_for(contract.number, month),
        rent=rent,
        subsidy=subsidy,
        amount=rent - subsidy,
        days=days,
        due_date=max(due, today),
    )


# --- the settlement ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Settlement:
    """deposit − unpaid + credit − damages = balance (refund if positive, still due if not)."""

    deposit: Decimal
    unpaid: Decimal
    credit: Decimal
    damages: Decimal

    @property
    def balance(self) -> Decimal:
        return self.deposit - self.unpaid + self.credit - self.damages


def kept_amount(bill: Bill, first_day: date, moved_out_on: date) -> Decimal:
    """What a bill would have been had it stopped on the move-out day (its rent and subsidy
    each cut to the days kept, to the fen)."""
    kept = max(0, min((moved_out_on - first_day).days + 1, bill.days))
    if kept >= bill.days:
        return bill.amount
    rent = (bill.rent * kept / bill.days).quantize(FEN, ROUND_HALF_UP)
    subsidy = (bill.subsidy * kept / bill.days).quantize(FEN, ROUND_HALF_UP)
    return rent - subsidy


def settlement_of(exit_: Exit, contract: Contract) -> Settlement:
    """The figures as the bills stand now: every bill's unpaid part, and the rent billed for
    days after the move-out (a month billed in full before the tenant left) credited back."""
    bills = Bill.objects.filter(contract=contract)
    unpaid = bills.aggregate(v=Sum(F("amount") - F("paid")))["v"] or ZERO
    credit = ZERO
    start = contract.check_in_date or contract.start_date
    for bill in bills.filter(month__gte=month_of(exit_.moved_out_on)):
        first = max(bill.month, contract.start_date, start)
        credit += bill.amount - kept_amount(bill, first, exit_.moved_out_on)
    return Settlement(
        deposit=contract.deposit, unpaid=unpaid, credit=credit, damages=exit_.damages_total
    )


def _apply(exit_: Exit, s: Settlement) -> None:
    exit_.deposit, exit_.unpaid, exit_.rent_credit = s.deposit, s.unpaid, s.credit
    exit_.balance = s.balance


def _balance_text(exit_: Exit) -> str:
    if exit_.balance >= 0:
        return f"应退还 {exit_.balance:,.2f} 元"
    return f"押金不足，尚需补缴 {-exit_.balance:,.2f} 元"


def settle(exit_id: int, *, actor) -> Exit:
    """Close the account: the figures recomputed from the bills as they stand (payments made
    since the inspection count) and kept on the exit."""
    with transaction.atomic():
        exit_ = _locked(exit_id, Exit.Status.SETTLED)
        contract = exit_.contract
        _apply(exit_, settlement_of(exit_, contract))
        exit_.status = Exit.Status.SETTLED
        exit_.settled_by = actor if actor is not None and actor.is_authenticated else None
        exit_.settled_at = timezone.now()
        exit_.save()
        _event(
            exit_,
            "exit.settled",
            f"押金结算：合同 {contract.number}，押金 {exit_.deposit:,.2f} 元，"
            f"未缴租金 {exit_.unpaid:,.2f} 元，多计租金退回 {exit_.rent_credit:,.2f} 元，"
            f"损坏赔偿 {exit_.damages_total:,.2f} 元，{_balance_text(exit_)}",
            actor=actor,
            after={
                "exit": exit_.pk,
                "deposit": str(exit_.deposit),
                "unpaid": str(exit_.unpaid),
                "credit": str(exit_.rent_credit),
                "damages": str(exit_.damages_total),
                "balance": str(exit_.balance),
            },
        )
        _tell(exit_, "exit.settled", balance=_balance_text(exit_))
    return exit_


# --- the daily job ----------------------------------------------------------------------------


def expired_without_successor(today: date) -> QuerySet[Contract]:
    """Running leases past their end date whose household has no later live lease (a renewal),
    no renewal request still being decided, and no exit open: one query."""
    from tenancy.services.renewals import renewal_under_way  # renewals → annual reviews → here

    successor = Contract.objects.filter(
        household=OuterRef("household"),
        status__in=LIVE,
        start_date__gt=OuterRef("start_date"),
    ).exclude(pk=OuterRef("pk"))
    open_exit = Exit.objects.filter(contract=OuterRef("pk"), status__in=Exit.OPEN)
    return (
        Contract.objects.filter(status=Contract.Status.ACTIVE, end_date__lt=today)
        .exclude(Exists(successor))
        .exclude(renewal_under_way())
        .exclude(Exists(open_exit))
        .order_by("end_date", "pk")
    )


def open_expired(today: date | None = None) -> int:
    """Daily: an exit for each lease that ended without renewal; a rerun opens none twice
    (one open exit per lease). The scheduled job is the actor ("系统")."""
    today = today or timezone.localdate()
    opened = 0
    for pk, end in expired_without_successor(today).values_list("pk", "end_date"):
        try:
            start(
                pk,
                reason=Exit.Reason.EXPIRED,
                actor=None,
                source_ref=f"租期于 {end:%Y-%m-%d} 届满，未续租",
                notice_date=today,
            )
        except NotAllowed:
            continue  # changed since the query (renewed, ended): nothing to open
        opened += 1
    return opened


def counts_for(user, today: date) -> dict[str, int]:
    """The queue's numbers for the staff home, with the same filters as the queue's tabs."""
    from django.db.models import Count

    return exits_for(user).aggregate(
        open=Count("pk", filter=Q(status__in=[Exit.Status.NOTICE, Exit.Status.TRANSITION])),
        due=Count(
            "pk",
            filter=Q(
                status__in=[Exit.Status.NOTICE, Exit.Status.TRANSITION], move_out_by__lte=today
            ),
        ),
        settlement=Count("pk", filter=Q(status=Exit.Status.SETTLEMENT)),
    )
