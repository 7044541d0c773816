"""运营管理 · 退出: the queue of exits in the user's jurisdiction, and each exit's steps
(move-out inspection, settlement, withdrawal, 逾期未腾退) as thin views over tenancy.services.exits.

Everything is read through exits_for (estate_scope), so an exit outside it is a 404; the
queue exports through exchange.spreadsheets, so no cell runs as a formula.
"""

from datetime import date

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from archive.services import record_access
from backoffice.credit import may_decide
from backoffice.exports import FORMATS, table_download
from backoffice.filters import parse_id, query_without, visible_estates
from backoffice.pending import Task
from backoffice.views import staff_required
from geo.jurisdiction import estate_scope, profile_of
from housing.errors import NotAllowed
from tenancy.models import Contract, Exit
from tenancy.services import exits

PAGE = 30
SHOWS = {
    "open": Q(status__in=[Exit.Status.NOTICE, Exit.Status.TRANSITION]),
    "due": Q(status__in=[Exit.Status.NOTICE, Exit.Status.TRANSITION]),  # + move_out_by ≤ today
    "settlement": Q(status=Exit.Status.SETTLEMENT),
    "closed": Q(status__in=[Exit.Status.SETTLED, Exit.Status.WITHDRAWN]),
}
SHOW_LABELS = [
    ("open", _("待腾退")),
    ("due", _("已到腾退期限、待验房")),
    ("settlement", _("待结算")),
    ("closed", _("已办结/撤回")),
    ("all", _("全部")),
]


def pending_tasks(user) -> list[Task]:
    """For the staff home: exits to act on, with the same filters as the queue's tabs."""
    if not (user.is_superuser or profile_of(user)):
        return []
    counts = exits.counts_for(user, timezone.localdate())
    url = reverse("exits")
    return [
        Task(_("退出：待腾退"), counts["open"], f"{url}?show=open"),
        Task(_("退出：已到腾退期限、待验房"), counts["due"], f"{url}?show=due", urgent=True),
        Task(_("退出：已验房、待结算押金"), counts["settlement"], f"{url}?show=settlement"),
    ]


def _shown(user, show: str, today: date):
    rows = exits.exits_for(user)
    if show in SHOWS:
        rows = rows.filter(SHOWS[show])
    if show == "due":
        rows = rows.filter(move_out_by__lte=today)
    return rows


@staff_required
def exit_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    show = request.GET.get("show", "open")
    if show not in dict(SHOW_LABELS):
        show = "open"
    rows = _shown(request.user, show, today).select_related(
        "contract__household", "contract__unit__building__estate"
    )
    reason = request.GET.get("reason", "")
    if reason in Exit.Reason.values:
        rows = rows.filter(reason=reason)
    else:
        reason = ""
    estate = parse_id(request.GET.get("estate", ""))
    if estate:
        rows = rows.filter(contract__unit__building__estate_id=estate)
    q = request.GET.get("q", "").strip()[:40]
    if q:
        rows = rows.filter(
            Q(contract__number__icontains=q) | Q(contract__household__head_name__contains=q)
        )
    rows = rows.order_by("move_out_by", "pk")
    fmt = request.GET.get("format", "")
    if fmt in FORMATS:
        header = [
            str(_(h))
            for h in (
                "合同编号",
                "承租人",
                "项目",
                "房屋",
                "原因",
                "状态",
                "通知日期",
                "腾退期限",
                "实际腾退",
                "结算余额（元）",
            )
        ]
        return table_download(
            fmt,
            "退出",
            header,
            (
                [
                    e.contract.number,
                    e.contract.household.head_name,
                    e.contract.unit.building.estate.name,
                    f"{e.contract.unit.building.number} {e.contract.unit.number}",
                    e.get_reason_display(),
                    e.get_status_display(),
                    e.notice_date,
                    e.move_out_by,
                    e.moved_out_on or "",
                    e.balance if e.balance is not None else "",
                ]
                for e in rows.iterator(chunk_size=2000)
            ),
        )
    page = Paginator(rows, PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/exits/list.html",
        {
            "page": page,
            "page_query": query_without(request),
            "query": query_without(request),
            "show": show,
            "shows": SHOW_LABELS,
            "reason": reason,
            "reasons": Exit.Reason.choices,
            "estate": estate,
            "estates": visible_estates(request.user),
            "q": q,
            "today": today,
            "counts": exits.counts_for(request.user, today),
            "handles": exits.may_handle(request.user),
        },
    )


class InspectionForm(forms.Form):
    moved_out_on = forms.DateField(
        label=_("实际腾退日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    condition = forms.ChoiceField(label=_("房屋状况"), choices=Exit.Condition.choices)
    notes = forms.CharField(
        label=_("验房记录"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    outcome = forms.ChoiceField(label=_("房屋去向"), choices=Exit.Outcome.choices)
    repair_category = forms.ChoiceField(label=_("维修类别（转维修时）"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from tenancy.models import RepairCategory

        categories = RepairCategory.objects.filter(active=True).values_list("code", "name")
        self.fields["repair_category"].choices = [("", "—"), *categories]


DAMAGE_ROWS = 5


def _damage_rows(data) -> list[dict]:
    return [
        {
            "item": data.get(f"damage-{i}-item", ""),
            "amount": data.get(f"damage-{i}-amount", ""),
            "note": data.get(f"damage-{i}-note", ""),
        }
        for i in range(DAMAGE_ROWS)
    ]


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("撤回原因"), max_length=200)


class OverdueForm(forms.Form):
    facts = forms.CharField(
        label=_("情况说明（催告经过、现状）"),
        max_length=exits.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "minlength": 4}),
    )


def _exit(request: HttpRequest, exit_id: int) -> Exit:
    return get_object_or_404(
        exits.exits_for(request.user).select_related(
            "contract__household", "contract__unit__building__estate", "created_by"
        ),
        pk=exit_id,
    )


def _require_handler(request: HttpRequest) -> None:
    if not exits.may_handle(request.user):
        raise PermissionDenied(_("您的角色不能办理退出。"))


@staff_required
def exit_detail(request: HttpRequest, exit_id: int, inspection=None, damages=None):
    exit_ = _exit(request, exit_id)
    record_access(request, "exit", exit_.pk)
    handles = exits.may_handle(request.user)
    open_ = exit_.status in (Exit.Status.NOTICE, Exit.Status.TRANSITION)
    live = None
    if exit_.status == Exit.Status.SETTLEMENT:
        live = exits.settlement_of(exit_, exit_.contract)
    today = timezone.localdate()
    proposal = exits.overdue_proposal(exit_)
    return render(
        request,
        "staff/exits/detail.html",
        {
            "exit": exit_,
            "contract": exit_.contract,
            "handles": handles,
            "inspection": (
                inspection or InspectionForm(initial={"moved_out_on": timezone.localdate()})
            )
            if handles and open_
            else None,
            "damages": damages or _damage_rows({}),
            "withdraw": WithdrawForm() if handles and open_ else None,
            "live": live,
            "today": today,
            "overdue": OverdueForm()
            if handles and proposal is None and exits.is_overdue(exit_, today)
            else None,
            "overdue_proposal": proposal,
            "proposal_link": proposal is not None and may_decide(request.user),
        },
    )


@staff_required
@require_POST
def exit_inspect(request: HttpRequest, exit_id: int) -> HttpResponse:
    exit_ = _exit(request, exit_id)
    _require_handler(request)
    form = InspectionForm(request.POST)
    rows = _damage_rows(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            exits.inspect(
                exit_.pk,
                moved_out_on=data["moved_out_on"],
                condition=data["condition"],
                damages=exits.clean_damages(rows),
                notes=data["notes"],
                outcome=data["outcome"],
                repair_category=data["repair_category"],
                actor=request.user,
            )
        except NotAllowed as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("验房已登记，合同终止，房屋已退回。请核对押金结算。"))
            return redirect("exit", exit_id=exit_.pk)
    return exit_detail(request, exit_.pk, inspection=form, damages=rows)


@staff_required
@require_POST
def exit_settle(request: HttpRequest, exit_id: int) -> HttpResponse:
    exit_ = _exit(request, exit_id)
    _require_handler(request)
    try:
        done = exits.settle(exit_.pk, actor=request.user)
    except NotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("押金结算完成，结算余额 %(balance)s 元。") % {"balance": done.balance}
        )
    return redirect("exit", exit_id=exit_.pk)


@staff_required
@require_POST
def exit_withdraw(request: HttpRequest, exit_id: int) -> HttpResponse:
    exit_ = _exit(request, exit_id)
    _require_handler(request)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            exits.withdraw(exit_.pk, actor=request.user, reason=form.cleaned_data["reason"])
        except NotAllowed as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("退出已撤回，合同继续履行。"))
    else:
        messages.error(request, _("请填写撤回原因。"))
    return redirect("exit", exit_id=exit_.pk)


@staff_required
@require_POST
def exit_overdue(request: HttpRequest, exit_id: int) -> HttpResponse:
    """逾期未腾退: the household is past its deadline; a credit proposal goes to the county."""
    exit_ = _exit(request, exit_id)
    _require_handler(request)
    try:
        exits.report_overdue(exit_.pk, facts=request.POST.get("facts", ""), actor=request.user)
    except NotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已登记逾期未腾退，失信认定已提交信用管理，并已告知承租家庭。"))
    return redirect("exit", exit_id=exit_.pk)


class StartForm(forms.Form):
    contract = forms.CharField(label=_("合同编号"), max_length=20)
    reason = forms.ChoiceField(label=_("退出原因"), choices=Exit.Reason.choices)
    source_ref = forms.CharField(
        label=_("依据（如违规案件编号、核查结论、承租人书面申请）"), max_length=200
    )


@staff_required
def exit_new(request: HttpRequest) -> HttpResponse:
    """Open an exit at the counter: a written notice, a decision taken outside the system."""
    _require_handler(request)
    form = StartForm(request.POST or None, initial={"contract": request.GET.get("contract", "")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        contract = (
            Contract.objects.filter(estate_scope(request.user, "unit__building__estate__"))
            .filter(number=data["contract"].strip().upper())
            .first()
        )
        if contract is None:
            form.add_error("contract", _("没有找到该合同（或不在您的管辖范围内）。"))
        else:
            try:
                exit_ = exits.start(
                    contract.pk,
                    reason=data["reason"],
                    actor=request.user,
                    source_ref=data["source_ref"],
                )
            except NotAllowed as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("退出已发起，已通知承租家庭。"))
                return redirect("exit", exit_id=exit_.pk)
    return render(request, "staff/exits/new.html", {"form": form})
