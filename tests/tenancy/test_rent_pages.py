"""The rent pages of the back office and the tenant's bills: each role sees the bills, arrears
and rates of its jurisdiction only; streets and communities read but take no money; the
counter form and the statement upload work end to end; exports cannot run formulas; the lists
cost the same number of queries however many rows they show."""

import csv
import io
from datetime import date

import pytest
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from geo.jurisdiction import estate_scope
from housing.models import Household
from tenancy import selectors
from tenancy.models import ArrearsWarning, Bill, Payment, Reminder

pytestmark = pytest.mark.django_db
ESTATE = "contract__unit__building__estate__"


def shown_bills(client) -> int:
    return client.get(reverse("rent-bills")).context["page"].paginator.count


def test_each_role_sees_the_bills_of_its_jurisdiction_only(client, cast):
    assert Bill.objects.count() > 100, "the demo city has a year of bills"
    for role in ("city", "district", "street", "community", "operator"):
        user = cast.users[role]
        client.force_login(user)
        mine = Bill.objects.filter(estate_scope(user, ESTATE))
        assert shown_bills(client) == mine.count(), role
        outside = Bill.objects.exclude(pk__in=mine.values("pk")).first()
        if outside is not None:
            assert client.get(reverse("rent-bill", args=[outside.pk])).status_code == 404, role
        inside = mine.first()
        if inside is not None:
            assert client.get(reverse("rent-bill", args=[inside.pk])).status_code == 200, role
    client.force_login(cast.users["operator"])
    operator = cast.users["operator"].staff_profile.operator
    page = client.get(reverse("rent-arrears")).context
    assert all(r["operator"] == operator.name for r in page["by_estate"])
    assert all(c.unit.building.estate.operator_id == operator.pk for c in page["page"].object_list)
    rates = client.get(reverse("rent")).context["operators"]
    assert [r["name"] for r in rates] in ([operator.name], [])


def test_the_lists_cost_the_same_queries_for_many_rows(client, cast, django_assert_max_num_queries):
    client.force_login(cast.users["city"])
    for name in ("rent", "rent-bills", "rent-payments", "rent-arrears"):
        with django_assert_max_num_queries(14):
            assert client.get(reverse(name)).status_code == 200, name


def test_streets_and_communities_read_but_take_no_money(client, cast):
    bill = Bill.objects.filter(
        estate_scope(cast.users["street"], ESTATE), status=Bill.Status.UNPAID
    ).first()
    for role in ("street", "community"):
        client.force_login(cast.users[role])
        page = client.get(reverse("rent-payments"))
        assert page.status_code == 200 and page.context["form"] is None
        refused = client.post(
            reverse("rent-payments"),
            {"reference": bill.reference if bill else "X", "amount": "1", "paid_on": "2026-01-01"},
        )
        assert refused.status_code == 403
        assert client.get(reverse("rent-import")).status_code == 403
    if bill is not None:
        assert not Payment.objects.filter(bill=bill, created_at__date=timezone.localdate()).exists()


def _unpaid_bill(user) -> Bill:
    return (
        Bill.objects.filter(estate_scope(user, ESTATE), status=Bill.Status.UNPAID)
        .order_by("month", "pk")
        .first()
    )


def test_the_counter_form_records_a_payment_and_refuses_an_overpayment(client, cast):
    clerk = cast.users["district"]
    client.force_login(clerk)
    bill = _unpaid_bill(clerk)
    today = timezone.localdate().isoformat()
    too_much = client.post(
        reverse("rent-payments"),
        {"reference": bill.reference, "amount": str(bill.amount + 1), "paid_on": today},
    )
    assert too_much.status_code == 200
    assert "超过账单" in too_much.content.decode() and not bill.payments.exists()
    unknown = client.post(
        reverse("rent-payments"), {"reference": "NO-SUCH-202611", "amount": "1", "paid_on": today}
    )
    assert "没有找到该缴费编号" in unknown.content.decode()
    typed = f" {bill.reference.lower()} "  # typed loosely at the counter
    done = client.post(
        reverse("rent-payments"),
        {"reference": typed, "amount": str(bill.amount), "paid_on": today},
    )
    assert done.status_code == 302 and done["Location"] == reverse("rent-bill", args=[bill.pk])
    bill.refresh_from_db()
    assert bill.status == Bill.Status.PAID
    assert bill.payments.get().recorded_by == clerk


def test_a_statement_upload_shows_the_check_and_the_confirmation_imports(client, cast):
    clerk = cast.users["operator"]
    client.force_login(clerk)
    bill = _unpaid_bill(clerk)
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["交易日期", "流水号", "金额", "附言"])
    writer.writerow(
        [timezone.localdate().isoformat(), "UP-1", str(bill.outstanding), bill.reference]
    )
    writer.writerow([timezone.localdate().isoformat(), "UP-2", "10.00", "物业费"])
    upload = io.BytesIO(rows.getvalue().encode("utf-8-sig"))
    upload.name = "十一月.csv"
    preview = client.post(reverse("rent-import"), {"file": upload})
    text = preview.content.decode()
    assert preview.status_code == 200 and "可导入的缴费" in text and "将跳过" in text
    assert "没有找到缴费编号为“物业费”的账单" in text
    assert not Payment.objects.filter(bank_reference="UP-1").exists(), "a check writes nothing"
    token = preview.context["token"]
    done = client.post(reverse("rent-import-commit"), {"token": token, "filename": "十一月.csv"})
    assert done.status_code == 302
    payment = Payment.objects.get(bank_reference="UP-1")
    assert payment.bill == bill and payment.statement.name == "十一月.csv"
    # Another user's token is refused, and a used one is gone.
    other = client.post(reverse("rent-import-commit"), {"token": "999999-abc.csv"})
    assert other.status_code == 403
    again = client.post(reverse("rent-import-commit"), {"token": token}, follow=True)
    assert "已失效" in again.content.decode()


def test_exports_write_text_that_cannot_run_as_a_formula(client, cast):
    clerk = cast.users["district"]
    client.force_login(clerk)
    bill = (
        Bill.objects.filter(estate_scope(clerk, ESTATE), status=Bill.Status.UNPAID)
        .exclude(due_date__gte=timezone.localdate())
        .select_related("contract")
        .first()
    )
    Household.objects.filter(pk=bill.contract.household_id).update(head_name="=1+2")
    number = bill.contract.number
    csv_text = client.get(reverse("rent-bills"), {"q": number, "format": "csv"}).content.decode(
        "utf-8-sig"
    )
    assert "'=1+2" in csv_text and ",=1+2" not in csv_text
    book = client.get(reverse("rent-arrears"), {"format": "xlsx", "table": "households"})
    sheet = load_workbook(io.BytesIO(book.content)).active
    cells = [c for row in sheet.iter_rows() for c in row if c.value == "'=1+2"]
    assert cells and all(c.data_type == "s" for c in cells)
    rates = client.get(reverse("rent"), {"format": "csv", "table": "operators"})
    assert rates["Content-Disposition"].startswith("attachment;")
    assert client.get(reverse("rent-bills"), {"format": "abc"}).status_code == 200


def test_the_tenants_bills_with_history_reminders_and_what_is_due(django_assert_num_queries):
    warning = (
        ArrearsWarning.objects.filter(resolved_at=None)
        .select_related("contract__household__applicant")
        .first()
    )
    assert warning is not None, "the demo has a tenancy in long arrears"
    applicant = warning.contract.household.applicant
    today = timezone.localdate()
    with django_assert_num_queries(3):  # bills with their leases, payments, reminders
        accounts = selectors.rent_accounts(applicant, today)
        assert sum(len(b.payments.all()) + len(b.reminders.all()) for b in accounts[0].bills)
    account = accounts[0]
    assert [b.month for b in account.bills] == sorted(
        (b.month for b in account.bills), reverse=True
    )
    assert len(account.overdue) >= 6 and account.overdue_amount > 0
    html = render_to_string("tenancy/_my_bills.html", {"rent_accounts": accounts})
    assert f"您有 {len(account.overdue)} 期租金已逾期" in html
    assert account.bills[-1].reference in html, "the whole history is listed"
    reminded = Reminder.objects.filter(bill__contract=warning.contract).first()
    assert reminded is not None and "站内信" in html


def test_a_tenant_with_nothing_due_sees_it_paid():
    bill = Bill.objects.filter(
        status=Bill.Status.PAID, contract__household__applicant__isnull=False
    ).first()
    contract = bill.contract
    Bill.objects.filter(contract=contract).update(status=Bill.Status.PAID, paid=F("amount"))
    accounts = selectors.rent_accounts(contract.household.applicant, date(2099, 1, 1))
    html = render_to_string("tenancy/_my_bills.html", {"rent_accounts": accounts})
    assert "已全部缴清" in html and "逾期" not in html
