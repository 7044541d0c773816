"""运营管理 · 租金: bills, payments (the counter and bank statements), arrears and the
collection rate of the estates in the user's jurisdiction.

Everything is read through geo.jurisdiction.estate_scope, so a bill outside it is a 404;
payments are taken by operators, counties and the city (tenancy.services.payments), which
write the archive events. Exports go through exchange.spreadsheets, so no cell runs as a
formula.
"""

import time
import uuid
from decimal import Decimal
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from archive.services import record_access
from backoffice.exports import FORMATS, table_download
from backoffice.filters import parse_id, parse_month, query_without, visible_estates
from backoffice.views import staff_required
from geo.jurisdiction import estate_scope
from housing.errors import NotAllowed
from tenancy import selectors
from tenancy.models import Bill, Payment
from tenancy.services import payments
from tenancy.services.billing import month_of, previous_month
from tenancy.statements import StatementFileError, normalise

PAGE = 30
BILL = "contract__unit__building__estate__"
CONTRACT = "unit__building__estate__"


def _rate_rows(rows) -> list[dict]:
    """Each row with its collection rate, the lowest first (where collection needs a look)."""
    rated = [row | {"rate": selectors.rate(row["paid_total"], row["billed"])} for row in rows]
    return sorted(rated, key=lambda r: (r["rate"] is None, r["rate"] or 0, r["name"] or ""))


def _money(amount: Decimal | None) -> tuple[str, str]:
    """An amount for a card: in 万元 from ten thousand yuan up, as Chinese reports write it."""
    amount = amount or Decimal("0")
    if amount >= 10_000:
        return f"{amount / 10_000:,.2f}", str(_("万元"))
    return f"{amount:,.2f}", str(_("元"))


# --- overview: the collection rate ------------------------------------------------------------


@staff_required
def overview(request: HttpRequest) -> HttpResponse:
    """The collection rate per estate and per operator for a span of bill months (the last
    twelve by default), with the arrears and warnings at a glance."""
    today = timezone.localdate()
    last = parse_month(request.GET.get("to", "")) or month_of(today)
    first = parse_month(request.GET.get("from", ""))
    if first is None or first > last:
        first = last
        for _step in range(11):
            first = previous_month(first)
    scope = estate_scope(request.user, BILL)
    estates = _rate_rows(selectors.collection(scope, first, last, "estate"))
    operators = _rate_rows(selectors.collection(scope, first, last, "operator"))
    fmt, table = request.GET.get("format", ""), request.GET.get("table", "estates")
    if fmt in FORMATS:
        rows = operators if table == "operators" else estates
        header = [
            str(_("运营单位")) if table == "operators" else str(_("项目")),
            str(_("账单数")),
            str(_("应缴（元）")),
            str(_("已缴（元）")),
            str(_("收缴率（%）")),
        ]
        return table_download(
            fmt,
            f"收缴率-{first:%Y%m}-{last:%Y%m}",
            header,
            (
                [
                    r["name"] or str(_("未指定运营单位")),
                    r["bills"],
                    r["billed"],
                    r["paid_total"],
                    r["rate"],
                ]
                for r in rows
            ),
        )
    billed = sum((r["billed"] for r in estates), selectors.ZERO)
    paid = sum((r["paid_total"] for r in estates), selectors.ZERO)
    late = Bill.objects.filter(scope, selectors.overdue(today)).aggregate(
        households=Count("contract", distinct=True), amount=selectors.owed()
    )
    return render(
        request,
        "staff/rent/overview.html",
        {
            "tab": "overview",
            "first": first,
            "last": last,
            "estates": estates,
            "operators": operators,
            "billed": billed,
            "paid": paid,
            "rate": selectors.rate(paid, billed),
            "billed_text": _money(billed),
            "paid_text": _money(paid),
            "late": late,
            "late_text": _money(late["amount"]),
            "warnings": selectors.open_warnings(estate_scope(request.user, BILL))[:10],
            "query": query_without(request),
        },
    )


# --- bills -----------------------------------------------------------------------------------


@staff_required
def bill_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    bills = payments.bills_for(request.user).select_related(
        "contract__household", "contract__unit__building__estate"
    )
    month = parse_month(request.GET.get("month", ""))
    if month:
        bills = bills.filter(month=month)
    status = request.GET.get("status", "")
    if status == "overdue":
        bills = bills.filter(selectors.overdue(today))
    elif status in Bill.Status.values:
        bills = bills.filter(status=status)
    else:
        status = ""
    estate = parse_id(request.GET.get("estate", ""))
    if estate:
        bills = bills.filter(contract__unit__building__estate_id=estate)
    q = request.GET.get("q", "").strip()[:40]
    if q:
        bills = bills.filter(
            Q(reference__icontains=q)
            | Q(contract__number__icontains=q)
            | Q(contract__household__head_name__contains=q)
        )
    bills = bills.order_by("-month", "contract__number")
    fmt = request.GET.get("format", "")
    if fmt in FORMATS:
        return table_download(
            fmt,
            "租金账单",
            [
                str(_(label))
                for label in (
                    "缴费编号",
                    "账期",
                    "合同编号",
                    "承租人",
                    "项目",
                    "房屋",
                    "计租天数",
                    "租金",
                    "补贴",
                    "应缴",
                    "已缴",
                    "状态",
                    "缴费截止",
                )
            ],
            (
                [
                    b.reference,
                    f"{b.month:%Y-%m}",
                    b.contract.number,
                    b.contract.household.head_name,
                    b.contract.unit.building.estate.name,
                    f"{b.contract.unit.building.number} {b.contract.unit.number}",
                    b.days,
                    b.rent,
                    b.subsidy,
                    b.amount,
                    b.paid,
                    b.get_status_display(),
                    b.due_date,
                ]
                for b in bills.iterator(chunk_size=2000)
            ),
        )
    page = Paginator(bills, PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/rent/bills.html",
        {
            "tab": "bills",
            "page": page,
            "page_query": query_without(request),
            "query": query_without(request),
            "month": month,
            "status": status,
            "statuses": [*Bill.Status.choices, ("overdue", _("已逾期"))],
            "estate": estate,
            "estates": visible_estates(request.user),
            "q": q,
            "today": today,
        },
    )


class CounterForm(forms.Form):
    reference = forms.CharField(label=_("缴费编号"), max_length=40)
    amount = forms.DecimalField(
        label=_("金额（元）"), max_digits=9, decimal_places=2, min_value=0.01
    )
    paid_on = forms.DateField(
        label=_("缴费日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def clean_reference(self) -> str:
        return normalise(self.cleaned_data["reference"]).replace(" ", "")


@staff_required
def bill_detail(request: HttpRequest, bill_id: int) -> HttpResponse:
    bill = get_object_or_404(
        payments.bills_for(request.user).select_related(
            "contract__household", "contract__unit__building__estate"
        ),
        pk=bill_id,
    )
    record_access(request, "bill", bill.pk)
    today = timezone.localdate()
    form = None
    if payments.may_collect(request.user) and bill.status != Bill.Status.PAID:
        form = CounterForm(
            initial={"reference": bill.reference, "amount": bill.outstanding, "paid_on": today}
        )
    return render(
        request,
        "staff/rent/bill.html",
        {
            "tab": "bills",
            "bill": bill,
            "overdue_days": (today - bill.due_date).days
            if bill.status != Bill.Status.PAID and bill.due_date < today
            else 0,
            "payments": bill.payments.select_related("recorded_by", "statement"),
            "reminders": bill.reminders.order_by("sent_at"),
            "history": bill.contract.bills.order_by("-month")[:12],
            "form": form,
            "today": today,
        },
    )


# --- payments ----------------------------------------------------------------------------------


@staff_required
def payment_list(request: HttpRequest) -> HttpResponse:
    """Payments received, newest first; the counter form records one (POST)."""
    collects = payments.may_collect(request.user)
    form = CounterForm(
        request.POST if request.method == "POST" else None,
        initial={"paid_on": timezone.localdate()},
    )
    if request.method == "POST":
        if not collects:
            raise PermissionDenied(_("您的角色不能登记缴费。"))
        if form.is_valid():
            data = form.cleaned_data
            bill = payments.bills_for(request.user).filter(reference=data["reference"]).first()
            if bill is None:
                form.add_error("reference", _("没有找到该缴费编号的账单（或不在您的管辖范围内）。"))
            else:
                try:
                    payments.record_payment(
                        bill.pk, amount=data["amount"], paid_on=data["paid_on"], actor=request.user
                    )
                except NotAllowed as exc:
                    form.add_error(None, str(exc))
                else:
                    messages.success(
                        request,
                        _("已登记缴费 %(amount)s 元（账单 %(reference)s）。")
                        % {"amount": f"{data['amount']:,.2f}", "reference": bill.reference},
                    )
                    return redirect("rent-bill", bill_id=bill.pk)
    rows = (
        Payment.objects.filter(estate_scope(request.user, "bill__" + BILL))
        .select_related("bill__contract__household", "recorded_by")
        .order_by("-paid_on", "-pk")
    )
    channel = request.GET.get("channel", "")
    if channel in Payment.Channel.values:
        rows = rows.filter(channel=channel)
    else:
        channel = ""
    page = Paginator(rows, PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/rent/payments.html",
        {
            "tab": "payments",
            "form": form if collects else None,
            "page": page,
            "page_query": query_without(request),
            "channel": channel,
            "channels": Payment.Channel.choices,
        },
    )


class StatementForm(forms.Form):
    file = forms.FileField(
        label=_("银行对账单"), help_text=_("CSV 或 XLSX，含缴费编号、金额、交易日期、流水号列")
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in (".csv", ".xlsx"):
            raise forms.ValidationError(_("请上传 CSV 或 XLSX 格式的文件。"))
        limit = settings.ANJU_UPLOAD_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("文件有 %(size).1f MB，超过上限 %(limit).0f MB：请按日期拆分后分批导入。")
                % {"size": upload.size / 2**20, "limit": limit / 2**20}
            )
        return upload


def _statements_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports" / "statements"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _remove_stale() -> None:
    """Checked statements whose confirmation never came are kept for a while only."""
    for path in _statements_dir().iterdir():
        try:
            if time.time() - path.stat().st_mtime > settings.ANJU_IMPORT_PLAN_MAX_AGE_SECONDS:
                path.unlink(missing_ok=True)
        except FileNotFoundError:
            continue


def _require_collector(request: HttpRequest) -> None:
    if not payments.may_collect(request.user):
        raise PermissionDenied(_("您的角色不能登记缴费。"))


@staff_required
def statement_import(request: HttpRequest) -> HttpResponse:
    """Upload, then every row with what the import would do; nothing is written until
    confirmed."""
    _require_collector(request)
    _remove_stale()
    form = StatementForm(request.POST or None, request.FILES or None)
    context: dict = {"tab": "import", "form": form}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        suffix = Path(upload.name).suffix.lower()
        stored = _statements_dir() / f"{request.user.pk}-{uuid.uuid4().hex}{suffix}"
        with stored.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        plan = None
        try:
            plan = payments.plan_statement(stored, actor=request.user)
        except StatementFileError as exc:
            form.add_error("file", str(exc))
        finally:
            if plan is None or not plan.ok:
                stored.unlink(missing_ok=True)
        if plan is not None:
            context |= {"plan": plan, "token": stored.name, "filename": Path(upload.name).name}
    return render(request, "staff/rent/import.html", context)


@staff_required
@require_POST
def statement_commit(request: HttpRequest) -> HttpResponse:
    """Pay every matched row of the checked statement, all or nothing (checked again)."""
    _require_collector(request)
    name = Path(request.POST.get("token", "")).name
    if not name.startswith(f"{request.user.pk}-"):
        raise PermissionDenied
    stored = _statements_dir() / name
    if not stored.is_file():
        messages.error(request, _("上传的对账单已失效，请重新上传。"))
        return redirect("rent-import")
    filename = Path(request.POST.get("filename", "") or name).name[:150]
    try:
        result = payments.commit_statement(stored, filename=filename, actor=request.user)
    except (StatementFileError, NotAllowed) as exc:
        messages.error(request, str(exc))
        return redirect("rent-import")
    finally:
        stored.unlink(missing_ok=True)
    messages.success(
        request,
        _("导入完成：登记缴费 %(count)s 笔，合计 %(amount)s 元；跳过 %(skipped)s 行。")
        % {"count": result.payments, "amount": f"{result.amount:,.2f}", "skipped": result.skipped},
    )
    return redirect("rent-payments")


# --- arrears -----------------------------------------------------------------------------------


@staff_required
def arrears(request: HttpRequest) -> HttpResponse:
    """Arrears by estate and by household (optionally one estate), and the open warnings."""
    today = timezone.localdate()
    by_estate = list(selectors.arrears_by_estate(estate_scope(request.user, BILL), today))
    estate = parse_id(request.GET.get("estate", ""))
    households = selectors.arrears_by_household(estate_scope(request.user, CONTRACT), today, estate)
    fmt, table = request.GET.get("format", ""), request.GET.get("table", "households")
    if fmt in FORMATS:
        if table == "estates":
            return table_download(
                fmt,
                "欠费-按项目",
                [
                    str(_(h))
                    for h in (
                        "项目",
                        "区县",
                        "运营单位",
                        "欠费户数",
                        "逾期账单",
                        "欠缴（元）",
                        "最早逾期",
                    )
                ],
                (
                    [
                        r["estate_name"],
                        r["district"],
                        r["operator"] or "",
                        r["households"],
                        r["bills"],
                        r["amount"],
                        r["oldest"],
                    ]
                    for r in by_estate
                ),
            )
        return table_download(
            fmt,
            "欠费-按户",
            [
                str(_(h))
                for h in (
                    "合同编号",
                    "承租人",
                    "联系电话",
                    "项目",
                    "房屋",
                    "欠缴月数",
                    "欠缴（元）",
                    "最早逾期",
                    "预警",
                )
            ],
            (
                [
                    c.number,
                    c.household.head_name,
                    c.household.phone,
                    c.unit.building.estate.name,
                    f"{c.unit.building.number} {c.unit.number}",
                    c.months,
                    c.owed,
                    c.oldest,
                    str(_("是")) if c.warned else "",
                ]
                for c in households.iterator(chunk_size=2000)
            ),
        )
    page = Paginator(households, PAGE).get_page(request.GET.get("page"))
    totals = {
        "households": sum(r["households"] for r in by_estate),
        "amount": sum((r["amount"] for r in by_estate), selectors.ZERO),
    }
    return render(
        request,
        "staff/rent/arrears.html",
        {
            "tab": "arrears",
            "by_estate": by_estate,
            "totals": totals,
            "page": page,
            "page_query": query_without(request),
            "query": query_without(request),
            "estate": estate,
            "estates": visible_estates(request.user),
            "warnings": selectors.open_warnings(estate_scope(request.user, BILL)),
            "today": today,
        },
    )
