"""Payments: at the counter (partial, full, never more than the balance, once under a race) and
from bank statements (CSV/XLSX; matched, unmatched, duplicate, already imported and malformed
rows each named by row; all or nothing, checked again at the commit)."""

import csv
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from openpyxl import Workbook

from archive.models import Event
from housing.errors import NotAllowed
from tenancy.models import Bill, Payment
from tenancy.services import billing, payments
from tenancy.statements import StatementFileError
from tests.personas import make_staff
from tests.tenancy.rent import bill_of, lease

MONTH = date(2027, 2, 1)
TODAY = date(2027, 2, 20)
HEADER = ["交易日期", "交易流水号", "收入金额", "对方户名", "附言"]


@pytest.fixture
def bills(db) -> tuple[Bill, Bill]:
    """Two unpaid February bills in 谯城区: 400.00 and 620.00."""
    first = lease(start=date(2027, 1, 1), rent="500.00", subsidy="100.00")
    second = lease(start=date(2027, 1, 1), rent="620.00", subsidy="0.00", skip=1)
    billing.issue_bills(MONTH, actor=None, on=MONTH)
    return bill_of(first, MONTH), bill_of(second, MONTH)


@pytest.fixture
def clerk(bills):
    return make_staff("pay-district", "district", region=bills[0].contract.household.county)


def write_csv(path: Path, rows: list[list], *, encoding="utf-8-sig", header=HEADER) -> Path:
    with path.open("w", encoding=encoding, newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def kinds(plan) -> dict[int, str]:
    return {r.row: r.kind for r in plan.rows}


# --- the counter -------------------------------------------------------------------------------


def test_a_counter_payment_moves_the_bill_to_partial_then_paid_and_more_is_refused(bills, clerk):
    bill = bills[0]
    payments.record_payment(bill.pk, amount="150", paid_on=TODAY, actor=clerk, today=TODAY)
    bill.refresh_from_db()
    assert (bill.paid, bill.status) == (Decimal("150.00"), Bill.Status.PARTIAL)
    with pytest.raises(NotAllowed, match=r"超过账单 .* 的未缴金额 250\.00 元"):
        payments.record_payment(bill.pk, amount="250.01", paid_on=TODAY, actor=clerk, today=TODAY)
    payments.record_payment(bill.pk, amount="250.00", paid_on=TODAY, actor=clerk, today=TODAY)
    bill.refresh_from_db()
    assert (bill.paid, bill.status) == (Decimal("400.00"), Bill.Status.PAID)
    with pytest.raises(NotAllowed, match="已缴清"):
        payments.record_payment(bill.pk, amount="1", paid_on=TODAY, actor=clerk, today=TODAY)
    assert list(bill.payments.values_list("amount", "channel")) == [
        (Decimal("250.00"), "counter"),
        (Decimal("150.00"), "counter"),
    ]
    assert (
        Event.objects.filter(
            action="rent.paid", household_id=bill.contract.household_id, actor=clerk
        ).count()
        == 2
    )


@pytest.mark.parametrize(
    ("amount", "message"),
    [("0", "须大于 0"), ("-5", "须大于 0"), ("1.234", "最多两位小数"), ("abc", "不是数字")],
)
def test_a_counter_amount_is_positive_yuan_to_the_fen(bills, clerk, amount, message):
    with pytest.raises(NotAllowed, match=message):
        payments.record_payment(bills[0].pk, amount=amount, paid_on=TODAY, actor=clerk, today=TODAY)
    assert not Payment.objects.filter(bill=bills[0]).exists()


def test_the_counter_refuses_a_future_day_a_reading_role_and_a_bill_elsewhere(bills, clerk):
    bill = bills[0]
    with pytest.raises(NotAllowed, match="不能晚于今天"):
        payments.record_payment(
            bill.pk, amount="10", paid_on=date(2027, 2, 21), actor=clerk, today=TODAY
        )
    street = make_staff("pay-street", "street", region=bill.contract.household.street)
    with pytest.raises(NotAllowed, match="不能登记缴费"):
        payments.record_payment(bill.pk, amount="10", paid_on=TODAY, actor=street, today=TODAY)
    elsewhere = lease(county="341621", start=date(2027, 1, 1))
    billing.issue_bills(MONTH, actor=None, on=MONTH)
    with pytest.raises(NotAllowed, match="没有找到该账单"):
        payments.record_payment(
            bill_of(elsewhere, MONTH).pk, amount="10", paid_on=TODAY, actor=clerk, today=TODAY
        )
    assert not Payment.objects.filter(bill__month=MONTH).exists()


def test_two_counters_paying_one_bill_at_the_same_moment_pay_it_once(
    django_db_setup, django_db_blocker
):
    """Committed data, two connections: the bill's row lock makes the second see it paid."""
    with django_db_blocker.unblock():
        bill = (
            Bill.objects.filter(status=Bill.Status.UNPAID, contract__arrears_warnings=None)
            .select_related("contract__household__county")
            .order_by("pk")
            .first()
        )
        # Two sessions of the demo's clerk (a committed account that archive events may name).
        clerk = get_user_model().objects.get(username="demo-seed")
        clerks = [clerk, clerk]
        start = threading.Barrier(2)

        def pay(clerk) -> str:
            try:
                start.wait(timeout=30)
                payments.record_payment(
                    bill.pk, amount=bill.amount, paid_on=timezone.localdate(), actor=clerk
                )
                return "paid"
            except NotAllowed as exc:
                return str(exc)
            finally:
                connection.close()

        try:
            with ThreadPoolExecutor(max_workers=2) as pool:
                results = list(pool.map(pay, clerks))
            assert results.count("paid") == 1, results
            assert any("已缴清" in r for r in results), results
            bill.refresh_from_db()
            assert (bill.paid, bill.status) == (bill.amount, Bill.Status.PAID)
            assert Payment.objects.filter(bill=bill).count() == 1
        finally:  # committed: put the demo back
            Payment.objects.filter(bill=bill).delete()
            Bill.objects.filter(pk=bill.pk).update(paid=0, status=Bill.Status.UNPAID)
            connection.close()


# --- bank statements -----------------------------------------------------------------------------


def test_a_statement_is_checked_row_by_row_and_its_matched_rows_are_paid_together(
    bills, clerk, tmp_path
):
    first, second = bills
    earlier = lease(start=date(2027, 1, 1), skip=2)
    billing.issue_bills(MONTH, actor=None, on=MONTH)
    payments.record_payment(
        bill_of(earlier, MONTH).pk, amount="5", paid_on=TODAY, actor=clerk, today=TODAY
    )
    Payment.objects.filter(bill__contract=earlier).update(bank_reference="FLOW-0")
    wide = second.reference.translate(
        str.maketrans("0123456789-HTCL", "０１２３４５６７８９－ｈｔｃｌ")
    )
    path = write_csv(
        tmp_path / "statement.csv",
        [
            ["2027-02-10", "FLOW-1", "400.00", "", first.reference],  # row 2
            ["2027/02/11", "FLOW-2", "¥620.00", "", f"二月房租 {wide}"],  # row 3
            ["20270212", "FLOW-3", "88.00", "", "ZZ2027-999999-202702"],  # row 4
            ["2027-02-10", "FLOW-1", "400.00", "", first.reference],  # row 5
            ["2027-02-13", "FLOW-0", "5.00", "", first.reference],  # row 6
        ],
    )
    plan = payments.plan_statement(path, actor=clerk, today=TODAY)
    assert kinds(plan) == {2: "ok", 3: "ok", 4: "unmatched", 5: "duplicate", 6: "imported"}
    messages = {r.row: r.message for r in plan.rows}
    assert "ZZ2027-999999-202702" in messages[4] and "第 2 行" in messages[5]
    assert plan.ok and plan.total == Decimal("1020.00")

    before = Payment.objects.count()
    result = payments.commit_statement(path, filename="二月.csv", actor=clerk, today=TODAY)
    assert (result.payments, result.amount, result.skipped) == (2, Decimal("1020.00"), 3)
    assert Payment.objects.count() == before + 2
    for bill in (first, second):
        bill.refresh_from_db()
        assert bill.status == Bill.Status.PAID and bill.paid == bill.amount
    paid = Payment.objects.get(bank_reference="FLOW-2")
    assert (paid.channel, paid.paid_on, paid.statement.name) == (
        "bank",
        date(2027, 2, 11),
        "二月.csv",
    )
    assert Event.objects.filter(action="rent.statement_imported", actor=clerk).count() == 1

    # The same file again: everything is already in, nothing to import.
    again = payments.plan_statement(path, actor=clerk, today=TODAY)
    assert set(kinds(again).values()) == {"imported", "unmatched", "duplicate"}
    with pytest.raises(NotAllowed, match="没有可以导入"):
        payments.commit_statement(path, filename="二月.csv", actor=clerk, today=TODAY)
    assert Payment.objects.count() == before + 2


def test_malformed_rows_are_named_and_stop_the_whole_import(bills, clerk, tmp_path):
    first, second = bills
    path = write_csv(
        tmp_path / "bad.csv",
        [
            ["2027-02-10", "OK-1", "620.00", "", second.reference],  # row 2: fine alone
            ["2027-02-10", "B-1", "abc", "", first.reference],  # 3
            ["2027-02-10", "B-2", "-12.00", "", first.reference],  # 4
            ["2027-02-10", "B-3", "1.005", "", first.reference],  # 5
            ["2027-13-01", "B-4", "1.00", "", first.reference],  # 6
            ["2027-02-21", "B-5", "1.00", "", first.reference],  # 7: after "today"
            ["2027-02-10", "B-6", "1.00", "", '=HYPERLINK("x")'],  # 8
            ["2027-02-10", "", "1.00", "", first.reference],  # 9
            ["2027-02-10", "OK-1", "1.00", "", first.reference],  # 10: flow of row 2
            ["2027-02-10", "B-8", "300.00", "", first.reference],  # 11
            ["2027-02-11", "B-9", "100.01", "", first.reference],  # 12: 400.01 in all
        ],
    )
    plan = payments.plan_statement(path, actor=clerk, today=TODAY)
    assert not plan.ok
    problems = {r.row: r.message for r in plan.problems}
    assert set(problems) == {3, 4, 5, 6, 7, 8, 9, 10, 12}
    assert "金额不是数字" in problems[3] and "须大于 0" in problems[4]
    assert "最多两位小数" in problems[5] and "无法识别" in problems[6]
    assert "晚于今天" in problems[7] and "公式" in problems[8] and "流水号为空" in problems[9]
    assert "第 2 行" in problems[10] and "超出应缴金额" in problems[12]
    before = Payment.objects.count()
    with pytest.raises(NotAllowed, match="9 行不能导入（第 3 行"):
        payments.commit_statement(path, filename="bad.csv", actor=clerk, today=TODAY)
    assert Payment.objects.count() == before
    second.refresh_from_db()
    assert second.status == Bill.Status.UNPAID, "not even the good row"


def test_the_commit_checks_the_statement_again_under_the_bills_locks(bills, clerk, tmp_path):
    first, second = bills
    path = write_csv(
        tmp_path / "s.csv",
        [
            ["2027-02-10", "C-1", "400.00", "", first.reference],
            ["2027-02-10", "C-2", "620.00", "", second.reference],
        ],
    )
    assert payments.plan_statement(path, actor=clerk, today=TODAY).ok
    # Between the check and the commit, the tenant paid at the counter.
    payments.record_payment(first.pk, amount="400", paid_on=TODAY, actor=clerk, today=TODAY)
    with pytest.raises(NotAllowed, match="超出应缴金额"):
        payments.commit_statement(path, filename="s.csv", actor=clerk, today=TODAY)
    assert not Payment.objects.filter(bank_reference__in=["C-1", "C-2"]).exists()
    second.refresh_from_db()
    assert second.status == Bill.Status.UNPAID


def test_an_xlsx_statement_with_a_title_block_and_spreadsheet_cells(bills, clerk, tmp_path):
    first, second = bills
    book = Workbook()
    sheet = book.active
    sheet.append(["中国建设银行 账户交易明细"])
    sheet.append(["账号：6217 0000 0000 0000", None, None])
    sheet.append([])
    sheet.append(["交易时间", "金额", "摘要", "流水号"])  # row 4
    sheet.append([datetime(2027, 2, 9, 10, 22), 400, f"房租{first.reference}", 20270209001])
    sheet.append([datetime(2027, 2, 9, 11, 5), 620.0, second.reference.lower(), "A-2"])
    path = tmp_path / "statement.xlsx"
    book.save(path)
    plan = payments.plan_statement(path, actor=clerk, today=TODAY)
    assert kinds(plan) == {5: "ok", 6: "ok"}
    assert [r.source.bank_reference for r in plan.rows] == ["20270209001", "A-2"]
    payments.commit_statement(path, filename="s.xlsx", actor=clerk, today=TODAY)
    assert Bill.objects.get(pk=first.pk).status == Bill.Status.PAID


def test_a_gbk_statement_is_read_and_a_missing_column_is_named(bills, clerk, tmp_path):
    first, _second = bills
    path = write_csv(
        tmp_path / "gbk.csv",
        [["2027-02-10", "G-1", "400.00", "张三", first.reference]],
        encoding="gb18030",
    )
    assert kinds(payments.plan_statement(path, actor=clerk, today=TODAY)) == {2: "ok"}
    missing = write_csv(
        tmp_path / "missing.csv",
        [["2027-02-10", "400.00", first.reference]],
        header=["交易日期", "收入金额", "附言"],
    )
    with pytest.raises(StatementFileError) as refused:
        payments.plan_statement(missing, actor=clerk, today=TODAY)
    assert "缺少以下列：流水号" in str(refused.value) and "金额" not in str(refused.value)


def test_a_reference_outside_the_jurisdiction_is_not_found(bills, tmp_path):
    first, _second = bills
    woyang = make_staff(
        "pay-woyang", "district", region=lease(county="341621", start=MONTH).household.county
    )
    path = write_csv(tmp_path / "s.csv", [["2027-02-10", "J-1", "400.00", "", first.reference]])
    plan = payments.plan_statement(path, actor=woyang, today=TODAY)
    assert kinds(plan) == {2: "unmatched"} and not plan.ok
