"""Rent received: at the counter one bill at a time, or from a bank statement matched by the
bills' references. A bill is locked while its payment is added, so two clerks (or a clerk and
an import) never pay one bill twice over; more than the bill's balance is refused.

A statement is checked first (nothing written) and then committed in one transaction that
checks it again under the bills' locks: every matched row is paid, or none. Rows whose
reference matches no bill and rows already imported (same bank flow number) are listed in
the check and skipped; a row that cannot be read, or would overpay, stops the import.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from archive import documents
from archive.models import Event
from archive.services import record_event, record_events
from geo.jurisdiction import estate_scope, profile_of
from housing.errors import NotAllowed
from tenancy.models import Bill, Payment
from tenancy.services.billing import resolve_warnings
from tenancy.statements import StatementRow, normalise, read_statement

# Who takes rent: the operators of their estates, the county (for estates it runs itself) and
# the city; streets and communities see arrears but do not take money.
COLLECTING_ROLES = {"operator", "district", "city"}
FEN = Decimal("0.01")
CONTENT_TYPES = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def may_collect(user) -> bool:
    if user.is_authenticated and user.is_superuser:
        return True
    profile = profile_of(user)
    return profile is not None and profile.role in COLLECTING_ROLES


def bills_for(user) -> QuerySet[Bill]:
    """The bills of the estates in the user's jurisdiction (anything else does not exist)."""
    return Bill.objects.filter(estate_scope(user, "contract__unit__building__estate__"))


def _check_collector(actor) -> None:
    if not may_collect(actor):
        raise NotAllowed("您的角色不能登记缴费。")


def _status(paid: Decimal, amount: Decimal) -> str:
    if paid >= amount:
        return Bill.Status.PAID
    return Bill.Status.PARTIAL if paid > 0 else Bill.Status.UNPAID


def clean_amount(value) -> Decimal:
    """A payment amount as the clerk typed it: positive yuan to the fen."""
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise NotAllowed(f"缴费金额不是数字：{str(value)[:20]}") from None
    if not amount.is_finite() or amount <= 0:
        raise NotAllowed("缴费金额须大于 0。")
    if amount != amount.quantize(FEN):
        raise NotAllowed("缴费金额最多两位小数（元、角、分）。")
    return amount.quantize(FEN)


def _check_day(paid_on: date, today: date) -> None:
    if paid_on > today:
        raise NotAllowed("缴费日期不能晚于今天。")
    if paid_on.year < 2000:
        raise NotAllowed("缴费日期有误。")


def record_payment(
    bill_id: int, *, amount, paid_on: date, actor, today: date | None = None
) -> Payment:
    """A payment taken at the counter; the bill's balance and status follow in the same
    transaction, with the archive event."""
    _check_collector(actor)
    amount = clean_amount(amount)
    today = today or timezone.localdate()
    _check_day(paid_on, today)
    with transaction.atomic():
        bill = (
            bills_for(actor)
            .select_for_update(of=("self",))
            .select_related("contract__unit__building")
            .filter(pk=bill_id)
            .first()
        )
        if bill is None:
            raise NotAllowed("没有找到该账单。")
        if bill.status == Bill.Status.PAID:
            raise NotAllowed(f"账单 {bill.reference} 已缴清，无需再缴。")
        if amount > bill.outstanding:
            raise NotAllowed(
                f"缴费金额 {amount:,.2f} 元超过账单 {bill.reference} 的未缴金额 "
                f"{bill.outstanding:,.2f} 元，请按未缴金额收取。"
            )
        payment = Payment.objects.create(
            bill=bill,
            amount=amount,
            paid_on=paid_on,
            channel=Payment.Channel.COUNTER,
            recorded_by=actor,
        )
        bill.paid += amount
        bill.status = _status(bill.paid, bill.amount)
        bill.save(update_fields=["paid", "status"])
        contract = bill.contract
        record_event(
            "rent.paid",
            f"窗口缴费 {amount:,.2f} 元：账单 {bill.reference}（{bill.get_status_display()}）",
            actor=actor,
            household_id=contract.household_id,
            unit_id=contract.unit_id,
            estate_id=contract.unit.building.estate_id,
            after={"bill": bill.reference, "amount": str(amount), "paid_on": paid_on.isoformat()},
        )
        resolve_warnings([contract.pk], today=today)
    return payment


# --- bank statements -------------------------------------------------------------------------


@dataclass
class PlannedRow:
    source: StatementRow
    kind: str  # ok | unmatched | imported | duplicate | invalid
    message: str = ""
    bill: Bill | None = None

    @property
    def row(self) -> int:
        return self.source.row


@dataclass
class StatementPlan:
    rows: list[PlannedRow] = field(default_factory=list)

    def of(self, kind: str) -> list[PlannedRow]:
        return [r for r in self.rows if r.kind == kind]

    @property
    def matched(self) -> list[PlannedRow]:
        return self.of("ok")

    @property
    def problems(self) -> list[PlannedRow]:
        return self.of("invalid")

    @property
    def skipped(self) -> list[PlannedRow]:
        return [r for r in self.rows if r.kind in ("unmatched", "imported", "duplicate")]

    @property
    def total(self) -> Decimal:
        return sum((r.source.amount for r in self.matched), Decimal("0.00"))

    @property
    def ok(self) -> bool:
        """Committable: nothing unreadable, something to pay."""
        return not self.problems and bool(self.matched)


def plan_statement(path: Path, *, actor, today: date | None = None, lock: bool = False):
    """Every row of the statement with what the import would do with it; writes nothing.
    With `lock` (inside the commit's transaction) the matched bills are locked first."""
    today = today or timezone.localdate()
    rows = read_statement(path, today=today)
    wanted = {c for r in rows for c in r.candidates}
    bills = bills_for(actor).filter(reference__in=wanted)
    if lock:
        bills = bills.select_for_update(of=("self",)).order_by("pk")
    found = {b.reference: b for b in bills.select_related("contract__unit__building")}
    flows = [r.bank_reference for r in rows if r.bank_reference]
    imported = set(
        Payment.objects.filter(bank_reference__in=flows).values_list("bank_reference", flat=True)
    )
    plan, first_seen = StatementPlan(), {}
    paying: dict[int, Decimal] = {}
    for source in rows:
        plan.rows.append(_plan_row(source, found, imported, first_seen, paying))
    return plan


def _plan_row(source, found, imported, first_seen, paying) -> PlannedRow:
    if source.problems:
        return PlannedRow(source, "invalid", "；".join(source.problems))
    flow = source.bank_reference
    if flow in first_seen:
        first = first_seen[flow]
        same = (first.reference_text, first.amount, first.paid_on) == (
            source.reference_text,
            source.amount,
            source.paid_on,
        )
        if same:
            return PlannedRow(source, "duplicate", f"与第 {first.row} 行是同一笔款项，将跳过")
        return PlannedRow(source, "invalid", f"流水号与第 {first.row} 行相同，但内容不同")
    first_seen[flow] = source
    if flow in imported:
        return PlannedRow(source, "imported", "该流水号此前已经导入，将跳过")
    matched = {found[c].pk: found[c] for c in source.candidates if c in found}
    if not matched:
        shown = normalise(source.reference_text)[:40]
        return PlannedRow(
            source,
            "unmatched",
            f"没有找到缴费编号为“{shown}”的账单（或不在您的管辖范围内），将跳过；"
            "请核实后在窗口登记",
        )
    if len(matched) > 1:
        return PlannedRow(source, "invalid", "附言中有多个缴费编号，无法确定缴的是哪一笔")
    bill = next(iter(matched.values()))
    before = paying.get(bill.pk, Decimal("0"))
    paying[bill.pk] = before + source.amount
    if bill.paid + paying[bill.pk] > bill.amount:
        return PlannedRow(
            source,
            "invalid",
            f"账单 {bill.reference} 未缴 {bill.outstanding - before:,.2f} 元，"
            f"此笔 {source.amount:,.2f} 元超出应缴金额",
            bill,
        )
    return PlannedRow(source, "ok", f"账单 {bill.reference}", bill)


@dataclass(frozen=True)
class ImportResult:
    payments: int
    amount: Decimal
    skipped: int


def commit_statement(
    path: Path, *, filename: str, actor, today: date | None = None
) -> ImportResult:
    """Pay every matched row, all or nothing, checked again under the bills' locks."""
    _check_collector(actor)
    today = today or timezone.localdate()
    content = path.read_bytes()
    with transaction.atomic():
        plan = plan_statement(path, actor=actor, today=today, lock=True)
        if plan.problems:
            first = plan.problems[0]
            raise NotAllowed(
                f"对账单有 {len(plan.problems)} 行不能导入（第 {first.row} 行：{first.message}），"
                "未写入任何数据；请重新检查。"
            )
        if not plan.matched:
            raise NotAllowed("对账单中没有可以导入的缴费记录。")
        statement = documents.store(
            content,
            name=filename,
            content_type=CONTENT_TYPES[path.suffix.lower()],
        )
        payments, events = [], []
        bills: dict[int, Bill] = {}
        for planned in plan.matched:
            bill, source = planned.bill, planned.source
            bills[bill.pk] = bill
            payments.append(
                Payment(
                    bill=bill,
                    amount=source.amount,
                    paid_on=source.paid_on,
                    channel=Payment.Channel.BANK,
                    bank_reference=source.bank_reference,
                    statement=statement,
                    recorded_by=actor,
                )
            )
            contract = bill.contract
            events.append(
                Event(
                    action="rent.paid",
                    summary=f"银行代收 {source.amount:,.2f} 元：账单 {bill.reference}"
                    f"（流水号 {source.bank_reference}）",
                    actor=actor,
                    household_id=contract.household_id,
                    unit_id=contract.unit_id,
                    estate_id=contract.unit.building.estate_id,
                    after={
                        "bill": bill.reference,
                        "amount": str(source.amount),
                        "paid_on": source.paid_on.isoformat(),
                        "bank_reference": source.bank_reference,
                        "statement": statement.sha256,
                    },
                )
            )
        try:
            with transaction.atomic():
                made = Payment.objects.bulk_create(payments, batch_size=2000)
        except IntegrityError as exc:
            raise NotAllowed(
                "对账单中的款项刚刚已被导入（可能是另一位工作人员同时导入），未写入任何数据。"
            ) from exc
        _add_to_bills([p.pk for p in made])
        record_events(events)
        record_event(
            "rent.statement_imported",
            f"导入银行对账单 {filename}：{len(payments)} 笔，合计 {plan.total:,.2f} 元，"
            f"跳过 {len(plan.skipped)} 行",
            actor=actor,
            after={
                "statement": statement.sha256,
                "payments": len(payments),
                "amount": str(plan.total),
                "skipped": len(plan.skipped),
            },
        )
        resolve_warnings(sorted({b.contract_id for b in bills.values()}), today=today)
    return ImportResult(payments=len(payments), amount=plan.total, skipped=len(plan.skipped))


# The new payments added to their bills in one statement (the bills are locked already).
ADD_SQL = """
UPDATE tenancy_bill b
SET paid = b.paid + s.total,
    status = CASE WHEN b.paid + s.total >= b.amount THEN 'paid' ELSE 'partial' END
FROM (
    SELECT bill_id, sum(amount) AS total FROM tenancy_payment WHERE id = ANY(%s) GROUP BY bill_id
) s
WHERE b.id = s.bill_id
"""


def _add_to_bills(payment_ids: list[int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(ADD_SQL, [payment_ids])
